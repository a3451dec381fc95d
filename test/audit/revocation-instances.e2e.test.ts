/**
 * Revocation across instances: two real proxy processes (`portcullis serve`) share a real
 * redis-server started here. A revocation sent to one instance's admin API denies the token on
 * both within one second, although both had it in their verification cache; an instance started
 * afterwards denies it from its first request; and an instance that cannot reach Redis refuses
 * to start.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from '../support/free-port.js';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';
import { type ProxyProcess, startProxyProcess, writeConfig } from '../support/proxy-process.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';
import { type RedisInstance, startRedis } from '../support/redis.js';

const kAdminToken = 'admin-token-for-revocation-instances';
let redis: RedisInstance;
let upstream: RecordingUpstream;
let issuer: LocalIssuer;
let configFile: string;
const running: ProxyProcess[] = [];

function config(redisUrl: string): string {
  return `listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
log: { level: info }
admin: { token: { env: PORTCULLIS_REVOCATION_TEST_TOKEN } }
audit: { sink: none }
revocation:
  store: redis
  redis: { url: '${redisUrl}', keyPrefix: 'instances:', connectTimeoutMs: 1000 }
authn:
  issuers:
${localIssuerYaml(issuer)}services:
  - name: api
    pathPrefix: /
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`;
}

async function start(file = configFile): Promise<ProxyProcess> {
  const proc = await startProxyProcess(file);
  running.push(proc);
  return proc;
}

async function get(proc: ProxyProcess, token: string): Promise<{ status: number; code: string | null }> {
  const res = await fetch(`http://127.0.0.1:${proc.port}/orders`,
    { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return { status: res.status, code: res.headers.get('x-portcullis-error') };
}

before(async () => {
  process.env['PORTCULLIS_REVOCATION_TEST_TOKEN'] = kAdminToken;
  redis = await startRedis();
  upstream = await startRecordingUpstream();
  issuer = await startLocalIssuer();
  configFile = writeConfig(config(redis.url));
});

after(async () => {
  await Promise.allSettled(running.map((p) => p.stop('SIGKILL')));
  await upstream?.close();
  await redis?.stop();
});

describe('audit/revocation-instances e2e', () => {
  test('a revocation sent to one instance denies on both within 1 s, cached or not', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    const token = await issuer.sign({ sub: 'mallory', sid: 'stolen-session' });
    for (const proc of [a!, b!]) {
      for (let i = 0; i < 2; i++) assert.deepEqual(await get(proc, token), { status: 200, code: null });
    }

    const sentAt = performance.now();
    const res = await fetch(`http://127.0.0.1:${a!.adminPort}/revocations`, { method: 'POST',
      headers: { authorization: `Bearer ${kAdminToken}` },
      body: JSON.stringify({ kind: 'session', value: 'stolen-session', reason: 'stolen laptop' }) });
    assert.equal(res.status, 201);
    assert.deepEqual(await get(a!, token), { status: 401, code: 'IAM_AUTHN_REVOKED' },
      'the instance that took the revocation denies at once');

    let onB = await get(b!, token);
    while (onB.status === 200 && performance.now() - sentAt < 1_500) {
      await sleep(10);
      onB = await get(b!, token);
    }
    const elapsedMs = performance.now() - sentAt;
    assert.deepEqual(onB, { status: 401, code: 'IAM_AUTHN_REVOKED' });
    assert.ok(elapsedMs < 1_000, `reached the other instance in ${elapsedMs.toFixed(0)} ms`);

    const other = await issuer.sign({ sub: 'mallory', sid: 'new-session' });
    assert.deepEqual(await get(b!, other), { status: 200, code: null },
      'a session revocation leaves the subject\'s other sessions alone');
  });

  test('a restarted instance still denies the revoked token from its first request', async () => {
    const a = await start();
    const token = await issuer.sign({ sub: 'trent', jti: 'token-to-kill' });
    assert.equal((await get(a, token)).status, 200);
    const res = await fetch(`http://127.0.0.1:${a.adminPort}/revocations`, { method: 'POST',
      headers: { authorization: `Bearer ${kAdminToken}` },
      body: JSON.stringify({ kind: 'token', value: 'token-to-kill' }) });
    assert.equal(res.status, 201);
    assert.equal(await a.stop('SIGTERM'), 0);

    const restarted = await start();
    assert.deepEqual(await get(restarted, token), { status: 401, code: 'IAM_AUTHN_REVOKED' });
    const listed = (await (await fetch(`http://127.0.0.1:${restarted.adminPort}/revocations`,
      { headers: { authorization: `Bearer ${kAdminToken}` } })).json()) as {
      store: { store: string; isConnected: boolean }; revocations: Array<{ value: string }> };
    assert.deepEqual([listed.store.store, listed.store.isConnected], ['redis', true]);
    assert.ok(listed.revocations.some((r) => r.value === 'token-to-kill'));
  });

  test('an instance that cannot reach Redis refuses to start (exit 1, a stable code)', async () => {
    const nobody = await freePort();
    const file = writeConfig(config(`redis://127.0.0.1:${nobody}`));
    await assert.rejects(startProxyProcess(file), (err: Error) => {
      assert.match(err.message, /exited with 1/);
      return true;
    });
  });
});
