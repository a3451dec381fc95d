/**
 * The pool against a node:http upstream (normal paths, streaming, reuse, limits) and a raw
 * server that records the exact request bytes.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import type { ErrorCode } from '../../src/errors/index.js';
import { UpstreamPool, type UpstreamRequestHead } from '../../src/upstream/index.js';
import {
  delay, fetchOnce, getHead, kTestPool, RecordingSink, startHttpServer, startRawServer,
} from './harness.js';

/** Echo upstream: answers with the request's method, framing fields and body. */
async function startEcho(): Promise<Awaited<ReturnType<typeof startHttpServer>>> {
  return startHttpServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (chunk: Buffer) => parts.push(chunk));
    req.on('end', () => {
      res.setHeader('x-method', req.method ?? '');
      res.setHeader('x-length', req.headers['content-length'] ?? '-');
      res.setHeader('x-te', req.headers['transfer-encoding'] ?? '-');
      res.end(Buffer.concat(parts));
    });
  });
}

function header(sink: RecordingSink, name: string): string | undefined {
  const index = sink.headers.indexOf(name);
  return index >= 0 && index % 2 === 0 ? sink.headers[index + 1] : undefined;
}

test('upstream/pool get', { timeout: 5000 }, async () => {
  const server = await startHttpServer((_req, res) => {
    res.setHeader('X-Mixed-Case', 'v');
    res.end('hello');
  });
  const pool = new UpstreamPool({ ...kTestPool, address: server.address });
  const sink = await fetchOnce(pool);
  assert.deepEqual(sink.events, ['head', 'end']);
  assert.equal(sink.status, 200);
  assert.equal(sink.kind, 'length');
  assert.equal(sink.contentLength, 5);
  assert.equal(sink.body.toString(), 'hello');
  assert.equal(header(sink, 'x-mixed-case'), 'v', 'names arrive lower-cased');
  assert.equal(header(sink, 'content-length'), undefined, 'framing fields are removed');
  assert.equal(header(sink, 'connection'), undefined, 'hop-by-hop fields are removed');
  await pool.close();
  await server.close();
});

test('upstream/pool post length and chunked bodies', { timeout: 5000 }, async () => {
  const server = await startEcho();
  const pool = new UpstreamPool({ ...kTestPool, address: server.address });
  const cases: readonly { body: UpstreamRequestHead['body']; length: string; te: string }[] = [
    { body: { kind: 'length', length: 11 }, length: '11', te: '-' },
    { body: { kind: 'chunked' }, length: '-', te: 'chunked' },
  ];
  for (const c of cases) {
    const sink = new RecordingSink();
    const exchange = pool.request({ ...getHead(), method: 'POST', body: c.body }, sink);
    exchange.writeBody(Buffer.from('hello '));
    exchange.writeBody(Buffer.alloc(0));
    exchange.writeBody(Buffer.from('world'));
    exchange.endBody();
    await sink.done;
    assert.equal(
      sink.body.toString(), 'hello world', `${c.body.kind}: the upstream got the whole body`,
    );
    assert.equal(header(sink, 'x-length'), c.length, 'the client wrote the framing field');
    assert.equal(header(sink, 'x-te'), c.te);
  }
  assert.equal(server.connections(), 1, 'both requests shared one kept-alive socket');
  await pool.close();
  await server.close();
});

test('upstream/pool keep-alive reuse', { timeout: 5000 }, async () => {
  const server = await startHttpServer((_req, res) => res.end('x'));
  const pool = new UpstreamPool({ ...kTestPool, address: server.address });
  for (let i = 0; i < 20; i++) assert.equal((await fetchOnce(pool)).status, 200);
  assert.equal(server.connections(), 1, 'sequential requests reuse one socket');
  assert.deepEqual(pool.stats, { open: 1, idle: 1, busy: 0, queued: 0 });
  await pool.close();
  assert.equal(pool.stats.open, 0, 'close() closes idle sockets');
  await server.close();
});

test('upstream/pool concurrency limit and queue', { timeout: 5000 }, async () => {
  const server = await startHttpServer((_req, res) => setTimeout(() => res.end('x'), 20));
  const pool = new UpstreamPool(
    { ...kTestPool, address: server.address, maxConnections: 2, maxQueued: 5 },
  );
  const sinks = Array.from({ length: 8 }, () => new RecordingSink());
  for (const sink of sinks) pool.request(getHead(), sink);
  assert.deepEqual(
    pool.stats, { open: 2, idle: 0, busy: 2, queued: 5 }, 'two sockets, five waiting',
  );
  await Promise.all(sinks.map((sink) => sink.done));
  const errors = sinks.map((sink) => sink.error);
  assert.deepEqual(
    errors.filter((e) => e !== null),
    ['IAM_UPSTREAM_UNAVAILABLE'],
    'the eighth overflows the queue',
  );
  assert.equal(sinks.filter((sink) => sink.status === 200).length, 7);
  assert.equal(server.connections(), 2, 'never more sockets than maxConnections');
  await pool.close();
  await server.close();
});

