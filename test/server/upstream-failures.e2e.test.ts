/**
 * What a client sees when the upstream is down, slow, stalls or resets, and how responses without
 * a body pass through. Errors before the response head become 502/504 with a code; errors after it
 * cut the client connection (a truncated body must never look complete).
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../support/free-port.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

let upstream: RecordingUpstream;
let proxy: TestProxy;

before(async () => {
  upstream = await startRecordingUpstream();
  const deadPort = await freePort();
  proxy = await startTestProxy(`services:
  - name: live
    hosts: ['*']
    pathPrefix: /
    access: public
    upstream:
      addresses: ['127.0.0.1:${upstream.port}']
      headersTimeoutMs: 300
      bodyTimeoutMs: 300
  - name: dead
    hosts: ['*']
    pathPrefix: /dead
    stripPrefix: true
    access: public
    upstream: { addresses: ['127.0.0.1:${deadPort}'] }
  - name: stripped
    hosts: ['*']
    pathPrefix: /svc
    stripPrefix: true
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

const get = (path: string): Promise<RawResponse> =>
  rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`);

describe('server/upstream failures', () => {
  test('a refused connection answers 502 IAM_UPSTREAM_CONNECT_FAILED', async () => {
    const res = await get('/dead/x');
    assert.equal(res.status, 502);
    assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_UPSTREAM_CONNECT_FAILED');
  });

  test('a head slower than headersTimeoutMs answers 504 IAM_UPSTREAM_HEADERS_TIMEOUT', async () => {
    const res = await get('/slow-head?ms=1500');
    assert.equal(res.status, 504);
    assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_UPSTREAM_HEADERS_TIMEOUT');
  });

  test('a body that stalls past bodyTimeoutMs cuts the client connection', async () => {
    const res = await get('/stall-body?bytes=1000');
    assert.equal(res.status, 200);
    assert.equal(res.isClosed, true);
    assert.ok(res.body.length < Number(res.headers.get('content-length')?.[0]),
      'the client sees a short body, never a complete one');
  });

  test('an upstream reset mid-body cuts the client connection', async () => {
    const res = await get('/reset-mid-body');
    assert.equal(res.status, 200);
    assert.equal(res.isClosed, true);
    assert.ok(res.body.length < 1_000_000);
  });

  test('stripPrefix removes the service prefix from the upstream path', async () => {
    const res = await get('/svc/items/7?q=1');
    assert.equal(res.status, 200);
    assert.equal(upstream.requests.at(-1)?.url, '/items/7?q=1');
    const root = await get('/svc');
    assert.equal(root.status, 200);
    assert.equal(upstream.requests.at(-1)?.url, '/');
  });

  test('HEAD answers carry no body and keep the upstream Content-Length', async () => {
    const res = await rawRequest(proxy.port, 'HEAD /download?bytes=1234 HTTP/1.1\r\nHost: t\r\n\r\n',
      { expectNoBody: true, waitForCloseMs: 200 });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-length')?.[0], '1234');
    assert.equal(res.body.length, 0);
  });

  for (const code of [204, 304]) {
    test(`${code} passes through without a body`, async () => {
      const res = await get(`/status?code=${code}`);
      assert.equal(res.status, code);
      assert.equal(res.body.length, 0);
    });
  }

  test('keep-alive connections to the upstream are reused across requests', async () => {
    const before = upstream.connections();
    for (let i = 0; i < 20; i++) {
      const res = await get(`/reuse/${i}`);
      assert.equal(res.status, 200);
    }
    assert.ok(upstream.connections() - before <= 2,
      `opened ${upstream.connections() - before} connections for 20 sequential requests`);
  });

  test('the upstream response is streamed with chunked framing when its length is unknown', async () => {
    const res = await get('/download-chunked?bytes=200000');
    assert.equal(res.status, 200);
    assert.equal(res.body.length, 200000);
  });
});
