/**
 * Relays an upstream response to the client's front-end response, with backpressure both ways.
 *
 * Every write happens outside a request handler (in a socket callback of the upstream client), so
 * each step is corked: the status line, the headers and the first body bytes leave in one write.
 * The head is held back until the first body bytes or the end arrive, so a small response costs
 * one syscall. Known-length bodies are written with their total (the front end writes
 * Content-Length); unknown-length ones without (chunked encoding). When the client does not keep
 * up, the upstream is paused until the front end drains.
 */
import type { ErrorCode } from '../errors/index.js';
import type { FrontResponse } from '../server/front-end.js';
import { writeErrorResponse } from '../server/error-response.js';
import type { ResponseBodyKind, ResponseSink, UpstreamExchange } from './index.js';

/** What the relay reads from, and reports to, the request that owns it. */
export interface RelayOwner {
  /** The client's response; valid until `isAborted()` turns true or the relay finishes. */
  readonly res: FrontResponse;
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

/** A ResponseSink that writes to one client response. Create one per exchange. */
export class ResponseRelay implements ResponseSink {
  readonly #owner: RelayOwner;
  #exchange: UpstreamExchange | undefined;
  #status = 0;
  #headers: readonly string[] = [];
  #kind: ResponseBodyKind = 'none';
  #total = -1;
  #isHeadWritten = false;
  #isDone = false;

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
    const total = this.#kind === 'length' ? this.#total : -1;
    let isOk = true;
    res.cork(() => {
      this.#writeHeadOnce();
      isOk = res.write(chunk, total);
    });
    if (!isOk) res.onWritable(() => this.#onWritable());
    return isOk;
  }

  onEnd(): void {
    if (this.#isDone || this.#owner.isAborted()) return;
    if (this.#kind === 'none') return;
    const { res } = this.#owner;
    res.cork(() => {
      this.#writeHeadOnce();
      res.end(undefined, !this.#owner.isRequestBodyComplete());
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
    this.#owner.res.writeHead(this.#status, this.#headers, this.#owner.requestIdHeader,
      this.#owner.requestId);
  }

  #endWithoutBody(contentLength: number): void {
    const { res } = this.#owner;
    const status = this.#status;
    // RFC 9110 section 8.6: never a Content-Length on 1xx or 204; HEAD and 304 may repeat it.
    const reported = status === 204 || status < 200 || contentLength < 0 ? undefined : contentLength;
    res.cork(() => {
      this.#writeHeadOnce();
      res.endWithoutBody(reported, !this.#owner.isRequestBodyComplete());
    });
    this.#complete();
  }

  /** The client drained what it held back: let the upstream go on. */
  #onWritable(): void {
    if (this.#isDone || this.#owner.isAborted()) return;
    this.#exchange?.resume();
  }

  #complete(): void {
    if (this.#isDone) return;
    this.#isDone = true;
    this.#owner.finish(this.#status, undefined);
  }
}
