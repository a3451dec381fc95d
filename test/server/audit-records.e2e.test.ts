/**
 * Every kind of request produces exactly one decision record with the documented fields: a real
 * proxy (file sink in a temp directory), a real upstream, a local token issuer. Each request
 * carries its own x-request-id, so each record is found by id, and the count of records equals
 * the count of requests.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { byRequestId, readRecords, type WrittenRecord } from '../support/audit-files.js';
import { freePort } from '../support/free-port.js';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

const kAdminToken = 'admin-token-for-audit-records-test';
const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-audit-records-'));
const kFile = path.join(kDir, 'audit.log');
let upstream: RecordingUpstream;
let issuer: LocalIssuer;
let proxy: TestProxy;
let sent = 0;

before(async () => {
  process.env['PORTCULLIS_TEST_ADMIN_TOKEN'] = kAdminToken;
  upstream = await startRecordingUpstream();
  issuer = await startLocalIssuer();
  const closedPort = await freePort();
  proxy = await startTestProxy(`audit:
  sink: file
  file: { path: '${kFile}' }
admin: { token: { env: PORTCULLIS_TEST_ADMIN_TOKEN } }
authn:
  issuers:
${localIssuerYaml(issuer)}services:
  - name: pub
    pathPrefix: /pub
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: api
    pathPrefix: /api
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: dead
    pathPrefix: /dead
    access: public
    upstream: { addresses: ['127.0.0.1:${closedPort}'], connectTimeoutMs: 500 }
  - name: slow
    pathPrefix: /slow-head
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: small
    pathPrefix: /small
    access: public
    maxBodyBytes: 10
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  rmSync(kDir, { recursive: true, force: true });
});

/** Sends one request with request id `id` (counted); `head` is the request line and headers. */
function send(id: string, head: string, body = ''): Promise<RawResponse> {
  sent++;
  return rawRequest(proxy.port, `${head}\r\nHost: api.test\r\nx-request-id: ${id}\r\n\r\n${body}`);
}

async function recordOf(id: string): Promise<WrittenRecord> {
  await proxy.running.audit.log.flush();
  const record = byRequestId(readRecords(kFile)).get(id);
  assert.ok(record !== undefined, `a record for ${id}`);
  return record;
}

