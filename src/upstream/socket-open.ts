/**
 * Opens the socket of one upstream connection: plain TCP, or TLS when the pool has `tls`
 * options (outbound TLS and mTLS). Nagle's algorithm is off either way: the client writes whole
 * heads and body chunks itself, so there is nothing to coalesce and only latency to lose.
 *
 * Plain TCP sockets read through node's `onread` option into one buffer shared by every
 * connection, which skips the Readable stream and a Buffer allocation per read (measured:
 * bench/e2e/forwarding.ts). Bytes handed to `onBytes` are valid only during that call; anything
 * kept must be copied. TLS sockets keep the ordinary 'data' event (node has no `onread` there).
 */
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { PoolOptions } from './types.js';

/** A socket being opened, and the event that means it is ready for a request. */
export interface OpeningSocket {
  readonly socket: Socket;
  readonly readyEvent: 'connect' | 'secureConnect';
}

/** Receives the bytes of one read; `bytes` is reused after the call returns. */
export type OnBytes = (bytes: Buffer) => void;

/** The read buffer of every plain upstream socket (reads are synchronous, one at a time). */
const kSharedReadBuffer = Buffer.allocUnsafe(64 * 1024);

/**
 * Starts connecting to `options.address`. For TLS, the server name defaults to the host (unless
 * it is an IP literal, which SNI does not carry) and ALPN offers only http/1.1, so a server that
 * prefers h2 cannot pick it; both can be overridden through `options.tls`. Certificate checks
 * are node:tls defaults (on) unless `options.tls` says otherwise.
 */
export function openUpstreamSocket(options: PoolOptions, onBytes: OnBytes): OpeningSocket {
  const { host, port } = options.address;
  const tls = options.tls;
  if (tls === undefined) {
    const socket = netConnect({
      host, port, noDelay: true,
      onread: {
        buffer: kSharedReadBuffer,
        callback: (n: number, buf: Uint8Array): boolean => {
          onBytes((buf as Buffer).subarray(0, n));
          return true;
        },
      },
    });
    return { socket, readyEvent: 'connect' };
  }
  const servername = isIP(host) === 0 ? host : undefined;
  const socket = tlsConnect({ servername, ALPNProtocols: ['http/1.1'], ...tls, host, port });
  socket.setNoDelay(true);
  socket.on('data', onBytes);
  return { socket, readyEvent: 'secureConnect' };
}
