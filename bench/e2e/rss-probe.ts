/**
 * Holds many idle keep-alive connections open against a server: each connection sends one
 * GET, reads its answer, and then stays open doing nothing. The caller measures memory while
 * they are held, then closes them.
 */
import { type Socket, createConnection } from 'node:net';

/** Connections held open by `holdIdleConnections`. */
export interface IdleConnections {
  /** Connections that were established. */
  readonly opened: number;
  /** Connections whose GET got a `200` answer before the deadline. */
  readonly answered200: number;
  /** Connections still open now (the server may close some after answering). */
  stillOpen(): number;
  /** Destroys every socket; resolves once all have closed or after 5 s. */
  close(): Promise<void>;
}

const kBatch = 100;

/**
 * Opens `count` connections to 127.0.0.1:`port` in batches of 100, sends `GET / HTTP/1.1`
 * on each, and resolves once every one has been answered or `timeoutMs` has passed
 * (whichever is first). Never rejects for a single failed connection: it is simply not
 * counted, and the report shows `opened`, `answered200` and `stillOpen()`.
 */
export async function holdIdleConnections(
  port: number, count: number, timeoutMs: number,
): Promise<IdleConnections> {
  const sockets: Socket[] = [];
  const deadline = Date.now() + timeoutMs;
  let opened = 0;
  let answered200 = 0;

  for (let start = 0; start < count && Date.now() < deadline; start += kBatch) {
    const size = Math.min(kBatch, count - start);
    const batch = Array.from({ length: size }, () => openOne(port, deadline, sockets));
    for (const result of await Promise.all(batch)) {
      if (result !== 'failed') opened++;
      if (result === 'answered200') answered200++;
    }
  }

  return {
    opened,
    answered200,
    stillOpen: () => sockets.filter((socket) => !socket.destroyed).length,
    close: () => closeAll(sockets),
  };
}

/** One connection: connect, send a GET, wait for the first bytes of the answer. */
async function openOne(
  port: number, deadline: number, sockets: Socket[],
): Promise<'answered200' | 'open' | 'failed'> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    sockets.push(socket);
    let isConnected = false;
    const timer = setTimeout(() => resolve(isConnected ? 'open' : 'failed'),
      Math.max(0, deadline - Date.now()));

    socket.once('connect', () => {
      isConnected = true;
      socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    });
    // The answer is read and dropped; later bytes (none are expected) are drained the same way.
    socket.on('data', (chunk: Buffer) => {
      clearTimeout(timer);
      resolve(chunk.subarray(0, 12).toString('latin1') === 'HTTP/1.1 200' ? 'answered200' : 'open');
    });
    socket.once('error', () => {
      clearTimeout(timer);
      resolve(isConnected ? 'open' : 'failed');
    });
  });
}

async function closeAll(sockets: Socket[]): Promise<void> {
  const closed = sockets.map((socket) => new Promise<void>((resolve) => {
    if (socket.destroyed) return resolve();
    socket.once('close', () => resolve());
    socket.destroy();
  }));
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.all(closed),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, 5_000);
    }),
  ]);
  clearTimeout(timer);
}
