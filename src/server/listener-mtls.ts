/**
 * The mTLS listener: node:https requiring a client certificate that chains to the configured CAs,
 * feeding the same request path as the uWS listener (front-end-node.ts adapts node's objects).
 *
 * uWebSockets.js can require a trusted certificate but cannot hand it to JavaScript, hence node.
 * What node decides and what the request path decides:
 * 1. TLS (node/OpenSSL): no certificate, an untrusted chain, a revoked one (with a CRL), or one
 *    outside its validity period fails the handshake; no HTTP is ever read. Renegotiation is
 *    refused, so the certificate cannot change under a connection.
 * 2. Per connection, once: the certificate's names become an identity and a principal
 *    (src/authn/certificate-identity.ts), or a code that refuses every request on it.
 * 3. Per request: a certificate that expired while the connection stayed open refuses
 *    (IAM_AUTHN_CERTIFICATE_EXPIRED), then the shared request path runs, with framing checked by
 *    routing/headers-check.ts as for uWS. Requests llhttp cannot parse drop the connection
 *    without an answer (as uWS does), except an oversized head, which gets 431.
 */
import { X509Certificate } from 'node:crypto';
import https from 'node:https';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { certificateIdentity, principalFromCertificate } from '../authn/index.js';
import { errorSpec, PortcullisError } from '../errors/index.js';
import { errorBody } from './error-response.js';
import type { FrontHandler, PeerCertificate } from './front-end.js';
import { NodeFrontResponse, nodeFrontRequest } from './front-end-node.js';
import { assertAddressFree, type BoundListener } from './listen.js';
import { settleRequestId } from './request-id.js';
import { statusLine } from './status-line.js';

/** What the listener needs; files already read (PEM). */
export interface MtlsListenerOptions {
  readonly host: string;
  readonly port: number;
  readonly cert: Buffer;
  readonly key: Buffer;
  readonly passphrase: string | undefined;
  /** The CAs client certificates must chain to; at least one certificate. */
  readonly ca: readonly Buffer[];
  readonly crl: Buffer | undefined;
  readonly limits: {
    readonly maxHeaderBytes: number;
    readonly maxHeaderCount: number;
    readonly maxUrlBytes: number;
  };
  readonly requestIdHeader: string;
  readonly handle: FrontHandler;
  /** Clock for the per-request expiry check; tests may freeze it. */
  readonly nowMs?: () => number;
}

/** A bound mTLS listener. */
export interface MtlsListener extends BoundListener {
  /**
   * After the drain: closes connections as they go idle (node sends what it still holds for
   * them first, a response queued behind a pipelined one included), and after `graceMs` every
   * connection still open. Resolves when none is left.
   */
  closeConnections(graceMs: number): Promise<void>;
}

/** Idle keep-alive connections close after this long (uWS closes idle sockets after 10 s). */
const kKeepAliveTimeoutMs = 10_000;
/** Longest wait for a complete request head. */
const kHeadersTimeoutMs = 10_000;
/** How often connections are checked for idleness while closing. */
const kSweepIntervalMs = 20;

const kExpired: PeerCertificate = Object.freeze({
  ok: false, code: 'IAM_AUTHN_CERTIFICATE_EXPIRED',
});
/** Unreachable while node refuses unauthorized peers; kept so that nothing unverified passes. */
const kNoCertificate: PeerCertificate = Object.freeze({ ok: false, code: 'IAM_AUTHN_REQUIRED' });

/**
 * Starts the listener. Throws PortcullisError(IAM_SERVER_LISTEN_FAILED) when the address is
 * taken or the TLS material does not load (a CA file without a certificate included).
 */
