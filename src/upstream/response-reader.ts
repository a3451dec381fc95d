/**
 * Read-side flow control of one connection: feeds socket reads to the ResponseParser and turns
 * the sink's "stop" (onData returned false) into a paused socket.
 *
 * When the sink pauses mid-read, the rest of that read is copied and held back (reads share one
 * buffer, see socket-open.ts) and the socket stops reading; `resume()` feeds the held-back octets first, then lets the socket
 * read again. A sink that calls `resume()` from inside the very onData that returns false is
 * treated as never having paused.
 */
import type { Socket } from 'node:net';
import type { ParsedHead } from './response-head.js';
import {
  kParseComplete, kParseNeedMore, kParsePaused, ResponseParser, type ResponseEvents,
} from './response-parser.js';

/** Parser plus pause state for one socket. */
export class ResponseReader implements ResponseEvents {
  /** The parser (start, finish, keepAlive and hasResponseBytes are read through it). */
  readonly parser: ResponseParser;
  /** After kParseComplete: more octets followed the response in the same read. */
  hasExtraBytes = false;
  readonly #socket: Socket;
  readonly #events: ResponseEvents;
  #paused = false;
  #socketPaused = false;
  #feeding = false;
  #resumeAsked = false;
  #pending: Buffer | null = null;
  #pendingOffset = 0;

  /** Events go on to `events`; `maxHeadBytes` bounds heads and trailers. */
  constructor(socket: Socket, events: ResponseEvents, maxHeadBytes: number) {
    this.#socket = socket;
    this.#events = events;
    this.parser = new ResponseParser(this, maxHeadBytes);
  }

  /** True while the sink has paused the body. */
  get isPaused(): boolean {
    return this.#paused;
  }

  /**
   * Feeds `input[start..]`. Returns kParseNeedMore, kParsePaused (the socket is now paused),
   * kParseComplete (see `hasExtraBytes`) or kParseMalformed.
   */
  feed(input: Buffer, start: number): number {
    let offset = start;
    for (;;) {
      let result: number;
      this.#feeding = true;
      try {
        result = this.parser.execute(input, offset);
      } finally {
        this.#feeding = false;
      }
      if (result !== kParsePaused) {
        if (result === kParseComplete) this.hasExtraBytes = this.parser.offset < input.length;
        return result;
      }

      offset = this.parser.offset;
      if (this.#resumeAsked) {
        this.#resumeAsked = false;
        if (offset < input.length) continue;
        return kParseNeedMore;
      }
      this.#paused = true;
      this.#pending = offset < input.length ? Buffer.from(input.subarray(offset)) : null;
      this.#pendingOffset = 0;
      if (!this.#socketPaused) {
        this.#socketPaused = true;
        this.#socket.pause();
      }
      return kParsePaused;
    }
  }

  /**
   * The sink asked to continue. Returns the result of feeding the held-back octets, or
   * kParseNeedMore once the socket reads again (also when nothing was paused).
   */
  resume(): number {
    if (this.#feeding) {
      this.#resumeAsked = true;
      return kParseNeedMore;
    }
    if (!this.#paused) return kParseNeedMore;
    this.#paused = false;
    const input = this.#pending;
    this.#pending = null;
    if (input !== null) {
      const result = this.feed(input, this.#pendingOffset);
      if (result !== kParseNeedMore) return result;
    }
    this.#resumeSocket();
    return kParseNeedMore;
  }

  /** Forgets any pause (the response ended or the socket is going away); reading resumes. */
  reset(): void {
    this.#paused = false;
    this.#resumeAsked = false;
    this.#pending = null;
    this.#resumeSocket();
  }

  /** ResponseEvents: passed on. */
  onResponseHead(head: ParsedHead): boolean {
    return this.#events.onResponseHead(head);
  }

  /** ResponseEvents: passed on; only a resume() during this very call lifts its pause. */
  onResponseBody(chunk: Buffer): boolean {
    this.#resumeAsked = false;
    return this.#events.onResponseBody(chunk);
  }

  #resumeSocket(): void {
    if (!this.#socketPaused) return;
    this.#socketPaused = false;
    this.#socket.resume();
  }
}
