/**
 * Browser login with three uWS loops (`threads: 3`), against the real IdP: a session made on one
 * thread is honoured on every other (the cookie key and the session store are the main
 * thread's), and a logout on one thread ends the session on every thread before its answer.
 * Three, so that whichever thread takes the logout, another serving thread holds a copy of the
 * session that only the main thread's note can end. Every thread's log lines come out of the
 * main thread's logger.
 */
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Logger } from '../../src/telemetry/index.js';
import { type LoginHarness, startLoginHarness } from '../support/login-harness.js';
import type { TestBrowser } from '../support/test-browser.js';

const kSession = '__Host-portcullis-session';
/** Fresh connections per check; some thread missed is 3 * (2/3)^n likely (2e-4 at 24). */
const kSpread = 24;
let h: LoginHarness;
let host: string;
/** A proxy presenting the wrong client secret, whose log this test reads. */
let wrong: LoginHarness;
let wrongLog = '';

before(async () => {
  h = await startLoginHarness({ extraYaml: 'threads: 3' });
  host = new URL(h.origin).hostname;
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => { wrongLog += chunk.toString(); });
  wrong = await startLoginHarness({ extraYaml: 'threads: 3', logger: new Logger('info', out),
    clientSecret: 'not-the-registered-secret-3333' });
});
after(async () => {
  await wrong?.stop();
  await h?.stop();
});

/** A browser holding only `sessionId`, on a connection of its own. */
function holding(sessionId: string): TestBrowser {
  const b = h.browser();
  b.plant(host, kSession, sessionId);
  return b;
}

async function spread(sessionId: string): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < kSpread; i++) {
    statuses.push((await holding(sessionId).request(`${h.origin}/app/page`)).status);
  }
  return statuses;
}

describe('threads/login with serving threads e2e', () => {
  test('a session made on one thread is honoured on both; logout ends it on both', async () => {
    const browser = h.browser();
    const first = await h.login(browser, '/app/page');
    assert.equal(first.status, 200);
    const id = browser.cookie(host, kSession)!.value;

    assert.deepEqual(new Set(await spread(id)), new Set([200]));
    const facts = await (await fetch(`http://127.0.0.1:${h.proxy.admin.port}/readyz`)).json() as
      { threads: Array<{ index: number; served: number }> };
    for (const t of facts.threads) assert.ok(t.served > 0, `thread ${t.index} served requests`);

    const out = await browser.request(`${h.origin}/.portcullis/logout?rd=/signed-out`);
    assert.equal(out.status, 302);
    assert.deepEqual(new Set(await spread(id)), new Set([302]), 'sent to log in, on every thread');
  });

  test('every thread logs through the main thread\'s logger', async () => {
    const lines = (): string[] => wrongLog.split('\n').filter((l) => l !== '');
    const ready = lines().filter((l) => l.includes('"msg":"browser login ready"'));
    assert.equal(ready.length, 3, 'the main thread and both serving threads started login');

    // Each thread warns once per 10 s: callbacks spread over the threads give one line per
    // thread that took one (all 24 on a single thread is 3 * 3^-24 likely).
    for (let i = 0; i < kSpread; i++) {
      const out = await wrong.login(wrong.browser(), '/app/page');
      assert.equal(out.status, 502);
    }
    const warnings = lines().filter((l) => l.includes('IAM_LOGIN_CLIENT_AUTH_FAILED'));
    assert.ok(warnings.length >= 2 && warnings.length <= 3,
      `one warning per thread that took a callback, got ${warnings.length}`);
    for (const l of lines()) assert.doesNotThrow(() => JSON.parse(l), `one JSON object: ${l}`);
    assert.ok(!wrongLog.includes('not-the-registered-secret-3333'), 'the secret is never logged');
  });
});
