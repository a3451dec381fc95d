/**
 * How browser sessions end, end to end: logout (the proxy's own, and RP-initiated logout at the
 * real IdP), the idle and absolute timeouts sending the browser back to log in, and revocation
 * of the subject or the session through the admin API, at once and at the next login.
 */
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, describe, test } from 'node:test';
import { type LoginHarness, startLoginHarness } from '../support/login-harness.js';
import type { TestBrowser } from '../support/test-browser.js';

const kSession = '__Host-portcullis-session';
const kAdminEnv = 'PORTCULLIS_LOGIN_LIFECYCLE_ADMIN';
const kAdminToken = 'login-lifecycle-admin-token-6f1c';
let h: LoginHarness;
let timed: LoginHarness;
let host: string;

before(async () => {
  process.env[kAdminEnv] = kAdminToken;
  h = await startLoginHarness({ loginYaml: '  idpLogout: true',
    extraYaml: `admin: { token: { env: ${kAdminEnv} } }` });
  timed = await startLoginHarness({
    loginYaml: '  sessions: { idleTimeoutSec: 1, absoluteTimeoutSec: 2 }' });
  host = new URL(h.origin).hostname;
});
after(async () => {
  await h.stop();
  await timed.stop();
});

async function admin(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${h.proxy.admin.port}${path}`, { ...init,
    headers: { authorization: `Bearer ${kAdminToken}`, 'content-type': 'application/json' } });
}

/** A browser holding only `sessionId`: what a stolen or replayed cookie can still do. */
function holding(harness: LoginHarness, sessionId: string): TestBrowser {
  const b = harness.browser();
  b.plant(host, kSession, sessionId);
  return b;
}

describe('login/session-lifecycle e2e', () => {
  test('login/session-lifecycle logout ends the session and clears the cookie', async () => {
    const browser = h.browser();
    await h.login(browser, '/app/page');
    const id = browser.cookie(host, kSession)!.value;
    const res = await browser.request(`${h.origin}/.portcullis/logout?rd=/signed-out`);
    assert.equal(res.status, 302);
    assert.equal(browser.cookie(host, kSession), undefined, 'Max-Age=0 deleted the cookie');
    assert.ok(res.headers.get('set-cookie')!.some((c) => c.startsWith(`${kSession}=;`)));
    const replay = await holding(h, id).request(`${h.origin}/app/page`);
    assert.equal(replay.status, 302, 'the old id is sent to log in again');
    assert.ok(replay.header('location')!.startsWith(`${h.idp.issuer}/auth?`));
  });

  test('login/session-lifecycle RP-initiated logout: no token in the URL, back to the checked target', async () => {
    const browser = h.browser();
    await h.login(browser, '/app/page');
    const res = await browser.request(`${h.origin}/.portcullis/logout?rd=/signed-out`,
      { method: 'POST', headers: {} });
    assert.equal(res.status, 302);
    const to = new URL(res.header('location')!);
    assert.equal(`${to.origin}${to.pathname}`, `${h.idp.issuer}/session/end`);
    assert.equal(to.searchParams.get('client_id'), h.idp.loginClientId);
    assert.equal(to.searchParams.get('post_logout_redirect_uri'), `${h.origin}/signed-out`);
    assert.equal(to.searchParams.has('id_token_hint'), false, 'no ID token in a redirect URL');

    // The IdP asks the user to confirm; the browser posts its form, and lands back on the proxy.
    const page = await browser.request(to.href);
    const xsrf = /name="xsrf" value="([^"]+)"/.exec(page.body)?.[1];
    const action = /action="([^"]+)"/.exec(page.body)?.[1];
    assert.ok(xsrf !== undefined && action !== undefined, 'the IdP showed its logout form');
    const confirmed = await browser.request(new URL(action, h.idp.issuer).href, { method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ xsrf, logout: 'yes' }).toString() });
    assert.equal(confirmed.header('location'), `${h.origin}/signed-out`);
  });

  test('login/session-lifecycle logout to a foreign target ends the session but does not redirect', async () => {
    const browser = h.browser();
    await h.login(browser, '/app/page');
    const id = browser.cookie(host, kSession)!.value;
    const res = await browser.request(`${h.origin}/.portcullis/logout?rd=//evil.example/`);
    assert.equal(res.status, 400);
    assert.equal(res.header('x-portcullis-error'), 'IAM_LOGIN_REDIRECT_REFUSED');
    assert.equal(browser.cookie(host, kSession), undefined);
    assert.equal((await holding(h, id).request(`${h.origin}/app/page`)).status, 302);
  });

  test('login/session-lifecycle idle: a session unused for idleTimeoutSec goes back to login', async () => {
    const browser = timed.browser();
    await timed.login(browser, '/app/page');
    await sleep(400);
    assert.equal((await browser.request(`${timed.origin}/app/page`)).status, 200, 'still live');
    await sleep(1200);
    const res = await browser.request(`${timed.origin}/app/page`);
    assert.equal(res.status, 302);
    assert.ok(res.header('location')!.startsWith(`${timed.idp.issuer}/auth?`));
    const xhr = await browser.request(`${timed.origin}/app/data`,
      { headers: { accept: 'application/json' } });
    assert.equal(xhr.header('x-portcullis-error'), 'IAM_AUTHN_REQUIRED');
  });

  test('login/session-lifecycle absolute: a session in constant use ends after absoluteTimeoutSec', async () => {
    const browser = timed.browser();
    await timed.login(browser, '/app/page');
    const started = Date.now();
    while (Date.now() - started < 1700) {
      assert.equal((await browser.request(`${timed.origin}/app/page`)).status, 200);
      await sleep(300);
    }
    await sleep(Math.max(0, 2100 - (Date.now() - started)));
    assert.equal((await browser.request(`${timed.origin}/app/page`)).status, 302);
  });

  test('login/session-lifecycle revoking the subject refuses its session at once and ends it', async () => {
    const browser = h.browser();
    await h.login(browser, '/app/page', 'bob');
    assert.equal((await browser.request(`${h.origin}/app/page`)).status, 200);
    const made = await admin('/revocations', { method: 'POST',
      body: JSON.stringify({ kind: 'subject', value: 'bob' }) });
    assert.equal(made.status, 201);
    const res = await browser.request(`${h.origin}/app/page`);
    assert.equal(res.status, 401);
    assert.equal(res.header('x-portcullis-error'), 'IAM_AUTHN_REVOKED');

    // A revoked subject gets no new session either.
    const again = await h.login(h.browser(), '/app/page', 'bob');
    assert.equal(again.status, 401);
    assert.match(again.body, /x-portcullis-error: IAM_AUTHN_REVOKED/);

    // Lifting the revocation does not bring the ended session back.
    assert.equal((await admin('/revocations?kind=subject&value=bob', { method: 'DELETE' })).status,
      200);
    assert.equal((await browser.request(`${h.origin}/app/page`)).status, 302);
  });

  test('login/session-lifecycle revoking one session (by its id in /sessions) leaves others', async () => {
    const first = h.browser();
    const second = h.browser();
    await h.login(first, '/app/page', 'alice');
    await h.login(second, '/app/page', 'alice');
    await h.proxy.audit.log.flush();
    const listed = await (await admin('/sessions?subject=alice')).json() as {
      sessions: Array<{ kind: string; tokenId: string | null; sessionId: string | null }> };
    const sessions = listed.sessions.filter((s) => s.kind === 'session');
    assert.ok(sessions.length >= 2, 'each browser session is its own row');
    for (const s of sessions) {
      assert.notEqual(s.tokenId, first.cookie(host, kSession)!.value, 'the table never shows the cookie');
      assert.notEqual(s.sessionId, first.cookie(host, kSession)!.value);
    }
    const newest = sessions[0]!;
    const made = await admin('/revocations', { method: 'POST',
      body: JSON.stringify({ kind: 'token', value: newest.tokenId }) });
    assert.equal(made.status, 201);
    const statuses = [(await first.request(`${h.origin}/app/page`)).status,
      (await second.request(`${h.origin}/app/page`)).status].sort();
    assert.deepEqual(statuses, [200, 401], 'exactly the revoked session is refused');

    // The other one, by its session id (the IdP's sid, or the handle when it sent none).
    const other = sessions[1]!;
    assert.equal((await admin('/revocations', { method: 'POST',
      body: JSON.stringify({ kind: 'session', value: other.sessionId }) })).status, 201);
    // The one refused before has no session any more (sent to log in); this one is refused now.
    const after = [(await first.request(`${h.origin}/app/page`)).status,
      (await second.request(`${h.origin}/app/page`)).status].sort();
    assert.deepEqual(after, [302, 401], 'the session revoked by its id is refused too');
  });
});
