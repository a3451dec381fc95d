/**
 * Bodies streamed both ways with bounded memory, and aborts on either side. The proxy runs as its
 * own process so its resident memory can be read apart from the test runner's.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import http from 'node:http';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startProxyProcess, writeConfig, type ProxyProcess } from '../support/proxy-process.js';

const kGiB = 1024 ** 3;
const kMiB = 1024 ** 2;
/** Growth of the proxy's RSS allowed while a gigabyte passes through it. */
const kMaxRssGrowth = 96 * kMiB;

let upstream: RecordingUpstream;
let proxy: ProxyProcess;
const agent = new http.Agent({ keepAlive: false });

before(async () => {
  upstream = await startRecordingUpstream();
  proxy = await startProxyProcess(writeConfig(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
services:
  - name: files
    hosts: ['*']
    pathPrefix: /
    access: public
    maxBodyBytes: ${2 * kGiB}
    upstream: { addresses: ['127.0.0.1:${upstream.port}'], bodyTimeoutMs: 1000, headersTimeoutMs: 1000 }
`));
});

after(async () => {
  await proxy.stop('SIGKILL');
  await upstream.close();
  agent.destroy();
});

/** A readable of `total` bytes from a fixed 64 KiB block, hashed as it goes. */
function generated(total: number, hash: ReturnType<typeof createHash>): Readable {
  const block = Buffer.alloc(64 * 1024, 'upload-');
  let left = total;
  return new Readable({
    read() {
      if (left === 0) return void this.push(null);
      const n = Math.min(left, block.length);
      left -= n;
      hash.update(block.subarray(0, n));
      this.push(block.subarray(0, n));
    },
  });
}

function request(opts: http.RequestOptions, body?: Readable): Promise<http.IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, agent, ...opts }, resolve);
    req.on('error', reject);
    if (body === undefined) req.end();
    else body.pipe(req);
  });
}

function sampleRss(peak: { bytes: number }): NodeJS.Timeout {
  return setInterval(() => {
    peak.bytes = Math.max(peak.bytes, proxy.rssBytes());
  }, 50);
}

describe('server/streaming', () => {
  test('a 1 GiB upload reaches the upstream byte-exact with bounded proxy memory', async () => {
    const before = proxy.rssBytes();
    const peak = { bytes: before };
    const timer = sampleRss(peak);
    const hash = createHash('sha256');
    // Chunked: uWS 20.30 refuses a Content-Length of ten digits or more (see README).
    const res = await request({ method: 'POST', path: '/upload' }, generated(kGiB, hash));
    const text = await new Response(Readable.toWeb(res) as ReadableStream).text();
    clearInterval(timer);
    assert.equal(res.statusCode, 200);
    const seen = JSON.parse(text) as { bodyBytes: number; bodySha256: string };
    assert.equal(seen.bodyBytes, kGiB);
    assert.equal(seen.bodySha256, hash.digest('hex'));
    assert.ok(peak.bytes - before < kMaxRssGrowth,
      `RSS grew ${((peak.bytes - before) / kMiB).toFixed(1)} MiB`);
  });

  test('an upload with a Content-Length is forwarded byte-exact', async () => {
    const hash = createHash('sha256');
    const res = await request({ method: 'PUT', path: '/sized',
      headers: { 'content-length': 5 * kMiB + 17 } }, generated(5 * kMiB + 17, hash));
    const seen = JSON.parse(await new Response(Readable.toWeb(res) as ReadableStream).text()) as
      { bodyBytes: number; bodySha256: string };
    assert.equal(seen.bodyBytes, 5 * kMiB + 17);
    assert.equal(seen.bodySha256, hash.digest('hex'));
  });

  test('a 1 GiB download to a slow reader keeps proxy memory bounded (backpressure)', async () => {
    const before = proxy.rssBytes();
    const peak = { bytes: before };
    const timer = sampleRss(peak);
    const res = await request({ method: 'GET', path: `/download?bytes=${kGiB}` });
    assert.equal(res.statusCode, 200);
    assert.equal(res.headers['content-length'], String(kGiB));
    // Read nothing for a while: the proxy must stop reading the upstream, not buffer it all.
    res.pause();
    await new Promise((r) => setTimeout(r, 700));
    let bytes = 0;
    res.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
    });
    res.resume();
    await new Promise((r) => res.on('end', r));
    clearInterval(timer);
    assert.equal(bytes, kGiB);
    assert.ok(peak.bytes - before < kMaxRssGrowth,
      `RSS grew ${((peak.bytes - before) / kMiB).toFixed(1)} MiB`);
  });

  test('a client abort mid-upload stops the upstream request and the proxy keeps serving', async () => {
    const seen = upstream.requests.length;
    await new Promise<void>((resolve) => {
      const req = http.request({ host: '127.0.0.1', port: proxy.port, agent, method: 'POST',
        path: '/upload', headers: { 'content-length': 100 * kMiB } });
      req.on('error', () => resolve());
      req.write(Buffer.alloc(kMiB), () => setTimeout(() => req.destroy(), 50));
    });
    await waitFor(() => upstream.requests.length > seen);
    assert.equal(upstream.requests.at(-1)?.isComplete, false, 'the upstream saw the abort');
    const res = await request({ method: 'GET', path: '/after-abort' });
    assert.equal(res.statusCode, 200);
    res.resume();
  });

  test('a client abort mid-download does not crash the proxy', async () => {
    const res = await request({ method: 'GET', path: `/download?bytes=${512 * kMiB}` });
    await new Promise((r) => res.once('data', r));
    res.destroy();
    await new Promise((r) => setTimeout(r, 100));
    assert.equal(proxy.child.exitCode, null, 'the proxy is still running');
    const again = await request({ method: 'GET', path: '/after-download-abort' });
    assert.equal(again.statusCode, 200);
    again.resume();
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
