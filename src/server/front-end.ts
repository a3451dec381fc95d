/**
 * The front-end contract: what a listener hands the request path, whichever server library
 * accepted the connection (uWebSockets.js for the proxy listener, node:https for the mTLS one).
 *
 * A listener copies the request head into a `FrontRequest` and wraps its response object in a
 * `FrontResponse`; `createProxyHandler` (proxy-handler.ts), the body pump (request-body.ts), the
 * error writer and the response relay (src/upstream/response-relay.ts) use nothing else. So both
 * listeners run one request path: framing checks, canonical target, routing, authentication,
 * identity headers, forwarding, error answers and drain.
 */
import type { CertificateIdentity, Principal } from '../authn/index.js';
import type { ErrorCode } from '../errors/index.js';

/**
 * The listener a request arrived on (config `listeners.<name>`); the audit record names it.
 * `decision` takes an ingress's auth checks (decision-handler.ts) and forwards nothing.
 */
export type ListenerName = 'proxy' | 'mtls' | 'decision';

/**
 * The client certificate of an mTLS connection as the request path sees it: the identity it
 * proves, with the principal built from it once per connection, or the code that refuses every
 * request on the connection (a name that cannot be passed on safely, or a certificate that
 * expired while the connection stayed open).
 */
export type PeerCertificate =
  | { readonly ok: true; readonly certificate: CertificateIdentity; readonly principal: Principal }
  | { readonly ok: false; readonly code: ErrorCode };

/** One request head, copied out of the server library before anything asynchronous runs. */
export interface FrontRequest {
  readonly listener: ListenerName;
  /** Upper-case method token. */
  readonly method: string;
  /** The request target as received: origin-form path and `?query`, or absolute form. */
  readonly target: string;
  /** Flat `[name, value, ...]`, names lower-case, wire order, duplicates kept. Ours to keep. */
  readonly headers: string[];
  /** The last value of the configured request-id header, when the client sent one. */
  readonly inboundRequestId: string | undefined;
  /** Peer address, IPv4 dotted or IPv6 text. */
  readonly remoteAddress: string;
  /** The connection's verified client certificate (mTLS listener); undefined elsewhere. */
  readonly peer: PeerCertificate | undefined;
}

/**
 * Receives the request body. `chunk` is the receiver's to keep (the front end copies when its
 * library reuses the memory); it may be empty, and the last call has `isLast` set.
 */
export type BodyChunkHandler = (chunk: Buffer, isLast: boolean) => void;

/**
 * The client side of one exchange. Valid until the response has ended or `onAborted` fired;
 * nothing may be written after either. Header names and values handed to it must already be free
 * of CR, LF and NUL (the upstream client refuses such fields; the proxy's own are constants).
 */
export interface FrontResponse {
  /**
   * Registers the one callback run when the client goes away before the response ended. Call it
   * synchronously in the request handler, before anything asynchronous (uWS requires it).
   */
  onAborted(cb: () => void): void;
  /** Registers the body receiver; like `onAborted`, only synchronously in the handler. */
  onData(cb: BodyChunkHandler): void;
  /** Stops reading the request body from the client (backpressure toward the client). */
  pause(): void;
  /** Reads the request body again after `pause`. */
  resume(): void;
  /**
   * Runs `fn` with every write it makes leaving in one send. Writes made outside the request
   * handler (after an await, from a socket callback) must be corked: uncorked, each is its own
   * syscall on uWS.
   */
  cork(fn: () => void): void;
  /**
   * The status and headers (flat `[name, value, ...]`). Any `date` field and any copy of
   * `requestIdHeader` in `headers` are left out: the front end writes its own Date, and
   * `requestIdHeader: requestId` goes last. Framing (Content-Length, chunked) is the front end's,
   * decided by the call that follows: `write`, `end` or `endWithoutBody`.
   */
  writeHead(status: number, headers: readonly string[], requestIdHeader: string,
    requestId: string): void;
  /**
   * Body bytes after `writeHead`. `totalBytes` is the whole body's length (the same on every
   * call; the front end writes Content-Length) or -1 when unknown (chunked encoding). `chunk` is
   * valid only during the call. Every byte is taken; false means the client is not keeping up:
   * stop producing until the `onWritable` callback runs. With a known length, the response is
   * complete once `totalBytes` have been written.
   */
  write(chunk: Buffer, totalBytes: number): boolean;
  /** Registers the callback run once, when output held back by a false `write` has drained. */
  onWritable(cb: () => void): void;
  /**
   * Ends the response: with `body` as the whole body right after `writeHead`, or after `write`
   * calls with `body` undefined (bytes still held back are sent first). `close` asks for the
   * connection to close once the response is out (a request body was left unread, or framing is
   * in doubt).
   */
  end(body: string | undefined, close: boolean): void;
  /**
   * Ends a response that has no body (HEAD, 1xx, 204, 304). `contentLength`, when defined, is
   * written as Content-Length (the representation's size, RFC 9110 section 8.6). Without it,
   * `close` is ignored: uWS 20.30 cannot combine the two (it then reads any request body out).
   */
  endWithoutBody(contentLength: number | undefined, close: boolean): void;
  /** Drops the connection at once, without an answer (or cutting a response short). */
  close(): void;
}

/** The request path: one function both listeners call for every request. */
export type FrontHandler = (request: FrontRequest, res: FrontResponse) => void;
