/**
 * Incremental HTTP/1.1 response parser: finds the head, skips interim (1xx) responses, then
 * delimits the body by length, chunked coding or connection close.
 *
 * The head end is found with one native `indexOf(CRLFCRLF)`; the head is then decoded once as a
 * latin1 string and checked in one pass (response-head.ts). While a head is still incomplete its
 * LFs are checked as they arrive, so a bare-LF upstream fails at once instead of at the headers
 * timeout. A head that arrives in one read is parsed straight from the socket buffer; only a head
 * split across reads is copied into a growable accumulator (bounded by `maxHeadBytes`), and each
 * read is searched only from its own octets, so any split costs linear time.
 */
import {
  ChunkedDecoder, type ChunkSink, kChunkDone, kChunkNeedMore, kChunkPaused,
} from './chunked-decoder.js';
import { kCR, kLF } from './field-syntax.js';
import { type ParsedHead, parseResponseHead } from './response-head.js';

/** Receives what the parser finds. A false return stops `execute` (pause or abort). */
export interface ResponseEvents extends ChunkSink {
  onResponseHead(head: ParsedHead): boolean;
}

/** `execute` and `finish` results. */
export const kParseNeedMore = 0;
export const kParsePaused = 1;
export const kParseComplete = 2;
export const kParseMalformed = 3;
export const kParseTruncated = 4;

// Interim responses before the final one; more is a misbehaving upstream.
const kMaxInterimResponses = 16;
const kInitialAccumulatorBytes = 1024;

const kHead = 0;
const kLength = 1;
const kChunked = 2;
const kClose = 3;
const kDone = 4;

/** Parses the responses of one connection, one at a time (`start` before each). */
export class ResponseParser {
  /** After kParsePaused or kParseComplete: index in the input just past what was consumed. */
  offset = 0;
  readonly #events: ResponseEvents;
  readonly #maxHeadBytes: number;
  readonly #chunked = new ChunkedDecoder();
  #state = kDone;
  #isHeadRequest = false;
  #keepAlive = false;
  #sawBytes = false;
  #interim = 0;
  #remaining = 0;
  #accumulator: Buffer | null = null;
  #accumulated = 0;
  #lastHead: ParsedHead | null = null;

  /** `maxHeadBytes` bounds each head and the trailer section. */
  constructor(events: ResponseEvents, maxHeadBytes: number) {
    this.#events = events;
    this.#maxHeadBytes = maxHeadBytes;
  }

  /** True once any octet of the current response (interim ones included) has arrived. */
  get hasResponseBytes(): boolean {
    return this.#sawBytes;
  }

  /** After kParseComplete: whether the framing and fields allow another request. */
  get keepAlive(): boolean {
    return this.#keepAlive;
  }

  /** Expects a new response; `isHeadRequest` makes it bodiless. */
  start(isHeadRequest: boolean): void {
    this.#state = kHead;
    this.#isHeadRequest = isHeadRequest;
    this.#keepAlive = false;
    this.#sawBytes = false;
    this.#interim = 0;
    this.#accumulated = 0;
  }

