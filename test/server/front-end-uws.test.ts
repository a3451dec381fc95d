/**
 * The uWebSockets.js front end (src/server/front-end-uws.ts) against a real uWS app on
 * 127.0.0.1: a known-length body that uWS takes only part of is finished from `onWritable`,
 * also when `end` is asked for before the socket drained. One 8 MiB chunk is more than the
 * loopback socket buffers hold while the client does not read, so the partial write is certain.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import type { FrontHandler, FrontResponse } from '../../src/server/front-end.js';
import { uwsHandler } from '../../src/server/front-end-uws.js';
import { listenApp, type BoundListener } from '../../src/server/listen.js';
import { loadUWS } from '../../src/server/uws-loader.js';

const kChunk = Buffer.alloc(8 * 1024 * 1024);
for (let i = 0; i < kChunk.length; i++) kChunk[i] = (i * 7 + (i >> 13)) & 0xff;

/** What each path writes; `results` records what `write` returned, in order. */
const results: boolean[] = [];
const kRoutes: Record<string, (res: FrontResponse) => void> = {
  // write, then end at once: the tail of the chunk is still held back when end arrives.
  '/end-while-held': (res) => {
    res.writeHead(200, [], 'x-request-id', 'r1');
    results.push(res.write(kChunk, kChunk.length));
    res.end(undefined, false);
  },
  // the relay's pattern: wait for onWritable before the next chunk.
  '/wait-then-write': (res) => {
    res.writeHead(200, [], 'x-request-id', 'r2');
    const ok = res.write(kChunk, kChunk.length * 2);
    results.push(ok);
    const next = (): void => {
      res.cork(() => {
        results.push(res.write(kChunk, kChunk.length * 2));
        res.end(undefined, false);
      });
    };
    if (ok) next();
    else res.onWritable(next);
  },
  // a second chunk written although the first said wait still goes out, in order.
  '/write-ignoring-wait': (res) => {
    res.writeHead(200, [], 'x-request-id', 'r3');
    results.push(res.write(kChunk, kChunk.length * 2));
    results.push(res.write(kChunk, kChunk.length * 2));
    res.end(undefined, false);
  },
};

let listener: BoundListener;

before(async () => {
  const { uws } = loadUWS(false);
  const app = uws.App();
  const handle: FrontHandler = (request, res) => {
    res.onAborted(() => {});
    kRoutes[request.target]?.(res);
  };
  app.any('/*', uwsHandler(handle, 'proxy', 'x-request-id'));
  listener = await listenApp(uws, app, '127.0.0.1', 0);
});

after(() => listener?.close());

/** GETs `path`, reads nothing for `stallMs`, then reads the whole Content-Length body. */
function fetchStalled(path: string, stallMs: number): Promise<{ length: number; digest: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(listener.port, '127.0.0.1', () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);
      socket.pause();
      setTimeout(() => socket.resume(), stallMs);
    });
    const chunks: Buffer[] = [];
    let expected = -1;
    let headBytes = 0;
    let received = 0;
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`timed out after ${received} bytes`));
    }, 10_000);
    socket.on('data', (d: Buffer) => {
      chunks.push(d);
      received += d.length;
      if (expected < 0) {
        const all = Buffer.concat(chunks);
        const end = all.indexOf('\r\n\r\n');
        if (end < 0) return;
        expected = Number(/content-length: (\d+)/i.exec(all.subarray(0, end).toString())?.[1]);
        headBytes = end + 4;
      }
      if (received - headBytes >= expected) {
        clearTimeout(timer);
        socket.destroy();
        const body = Buffer.concat(chunks).subarray(headBytes);
        resolve({ length: body.length, digest: createHash('sha256').update(body).digest('hex') });
      }
    });
    socket.on('error', reject);
  });
}

function digestOf(...parts: Buffer[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return hash.digest('hex');
}

describe('server/front-end-uws', () => {
  test('end asked for while uWS holds part of a known-length chunk still sends all of it',
    async () => {
      results.length = 0;
      const got = await fetchStalled('/end-while-held', 300);
      assert.deepEqual(results, [false], 'the write was partial (the case under test)');
      assert.equal(got.length, kChunk.length);
      assert.equal(got.digest, digestOf(kChunk));
    });

  test('onWritable runs once the held-back bytes are out, and the next chunk follows them',
    async () => {
      results.length = 0;
      const got = await fetchStalled('/wait-then-write', 300);
      assert.equal(results[0], false, 'the first write was partial');
      assert.equal(got.length, kChunk.length * 2);
      assert.equal(got.digest, digestOf(kChunk, kChunk));
    });

  test('a chunk written while the previous one is held back is queued behind it', async () => {
    results.length = 0;
    const got = await fetchStalled('/write-ignoring-wait', 300);
    assert.deepEqual(results, [false, false]);
    assert.equal(got.length, kChunk.length * 2);
    assert.equal(got.digest, digestOf(kChunk, kChunk));
  });
});