export async function listenMtls(opts: MtlsListenerOptions): Promise<MtlsListener> {
  // Step 1: TLS material, checked before anything binds.
  for (const [i, pem] of opts.ca.entries()) {
    try {
      new X509Certificate(pem);
    } catch {
      throw new PortcullisError('IAM_SERVER_LISTEN_FAILED',
        `listeners.mtls.caFiles[${i}] holds no PEM certificate`);
    }
  }
  let server: https.Server;
  try {
    server = https.createServer({
      cert: opts.cert, key: opts.key, passphrase: opts.passphrase, ca: [...opts.ca],
      ...(opts.crl === undefined ? {} : { crl: opts.crl }),
      requestCert: true, rejectUnauthorized: true, minVersion: 'TLSv1.2',
      // Our own checks (headers-check.ts) decide within the configured limits; llhttp's
      // bound only stops heads far beyond them.
      maxHeaderSize: opts.limits.maxHeaderBytes + opts.limits.maxUrlBytes + 1024,
      requireHostHeader: false, insecureHTTPParser: false, joinDuplicateHeaders: false,
      requestTimeout: 0, headersTimeout: kHeadersTimeoutMs, keepAliveTimeout: kKeepAliveTimeoutMs,
      noDelay: true,
    });
  } catch (err) {
    throw new PortcullisError('IAM_SERVER_LISTEN_FAILED',
      `listeners.mtls: ${(err as Error).message}`);
  }
  // node drops headers past this count silently; one more than the limit lets ours see them.
  server.maxHeadersCount = opts.limits.maxHeaderCount + 1;
  // TODO(ops): no idle timeout runs while a request is in progress (uWS closes a connection
  // idle for 10 s): a client with a valid certificate can keep a body upload stalled for as
  // long as it likes. A timeout must not cut a slow upstream's wait, so it needs its own setting.

  // Step 2: connections and requests.
  const nowMs = opts.nowMs ?? Date.now;
  const peers = new WeakMap<TLSSocket, PeerCertificate>();
  // Every socket (handshakes included), and per TLS socket the responses not yet sent: the
  // shutdown sweep ends a connection only once nothing is left to send on it.
  const sockets = new Set<Socket>();
  const secured = new Set<TLSSocket>();
  const unsent = new WeakMap<TLSSocket, number>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  server.on('secureConnection', (socket: TLSSocket) => {
    socket.disableRenegotiation();
    secured.add(socket);
    socket.once('close', () => secured.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket as TLSSocket;
    unsent.set(socket, (unsent.get(socket) ?? 0) + 1);
    res.once('close', () => unsent.set(socket, (unsent.get(socket) ?? 1) - 1));
    let peer = peers.get(socket);
    if (peer === undefined) {
      peer = identify(socket);
      peers.set(socket, peer);
    }
    const notAfterSec = peer.ok ? peer.certificate.notAfterSec : undefined;
    if (notAfterSec !== undefined && notAfterSec * 1000 <= nowMs()) peer = kExpired;
    opts.handle(nodeFrontRequest(req, 'mtls', opts.requestIdHeader, peer),
      new NodeFrontResponse(req, res));
  });
  server.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
    if (err.code === 'HPE_HEADER_OVERFLOW' && socket.writable) {
      socket.end(headersTooLarge(opts.requestIdHeader));
    } else {
      socket.destroy();
    }
  });
  // Handshake failures end their socket in node; nothing to answer.
  server.on('tlsClientError', () => {});

  // Step 3: bind (node does not share addresses, but the probe gives the same error as uWS's).
  await assertAddressFree(opts.host, opts.port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => reject(new PortcullisError(
      'IAM_SERVER_LISTEN_FAILED', `${opts.host}:${opts.port}: ${err.code ?? err.message}`)));
    server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => resolve());
  });
  const address = server.address();
  let isOpen = true;
  return {
    host: opts.host,
    port: typeof address === 'object' && address !== null ? address.port : opts.port,
    close() {
      if (!isOpen) return;
      isOpen = false;
      server.close();
    },
    closeConnections(graceMs) {
      const deadline = Date.now() + graceMs;
      return new Promise((resolve) => {
        const sweep = (): void => {
          // end(), not destroy(): what node still buffers for the socket goes out first.
          for (const socket of secured) {
            if ((unsent.get(socket) ?? 0) === 0 && !socket.writableEnded) socket.end();
          }
          if (sockets.size > 0 && Date.now() < deadline) {
            setTimeout(sweep, kSweepIntervalMs);
            return;
          }
          for (const socket of sockets) socket.destroy();
          resolve();
        };
        sweep();
      });
    },
  };
}

/** The connection's identity, read once (node verified the chain before any request). */
function identify(socket: TLSSocket): PeerCertificate {
  const x509 = socket.authorized ? socket.getPeerX509Certificate() : undefined;
  if (x509 === undefined) return kNoCertificate;
  const result = certificateIdentity(x509);
  if (!result.ok) return result;
  return { ok: true, certificate: result.certificate,
    principal: principalFromCertificate(result.certificate) };
}

/** The raw 431 answer for a head llhttp refused as too large (no request object exists). */
function headersTooLarge(requestIdHeader: string): string {
  const code = 'IAM_REQUEST_HEADERS_TOO_LARGE';
  const requestId = settleRequestId(undefined);
  const body = errorBody(code, requestId);
  return `HTTP/1.1 ${statusLine(errorSpec(code).status)}\r\ncontent-type: application/json\r\n` +
    `cache-control: no-store\r\nx-portcullis-error: ${code}\r\n${requestIdHeader}: ${requestId}` +
    `\r\ncontent-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`;
}
