/**
 * The audit endpoints of the admin listener, against a real proxy: their own authentication,
 * revocation input checks, sessions and their filters, Prometheus metrics, the live feed over a
 * real WebSocket (token or one-time ticket, server-side filters), and the dashboard's headers.
 * None of them is reachable through the proxy listener.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'undici';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

const kAdminToken = 'admin-token-for-admin-audit-test';
let upstream: RecordingUpstream;
let issuer: LocalIssuer;
let proxy: TestProxy;

before(async () => {
  process.env['PORTCULLIS_TEST_ADMIN_TOKEN_2'] = kAdminToken;
  upstream = await startRecordingUpstream();
  issuer = await startLocalIssuer();
  proxy = await startTestProxy(`admin: { token: { env: PORTCULLIS_TEST_ADMIN_TOKEN_2 } }
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
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

function admin(path: string, init: RequestInit = {}, token: string | null = kAdminToken) {
  const headers: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  return fetch(`http://127.0.0.1:${proxy.adminPort}${path}`, { ...init, headers });
}

function through(path: string, token?: string) {
  return fetch(`http://127.0.0.1:${proxy.port}${path}`,
    token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } });
}

/** Messages of a feed socket, collected until `until` holds or `timeoutMs` passes. */
async function collect(ws: WebSocket, until: (records: Record<string, unknown>[]) => boolean,
  timeoutMs = 3_000): Promise<Record<string, unknown>[]> {
  const records: Record<string, unknown>[] = [];
  ws.addEventListener('message', (event) => {
    const message = JSON.parse(String(event.data)) as { records: Record<string, unknown>[] };
    records.push(...message.records);
  });
  const deadline = Date.now() + timeoutMs;
  while (!until(records) && Date.now() < deadline) await sleep(20);
  return records;
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.addEventListener('open', () => resolve());
    ws.addEventListener('error', () => reject(new Error('feed refused')));
  });
}