test('upstream/pool queue-timeout', { timeout: 5000 }, async () => {
  const server = await startHttpServer((_req, res) => setTimeout(() => res.end('x'), 300));
  const pool = new UpstreamPool(
    { ...kTestPool, address: server.address, maxConnections: 1, queueTimeoutMs: 50 },
  );
  const first = new RecordingSink();
  const second = new RecordingSink();
  pool.request(getHead(), first);
  pool.request(getHead(), second);
  await second.done;
  assert.equal(
    second.error, 'IAM_UPSTREAM_UNAVAILABLE', 'waited longer than queueTimeoutMs for a socket',
  );
  await first.done;
  assert.equal(first.status, 200);
  await pool.close();
  await server.close();
});

test('upstream/pool streaming both ways with backpressure', { timeout: 20_000 }, async () => {
  const server = await startHttpServer((req, res) => req.pipe(res));
  const pool = new UpstreamPool({ ...kTestPool, address: server.address });
  const total = 16 * 1024 * 1024;
  const sent = createHash('sha256');
  const received = createHash('sha256');
  let receivedBytes = 0;
  let chunks = 0;
  let pauses = 0;
  let drains = 0;

  const sink = new RecordingSink();
  const exchange = pool.request({ ...getHead(), method: 'POST', body: { kind: 'chunked' } }, sink);
  sink.onData = (chunk) => {
    received.update(chunk);
    receivedBytes += chunk.length;
    // Pause on every fourth chunk and resume a little later: the client must stop reading.
    if (++chunks % 4 !== 0) return true;
    pauses++;
    setTimeout(() => exchange.resume(), 1);
    return false;
  };
  let offset = 0;
  let seed = 1;
  const pump = (): void => {
    while (offset < total) {
      const size = Math.min(total - offset, 1 + (seed = (seed * 48271) % 2147483647) % 100_000);
      const chunk = Buffer.alloc(size, offset & 0xff);
      offset += size;
      sent.update(chunk);
      if (!exchange.writeBody(chunk)) {
        drains++;
        return;
      }
    }
    exchange.endBody();
  };
  exchange.onBodyDrain(pump);
  pump();
  await sink.done;

  assert.deepEqual(sink.events, ['head', 'end']);
  assert.equal(receivedBytes, total);
  assert.equal(received.digest('hex'), sent.digest('hex'), 'every byte arrived, in order');
  assert.ok(drains > 0, 'the upload waited for drain at least once');
  assert.ok(pauses > 0, 'the download was paused at least once');
  await pool.close();
  await server.close();
});

test('upstream/pool exact request bytes', { timeout: 5000 }, async () => {
  const heads: string[] = [];
  const server = await startRawServer((socket, head) => {
    heads.push(head);
    socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n');
  });
  const pool = new UpstreamPool({ ...kTestPool, address: server.address });
  const headers = ['Host', 'h', 'X-A', 'é 1'];
  await fetchOnce(pool, { method: 'GET', target: '/a?b=c', headers, body: { kind: 'none' } });
  const sink = new RecordingSink();
  const exchange = pool.request(
    { method: 'PUT', target: '/p', headers: ['host', 'h'], body: { kind: 'length', length: 3 } },
    sink,
  );
  exchange.writeBody(Buffer.from('abc'));
  await sink.done;
  assert.deepEqual(heads, [
    'GET /a?b=c HTTP/1.1\r\nHost: h\r\nX-A: \xe9 1\r\n\r\n',
    'PUT /p HTTP/1.1\r\nhost: h\r\ncontent-length: 3\r\n\r\n',
  ], 'fields as given, in order, plus only the framing field; values are latin1 byte strings');
  await pool.close();
  await server.close();
});

