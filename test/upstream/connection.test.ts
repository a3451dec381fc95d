/**
 * Connection lifecycle against real loopback servers: resets, timeouts, refused and stalled
 * connects, the stale keep-alive retry, early responses, abort and pause.
 */
import assert from 'node:assert/strict';
import { createServer, Socket, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { UpstreamPool, type UpstreamAddress } from '../../src/upstream/index.js';
import {
  delay, fetchOnce, getHead, kTestPool, RecordingSink, startRawServer, type TestServer,
} from './harness.js';

const kOk = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

async function withPool(
  server: TestServer, overrides: Partial<typeof kTestPool>,
  body: (pool: UpstreamPool) => Promise<void>,
): Promise<void> {
  const pool = new UpstreamPool({ ...kTestPool, ...overrides, address: server.address });
  try {
    await body(pool);
  } finally {
    await pool.close();
    await server.close();
  }
}

test('upstream/connection reset-mid-head', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Le');
    setTimeout(() => socket.resetAndDestroy(), 20);
  });
  await withPool(server, {}, async (pool) => {
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events, ['error:IAM_UPSTREAM_RESET'], 'a head cut short is a reset, no head delivered',
    );
  });
});

test('upstream/connection close-mid-head', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => socket.end('HTTP/1.1 200 OK\r\n'));
  await withPool(server, {}, async (pool) => {
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events, ['error:IAM_UPSTREAM_RESET'], 'a clean close mid-head is a reset too',
    );
  });
});

test('upstream/connection reset-mid-body', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n0123456789');
    setTimeout(() => socket.resetAndDestroy(), 20);
  });
  await withPool(server, {}, async (pool) => {
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events, ['head', 'error:IAM_UPSTREAM_RESET'], 'the error follows the head',
    );
    assert.equal(sink.body.toString(), '0123456789');
  });
});

test('upstream/connection chunked-body-cut-by-close', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => {
    socket.end('HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n');
  });
  await withPool(server, {}, async (pool) => {
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events, ['head', 'error:IAM_UPSTREAM_RESET'], 'no last-chunk means truncated',
    );
  });
});

test('upstream/connection headers-timeout', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => socket.write('HTTP/1.1 200 OK\r\n'));
  await withPool(server, { headersTimeoutMs: 150 }, async (pool) => {
    const started = Date.now();
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events, ['error:IAM_UPSTREAM_HEADERS_TIMEOUT'], 'a head that never completes times out',
    );
    assert.ok(Date.now() - started >= 140, 'not before the configured limit');
    assert.equal(pool.stats.open, 0, 'the timed-out socket is closed');
  });
});

test('upstream/connection body-timeout', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234');
  });
  await withPool(server, { bodyTimeoutMs: 150 }, async (pool) => {
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events,
      ['head', 'error:IAM_UPSTREAM_BODY_TIMEOUT'],
      'a stalled body times out after the head',
    );
  });
});

test('upstream/connection paused-consumer-not-timed-out', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => {
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n01234');
    setTimeout(() => socket.write('56789'), 20);
  });
  await withPool(server, { bodyTimeoutMs: 100 }, async (pool) => {
    const sink = new RecordingSink();
    let paused = false;
    sink.onData = (chunk) => {
      sink.chunks.push(Buffer.from(chunk));
      if (paused) return true;
      paused = true;
      return false;
    };
    const exchange = pool.request(getHead(), sink);
    await delay(400);
    assert.deepEqual(sink.events, ['head'], 'paused time does not count toward the body timeout');
    exchange.resume();
    await sink.done;
    assert.deepEqual(sink.events, ['head', 'end']);
    assert.equal(sink.body.toString(), '0123456789');
  });
});

test('upstream/connection connect-refused', { timeout: 5000 }, async () => {
  const address = await unusedAddress();
  const pool = new UpstreamPool({ ...kTestPool, address });
  const sink = await fetchOnce(pool);
  assert.deepEqual(
    sink.events, ['error:IAM_UPSTREAM_CONNECT_FAILED'], 'nothing listens: connect failed',
  );
  await pool.close();
});

