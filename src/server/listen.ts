/**
 * Binding uWebSockets.js apps to addresses, safely.
 *
 * uWS opens its listen sockets with SO_REUSEPORT, so a second server on an address already in use
 * starts without error and silently takes half the connections. Before each listen we bind the
 * address once with node:net (which does not share); if that fails, the address is taken and the
 * start-up fails with IAM_SERVER_LISTEN_FAILED.
 */
import net from 'node:net';
import type { TemplatedApp, us_listen_socket } from 'uWebSockets.js';
import { PortcullisError } from '../errors/index.js';
import type { UWS } from './uws-loader.js';

/** A bound listener. `port` is the actual port (useful with port 0). */
export interface BoundListener {
  readonly host: string;
  readonly port: number;
  /** Stops accepting new connections; open connections stay until they end. */
  close(): void;
}

/**
 * A port the OS picks as free on `host` (bound once with node:net, then released). uWS shares
 * a port between threads only when it was given a number (with 0 it does not set SO_REUSEPORT),
 * so a listener that serving threads will join picks its port this way first.
 */
export function pickFreePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(new PortcullisError('IAM_SERVER_LISTEN_FAILED', `${host}:0: ${err.code ?? err.message}`));
    });
    probe.listen({ host, port: 0, exclusive: true }, () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** Resolves when `host:port` can be bound exclusively; rejects IAM_SERVER_LISTEN_FAILED if not. */
export function assertAddressFree(host: string, port: number): Promise<void> {
  if (port === 0) return Promise.resolve();
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', (err: NodeJS.ErrnoException) => {
      reject(new PortcullisError('IAM_SERVER_LISTEN_FAILED', `${host}:${port}: ${err.code ?? err.message}`));
    });
    probe.listen({ host, port, exclusive: true }, () => probe.close(() => resolve()));
  });
}

/**
 * Binds `app` to `host:port` after checking the address is free. A serving thread joining the
 * main thread's port (src/threads/) passes `isJoining`: sharing is then the point, and the
 * kernel spreads new connections over every thread's socket.
 */
export async function listenApp(uws: UWS, app: TemplatedApp, host: string, port: number,
  isJoining = false): Promise<BoundListener> {
  if (!isJoining) await assertAddressFree(host, port);
  const socket = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(host, port, (ls) => {
      if (ls === false) {
        reject(new PortcullisError('IAM_SERVER_LISTEN_FAILED', `${host}:${port}`));
      } else {
        resolve(ls);
      }
    });
  });
  const actualPort = uws.us_socket_local_port(socket as unknown as Parameters<UWS['us_socket_local_port']>[0]);
  let isOpen = true;
  return {
    host,
    port: actualPort,
    close() {
      if (!isOpen) return;
      isOpen = false;
      uws.us_listen_socket_close(socket);
    },
  };
}
