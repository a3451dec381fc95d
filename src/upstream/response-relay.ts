/**
 * Relays an upstream response to the uWebSockets.js response, with backpressure both ways.
 *
 * Every write happens outside a uWS handler (in a socket callback of the upstream client), so
 * each step is corked: the status line, the headers and the first body bytes leave in one write.
 * The head is held back until the first body bytes or the end arrive, so a small response costs
 * one syscall. Known-length bodies go through `tryEnd` (uWS then writes Content-Length itself);
 * unknown-length bodies through `write` (uWS then uses chunked encoding).
 */
import type { HttpResponse } from 'uWebSockets.js';
import type { ErrorCode } from '../errors/index.js';
import { statusLine } from '../server/status-line.js';
import { writeErrorResponse } from '../server/error-response.js';
import type { ResponseBodyKind, ResponseSink, UpstreamExchange } from './index.js';

/** What the relay reads from, and reports to, the request that owns it. */
export interface RelayOwner {
  /** The uWS response; valid until `isAborted()` turns true or the relay finishes. */
  readonly res: HttpResponse;
  readonly requestId: string;
  /** Lower-case name of the request-id header written on the response. */
  readonly requestIdHeader: string;
  /** The request was HEAD: the body is never sent, whatever the upstream says. */
  readonly isHead: boolean;
  /** Set by the front end's onAborted handler; no write may happen once true. */
  isAborted(): boolean;
  /** Whether the whole request body has been read; if not, the connection closes after us. */
  isRequestBodyComplete(): boolean;
  /** Called exactly once: with the status sent, or with the error code that ended the exchange. */
  finish(status: number, error: ErrorCode | undefined): void;
}

interface PendingChunk {
  readonly chunk: Buffer;
  readonly baseOffset: number;
}

/** A ResponseSink that writes to one uWS response. Create one per exchange. */
export class ResponseRelay implements ResponseSink {
  readonly #owner: RelayOwner;
  #exchange: UpstreamExchange | undefined;
  #status = 0;
  #headers: readonly string[] = [];
  #kind: ResponseBodyKind = 'none';
  #total = -1;
  #isHeadWritten = false;
  #isDone = false;
  #pending: PendingChunk | undefined;

  constructor(owner: RelayOwner) {
    this.#owner = owner;
  }

  /** Binds the exchange whose reading this relay pauses and resumes. */
  bind(exchange: UpstreamExchange): void {
    this.#exchange = exchange;
  }

  onHead(status: number, headers: readonly string[], body: ResponseBodyKind,
    contentLength: number): void {
    this.#status = status;
    this.#headers = headers;
    this.#kind = this.#owner.isHead ? 'none' : body;
    this.#total = contentLength;
    if (this.#kind === 'none' && !this.#owner.isAborted()) this.#endWithoutBody(contentLength);
  }

  onData(chunk: Buffer): boolean {
    if (this.#isDone || this.#owner.isAborted() || this.#kind === 'none') return true;
    const { res } = this.#owner;
    let isOk = true;
    res.cork(() => {
      this.#writeHeadOnce();
      if (this.#kind === 'length') {
        const baseOffset = res.getWriteOffset();
        const [ok, done] = res.tryEnd(chunk, this.#total);
        isOk = ok;
        if (done) this.#complete();
        // uWS took only part of it: keep a copy, `chunk` is only valid during this call.
        else if (!ok) this.#waitWritable({ chunk: Buffer.from(chunk), baseOffset });
      } else {
        isOk = res.write(chunk);
        if (!isOk) this.#waitWritable(undefined);
      }
    });
    return isOk;
  }

  onEnd(): void {
    if (this.#isDone || this.#owner.isAborted()) return;
    if (this.#kind === 'none') return;
    const { res } = this.#owner;
    res.cork(() => {
      this.#writeHeadOnce();
      if (this.#kind === 'length') {
        // Only reached for an empty known-length body: tryEnd already ended any other.
        res.end('', !this.#owner.isRequestBodyComplete());
      } else {
        res.end(undefined, !this.#owner.isRequestBodyComplete());
      }
    });
    this.#complete();
  }

  onError(code: ErrorCode): void {
    if (this.#isDone) return;
    this.#isDone = true;
    const { res } = this.#owner;
    if (!this.#owner.isAborted()) {
      // Before the head: an ordinary error answer. After it: the body is truncated, and the only
      // honest signal left is to cut the client connection.
      if (this.#isHeadWritten) res.close();
      else writeErrorResponse(res, code, this.#owner.requestId,
        !this.#owner.isRequestBodyComplete(), undefined, this.#owner.requestIdHeader);
    }
    this.#owner.finish(this.#isHeadWritten ? this.#status : 0, code);
  }

  #writeHeadOnce(): void {
    if (this.#isHeadWritten) return;
    this.#isHeadWritten = true;
    // One native call for the whole head: uWS writes the status text verbatim after
    // "HTTP/1.1 ", so the header lines ride along with it. This is safe only because the
    // upstream client has already refused any name or value holding CR, LF or NUL.
    const idHeader = this.#owner.requestIdHeader;
    let head = statusLine(this.#status);
    const headers = this.#headers;
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      // uWS writes its own Date; our request id replaces any the upstream echoed.
      if (name === 'date' || name === idHeader) continue;
      head += `\r\n${name}: ${headers[i + 1] as string}`;
    }
    this.#owner.res.writeStatus(`${head}\r\n${idHeader}: ${this.#owner.requestId}`);
  }

  #endWithoutBody(contentLength: number): void {
    const { res } = this.#owner;
    const status = this.#status;
    // RFC 9110 section 8.6: never a Content-Length on 1xx or 204; HEAD and 304 may repeat it.
    const reported = status === 204 || status < 200 || contentLength < 0 ? undefined : contentLength;
    res.cork(() => {
      this.#writeHeadOnce();
      // uWS reads an explicit `undefined` length as a number, so the no-length form takes no
      // arguments; it cannot ask for a close, and uWS still consumes the rest of a request body.
      if (reported === undefined) res.endWithoutBody();
      else res.endWithoutBody(reported, !this.#owner.isRequestBodyComplete());
    });
    this.#complete();
  }

  #waitWritable(pending: PendingChunk | undefined): void {
    this.#pending = pending;
    this.#owner.res.onWritable((offset) => this.#onWritable(offset));
  }

  #onWritable(offset: number): boolean {
    if (this.#isDone || this.#owner.isAborted()) return true;
    const pending = this.#pending;
    if (pending !== undefined) {
      const [ok, done] = this.#owner.res.tryEnd(
        pending.chunk.subarray(offset - pending.baseOffset), this.#total);
      if (done) {
        this.#complete();
        return true;
      }
      if (!ok) return false;
      this.#pending = undefined;
    }
    this.#exchange?.resume();
    return true;
  }

  #complete(): void {
    if (this.#isDone) return;
    this.#isDone = true;
    this.#owner.finish(this.#status, undefined);
  }
}
