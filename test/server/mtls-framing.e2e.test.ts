/**
 * Framing, limits and header checks on the mTLS listener, with raw bytes over TLS. node's parser
 * (llhttp) is not uWS's, so the same cases as test/server/framing-and-host.e2e.test.ts are run
 * here: every refused request leaves the upstream untouched, and what llhttp cannot frame drops
 * the connection without an answer, as uWS does.
 *
 * threats.md rows covered here: "Request smuggling / ambiguous framing" (duplicate and listed
 * Content-Length, CL with TE, obs-fold, bare CR/LF, a request pipelined behind a framing error),
 * "Spoofed identity or forwarded headers" (underscore spellings, which uWS drops before the
 * proxy sees them but llhttp passes on, are still removed).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { createTestPki } from '../support/test-pki.js';

interface FramingCase {
  readonly why: string;
  readonly raw: string;
  /** 0: the connection closes without an answer. */
  readonly status: number;
  readonly code?: string;
  readonly forwarded?: string;
}

const many = Array.from({ length: 25 }, (_, i) => `X-H${i}: v\r\n`).join('');
const kCases: readonly FramingCase[] = [
  { raw: 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc',
    status: 0, why: 'duplicate Content-Length, even equal, leaves the boundary in doubt' },
  { raw: 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde',
    status: 0, why: 'differing Content-Length values are dropped' },
  { raw: 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc', status: 0,
    why: 'a Content-Length list is dropped' },
  { raw: 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '3\r\nabc\r\n0\r\n\r\n', status: 0, why: 'CL together with TE is a smuggling signal' },
  { raw: 'POST /p HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n' +
    '3\r\nabc\r\n0\r\n\r\n',
    status: 0, why: 'only plain chunked is accepted' },
  { raw: 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 5\r\n\r\nabcde' +
    'GET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n', status: 0,
  why: 'a request pipelined behind a framing error is never processed' },
  { raw: 'GET /p HTTP/1.1\r\nHost: a\r\nX-Fold: a\r\n b\r\n\r\n', status: 0,
    why: 'obs-fold is refused by llhttp: the connection drops' },
  { raw: 'GET /p HTTP/1.1\r\nHost: a\rX-Bare: a\r\n\r\n', status: 0,
    why: 'a bare CR in the head drops the connection' },
  { raw: 'GET /p HTTP/1.1\nHost: a\n\n', status: 0, why: 'bare LF line ends drop the connection' },
  { raw: 'GET /p HTTP/1.1\r\nHost: a\r\nX-Y: a\u0000b\r\n\r\n', status: 0,
    why: 'NUL in a header value drops the connection' },
  { raw: 'get /p HTTP/1.1\r\nHost: a\r\n\r\n', status: 0,
    why: 'llhttp knows upper-case methods only; a lower-case one drops the connection' },
  { raw: 'CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n', status: 0,
    why: 'CONNECT never reaches the request path: the proxy is no tunnel' },
  { raw: 'GET /p HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', status: 400,
    code: 'IAM_ROUTING_HOST_CONFLICT', why: 'two Host headers: routing and upstream may differ' },
  { raw: 'GET /p HTTP/1.1\r\n\r\n', status: 400, code: 'IAM_ROUTING_HOST_MISSING',
    why: 'HTTP/1.1 without Host gets the proxy\'s own answer (node\'s check is off)' },
  { raw: 'GET http://evil.example/p HTTP/1.1\r\nHost: a\r\n\r\n', status: 400,
    code: 'IAM_ROUTING_ABSOLUTE_FORM_FOREIGN', why: 'absolute form naming another host' },
  { raw: 'GET /a%2Fb HTTP/1.1\r\nHost: a\r\n\r\n', status: 400,
    code: 'IAM_ROUTING_ENCODED_SEPARATOR', why: 'the canonical path rules are the same' },
  { raw: 'TRACE /p HTTP/1.1\r\nHost: a\r\n\r\n', status: 405,
    code: 'IAM_ROUTING_METHOD_UNSUPPORTED', why: 'TRACE would echo credentials back' },
  { raw: 'GET /p HTTP/1.1\r\nHost: a\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n\r\n',
    status: 501, code: 'IAM_REQUEST_UPGRADE_UNSUPPORTED', why: 'upgrades are refused clearly' },
  { raw: `GET /p HTTP/1.1\r\nHost: a\r\n${many}\r\n`, status: 431,
    code: 'IAM_REQUEST_TOO_MANY_HEADERS', why: 'more headers than limits.maxHeaderCount (20)' },
  { raw: `GET /p HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(1500)}\r\n\r\n`, status: 431,
    code: 'IAM_REQUEST_HEADERS_TOO_LARGE', why: 'headers over limits.maxHeaderBytes (1024)' },
  { raw: `GET /p HTTP/1.1\r\nHost: a\r\nX-Big: ${'b'.repeat(20000)}\r\n\r\n`, status: 431,
    code: 'IAM_REQUEST_HEADERS_TOO_LARGE',
    why: 'a head past llhttp\'s own bound still gets 431 (written by the listener)' },
  { raw: 'POST /p HTTP/1.1\r\nHost: a\r\nContent-Length: 2000\r\n\r\n', status: 413,
    code: 'IAM_REQUEST_BODY_TOO_LARGE', why: 'a declared body over maxBodyBytes' },
  { raw: 'GET /a/%2e%2e/b HTTP/1.1\r\nHost: a\r\n\r\n', status: 200, forwarded: '/b',
    why: 'encoded dot segments are resolved into the one canonical path' },
  { raw: 'POST /ext HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n' +
    '5;x=y\r\nhello\r\n0\r\n\r\n',
    status: 200, forwarded: '/ext', why: 'llhttp accepts chunk extensions; the proxy re-frames' },
];