test('upstream/connection connect-timeout full-backlog', { timeout: 10_000 }, async () => {
  const stalled = await stalledListener();
  try {
    const pool = new UpstreamPool(
      { ...kTestPool, address: stalled.address, connectTimeoutMs: 200 },
    );
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events, ['error:IAM_UPSTREAM_CONNECT_TIMEOUT'], 'SYNs dropped by a full backlog',
    );
    await pool.close();
  } finally {
    await stalled.close();
  }
});

test('upstream/connection connect-timeout tls-handshake', { timeout: 5000 }, async () => {
  const server = await startRawServer(() => {}, () => true);
  const overrides = { connectTimeoutMs: 200, tls: { rejectUnauthorized: true } };
  await withPool(server, overrides, async (pool) => {
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events,
      ['error:IAM_UPSTREAM_CONNECT_TIMEOUT'],
      'a TLS handshake that never answers counts as connecting',
    );
  });
});

test('upstream/connection connect-failed tls-closed-in-handshake', { timeout: 5000 }, async () => {
  const server = await startRawServer(() => {}, (socket) => {
    socket.end();
    return true;
  });
  await withPool(server, { tls: { rejectUnauthorized: true } }, async (pool) => {
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events, ['error:IAM_UPSTREAM_CONNECT_FAILED'],
      'a socket that ends before the handshake completes never connected',
    );
  });
});

test('upstream/connection stale-keep-alive-retry', { timeout: 5000 }, async () => {
  // The upstream answers once, then closes the kept-alive socket as the next request arrives.
  const server = await startRawServer((socket, _head, _request, connection) => {
    if (connection === 0 && socket.bytesWritten > 0) return socket.destroy();
    socket.write(kOk);
  });
  await withPool(server, {}, async (pool) => {
    assert.equal((await fetchOnce(pool)).status, 200);
    const second = await fetchOnce(pool);
    assert.deepEqual(
      second.events, ['head', 'end'], 'an idempotent bodiless request is sent again once',
    );
    assert.equal(second.status, 200);
    assert.equal(server.connections(), 2, 'the retry used a fresh connection');
  });
});

test('upstream/connection stale-keep-alive no-retry-for-post', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket, _head, _request, connection) => {
    if (connection === 0 && socket.bytesWritten > 0) return socket.destroy();
    socket.write(kOk);
  });
  await withPool(server, {}, async (pool) => {
    await fetchOnce(pool);
    const post = await fetchOnce(
      pool, { ...getHead(), method: 'POST', body: { kind: 'length', length: 0 } },
    );
    assert.deepEqual(
      post.events, ['error:IAM_UPSTREAM_RESET'], 'POST is not idempotent: never re-sent',
    );
    assert.equal(server.connections(), 1);
  });
});

test('upstream/connection fresh-socket-closed-without-response', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => socket.destroy());
  await withPool(server, {}, async (pool) => {
    const sink = await fetchOnce(pool);
    assert.deepEqual(
      sink.events, ['error:IAM_UPSTREAM_RESET'], 'a fresh socket has no race to excuse: no retry',
    );
    assert.equal(server.connections(), 1);
  });
});

