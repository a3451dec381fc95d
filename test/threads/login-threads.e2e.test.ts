/**
 * Browser login with three uWS loops (`threads: 3`), against the real IdP: a session made on one
 * thread is honoured on every other (the cookie key and the session store are the main
 * thread's), and a logout on one thread ends the session on every thread before its answer.
 * Three, so that whichever thread takes the logout, another serving thread holds a copy of the
 * session that only the main thread's note can end.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type LoginHarness, startLoginHarness } from '../support/login-harness.js';
import type { TestBrowser } from '../support/test-browser.js';

const kSession = '__Host-portcullis-session';
/** Fresh connections per check; some thread missed is 3 * (2/3)^n likely (2e-4 at 24). */
const kSpread = 24;
let h: LoginHarness;
let host: string;

before(async () => {
  h = await startLoginHarness({ extraYaml: 'threads: 3' });
  host = new URL(h.origin).hostname;
});
after(async () => {
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
});
