/**
 * One request/response exchange: the caller's `UpstreamExchange` handle and the guard in front of
 * its `ResponseSink`.
 *
 * The exchange owns the request side (body accounting, chunks taken before a socket is assigned)
 * and the "exactly one ending" rule: once `#done` is set, no sink callback runs again and every
 * caller method is a no-op. The connection owns the socket and the response side.
 */
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors/index.js';
import type { Connection } from './connection.js';
import { isBodiless, isRetriableRequest } from './request-head.js';
import type { ParsedHead } from './response-head.js';
import type { ResponseSink, UpstreamExchange, UpstreamRequestHead } from './types.js';

/** What an exchange asks of its pool. */
export interface ExchangeOwner {
  /** Forget a queued exchange that was aborted. */
  dequeue(exchange: Exchange): void;
}

/** The client's side of one request; handed to the caller as an `UpstreamExchange`. */
export class Exchange implements UpstreamExchange {
  /** The request line and fields as a latin1 byte string ('' when refused). */
  readonly encodedHead: string;
  readonly isHeadRequest: boolean;
  readonly isChunked: boolean;
  /** True when the request has no body octets at all (none, or a zero length). */
  readonly isBodiless: boolean;
  /** Date.now() when queued; used by the queue timeout. */
  queuedAt = 0;
  readonly #head: UpstreamRequestHead;
  readonly #sink: ResponseSink;
  readonly #owner: ExchangeOwner;
  #conn: Connection | null = null;
  #socket: Socket | null = null;
  #done = false;
  #retried = false;
  #pending: Buffer[] | null = null;
  #written = 0;
  #ended = false;
  #drainWanted = false;
  #onDrain: (() => void) | null = null;

  constructor(
    owner: ExchangeOwner, head: UpstreamRequestHead, sink: ResponseSink, encoded: string,
  ) {
    this.#owner = owner;
    this.#head = head;
    this.#sink = sink;
    this.encodedHead = encoded;
    this.isHeadRequest = head.method === 'HEAD';
    this.isChunked = head.body.kind === 'chunked';
    this.isBodiless = isBodiless(head);
  }

  /** True once the exchange ended (response complete, failed or aborted). */
  get isDone(): boolean {
    return this.#done;
  }

  /** True when every request octet has been handed to a socket (or buffered for one). */
  get isRequestComplete(): boolean {
    const body = this.#head.body;
    if (body.kind === 'none') return true;
    return body.kind === 'length' ? this.#written === body.length : this.#ended;
  }

