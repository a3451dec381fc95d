/**
 * Streams a request body from the front end to the upstream exchange with backpressure.
 *
 * Body chunks arrive through `onData`, which must be attached inside the synchronous part of the
 * handler (uWS requires it); each chunk is ours to keep (the front end copied it if needed).
 * Chunks that arrive before the exchange exists (while authentication is still running) are held
 * up to `kMaxEarlyBytes`, then the connection is paused. Once bound, a full upstream socket
 * pauses the client (`res.pause()`) until the upstream drains, so memory stays bounded whatever
 * the body size.
 */
import type { UpstreamExchange } from '../upstream/index.js';
import type { FrontResponse } from './front-end.js';

/** Bytes held before an exchange exists; past this the client connection is paused. */
const kMaxEarlyBytes = 64 * 1024;

/** Called when the body exceeds the service limit; the pump has stopped forwarding by then. */
export type OnBodyTooLarge = () => void;

/** One request body. Create it in the synchronous part of the request handler. */
export class RequestBodyPump {
  readonly #res: FrontResponse;
  readonly #limitBytes: number;
  readonly #onTooLarge: OnBodyTooLarge;
  #exchange: UpstreamExchange | undefined;
  #early: Buffer[] = [];
  #earlyBytes = 0;
  #receivedBytes = 0;
  #isComplete = false;
  #isPaused = false;
  #isFailed = false;

  /**
   * Attaches `onData` to `res` at once. `limitBytes` is the service's maxBodyBytes; exceeding it
   * calls `onTooLarge` once and drops the rest.
   */
  constructor(res: FrontResponse, limitBytes: number, onTooLarge: OnBodyTooLarge) {
    this.#res = res;
    this.#limitBytes = limitBytes;
    this.#onTooLarge = onTooLarge;
    res.onData((chunk, isLast) => this.#onChunk(chunk, isLast));
  }

  /** Whether the last body byte has been read from the client. */
  get isComplete(): boolean {
    return this.#isComplete;
  }

  /** Body bytes read from the client so far. */
  get receivedBytes(): number {
    return this.#receivedBytes;
  }

  /** Starts forwarding into `exchange`: flushes held chunks, then streams. */
  bind(exchange: UpstreamExchange): void {
    if (this.#isFailed) return;
    this.#exchange = exchange;
    exchange.onBodyDrain(() => this.#resumeClient());
    const early = this.#early;
    this.#early = [];
    this.#earlyBytes = 0;
    let isFull = false;
    for (const chunk of early) isFull = !exchange.writeBody(chunk) || isFull;
    if (this.#isComplete) exchange.endBody();
    if (isFull) this.#pauseClient();
    else this.#resumeClient();
  }

  /** Stops forwarding (the exchange failed or the client went away); later chunks are dropped. */
  abandon(): void {
    this.#isFailed = true;
    this.#early = [];
    this.#exchange = undefined;
  }

  #onChunk(chunk: Buffer, isLast: boolean): void {
    if (isLast) this.#isComplete = true;
    this.#receivedBytes += chunk.length;
    if (this.#isFailed) return;
    if (this.#receivedBytes > this.#limitBytes) {
      this.abandon();
      this.#onTooLarge();
      return;
    }

    const exchange = this.#exchange;
    if (exchange === undefined) {
      if (chunk.length > 0) {
        this.#early.push(chunk);
        this.#earlyBytes += chunk.length;
        if (this.#earlyBytes >= kMaxEarlyBytes) this.#pauseClient();
      }
      return;
    }
    if (chunk.length > 0 && !exchange.writeBody(chunk)) this.#pauseClient();
    if (isLast) exchange.endBody();
  }

  #pauseClient(): void {
    if (this.#isPaused || this.#isComplete) return;
    this.#isPaused = true;
    this.#res.pause();
  }

  #resumeClient(): void {
    if (!this.#isPaused || this.#isFailed) return;
    this.#isPaused = false;
    this.#res.resume();
  }
}