describe('control/admin-audit e2e', () => {
  const protectedRoutes: Array<[string, string]> = [
    ['GET', '/metrics'], ['GET', '/sessions'], ['GET', '/revocations'], ['POST', '/revocations'],
    ['DELETE', '/revocations?kind=subject&value=x'], ['POST', '/feed/ticket'],
  ];
  for (const [method, path] of protectedRoutes) {
    test(`${method} ${path} needs the admin token: 401 without, 401 with a wrong one`, async () => {
      assert.equal((await admin(path, { method }, null)).status, 401);
      assert.equal((await admin(path, { method }, 'wrong')).status, 401);
    });
  }

  test('admin endpoints are not served by the proxy listener', async () => {
    for (const path of ['/metrics', '/sessions', '/revocations', '/dashboard']) {
      const res = await fetch(`http://127.0.0.1:${proxy.port}${path}`,
        { headers: { authorization: `Bearer ${kAdminToken}` } });
      assert.equal(res.headers.get('x-portcullis-error'), 'IAM_ROUTING_NO_ROUTE', path);
    }
  });

  const badRevocations: Array<[string, unknown, number]> = [
    ['not JSON at all', 'subject=alice', 400],
    ['an unknown kind', { kind: 'user', value: 'alice' }, 400],
    ['an empty value', { kind: 'subject', value: '' }, 400],
    ['an expiry in the past', { kind: 'subject', value: 'a', expiresAtSec: 1 }, 400],
    ['an expiry more than a year away',
      { kind: 'subject', value: 'a', expiresAtSec: Math.floor(Date.now() / 1000) + 400 * 86400 }, 400],
    ['a reason over 200 characters', { kind: 'subject', value: 'a', reason: 'x'.repeat(201) }, 400],
  ];
  for (const [why, body, status] of badRevocations) {
    test(`POST /revocations refuses ${why} and changes nothing`, async () => {
      const before = ((await (await admin('/revocations')).json()) as { revocations: unknown[] })
        .revocations.length;
      const res = await admin('/revocations', { method: 'POST',
        body: typeof body === 'string' ? body : JSON.stringify(body) });
      assert.equal(res.status, status);
      assert.equal(((await res.json()) as { error: string }).error, 'invalid_revocation');
      const afterCount = ((await (await admin('/revocations')).json()) as { revocations: unknown[] })
        .revocations.length;
      assert.equal(afterCount, before);
    });
  }

  test('a body over 4 KiB is refused with 413', async () => {
    const res = await admin('/revocations', { method: 'POST', body: 'x'.repeat(5_000) });
    assert.equal(res.status, 413);
  });

  test('sessions list callers with their ids and counts; filters match exactly', async () => {
    const carol = await issuer.sign({ sub: 'carol', sid: 'carol-s', client_id: 'cli' });
    const dave = await issuer.sign({ sub: 'dave', jti: 'dave-t', client_id: 'web' });
    for (const token of [carol, carol, dave]) assert.equal((await through('/api/x', token)).status, 200);
    const all = (await (await admin('/sessions')).json()) as { sessions: Array<Record<string, unknown>> };
    const c = all.sessions.find((s) => s.subject === 'carol');
    assert.deepEqual([c?.sessionId, c?.clientId, c?.requests, c?.denies], ['carol-s', 'cli', 2, 0]);
    const web = (await (await admin('/sessions?clientId=web')).json()) as { sessions: Array<{ subject: string }> };
    assert.deepEqual(web.sessions.map((s) => s.subject), ['dave']);
  });

  test('a revocation can be lifted: denied while in force, served again after', async () => {
    const token = await issuer.sign({ sub: 'erin', sid: 'erin-s' });
    assert.equal((await through('/api/x', token)).status, 200);
    const made = await admin('/revocations', { method: 'POST',
      body: JSON.stringify({ kind: 'subject', value: 'erin', issuer: issuer.issuer, reason: 'test' }) });
    assert.equal(made.status, 201);
    const body = (await made.json()) as { revocation: { expiresAtSec: number } };
    assert.ok(body.revocation.expiresAtSec > Date.now() / 1000);
    const denied = await through('/api/x', token);
    assert.equal(denied.status, 401);
    assert.equal(denied.headers.get('x-portcullis-error'), 'IAM_AUTHN_REVOKED');
    const lifted = await admin(`/revocations?kind=subject&value=erin&issuer=${encodeURIComponent(issuer.issuer)}`,
      { method: 'DELETE' });
    assert.deepEqual(await lifted.json(), { isRemoved: true, isShared: true });
    assert.equal((await through('/api/x', token)).status, 200);
  });

  test('a token revocation without an expiry lasts as long as the token seen here', async () => {
    const exp = Math.floor(Date.now() / 1000) + 300;
    const token = await issuer.sign({ sub: 'fay', jti: 'fay-token', exp });
    assert.equal((await through('/api/x', token)).status, 200);
    const res = await admin('/revocations', { method: 'POST',
      body: JSON.stringify({ kind: 'token', value: 'fay-token' }) });
    assert.equal(((await res.json()) as { revocation: { expiresAtSec: number } }).revocation.expiresAtSec, exp);
  });

  test('metrics: Prometheus text with request, latency, cache and audit series', async () => {
    await through('/pub/m');
    const res = await admin('/metrics');
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
    const text = await res.text();
    assert.match(text, /^portcullis_requests_total\{service="pub",decision="allow",status="200"\} \d+$/m);
    assert.match(text, /^portcullis_request_duration_seconds_bucket\{service="pub",le="\+Inf"\} \d+$/m);
    assert.match(text, /^portcullis_token_cache_lookups_total\{result="hit"\} \d+$/m);
    assert.match(text, /^portcullis_jwks_key_set_age_seconds\{issuer="https:\/\/local-issuer.test"\} [\d.]+$/m);
    for (const name of ['portcullis_audit_queue_depth', 'portcullis_audit_records_dropped_total',
      'portcullis_verifier_pool_utilization', 'portcullis_revocations_active',
      'portcullis_decision_duration_seconds_count', 'portcullis_process_cpu_user_seconds_total']) {
      assert.match(text, new RegExp(`^${name}(\\{[^}]*\\})? `, 'm'), name);
    }
  });

  test('the feed streams records to a token holder, filtered server-side', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.adminPort}/feed?service=api&decision=deny`,
      { headers: { authorization: `Bearer ${kAdminToken}` } } as never);
    await opened(ws);
    const done = collect(ws, (rs) => rs.some((r) => r.path === '/api/marker'));
    const token = await issuer.sign({ sub: 'gus' });
    await through('/pub/one');
    await through('/api/denied');
    await through('/api/allowed', token);
    await through('/api/marker');
    const records = await done;
    ws.close();
    assert.deepEqual(records.map((r) => r.path), ['/api/denied', '/api/marker'],
      'only the api denies, in order');
    for (const r of records) assert.deepEqual([r.service, r.decision], ['api', 'deny']);
  });

  test('a browser gets a one-time ticket; a ticket works once, a made-up one never', async () => {
    const { ticket } = (await (await admin('/feed/ticket', { method: 'POST' })).json()) as { ticket: string };
    const first = new WebSocket(`ws://127.0.0.1:${proxy.adminPort}/feed?ticket=${ticket}`);
    await opened(first);
    first.close();
    const again = new WebSocket(`ws://127.0.0.1:${proxy.adminPort}/feed?ticket=${ticket}`);
    await assert.rejects(opened(again));
    const madeUp = new WebSocket(`ws://127.0.0.1:${proxy.adminPort}/feed?ticket=abc`);
    await assert.rejects(opened(madeUp));
  });

  test('the dashboard page is served with a strict Content-Security-Policy', async () => {
    const res = await admin('/dashboard', {}, null);
    assert.equal(res.status, 200);
    const csp = res.headers.get('content-security-policy') ?? '';
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'sha256-/);
    assert.doesNotMatch(csp, /unsafe-inline/);
    assert.match(await res.text(), /<title>Portcullis<\/title>/);
  });
});
