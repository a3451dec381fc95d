/**
 * Browser sessions across instances: two proxies share a real redis-server (revocations and
 * sessions) and one IdP. A browser logs in through one and is served by the other; logout on
 * one ends the session on both; a revocation on one refuses the session on the other.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  type LoginHarness, registerLoginClient, startLoginHarness,
} from '../support/login-harness.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';
import { type RedisInstance, startRedis } from '../support/redis.js';
import { createTestPki } from '../support/test-pki.js';
import type { TestBrowser } from '../support/test-browser.js';

const kAdminEnv = 'PORTCULLIS_LOGIN_INSTANCES_ADMIN';
const kAdminToken = 'login-instances-admin-token-2b7d';
let redis: RedisInstance;
let idp: TestIdp;
let a: LoginHarness;
let b: LoginHarness;

before(async () => {
  process.env[kAdminEnv] = kAdminToken;
  redis = await startRedis();
  idp = await startTestIdp();
  const pki = createTestPki();
  const shared = `revocation: { store: redis, redis: { url: '${redis.url}', keyPrefix: 'li:' } }
admin: { token: { env: ${kAdminEnv} } }`;
  a = await startLoginHarness({ idp, pki, extraYaml: shared });
  b = await startLoginHarness({ idp, pki, extraYaml: shared });
  await registerLoginClient(idp, [a.origin, b.origin]);
});
after(async () => {
  await a?.stop();
  await b?.stop();
  await idp?.stop();
  await redis?.stop();
});

async function until(browser: TestBrowser, url: string, status: number): Promise<void> {
  const start = Date.now();
  while ((await browser.request(url)).status !== status) {
    if (Date.now() - start > 1_000) assert.fail(`${url} did not answer ${status} within 1 s`);
    await sleep(20);
  }
}

describe('login/instances e2e', () => {
  test('login/instances a login through one instance is a session on the other', async () => {
    const browser = a.browser();
    assert.equal((await a.login(browser, '/app/page')).status, 200);
    // Browsers send a host's cookies to every port: the same cookie reaches instance b.
    assert.equal((await browser.request(`${b.origin}/app/page`)).status, 200);
    assert.deepEqual(b.upstream.lastHeader('x-portcullis-subject'), ['alice']);
  });

  test('login/instances logout on one instance ends the session on both', async () => {
    const browser = a.browser();
    await a.login(browser, '/app/page');
    const id = browser.cookie('127.0.0.1', '__Host-portcullis-session')!.value;
    assert.equal((await browser.request(`${b.origin}/app/page`)).status, 200);
    assert.equal((await browser.request(`${b.origin}/.portcullis/logout`)).status, 302);
    const replay = a.browser();
    replay.plant('127.0.0.1', '__Host-portcullis-session', id);
    await until(replay, `${a.origin}/app/page`, 302);
  });

  test('login/instances a revocation sent to one instance refuses the session on the other', async () => {
    const browser = a.browser();
    await a.login(browser, '/app/page', 'bob');
    assert.equal((await browser.request(`${b.origin}/app/page`)).status, 200);
    const made = await fetch(`http://127.0.0.1:${a.proxy.admin.port}/revocations`, {
      method: 'POST', headers: { authorization: `Bearer ${kAdminToken}` },
      body: JSON.stringify({ kind: 'subject', value: 'bob' }) });
    assert.equal(made.status, 201);
    await until(browser, `${b.origin}/app/page`, 401);
  });
});