describe('server/audit-records e2e', () => {
  test('forwarded: allow, the upstream status, the canonical path, no principal', async () => {
    const res = await send('fwd-1', 'GET /pub/a/./b?token=secret HTTP/1.1');
    assert.equal(res.status, 200);
    const r = await recordOf('fwd-1');
    assert.equal(r.listener, 'proxy');
    assert.equal(r.sourceAddress, '127.0.0.1');
    assert.equal(r.method, 'GET');
    assert.equal(r.host, 'api.test');
    assert.equal(r.path, '/pub/a/b', 'the canonical path, without the query');
    assert.equal(r.service, 'pub');
    assert.deepEqual([r.decision, r.outcome, r.status, r.upstreamStatus, r.code],
      ['allow', 'forwarded', 200, 200, null]);
    assert.deepEqual([r.principal, r.cache, r.authnUs], [null, null, null]);
    assert.ok(typeof r.authzUs === 'number', 'the policy decided it');
    assert.ok(typeof r.totalUs === 'number' && r.totalUs > 0);
    assert.ok(!JSON.stringify(r).includes('secret'), 'the query string is never recorded');
  });

  const refusals: Array<[string, string, number, string, string]> = [
    ['an encoded slash is rejected by routing, before any path is settled',
      'GET /pub/a%2Fb HTTP/1.1', 400, 'IAM_ROUTING_ENCODED_SEPARATOR', 'reject'],
    ['an unrouted path is rejected with its canonical path recorded',
      'GET /nowhere HTTP/1.1', 404, 'IAM_ROUTING_NO_ROUTE', 'reject'],
    ['no credential on an authenticated route is a deny',
      'GET /api/x HTTP/1.1', 401, 'IAM_AUTHN_REQUIRED', 'deny'],
    ['a malformed token is a deny',
      'GET /api/x HTTP/1.1\r\nAuthorization: Bearer not.a.jwt', 401, 'IAM_AUTHN_TOKEN_MALFORMED', 'deny'],
    ['the upstream refusing connections is allowed, then an upstream error',
      'GET /dead/x HTTP/1.1', 502, 'IAM_UPSTREAM_CONNECT_FAILED', 'allow'],
  ];
  for (const [why, head, status, code, decision] of refusals) {
    test(why, async () => {
      const id = `refused-${code}`;
      const res = await send(id, head);
      assert.equal(res.status, status);
      const r = await recordOf(id);
      assert.deepEqual([r.status, r.code, r.decision], [status, code, decision]);
      assert.equal(r.outcome, decision === 'allow' ? 'upstream_error' : 'refused');
      assert.ok(typeof r.reason === 'string' && r.reason !== '');
    });
  }

  test('a body over the service limit is rejected with 413 and recorded once', async () => {
    const res = await send('big-1', 'POST /small HTTP/1.1\r\nContent-Length: 100', 'x'.repeat(100));
    assert.equal(res.status, 413);
    const r = await recordOf('big-1');
    assert.deepEqual([r.code, r.decision, r.service], ['IAM_REQUEST_BODY_TOO_LARGE', 'reject', 'small']);
  });

  test('a framing error drops the connection and still leaves a record', async () => {
    const res = await send('drop-1', 'POST /pub HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4', 'abcd');
    assert.equal(res.status, 0, 'no answer, the connection is closed');
    const r = await recordOf('drop-1');
    assert.deepEqual([r.outcome, r.status, r.code, r.decision],
      ['dropped', 0, 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT', 'reject']);
  });

  test('a client that leaves while the upstream thinks is recorded as aborted', async () => {
    sent++;
    const socket = net.connect(proxy.port, '127.0.0.1');
    socket.write('GET /slow-head?ms=1500 HTTP/1.1\r\nHost: api.test\r\nx-request-id: abort-1\r\n\r\n');
    await sleep(300);
    socket.destroy();
    await sleep(200);
    const r = await recordOf('abort-1');
    assert.deepEqual([r.outcome, r.code, r.decision, r.status],
      ['aborted', 'IAM_REQUEST_CLIENT_ABORTED', 'allow', 0]);
  });

  test('an authenticated request records the principal ids, key id, cache miss then hit', async () => {
    const token = await issuer.sign({ sub: 'alice', sid: 'sess-1', jti: 'tok-1', client_id: 'web' });
    for (const id of ['authn-1', 'authn-2']) {
      const res = await send(id, `GET /api/orders HTTP/1.1\r\nAuthorization: Bearer ${token}`);
      assert.equal(res.status, 200);
    }
    const [first, second] = [await recordOf('authn-1'), await recordOf('authn-2')];
    assert.deepEqual(first.principal, { kind: 'jwt', subject: 'alice', issuer: issuer.issuer,
      clientId: 'web', sessionId: 'sess-1', tokenId: 'tok-1' });
    assert.equal(first.keyId, issuer.kid);
    assert.deepEqual([first.cache, second.cache], ['miss', 'hit']);
    assert.ok(typeof first.authnUs === 'number' && typeof second.authnUs === 'number');
    // Without a policy block the policy compiled from `access` decides: its rule and bundle.
    assert.deepEqual([first.rule, first.bundleVersion], ['api-authenticated', '1']);
    assert.match(String(first.bundleDigest), /^[0-9a-f]{64}$/);
  });

  test('a revoked session is denied on its next request, cached token included', async () => {
    const token = await issuer.sign({ sub: 'bob', sid: 'sess-bob', jti: 'tok-bob' });
    assert.equal((await send('rev-0', `GET /api/a HTTP/1.1\r\nAuthorization: Bearer ${token}`)).status, 200);
    const revoke = await fetch(`http://127.0.0.1:${proxy.adminPort}/revocations`, {
      method: 'POST', headers: { authorization: `Bearer ${kAdminToken}` },
      body: JSON.stringify({ kind: 'session', value: 'sess-bob' }),
    });
    assert.equal(revoke.status, 201);
    const res = await send('rev-1', `GET /api/a HTTP/1.1\r\nAuthorization: Bearer ${token}`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_REVOKED');
    const r = await recordOf('rev-1');
    assert.deepEqual([r.decision, r.code, r.cache, r.principal?.subject],
      ['deny', 'IAM_AUTHN_REVOKED', 'hit', 'bob']);
    const other = await issuer.sign({ sub: 'bob', sid: 'another-session' });
    assert.equal((await send('rev-2', `GET /api/a HTTP/1.1\r\nAuthorization: Bearer ${other}`)).status,
      200, 'another session of the same subject is not affected');
  });

  test('records equal requests: one each, no more, no fewer', async () => {
    await proxy.running.audit.log.flush();
    const records = readRecords(kFile);
    assert.equal(byRequestId(records).size, records.length, 'no request has two records');
    assert.equal(records.length, sent);
  });
});