const kRefused: readonly { name: string; head: UpstreamRequestHead; why: string }[] = [
  {
    name: 'cr-lf-in-value',
    head: getHead('/', ['x-a', 'a\r\nx-injected: 1']),
    why: 'CRLF in a value would add a field.',
  },
  {
    name: 'lf-in-name',
    head: getHead('/', ['x-a\n', 'a']),
    why: 'LF in a name would split the line.',
  },
  {
    name: 'nul-in-value',
    head: getHead('/', ['x-a', 'a\0b']),
    why: 'NUL is never a field octet.',
  },
  {
    name: 'space-in-name',
    head: getHead('/', ['x a', 'b']),
    why: 'A name must be a token.',
  },
  {
    name: 'non-byte-char',
    head: getHead('/', ['x-a', '\u2028']),
    why: 'Characters above 0xFF are not octets.',
  },
  {
    name: 'caller-content-length',
    head: getHead('/', ['Content-Length', '5']),
    why: 'Framing belongs to the client.',
  },
  {
    name: 'caller-transfer-encoding',
    head: getHead('/', ['transfer-encoding', 'chunked']),
    why: 'Framing belongs to the client.',
  },
  {
    name: 'odd-header-list',
    head: { ...getHead(), headers: ['host'] },
    why: 'A name without a value.',
  },
  {
    name: 'space-in-target',
    head: getHead('/a b'),
    why: 'A space would end the target early.',
  },
  {
    name: 'relative-target',
    head: getHead('a'),
    why: 'Only origin-form (or *) targets.',
  },
  {
    name: 'connect-method',
    head: { ...getHead(), method: 'CONNECT' },
    why: 'This client does not tunnel.',
  },
  {
    name: 'bad-method',
    head: { ...getHead(), method: 'G T' },
    why: 'A method must be a token.',
  },
  {
    name: 'negative-length',
    head: { ...getHead(), body: { kind: 'length', length: -1 } },
    why: 'A length is a non-negative integer.',
  },
];

for (const c of kRefused) {
  test(`upstream/pool refused-head ${c.name}`, { timeout: 5000 }, async () => {
    const server = await startRawServer(
      (socket) => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n'),
    );
    const pool = new UpstreamPool({ ...kTestPool, address: server.address });
    const sink = new RecordingSink();
    let returned = false;
    sink.onError = (code: ErrorCode) => {
      assert.ok(returned, 'never called from inside request()');
      RecordingSink.prototype.onError.call(sink, code);
    };
    pool.request(c.head, sink);
    returned = true;
    await sink.done;
    assert.deepEqual(sink.events, ['error:IAM_FRAMING_HEADER_INVALID'], c.why);
    await delay(10);
    assert.equal(server.connections(), 0, 'nothing was written: no socket was even opened');
    await pool.close();
    await server.close();
  });
}

test('upstream/pool body contract violations', { timeout: 5000 }, async () => {
  const server = await startEcho();
  const pool = new UpstreamPool({ ...kTestPool, address: server.address });
  const over = new RecordingSink();
  const exchange = pool.request(
    { ...getHead(), method: 'POST', body: { kind: 'length', length: 2 } }, over,
  );
  exchange.writeBody(Buffer.from('abc'));
  await over.done;
  assert.deepEqual(
    over.events, ['error:IAM_SERVER_INTERNAL'], 'more bytes than declared is a caller bug',
  );

  const short = new RecordingSink();
  const second = pool.request(
    { ...getHead(), method: 'POST', body: { kind: 'length', length: 4 } }, short,
  );
  second.writeBody(Buffer.from('ab'));
  second.endBody();
  await short.done;
  assert.deepEqual(
    short.events,
    ['error:IAM_SERVER_INTERNAL'],
    'ending short of the declared length is a caller bug',
  );
  await pool.close();
  await server.close();
});

test('upstream/pool close lets in-flight finish', { timeout: 5000 }, async () => {
  const server = await startHttpServer((_req, res) => setTimeout(() => res.end('late'), 50));
  const pool = new UpstreamPool({ ...kTestPool, address: server.address });
  const inFlight = new RecordingSink();
  pool.request(getHead(), inFlight);
  await delay(10);
  const closed = pool.close();
  const refused = await fetchOnce(pool);
  assert.equal(refused.error, 'IAM_UPSTREAM_UNAVAILABLE', 'no new requests after close()');
  await closed;
  assert.deepEqual(inFlight.events, ['head', 'end'], 'the request already sent completed');
  assert.equal(inFlight.body.toString(), 'late');
  assert.equal(pool.stats.open, 0);
  await server.close();
});

test('upstream/pool abort while queued', { timeout: 5000 }, async () => {
  const server = await startHttpServer((_req, res) => setTimeout(() => res.end('x'), 30));
  const pool = new UpstreamPool({ ...kTestPool, address: server.address, maxConnections: 1 });
  const first = new RecordingSink();
  const queued = new RecordingSink();
  pool.request(getHead(), first);
  pool.request(getHead(), queued).abort();
  assert.equal(pool.stats.queued, 0, 'an aborted request leaves the queue');
  await first.done;
  await delay(50);
  assert.deepEqual(queued.events, [], 'no callback after abort');
  await pool.close();
  await server.close();
});