test('upstream/connection early-response-during-upload', { timeout: 10_000 }, async () => {
  // The first connection answers 413 as soon as the upload starts and keeps reading; later
  // connections use the normal request reader.
  const server = await startRawServer((socket) => socket.write(kOk), (socket, connection) => {
    if (connection > 0) return false;
    let answered = false;
    socket.on('data', () => {
      if (answered) return;
      answered = true;
      socket.write('HTTP/1.1 413 Payload Too Large\r\nContent-Length: 4\r\n\r\nnope');
    });
    return true;
  });
  await withPool(server, {}, async (pool) => {
    const sink = new RecordingSink();
    const total = 8 * 1024 * 1024;
    const exchange = pool.request(
      { ...getHead(), method: 'POST', body: { kind: 'length', length: total } }, sink,
    );
    const chunk = Buffer.alloc(64 * 1024, 0x61);
    let sent = 0;
    // The writer stops at the drain wait once the exchange has ended (no drain comes after).
    await new Promise<void>((resolve) => {
      void sink.done.then(resolve);
      const pump = (): void => {
        while (sent < total) {
          sent += chunk.length;
          if (!exchange.writeBody(chunk)) return;
        }
        exchange.endBody();
        resolve();
      };
      exchange.onBodyDrain(pump);
      pump();
    });
    await sink.done;
    assert.deepEqual(sink.events, ['head', 'end'], 'the early response is delivered whole');
    assert.equal(sink.status, 413);
    assert.equal(sink.body.toString(), 'nope');
    assert.equal((await fetchOnce(pool)).status, 200);
    assert.equal(server.connections(), 2, 'the socket with a half-sent body is never reused');
  });
});

test('upstream/connection abort-destroys-socket', { timeout: 5000 }, async () => {
  let closed!: () => void;
  const serverSawClose = new Promise<void>((resolve) => {
    closed = resolve;
  });
  const server = await startRawServer((socket) => {
    socket.on('close', closed);
    socket.write('HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc');
  });
  await withPool(server, {}, async (pool) => {
    const sink = new RecordingSink();
    const exchange = pool.request(getHead(), sink);
    sink.onData = () => {
      exchange.abort();
      return true;
    };
    await serverSawClose;
    await delay(20);
    assert.deepEqual(sink.events, ['head'], 'no callback after abort');
    assert.equal(pool.stats.open, 0, 'the aborted socket is gone, not pooled');
  });
});

test('upstream/connection idle-socket-closed-by-upstream', { timeout: 5000 }, async () => {
  const server = await startRawServer(
    (socket) => socket.end(kOk.replace('\r\n\r\n', '\r\nx: 1\r\n\r\n')),
  );
  await withPool(server, {}, async (pool) => {
    assert.equal((await fetchOnce(pool)).status, 200);
    await delay(50);
    assert.equal(pool.stats.open, 0, 'an idle socket the upstream ended is dropped at once');
    assert.equal((await fetchOnce(pool)).status, 200);
  });
});

test('upstream/connection idle-timeout', { timeout: 5000 }, async () => {
  const server = await startRawServer((socket) => socket.write(kOk));
  await withPool(server, { idleTimeoutMs: 100 }, async (pool) => {
    await fetchOnce(pool);
    assert.equal(pool.stats.idle, 1);
    await delay(300);
    assert.equal(pool.stats.open, 0, 'the idle socket was closed by the idle timer');
  });
});

/** An address nobody listens on (a port bound, then released). */
async function unusedAddress(): Promise<UpstreamAddress> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { host: '127.0.0.1', port };
}

/**
 * A loopback listener whose accept queue is full: the listening thread is blocked, so the
 * kernel completes no more handshakes and new SYNs are dropped (the connect hangs).
 */
async function stalledListener(): Promise<{ address: UpstreamAddress; close(): Promise<void> }> {
  const gate = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(`
    const { parentPort, workerData } = require('node:worker_threads');
    const server = require('node:net').createServer();
    server.listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => {
      parentPort.postMessage(server.address().port);
      Atomics.wait(workerData, 0, 0);
      server.close();
    });`, { eval: true, workerData: gate });
  const port = await new Promise<number>((resolve) => worker.once('message', resolve));
  const fillers: Socket[] = [];
  for (let i = 0; i < 16; i++) {
    const socket = new Socket();
    socket.on('error', () => {});
    fillers.push(socket);
    const connected = await Promise.race([
      new Promise<boolean>((resolve) => socket.connect(port, '127.0.0.1', () => resolve(true))),
      delay(200).then(() => false),
    ]);
    if (!connected) break;
  }
  return {
    address: { host: '127.0.0.1', port },
    close: async () => {
      for (const socket of fillers) socket.destroy();
      Atomics.store(gate, 0, 1);
      Atomics.notify(gate, 0);
      await worker.terminate();
    },
  };
}