  /** See `UpstreamExchange.writeBody`; after the exchange ended the chunk is dropped (true). */
  writeBody(chunk: Buffer): boolean {
    if (this.#done) return true;
    const body = this.#head.body;
    this.#written += chunk.length;
    const isOver = body.kind === 'length' && this.#written > body.length;
    if (body.kind === 'none' || this.#ended || isOver) {
      this.fail('IAM_SERVER_INTERNAL');
      return true;
    }
    // A zero-size chunk would be read as the last-chunk, ending the body early.
    if (chunk.length === 0) return true;

    if (this.#socket === null) {
      (this.#pending ??= []).push(chunk);
      this.#drainWanted = true;
      return false;
    }
    const ok = this.#writeChunk(this.#socket, chunk);
    if (body.kind === 'length' && this.#written === body.length) this.#conn!.requestSent();
    return ok;
  }

  /** See `UpstreamExchange.endBody`; a second call is ignored. */
  endBody(): void {
    if (this.#done || this.#ended) return;
    const body = this.#head.body;
    if (body.kind === 'length' && this.#written !== body.length) {
      this.fail('IAM_SERVER_INTERNAL');
      return;
    }
    this.#ended = true;
    if (this.isChunked && this.#socket !== null) {
      this.#socket.write(kLastChunk, 'latin1');
      this.#conn!.requestSent();
    }
  }

  /** See `UpstreamExchange.onBodyDrain`; the last registered callback wins. */
  onBodyDrain(cb: () => void): void {
    this.#onDrain = cb;
  }

  /** See `UpstreamExchange.resume`. */
  resume(): void {
    if (!this.#done) this.#conn?.resume();
  }

  /** See `UpstreamExchange.abort`: the socket is destroyed, a queued request leaves the queue. */
  abort(): void {
    if (this.#done) return;
    this.#done = true;
    this.#pending = null;
    const conn = this.#conn;
    this.#conn = null;
    this.#socket = null;
    if (conn !== null) conn.destroy();
    else this.#owner.dequeue(this);
  }

  /** Whether the stale-connection retry applies (once, idempotent and bodiless requests). */
  canRetry(): boolean {
    return !this.#retried && isRetriableRequest(this.#head);
  }

  /** Detaches from a lost connection before the one retry on a fresh connection. */
  prepareRetry(): void {
    this.#retried = true;
    this.#conn = null;
    this.#socket = null;
  }

  /**
   * Binds to `conn` and writes the head and whatever body the caller already gave. A bodiless
   * request is one write; otherwise the socket stays corked until the end of this tick, so body
   * bytes the caller writes right away leave in the same writev as the head.
   */
  attach(conn: Connection, socket: Socket): void {
    this.#conn = conn;
    this.#socket = socket;
    if (this.isBodiless) {
      socket.write(this.encodedHead, 'latin1');
      conn.requestSent();
      return;
    }

    socket.cork();
    socket.write(this.encodedHead, 'latin1');
    const pending = this.#pending;
    this.#pending = null;
    let writable = true;
    if (pending !== null) for (const chunk of pending) writable = this.#writeChunk(socket, chunk);
    if (this.#ended && this.isChunked) socket.write(kLastChunk, 'latin1');
    if (this.isRequestComplete) {
      socket.uncork();
      conn.requestSent();
    } else process.nextTick(uncork, socket);
    if (writable) this.drained();
  }

  /** The socket can take more body: run the caller's drain callback if it is waiting. */
  drained(): void {
    if (this.#done || !this.#drainWanted) return;
    this.#drainWanted = false;
    this.#onDrain?.();
  }

  /** Hands the final head to the sink; false when the exchange ended meanwhile. */
  deliverHead(head: ParsedHead): boolean {
    if (this.#done) return false;
    this.#sink.onHead(head.status, head.headers, head.bodyKind, head.contentLength);
    return !this.#done;
  }

  /** Hands body bytes to the sink; false to pause (or when the exchange ended meanwhile). */
  deliverData(chunk: Buffer): boolean {
    if (this.#done) return false;
    const more = this.#sink.onData(chunk);
    return more && !this.#done;
  }

  /** Ends the exchange successfully. The connection has already detached. */
  deliverEnd(): void {
    if (this.#done) return;
    this.#done = true;
    this.#conn = null;
    this.#socket = null;
    this.#sink.onEnd();
  }

  /** Ends the exchange with `code`; destroys its socket if it still has one. */
  fail(code: ErrorCode): void {
    if (this.#done) return;
    this.#done = true;
    this.#pending = null;
    const conn = this.#conn;
    this.#conn = null;
    this.#socket = null;
    conn?.destroy();
    this.#sink.onError(code);
  }

  /** Fails on a microtask, so `request()` returns before the sink hears of it. */
  failSoon(code: ErrorCode): void {
    queueMicrotask(() => this.fail(code));
  }

  /** Writes one body chunk, framed when chunked; on a full buffer the connection is told. */
  #writeChunk(socket: Socket, chunk: Buffer): boolean {
    let ok: boolean;
    if (this.isChunked) {
      socket.cork();
      socket.write(`${chunk.length.toString(16)}\r\n`, 'latin1');
      socket.write(chunk);
      ok = socket.write('\r\n', 'latin1');
      socket.uncork();
    } else ok = socket.write(chunk);
    if (!ok) {
      this.#drainWanted = true;
      this.#conn!.writeBlocked();
    }
    return ok;
  }
}

// The last-chunk and an empty trailer section (RFC 9112 section 7.1).
const kLastChunk = '0\r\n\r\n';

function uncork(socket: Socket): void {
  socket.uncork();
}