let upstream: RecordingUpstream;
let proxy: TestProxy;
let secure: ConnectionOptions;

before(async () => {
  const pki = createTestPki();
  const server = pki.leaf('server', 'localhost', 'DNS:localhost', 'serverAuth');
  const caller = pki.issue('caller', { san: 'URI:spiffe://t.acme/caller' });
  secure = { ca: readFileSync(pki.caCert), servername: 'localhost',
    cert: readFileSync(caller.cert), key: readFileSync(caller.key) };
  upstream = await startRecordingUpstream();
  proxy = await startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls: { host: 127.0.0.1, port: 0, certFile: '${server.cert}', keyFile: '${server.key}',
          caFiles: ['${pki.caCert}'] }
limits: { maxHeaderCount: 20, maxHeaderBytes: 1024 }
services:
  - name: api
    pathPrefix: /api
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: site
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

describe('server/mtls-framing', () => {
  for (const c of kCases) {
    test(c.why, async () => {
      const seen = upstream.requests.length;
      const res = await rawRequest(proxy.mtlsPort as number, c.raw, {
        tls: secure, waitForCloseMs: c.status >= 400 ? 300 : 0,
      });
      assert.equal(res.status, c.status);
      if (c.code !== undefined) assert.equal(res.headers.get('x-portcullis-error')?.[0], c.code);
      if (c.forwarded !== undefined) {
        assert.equal(upstream.requests.length, seen + 1);
        assert.equal(upstream.requests.at(-1)?.url, c.forwarded);
      } else {
        assert.equal(upstream.requests.length, seen, 'nothing reached the upstream');
      }
      if (c.status === 0 || c.status >= 400) assert.equal(res.isClosed, true);
    });
  }

  test('identity and forwarding headers in _ spellings are removed before forwarding',
    async () => {
      const res = await rawRequest(proxy.mtlsPort as number, 'GET /api/x HTTP/1.1\r\nHost: a\r\n' +
        'X_Forwarded_For: 10.9.9.9\r\nX_Portcullis_Subject: root\r\nX-Portcullis_Spiffe-Id: ' +
        'spiffe://evil/x\r\n\r\n', { tls: secure });
      assert.equal(res.status, 200);
      const names = (upstream.requests.at(-1)?.rawHeaders ?? [])
        .filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
      assert.equal(names.filter((n) => n.replaceAll('_', '-') === 'x-forwarded-for').length, 1);
      assert.deepEqual(upstream.lastHeader('x-forwarded-for'), ['127.0.0.1']);
      assert.deepEqual(upstream.lastHeader('x-portcullis-subject'), ['spiffe://t.acme/caller']);
      assert.deepEqual(upstream.lastHeader('x-portcullis-spiffe-id'), ['spiffe://t.acme/caller']);
      assert.ok(!names.some((n) => n.includes('_')), `no underscore spelling left: ${names}`);
    });
});
