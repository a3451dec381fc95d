/**
 * Bodies through the mTLS listener: streamed both ways with backpressure and bounded memory, as
 * on the uWS listener (test/server/streaming.e2e.test.ts). The proxy runs as its own process so
 * its resident memory can be read apart from the test runner's.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { IncomingMessage, RequestOptions } from 'node:http';
import https from 'node:https';
import { Readable } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startProxyProcess, writeConfig, type ProxyProcess } from '../support/proxy-process.js';
import { createTestPki } from '../support/test-pki.js';

const kMiB = 1024 ** 2;
const kSize = 256 * kMiB;
/** Growth of the proxy's RSS allowed while 256 MiB pass through it. */
const kMaxRssGrowth = 96 * kMiB;

let upstream: RecordingUpstream;
let proxy: ProxyProcess;
let agent: https.Agent;

before(async () => {
  const pki = createTestPki();
  const server = pki.leaf('server', 'localhost', 'DNS:localhost', 'serverAuth');
  const caller = pki.issue('caller', { san: 'URI:spiffe://files.acme/uploader' });
  agent = new https.Agent({ keepAlive: false, ca: readFileSync(pki.caCert),
    cert: readFileSync(caller.cert), key: readFileSync(caller.key), servername: 'localhost' });
  upstream = await startRecordingUpstream();
  proxy = await startProxyProcess(writeConfig(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls:
    host: 127.0.0.1
    port: 0
    certFile: '${server.cert}'
    keyFile: '${server.key}'
    caFiles: ['${pki.caCert}']
services:
  - name: files
    pathPrefix: /
    access: authenticated
    maxBodyBytes: ${2 * kSize}
    upstream: { addresses: ['127.0.0.1:${upstream.port}'], bodyTimeoutMs: 2000 }
`));
});

after(async () => {
  await proxy?.stop('SIGKILL');
  await upstream?.close();
  agent?.destroy();
});

/** A readable of `total` bytes from a fixed 64 KiB block, hashed as it goes. */
function generated(total: number, hash: ReturnType<typeof createHash>): Readable {
  const block = Buffer.alloc(64 * 1024, 'mtls-upload-');
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

function request(opts: RequestOptions, body?: Readable): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = https.request({ host: '127.0.0.1', port: proxy.mtlsPort, agent, ...opts },
      resolve);
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

async function summary(res: IncomingMessage): Promise<{ bodyBytes: number; bodySha256: string }> {
  const text = await new Response(Readable.toWeb(res) as ReadableStream).text();
  return JSON.parse(text) as { bodyBytes: number; bodySha256: string };
}

describe('server/mtls-streaming', () => {
  test('a 256 MiB chunked upload reaches the upstream byte-exact with bounded memory',
    async () => {
      const before = proxy.rssBytes();
      const peak = { bytes: before };
      const timer = sampleRss(peak);
      const hash = createHash('sha256');
      const res = await request({ method: 'POST', path: '/upload' }, generated(kSize, hash));
      const seen = await summary(res);
      clearInterval(timer);
      assert.equal(res.statusCode, 200);
      assert.equal(seen.bodyBytes, kSize);
      assert.equal(seen.bodySha256, hash.digest('hex'));
      assert.equal(upstream.lastHeader('x-portcullis-spiffe-id')[0],
        'spiffe://files.acme/uploader');
      assert.ok(peak.bytes - before < kMaxRssGrowth,
        `RSS grew ${((peak.bytes - before) / kMiB).toFixed(1)} MiB`);
    });

  test('an upload with a Content-Length is forwarded byte-exact', async () => {
    const hash = createHash('sha256');
    const size = 5 * kMiB + 17;
    const res = await request({ method: 'PUT', path: '/sized',
      headers: { 'content-length': size } }, generated(size, hash));
    const seen = await summary(res);
    assert.equal(seen.bodyBytes, size);
    assert.equal(seen.bodySha256, hash.digest('hex'));
  });

  for (const [path, isChunked] of [['/download', false], ['/download-chunked', true]] as const) {
    test(`a 256 MiB ${isChunked ? 'chunked' : 'known-length'} download to a slow reader keeps ` +
      'memory bounded (backpressure)', async () => {
      const before = proxy.rssBytes();
      const peak = { bytes: before };
      const timer = sampleRss(peak);
      const res = await request({ method: 'GET', path: `${path}?bytes=${kSize}` });
      assert.equal(res.statusCode, 200);
      assert.equal(res.headers['content-length'], isChunked ? undefined : String(kSize));
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
      assert.equal(bytes, kSize);
      assert.ok(peak.bytes - before < kMaxRssGrowth,
        `RSS grew ${((peak.bytes - before) / kMiB).toFixed(1)} MiB`);
    });
  }

  test('a client abort mid-upload stops the upstream request and the proxy keeps serving',
    async () => {
      const seen = upstream.requests.length;
      await new Promise<void>((resolve) => {
        const req = https.request({ host: '127.0.0.1', port: proxy.mtlsPort, agent,
          method: 'POST', path: '/upload', headers: { 'content-length': 100 * kMiB } });
        req.on('error', () => resolve());
        req.write(Buffer.alloc(kMiB), () => setTimeout(() => req.destroy(), 50));
      });
      for (let i = 0; i < 150 && upstream.requests.length === seen; i++) {
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(upstream.requests.at(-1)?.isComplete, false, 'the upstream saw the abort');
      const res = await request({ method: 'GET', path: '/after-abort' });
      assert.equal(res.statusCode, 200);
      res.resume();
    });
});
