/**
 * Spoofed identity and forwarding headers (threats.md: "Spoofed identity or forwarded headers",
 * "Hop-by-hop stripping of security headers"). The upstream must see exactly one copy of each
 * header the proxy owns, set by the proxy, whatever the client sent.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

let upstream: RecordingUpstream;
let proxy: TestProxy;
let trustingProxy: TestProxy;

before(async () => {
  upstream = await startRecordingUpstream();
  const services = `services:
  - name: app
    hosts: ['*']
    pathPrefix: /
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`;
  proxy = await startTestProxy(services);
  trustingProxy = await startTestProxy(`routing: { trustedProxies: ['127.0.0.0/8'] }\n${services}`);
});

after(async () => {
  await proxy?.stop();
  await trustingProxy?.stop();
  await upstream?.close();
});

async function send(port: number, headers: string): Promise<void> {
  const res = await rawRequest(port, `GET /h HTTP/1.1\r\nHost: app.test\r\n${headers}\r\n`);
  assert.equal(res.status, 200);
}

describe('server/spoofed identity headers', () => {
  const kSpoofed: ReadonlyArray<readonly [string, string]> = [
    ['X-User', 'X-User: admin'],
    ['x-user (lower case)', 'x-user: admin'],
    ['X-USER (upper case)', 'X-USER: admin'],
    ['X-User-Id', 'X-User-Id: 1'],
    ['X-Auth-Request-User', 'X-Auth-Request-User: admin'],
    ['X-Auth-Request-Email', 'X-Auth-Request-Email: a@b.c'],
    ['X-Forwarded-User', 'X-Forwarded-User: admin'],
    ['X-Forwarded-Uri', 'X-Forwarded-Uri: /public'],
    ['X-Original-URL', 'X-Original-URL: /admin'],
    ['X-Rewrite-URL', 'X-Rewrite-URL: /admin'],
    ['X-Envoy-Original-Path', 'X-Envoy-Original-Path: /public'],
    ['X-Forwarded-Client-Cert', 'X-Forwarded-Client-Cert: Hash=abc;Subject="CN=admin"'],
    ['X-Portcullis-Principal', 'X-Portcullis-Principal: admin'],
    ['X-Remote-User', 'X-Remote-User: admin'],
    ['Remote-User', 'Remote-User: admin'],
    ['Forwarded', 'Forwarded: for=10.0.0.1;proto=https'],
    ['X-Real-IP', 'X-Real-IP: 10.0.0.1'],
  ];
  for (const [name, line] of kSpoofed) {
    test(`${name} from a client never reaches the upstream`, async () => {
      await send(proxy.port, `${line}\r\n`);
      const header = line.slice(0, line.indexOf(':'));
      assert.deepEqual(upstream.lastHeader(header), []);
    });
  }

  test('an underscore variant (X_User) is dropped by the uWS parser before routing', async () => {
    const seen = upstream.requests.length;
    const res = await rawRequest(proxy.port, 'GET /h HTTP/1.1\r\nHost: app.test\r\nX_User: admin\r\n\r\n');
    assert.equal(res.status, 0);
    assert.equal(upstream.requests.length, seen);
  });

  test('X-Forwarded-* from an untrusted peer are replaced by the proxy values', async () => {
    await send(proxy.port, 'X-Forwarded-For: 6.6.6.6\r\nX-Forwarded-Proto: https\r\n' +
      'X-Forwarded-Host: evil.example\r\n');
    assert.deepEqual(upstream.lastHeader('x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(upstream.lastHeader('x-forwarded-proto'), ['http']);
    assert.deepEqual(upstream.lastHeader('x-forwarded-host'), ['app.test']);
  });

  test('X-Forwarded-* from a trusted proxy CIDR are kept and appended to', async () => {
    await send(trustingProxy.port, 'X-Forwarded-For: 203.0.113.9\r\nX-Forwarded-Proto: https\r\n' +
      'X-Forwarded-Host: public.example\r\n');
    assert.deepEqual(upstream.lastHeader('x-forwarded-for'), ['203.0.113.9, 127.0.0.1']);
    assert.deepEqual(upstream.lastHeader('x-forwarded-proto'), ['https']);
    assert.deepEqual(upstream.lastHeader('x-forwarded-host'), ['public.example']);
  });

  test('Connection naming proxy-set headers cannot delete them', async () => {
    await send(proxy.port, 'Connection: X-Forwarded-For, X-Request-Id, Host, X-Forwarded-Proto\r\n');
    assert.deepEqual(upstream.lastHeader('x-forwarded-for'), ['127.0.0.1']);
    assert.deepEqual(upstream.lastHeader('x-forwarded-proto'), ['http']);
    assert.deepEqual(upstream.lastHeader('host'), ['app.test']);
    assert.equal(upstream.lastHeader('x-request-id').length, 1);
    assert.deepEqual(upstream.lastHeader('connection'), [], 'the client Connection header is hop-by-hop');
  });

  test('headers named in Connection by the client are removed as hop-by-hop', async () => {
    await send(proxy.port, 'Connection: keep-alive, X-Custom-Hop\r\nX-Custom-Hop: 1\r\n' +
      'X-End-To-End: 2\r\nKeep-Alive: timeout=5\r\nTE: trailers\r\n');
    assert.deepEqual(upstream.lastHeader('x-custom-hop'), []);
    assert.deepEqual(upstream.lastHeader('keep-alive'), []);
    assert.deepEqual(upstream.lastHeader('te'), []);
    assert.deepEqual(upstream.lastHeader('x-end-to-end'), ['2']);
  });

  test('an acceptable inbound X-Request-Id is propagated both ways', async () => {
    const res = await rawRequest(proxy.port,
      'GET /h HTTP/1.1\r\nHost: app.test\r\nX-Request-Id: abc-123.x_y\r\n\r\n');
    assert.deepEqual(res.headers.get('x-request-id'), ['abc-123.x_y']);
    assert.deepEqual(upstream.lastHeader('x-request-id'), ['abc-123.x_y']);
  });

  test('an unacceptable inbound X-Request-Id is replaced by a generated one', async () => {
    const res = await rawRequest(proxy.port,
      'GET /h HTTP/1.1\r\nHost: app.test\r\nX-Request-Id: a b "c"\r\n\r\n');
    const id = res.headers.get('x-request-id')?.[0] ?? '';
    assert.match(id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(upstream.lastHeader('x-request-id'), [id]);
  });
});
