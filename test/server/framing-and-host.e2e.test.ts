/**
 * Framing, limits and Host handling, end to end through the real proxy with raw bytes. Every
 * refused request must leave the upstream untouched; every accepted one reaches it exactly once.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

interface FramingCase {
  readonly why: string;
  /** Raw request bytes (latin1). */
  readonly raw: string;
  readonly status: number;
  readonly code?: string;
  /** Path the upstream must have seen (for accepted requests). */
  readonly forwarded?: string;
  /** uWS keeps waiting for a head it cannot parse (its idle timeout closes it later). */
  readonly isLeftOpen?: boolean;
}

const kCRLF = '\r\n';
const manyHeaders = Array.from({ length: 25 }, (_, i) => `X-H${i}: v${kCRLF}`).join('');

const kCases: readonly FramingCase[] = [
  { raw: `POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde`,
    status: 0, why: 'differing Content-Length values: the boundary is in doubt, so the proxy drops the connection' },
  { raw: `POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc`,
    status: 0, why: 'duplicate Content-Length is refused even when equal (one rule, no guessing)' },
  { raw: `POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3, 3\r\n\r\nabc`,
    status: 0, why: 'a Content-Length list is dropped by the uWS parser' },
  { raw: `POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    status: 0, why: 'CL together with TE is dropped by the uWS parser' },
  { raw: `POST /p HTTP/1.1\r\nHost: example.com\r\nTransfer-Encoding: gzip, chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n`,
    status: 0, why: 'only plain chunked is accepted; other codings are a smuggling vector' },
  { raw: `POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcdeGET /smuggled HTTP/1.1\r\nHost: example.com\r\n\r\n`,
    status: 0, why: 'a request pipelined behind a framing error is never processed' },
  { raw: `POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 1073741824\r\n\r\nabc`,
    status: 0, why: 'uWS 20.30 drops a Content-Length of ten or more digits (use chunked)' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com\r\nX-Fold: a\r\n b\r\n\r\n`, status: 0,
    isLeftOpen: true, why: 'obs-fold never completes a head in uWS: no answer, nothing forwarded' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com\rX-Bare: a\r\n\r\n`, status: 0,
    isLeftOpen: true, why: 'a bare CR never completes a head in uWS: no answer, nothing forwarded' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com\r\nHost: other.com\r\n\r\n`,
    status: 400, code: 'IAM_ROUTING_HOST_CONFLICT',
    why: 'two Host headers: routing and the upstream could pick different ones' },
  { raw: `GET /p HTTP/1.1\r\nHost: a@example.com\r\n\r\n`,
    status: 400, code: 'IAM_ROUTING_HOST_INVALID', why: 'userinfo in Host is not a host' },
  { raw: `GET /p HTTP/1.1\r\nHost: EXAMPLE.COM\r\n\r\n`, status: 200, forwarded: '/p',
    why: 'Host is compared case-insensitively' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com.\r\n\r\n`, status: 200, forwarded: '/p',
    why: 'one trailing dot in Host names the same host' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com:8443\r\n\r\n`, status: 200, forwarded: '/p',
    why: 'the port never takes part in host matching' },
  { raw: `GET /p HTTP/1.1\r\nHost: evil.example\r\n\r\n`, status: 404,
    code: 'IAM_ROUTING_NO_ROUTE', why: 'an unknown host gets 404 without touching an upstream' },
  { raw: `GET /apix HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 200, forwarded: '/apix',
    why: 'prefix /api matches on segment boundaries only, so /apix belongs to the / service' },
  { raw: `GET /api HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 401,
    code: 'IAM_AUTHN_REQUIRED', why: 'the prefix itself, without a trailing slash, is in /api' },
  { raw: `GET /api/private?path=/status HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 401,
    code: 'IAM_AUTHN_REQUIRED', why: 'routing matches the path only, never the query' },
  { raw: `GET /status HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 200, forwarded: '/status',
    why: 'the public route next to the protected one still works' },
  { raw: `GET /api/x HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 401,
    code: 'IAM_AUTHN_REQUIRED', why: 'a protected route without a credential fails closed' },
  { raw: `GET /status/../api/x HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 401,
    code: 'IAM_AUTHN_REQUIRED', why: 'the route is chosen on the canonical path, after dots' },
  { raw: `GET /status/%2e%2e/api/x HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 401,
    code: 'IAM_AUTHN_REQUIRED', why: 'encoded dots cannot escape a public prefix either' },
  { raw: `TRACE /p HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 405,
    code: 'IAM_ROUTING_METHOD_UNSUPPORTED', why: 'TRACE would echo credentials back (XST)' },
  { raw: `CONNECT example.com:443 HTTP/1.1\r\nHost: example.com\r\n\r\n`, status: 0,
    isLeftOpen: true, why: 'CONNECT (authority-form) never reaches a handler: the proxy is no tunnel' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com\r\nExpect: something\r\n\r\n`, status: 417,
    code: 'IAM_REQUEST_EXPECT_UNSUPPORTED', why: 'only 100-continue is understood' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n`,
    status: 501, code: 'IAM_REQUEST_UPGRADE_UNSUPPORTED',
    why: 'upgrades are refused clearly rather than half-proxied' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com\r\n${manyHeaders}\r\n`, status: 431,
    code: 'IAM_REQUEST_TOO_MANY_HEADERS', why: 'more headers than limits.maxHeaderCount (20)' },
  { raw: `GET /p HTTP/1.1\r\nHost: example.com\r\nX-Big: ${'b'.repeat(1500)}\r\n\r\n`, status: 431,
    code: 'IAM_REQUEST_HEADERS_TOO_LARGE', why: 'headers larger than limits.maxHeaderBytes (1024)' },
  { raw: `POST /p HTTP/1.1\r\nHost: example.com\r\nContent-Length: 2000\r\n\r\n`, status: 413,
    code: 'IAM_REQUEST_BODY_TOO_LARGE', why: 'a declared body over maxBodyBytes is refused up front' },
];

let upstream: RecordingUpstream;
let proxy: TestProxy;

before(async () => {
  upstream = await startRecordingUpstream();
  proxy = await startTestProxy(`limits: { maxHeaderCount: 20, maxHeaderBytes: 1024 }
services:
  - name: api
    hosts: [example.com]
    pathPrefix: /api
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: site
    hosts: [example.com]
    pathPrefix: /
    access: public
    maxBodyBytes: 1000
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

describe('server/framing-and-host e2e', () => {
  for (const c of kCases) {
    test(c.why, async () => {
      const seen = upstream.requests.length;
      const res = await rawRequest(proxy.port, c.raw, {
        waitForCloseMs: c.status >= 400 ? 300 : 0, timeoutMs: c.isLeftOpen === true ? 500 : 3000,
      });
      assert.equal(res.status, c.status);
      if (c.code !== undefined) assert.equal(res.headers.get('x-portcullis-error')?.[0], c.code);
      if (c.forwarded !== undefined) {
        assert.equal(upstream.requests.length, seen + 1);
        assert.equal(upstream.requests.at(-1)?.url, c.forwarded);
      } else {
        assert.equal(upstream.requests.length, seen, 'nothing reached the upstream');
      }
      if (c.status === 0) assert.equal(res.isClosed, c.isLeftOpen !== true);
      if (c.status >= 400) {
        // Framing and target errors close the connection; a plain 404/401 on a bodyless request
        // leaves a keep-alive connection usable.
        const isDenial = c.code === 'IAM_ROUTING_NO_ROUTE' || c.code === 'IAM_AUTHN_REQUIRED';
        assert.equal(res.isClosed, !isDenial);
      }
    });
  }
});
