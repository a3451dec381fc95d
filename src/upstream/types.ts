/**
 * Public contracts of the upstream HTTP/1.1 client: addresses, pool options, the request head
 * the caller hands over, and the two callback surfaces (the caller's `ResponseSink` and the
 * `UpstreamExchange` the client returns).
 *
 * Header strings on both sides are byte strings, as in node:http: each character is one octet
 * (char code 0-255, i.e. latin1). Request names and values outside that range are refused; response
 * values with octets 0x80-0xFF arrive as the matching latin1 characters.
 */
import type { ConnectionOptions } from 'node:tls';
import type { ErrorCode } from '../errors/index.js';

/** One upstream endpoint. `host` is a name or an IP literal; `port` is 1-65535. */
export interface UpstreamAddress {
  readonly host: string;
  readonly port: number;
}

/** Options of one keep-alive pool (one upstream address). All durations are milliseconds. */
export interface PoolOptions {
  readonly address: UpstreamAddress;
  /** Open sockets to this address at most (connecting ones included). */
  readonly maxConnections: number;
  /** Requests waiting for a socket beyond this many are refused with IAM_UPSTREAM_UNAVAILABLE. */
  readonly maxQueued: number;
  /** TCP connect (and TLS handshake) limit -> IAM_UPSTREAM_CONNECT_TIMEOUT. */
  readonly connectTimeoutMs: number;
  /**
   * Limit on waiting for the upstream before the final response head is complete
   * -> IAM_UPSTREAM_HEADERS_TIMEOUT. The clock runs while the client waits on the upstream: from
   * the moment the last request byte is handed to the socket, and also while a request body write
   * waits for `drain` (the upstream is not reading). It does not run while the body is still
   * streaming at the caller's pace; the caller's own request-body timeout covers a slow client.
   */
  readonly headersTimeoutMs: number;
  /** Longest silence between response body bytes -> IAM_UPSTREAM_BODY_TIMEOUT (paused: none). */
  readonly bodyTimeoutMs: number;
  /** An idle keep-alive socket is closed after this long. */
  readonly idleTimeoutMs: number;
  /** A response head (status line + fields + CRLF) larger than this is malformed. */
  readonly maxResponseHeaderBytes: number;
  /** When set, connect with node:tls using these options (the handshake counts as connecting). */
  readonly tls?: ConnectionOptions;
  /** Optional: longest wait in the queue for a socket -> IAM_UPSTREAM_UNAVAILABLE. Unset: none. */
  readonly queueTimeoutMs?: number;
  /** Optional: told the outcome of every connect attempt (the balancer's passive health check). */
  readonly onConnectOutcome?: (ok: boolean) => void;
}

/** How the request body is framed on the wire. `length` must be a non-negative safe integer. */
export type BodyFraming =
  | { readonly kind: 'none' }
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' };

/** What the caller sends. The client adds only the framing header derived from `body`. */
export interface UpstreamRequestHead {
  /** Upper-case token. CONNECT is refused (this client does not tunnel). */
  readonly method: string;
  /** Origin-form path plus optional `?query`, already canonical; visible ASCII only. */
  readonly target: string;
  /**
   * Flat `[name, value, ...]` sent as-is. Names must be tokens, values field-content octets;
   * Content-Length and Transfer-Encoding are refused (the client owns framing). Any violation ->
   * onError(IAM_FRAMING_HEADER_INVALID) and nothing is written.
   */
  readonly headers: readonly string[];
  readonly body: BodyFraming;
}

/** How the response body is delimited: absent, Content-Length, chunked, or connection close. */
export type ResponseBodyKind = 'none' | 'length' | 'chunked' | 'close';

/**
 * The caller's receiver of one response. Callbacks must not throw. After `onEnd` or `onError`
 * nothing more is called. `onError` is never called from inside `request()`: early refusals are
 * delivered on a microtask, so the caller always holds the exchange first.
 */
export interface ResponseSink {
  /**
   * The final response head (1xx interim responses are consumed). `headers` is flat, names
   * lower-cased, in wire order, with framing (content-length, transfer-encoding) and hop-by-hop
   * fields (connection, keep-alive, te, trailer, upgrade, proxy-connection and every name listed
   * in Connection) removed. The array is the caller's to keep. `contentLength` is the body
   * length for 'length'; for a bodiless answer to HEAD, or a 304, it is the Content-Length the
   * upstream declared (a valid single value; the representation's size, RFC 9110 section 8.6),
   * so the caller may repeat it; otherwise -1.
   */
  onHead(
    status: number,
    headers: readonly string[],
    body: ResponseBodyKind,
    contentLength: number,
  ): void;
  /**
   * Decoded body bytes (chunked framing removed). `chunk` is valid only during this call: on
   * plain TCP it is a view of the read buffer every connection shares, so a sink that keeps the
   * bytes must copy them. Return false to pause; the client stops reading until `exchange.resume()`.
   * `onEnd` may follow an `onData` that returned false.
   */
  onData(chunk: Buffer): boolean;
  /** Body complete. Chunked trailers are parsed, checked and dropped. */
  onEnd(): void;
  /**
   * Exactly once, instead of or after `onHead`; never after `onEnd`. Codes:
   * IAM_UPSTREAM_CONNECT_FAILED, _CONNECT_TIMEOUT, _HEADERS_TIMEOUT, _BODY_TIMEOUT, _RESET,
   * _RESPONSE_MALFORMED, _UNAVAILABLE; IAM_FRAMING_HEADER_INVALID for a refused request head;
   * IAM_SERVER_INTERNAL when the caller breaks the body contract (more or fewer bytes than
   * declared, a body on a 'none' request).
   */
  onError(code: ErrorCode): void;
}

/** The caller's handle on one request. Every method is a no-op once the exchange has ended. */
export interface UpstreamExchange {
  /**
   * Request body bytes; the client applies the framing. Returns false when the socket buffer is
   * full (or no socket is assigned yet): the chunk was taken, wait for the drain callback.
   * The client keeps a reference to `chunk` until it is written; do not modify it.
   */
  writeBody(chunk: Buffer): boolean;
  /** End of the request body (writes the last-chunk for chunked). */
  endBody(): void;
  /**
   * Registers the callback run each time `writeBody` may continue after returning false. It is
   * not run once the exchange has ended (onEnd, onError): a writer waiting for it must stop then.
   */
  onBodyDrain(cb: () => void): void;
  /** Continue reading after `onData` returned false. */
  resume(): void;
  /** The client went away: the socket is destroyed (never reused) and no sink callback follows. */
  abort(): void;
}

/** Snapshot of a pool's sockets and waiting requests. `busy` counts connecting sockets too. */
export interface PoolStats {
  readonly open: number;
  readonly idle: number;
  readonly busy: number;
  readonly queued: number;
}

/** Options of a group of addresses serving one service. */
export interface BalancerOptions {
  readonly addresses: readonly UpstreamAddress[];
  readonly policy: 'round-robin' | 'least-pending';
  /** An address whose connect failed is skipped this long (unless every address is cooling). */
  readonly failureCooldownMs: number;
  readonly pool: Omit<PoolOptions, 'address'>;
}
