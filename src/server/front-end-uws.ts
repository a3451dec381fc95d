/**
 * The uWebSockets.js side of the front-end contract (front-end.ts), used by the proxy listener.
 *
 * uWS hands over `req` for the synchronous part of the handler only, so the head is copied first.
 * Known-length bodies go through `tryEnd` (uWS then writes Content-Length itself and never
 * buffers): when uWS takes only part of a chunk, the rest is copied and sent from `onWritable`,
 * and an `end` asked for meanwhile waits for it. Unknown-length bodies go through `write` (uWS
 * buffers what the socket does not take, and uses chunked encoding).
 */
import type { HttpRequest, HttpResponse } from 'uWebSockets.js';
import type {
  BodyChunkHandler, FrontHandler, FrontResponse, ListenerName,
} from './front-end.js';
import { statusLine } from './status-line.js';

const kEmpty = Buffer.alloc(0);

/** The peer address uWS hands over as ASCII bytes, as a string (cheaper than a TextDecoder). */
function addressText(ab: ArrayBuffer): string {
  return String.fromCharCode.apply(null, new Uint8Array(ab) as unknown as number[]);
}

/**
 * The uWS route handler for `handle`: copies the request head (method upper-cased, headers as
 * uWS lists them: names lower-case) and wraps `res`. `requestIdHeader` is lower-case.
 */
export function uwsHandler(handle: FrontHandler, listener: ListenerName, requestIdHeader: string):
  (res: HttpResponse, req: HttpRequest) => void {
  return (res, req) => {
    const query = req.getQuery();
    const target = query === undefined || query === '' ? req.getUrl() : `${req.getUrl()}?${query}`;
    const headers: string[] = [];
    let inboundRequestId: string | undefined;
    req.forEach((name, value) => {
      headers.push(name, value);
      if (name === requestIdHeader) inboundRequestId = value;
    });
    handle({
      listener,
      method: req.getMethod().toUpperCase(),
      target,
      headers,
      inboundRequestId,
      remoteAddress: addressText(res.getRemoteAddressAsText()),
      peer: undefined,
    }, new UwsFrontResponse(res));
  };
}

/** A FrontResponse over one uWS HttpResponse. */
export class UwsFrontResponse implements FrontResponse {
  readonly #res: HttpResponse;
  #isAborted = false;
  /** uWS has sent the whole known-length body (tryEnd reported it done). */
  #isComplete = false;
  /** The part of a known-length chunk uWS did not take, sent from onWritable; its offset. */
  #pending: Buffer | undefined;
  #pendingOffset = 0;
  #total = -1;
  #isEndWaiting = false;
  #writable: (() => void) | undefined;

  constructor(res: HttpResponse) {
    this.#res = res;
  }

  onAborted(cb: () => void): void {
    this.#res.onAborted(() => {
      this.#isAborted = true;
      cb();
    });
  }

  onData(cb: BodyChunkHandler): void {
    // Copy: uWS neuters the ArrayBuffer when this callback returns.
    this.#res.onData((ab, isLast) => {
      cb(ab.byteLength === 0 ? kEmpty : Buffer.from(new Uint8Array(ab)), isLast);
    });
  }

  pause(): void {
    this.#res.pause();
  }

  resume(): void {
    this.#res.resume();
  }

  cork(fn: () => void): void {
    // Once tryEnd has sent the whole body uWS forbids any access, cork included; what `fn` may
    // still do then (the closing `end`) is a no-op here.
    if (this.#isComplete) fn();
    else this.#res.cork(fn);
  }

  writeHead(status: number, headers: readonly string[], requestIdHeader: string,
    requestId: string): void {
    // One native call for the whole head: uWS writes the status text verbatim after
    // "HTTP/1.1 ", so the header lines ride along with it. Safe only because no name or value
    // holds CR, LF or NUL (FrontResponse contract).
    let head = statusLine(status);
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (name === 'date' || name === requestIdHeader) continue;
      head += `\r\n${name}: ${headers[i + 1] as string}`;
    }
    this.#res.writeStatus(`${head}\r\n${requestIdHeader}: ${requestId}`);
  }

  write(chunk: Buffer, totalBytes: number): boolean {
    const res = this.#res;
    if (totalBytes < 0) return res.write(chunk);
    this.#total = totalBytes;
    if (this.#pending !== undefined) {
      // Written although the last write said wait: keep the order, send it after the rest.
      this.#pending = Buffer.concat([this.#pending, chunk]);
      return false;
    }
    const offset = res.getWriteOffset();
    const [isOk, isDone] = res.tryEnd(chunk, totalBytes);
    if (isDone) this.#isComplete = true;
    if (isOk || isDone) return true;
    // uWS took only part of it: keep a copy of the rest, `chunk` is only valid during this call.
    const taken = res.getWriteOffset() - offset;
    this.#pending = Buffer.from(chunk.subarray(taken));
    this.#pendingOffset = offset + taken;
    res.onWritable((at) => this.#onWritable(at));
    return false;
  }

  onWritable(cb: () => void): void {
    this.#writable = cb;
    if (this.#pending === undefined) this.#res.onWritable(() => this.#onWritable(0));
  }

  end(body: string | undefined, close: boolean): void {
    if (this.#isComplete) return;
    if (this.#pending !== undefined) {
      // tryEnd finishes the response once the held-back bytes are out.
      this.#isEndWaiting = true;
      return;
    }
    this.#res.end(body ?? '', close);
  }

  endWithoutBody(contentLength: number | undefined, close: boolean): void {
    // uWS reads an explicit `undefined` length as a number, so the no-length form takes no
    // arguments; it cannot ask for a close, and uWS still consumes the rest of a request body.
    if (contentLength === undefined) this.#res.endWithoutBody();
    else this.#res.endWithoutBody(contentLength, close);
  }

  close(): void {
    this.#res.close();
  }

  /** uWS: the socket drained. Returns false while held-back bytes remain. */
  #onWritable(offset: number): boolean {
    if (this.#isAborted) return true;
    const pending = this.#pending;
    if (pending !== undefined) {
      const [isOk, isDone] = this.#res.tryEnd(pending.subarray(offset - this.#pendingOffset),
        this.#total);
      if (isDone) this.#isComplete = true;
      if (!isOk && !isDone) return false;
      this.#pending = undefined;
    }
    const cb = this.#writable;
    this.#writable = undefined;
    if (!this.#isEndWaiting) cb?.();
    return true;
  }
}
