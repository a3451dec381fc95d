import { createConnection, createServer } from 'node:net';

/**
 * Returns a TCP port on 127.0.0.1 that was free a moment ago: binds port 0, reads the number
 * the kernel chose, and closes. Another process may take it before the caller binds it; callers
 * that must be sure check with `isPortOpen` just before they start a server on it.
 */
export async function freePort(): Promise<number> {
  return new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.once('error', reject);
    server.listen({ host: '127.0.0.1', port: 0, exclusive: true }, () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => (port > 0 ? resolve(port) : reject(new Error('no port assigned'))));
    });
  });
}

/**
 * True when something on 127.0.0.1 accepts a TCP connection on `port` within `timeoutMs`
 * (default 500 ms). Used to refuse to start a server on a port that is already served: uWS
 * lets a second server share a port and silently splits the load with it.
 */
export async function isPortOpen(port: number, timeoutMs = 500): Promise<boolean> {
  return new Promise<boolean>((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    const timer = setTimeout(() => finish(false), timeoutMs);
    function finish(open: boolean): void {
      clearTimeout(timer);
      socket.destroy();
      resolve(open);
    }
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}