  /**
   * Consumes `input[start..]`. kParseNeedMore: all consumed. kParsePaused: an event returned
   * false, resume later at `offset`. kParseComplete: the response ended at `offset` (octets after
   * it are not part of it). kParseMalformed: stop using this connection.
   */
  execute(input: Buffer, start: number): number {
    if (start < input.length) this.#sawBytes = true;
    let pos = start;
    while (pos < input.length) {
      switch (this.#state) {
        case kHead: {
          const next = this.#consumeHead(input, pos);
          if (next === kNeedMoreHead) return kParseNeedMore;
          if (next < 0) return kParseMalformed;
          pos = next;
          if (this.#state === kHead) continue;
          const head = this.#lastHead!;
          this.#lastHead = null;
          if (!this.#events.onResponseHead(head)) return this.#stop(kParsePaused, pos);
          break;
        }
        case kLength: {
          const take = Math.min(this.#remaining, input.length - pos);
          this.#remaining -= take;
          const data = input.subarray(pos, pos + take);
          pos += take;
          if (this.#remaining === 0) this.#state = kDone;
          if (!this.#events.onResponseBody(data) && this.#state !== kDone) {
            return this.#stop(kParsePaused, pos);
          }
          break;
        }
        case kChunked: {
          const result = this.#chunked.execute(input, pos, this.#events);
          if (result === kChunkNeedMore) return kParseNeedMore;
          if (result === kChunkPaused) return this.#stop(kParsePaused, this.#chunked.pos);
          if (result !== kChunkDone) return kParseMalformed;
          pos = this.#chunked.pos;
          this.#state = kDone;
          break;
        }
        case kClose: {
          const data = pos === 0 ? input : input.subarray(pos);
          pos = input.length;
          if (!this.#events.onResponseBody(data)) return this.#stop(kParsePaused, pos);
          break;
        }
        default:
          return this.#stop(kParseComplete, pos);
      }
    }
    return this.#state === kDone ? this.#stop(kParseComplete, pos) : kParseNeedMore;
  }

  /** The upstream closed its side: kParseComplete for a close-delimited body, else truncated. */
  finish(): number {
    if (this.#state === kClose || this.#state === kDone) {
      this.#state = kDone;
      return kParseComplete;
    }
    return kParseTruncated;
  }

  #stop(result: number, offset: number): number {
    this.offset = offset;
    return result;
  }

  /** Returns the index just past the head, kNeedMoreHead, or -1 when malformed. */
  #consumeHead(input: Buffer, pos: number): number {
    const max = this.#maxHeadBytes;
    if (this.#accumulated === 0) {
      // Fast path: the head starts in this read; parse it in place if it also ends here.
      const found = input.indexOf(kHeadEnd, pos);
      if (found >= 0) return found + 4 - pos > max ? -1 : this.#acceptHead(input, pos, found + 4);
      if (input.length - pos > max || hasBareLF(input, pos, input.length, pos)) return -1;
      this.#append(input, pos, input.length);
      return kNeedMoreHead;
    }

    // Slow path: append up to the size limit, search from just before the new octets. The
    // accumulator may hold stale octets past `#accumulated`, hence the bound on `found`.
    const before = this.#accumulated;
    const take = Math.min(max - before, input.length - pos);
    if (take === 0) return -1;
    this.#append(input, pos, pos + take);
    const acc = this.#accumulator!;
    const found = acc.indexOf(kHeadEnd, Math.max(0, before - 3));
    if (found < 0 || found + 4 > this.#accumulated) {
      if (this.#accumulated >= max || hasBareLF(acc, before, this.#accumulated, 0)) return -1;
      return kNeedMoreHead;
    }
    this.#accumulated = 0;
    const next = this.#acceptHead(acc, 0, found + 4);
    return next < 0 ? -1 : pos + (found + 4 - before);
  }

  /** Parses `buf[start, end)`; sets the body state (or loops on a 1xx). Returns end or -1. */
  #acceptHead(buf: Buffer, start: number, end: number): number {
    const head = parseResponseHead(buf, start, end, this.#isHeadRequest);
    if (head === null) return -1;
    if (head.status < 200) {
      // 101 answers an Upgrade this client never sends; other 1xx are interim and skipped.
      if (head.status === 101 || ++this.#interim > kMaxInterimResponses) return -1;
      this.#accumulated = 0;
      return end;
    }
    this.#lastHead = head;
    this.#keepAlive = head.keepAlive;
    switch (head.bodyKind) {
      case 'length':
        this.#remaining = head.contentLength;
        this.#state = head.contentLength === 0 ? kDone : kLength;
        break;
      case 'chunked':
        this.#chunked.start(this.#maxHeadBytes);
        this.#state = kChunked;
        break;
      case 'close':
        this.#state = kClose;
        break;
      default:
        this.#state = kDone;
    }
    return end;
  }

  #append(input: Buffer, from: number, to: number): void {
    const needed = this.#accumulated + (to - from);
    let acc = this.#accumulator;
    if (acc === null || acc.length < needed) {
      const size = Math.min(this.#maxHeadBytes, Math.max(kInitialAccumulatorBytes, needed * 2));
      const grown = Buffer.allocUnsafe(Math.max(size, needed));
      if (acc !== null) acc.copy(grown, 0, 0, this.#accumulated);
      this.#accumulator = acc = grown;
    }
    input.copy(acc, this.#accumulated, from, to);
    this.#accumulated = needed;
  }
}

const kNeedMoreHead = -2;
const kHeadEnd = Buffer.from('\r\n\r\n', 'latin1');

/**
 * True when `buf[from, to)` holds a LF that does not follow a CR of the same head (`headStart`
 * is where the head began). Run only while a head is incomplete, so a bare-LF upstream fails
 * at once instead of at the headers timeout; a complete head is checked by parseResponseHead.
 */
function hasBareLF(buf: Buffer, from: number, to: number, headStart: number): boolean {
  let lf = buf.indexOf(kLF, from);
  while (lf >= 0 && lf < to) {
    if (lf === headStart || buf[lf - 1] !== kCR) return true;
    lf = buf.indexOf(kLF, lf + 1);
  }
  return false;
}
