/**
 * The node:http side of the front-end contract (front-end.ts), used by the mTLS listener.
 *
 * node:http already frames the response (Content-Length when told, chunked otherwise) and writes
 * its own Date, so the head is kept until the first body call decides the framing. Body chunks
 * are copied before `res.write`: node keeps a reference to what it cannot send at once, and the
 * relay's chunks are views of a read buffer shared by every upstream connection. Request body
 * chunks are node's own buffers and are handed on as they are.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type {
  BodyChunkHandler, FrontRequest, FrontResponse, ListenerName, PeerCertificate,
} from './front-end.js';

const kEmpty = Buffer.alloc(0);

/**
 * Copies the head of `req` (names lower-cased, wire order, duplicates kept). `peer` is the
 * connection's certificate as the listener read it.
 */
export function nodeFrontRequest(req: IncomingMessage, listener: ListenerName,
  requestIdHeader: string, peer: PeerCertificate | undefined): FrontRequest {
  const raw = req.rawHeaders;
  const headers = new Array<string>(raw.length);
  let inboundRequestId: string | undefined;
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    headers[i] = name;
    headers[i + 1] = raw[i + 1] as string;
    if (name === requestIdHeader) inboundRequestId = raw[i + 1];
  }
  return {
    listener,
    method: req.method ?? '',
    target: req.url ?? '',
    headers,
    inboundRequestId,
    remoteAddress: plainAddress(req.socket.remoteAddress ?? ''),
    peer,
  };
}

/** `::ffff:10.0.0.1` (an IPv4 peer on a dual-stack socket) as `10.0.0.1`, so IPv4 CIDRs match. */
function plainAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** A FrontResponse over one node:http request/response pair. */
export class NodeFrontResponse implements FrontResponse {
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #status = 0;
  #headers: string[] | undefined;
  #isHeadSent = false;

  constructor(req: IncomingMessage, res: ServerResponse) {
    this.#req = req;
    this.#res = res;
  }

  onAborted(cb: () => void): void {
    this.#res.once('close', () => {
      if (!this.#res.writableFinished) cb();
    });
  }

  onData(cb: BodyChunkHandler): void {
    this.#req.on('data', (chunk: Buffer) => cb(chunk, false));
    this.#req.once('end', () => cb(kEmpty, true));
  }

  pause(): void {
    this.#req.pause();
  }

  resume(): void {
    this.#req.resume();
  }

  cork(fn: () => void): void {
    // node sends the head together with the first body bytes anyway.
    fn();
  }

  writeHead(status: number, headers: readonly string[], requestIdHeader: string,
    requestId: string): void {
    const kept: string[] = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (name === 'date' || name === requestIdHeader) continue;
      kept.push(name, headers[i + 1] as string);
    }
    kept.push(requestIdHeader, requestId);
    this.#status = status;
    this.#headers = kept;
  }

  write(chunk: Buffer, totalBytes: number): boolean {
    if (!this.#sendHead(totalBytes < 0 ? undefined : totalBytes, false)) return true;
    return this.#res.write(Buffer.from(chunk));
  }

  onWritable(cb: () => void): void {
    this.#res.once('drain', cb);
  }

  end(body: string | undefined, close: boolean): void {
    if (this.#isHeadSent) {
      // Streamed: the head went out without `connection: close`; half-close after the end.
      if (close) this.#res.once('finish', () => this.#req.socket.end());
      this.#res.end();
      return;
    }
    const length = body === undefined ? 0 : Buffer.byteLength(body);
    if (this.#sendHead(length, close)) this.#res.end(body);
  }

  endWithoutBody(contentLength: number | undefined, close: boolean): void {
    if (this.#sendHead(contentLength, close)) this.#res.end();
  }

  close(): void {
    this.#req.socket.destroy();
  }

  /** Writes the kept head once; false (and the connection dropped) if node refuses a field. */
  #sendHead(contentLength: number | undefined, close: boolean): boolean {
    if (this.#isHeadSent) return true;
    this.#isHeadSent = true;
    const headers = this.#headers ?? [];
    if (contentLength !== undefined) headers.push('content-length', String(contentLength));
    if (close) headers.push('connection', 'close');
    try {
      this.#res.writeHead(this.#status, headers);
      return true;
    } catch {
      // node's own field checks (a status out of range, a name that is not a token) refused it:
      // nothing sane can be sent any more.
      this.close();
      return false;
    }
  }
}
