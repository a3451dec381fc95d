/**
 * Requests and notes over one MessagePort (a `Worker`, or `parentPort` inside it). Both sides of
 * a serving thread use it: a request is numbered and answered exactly once, a note is one-way.
 * Messages on one port arrive in the order they were sent, so a reply always comes after every
 * note its sender posted before it (the replicas rely on that: src/threads/README.md).
 */
import type { TransferListItem } from 'node:worker_threads';

/** The part of a MessagePort or Worker the channel uses. */
export interface PortLike {
  postMessage(value: unknown, transferList?: readonly TransferListItem[]): void;
  on(event: 'message', listener: (value: unknown) => void): unknown;
}

/** A message body: its `kind` picks the handler. */
export interface Body {
  readonly kind: string;
}

type Wire =
  | { readonly note: Body }
  | { readonly ask: number; readonly body: Body }
  | { readonly re: number; readonly value?: unknown; readonly error?: string };

/** Thrown to a waiting request when the channel closes or the other side fails it. */
export class ChannelError extends Error {
  override readonly name = 'ChannelError';
}

/** One side of a channel. Handlers are registered before the first message is expected. */
export class Channel {
  readonly #port: PortLike;
  readonly #pending = new Map<number, { resolve(v: unknown): void; reject(e: Error): void }>();
  readonly #onNote = new Map<string, (body: Body) => void>();
  readonly #onAsk = new Map<string, (body: Body) => unknown>();
  #nextId = 1;
  #isClosed = false;

  constructor(port: PortLike) {
    this.#port = port;
    port.on('message', (message) => this.#receive(message as Wire));
  }

  /** Requests still waiting for their answer. */
  get pending(): number {
    return this.#pending.size;
  }

  /** Handles notes of `kind`. */
  onNote<B extends Body>(kind: B['kind'], handler: (body: B) => void): void {
    this.#onNote.set(kind, handler as (body: Body) => void);
  }

  /** Answers requests of `kind` with what `handler` returns (or resolves; a throw fails it). */
  onRequest<B extends Body>(kind: B['kind'], handler: (body: B) => unknown): void {
    this.#onAsk.set(kind, handler as (body: Body) => unknown);
  }

  /** Sends a one-way note; dropped silently once closed. */
  note(body: Body, transfer?: readonly TransferListItem[]): void {
    if (!this.#isClosed) this.#port.postMessage({ note: body } satisfies Wire, transfer);
  }

  /** Sends a request; resolves with the answer, rejects with ChannelError on failure or close. */
  request<T>(body: Body, transfer?: readonly TransferListItem[]): Promise<T> {
    if (this.#isClosed) return Promise.reject(new ChannelError('channel closed'));
    const id = this.#nextId++;
    return new Promise<T>((resolve, reject) => {
      this.#pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      this.#port.postMessage({ ask: id, body } satisfies Wire, transfer);
    });
  }

  /** Fails every waiting request and refuses new ones (the other side is gone). */
  close(reason: string): void {
    this.#isClosed = true;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(new ChannelError(reason));
  }

  #receive(message: Wire): void {
    if ('note' in message) {
      this.#onNote.get(message.note.kind)?.(message.note);
      return;
    }
    if ('ask' in message) {
      void this.#answer(message.ask, message.body);
      return;
    }
    const waiting = this.#pending.get(message.re);
    if (waiting === undefined) return;
    this.#pending.delete(message.re);
    if (message.error === undefined) waiting.resolve(message.value);
    else waiting.reject(new ChannelError(message.error));
  }

  async #answer(id: number, body: Body): Promise<void> {
    let reply: Wire;
    try {
      const handler = this.#onAsk.get(body.kind);
      if (handler === undefined) throw new ChannelError(`no handler for ${body.kind}`);
      reply = { re: id, value: await handler(body) };
    } catch (err) {
      reply = { re: id, error: (err as Error).message };
    }
    if (!this.#isClosed) this.#port.postMessage(reply);
  }
}
