/**
 * What binds a login to the browser that started it (threats.md, "Session fixation / cookie
 * handling"): a new session id after every login, state and nonce checked against the sealed
 * pre-login cookie, the PKCE verifier checked by the IdP, and a code that is useless without
 * that cookie. Each case drives the real IdP up to its redirect to the callback, then changes
 * one thing.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { CookieSealer } from '../../src/login/index.js';
import { codeChallenge, openLoginState, sealLoginState } from '../../src/login/login-state.js';
import { kTestCookieKey, type LoginHarness, startLoginHarness } from '../support/login-harness.js';
import type { TestBrowser } from '../support/test-browser.js';

const kLoginCookie = '__Host-portcullis-login';
const kSessionCookie = '__Host-portcullis-session';
const sealer = new CookieSealer(kTestCookieKey);
let h: LoginHarness;
let host: string;

before(async () => {
  h = await startLoginHarness();
  host = new URL(h.origin).hostname;
});
after(async () => {
  await h.stop();
});

/** Drives a login as `account` up to the IdP's redirect to the callback; returns that URL. */
async function untilCallback(browser: TestBrowser, account = 'alice'): Promise<URL> {
  const { url } = await browser.navigate(`${h.origin}/app/page`, {
    stop: (u) => u.pathname === '/.portcullis/callback',
    rewrite: (u) => {
      if (u.pathname.startsWith('/interaction/')) u.searchParams.set('account', account);
      return u.href;
    },
  });
  const callback = new URL(url);
  assert.equal(callback.pathname, '/.portcullis/callback');
  return callback;
}

/** The browser's pre-login cookie, opened with the proxy's configured key. */
function loginState(browser: TestBrowser) {
  const value = browser.cookie(host, kLoginCookie)?.value;
  assert.ok(value !== undefined, 'a pre-login cookie was set');
  const state = openLoginState(sealer, value, Math.floor(Date.now() / 1000));
  assert.ok(state !== undefined);
  return state;
}

/** Replaces the pre-login cookie with `changes` applied (sealed with the same key). */
function reseal(browser: TestBrowser, changes: Partial<ReturnType<typeof loginState>>,
  expiresAtSec = Math.floor(Date.now() / 1000) + 300): void {
  const state = { ...loginState(browser), ...changes };
  browser.plant(host, kLoginCookie, sealLoginState(sealer, state, expiresAtSec));
}

async function code(browser: TestBrowser, url: URL | string): Promise<string | undefined> {
  return (await browser.request(url.toString())).header('x-portcullis-error');
}

describe('login/binding e2e', () => {
  test('login/binding fixation: a session id planted before login is never the one after', async () => {
    const browser = h.browser();
    const planted = 'A'.repeat(43);
    browser.plant(host, kSessionCookie, planted);
    const out = await h.login(browser, '/app/page');
    assert.equal(out.status, 200);
    const after = browser.cookie(host, kSessionCookie)!.value;
    assert.notEqual(after, planted);

    const victim = h.browser();
    victim.plant(host, kSessionCookie, planted);
    assert.equal((await victim.request(`${h.origin}/app/page`)).status, 302,
      'the planted value names no session: the browser is sent to log in');
  });

  test('login/binding fixation: a real session planted in another browser ends at its login', async () => {
    const attacker = h.browser();
    await h.login(attacker, '/app/page', 'mallory');
    const stolen = attacker.cookie(host, kSessionCookie)!.value;
    const victim = h.browser();
    victim.plant(host, kSessionCookie, stolen);
    await h.login(victim, '/.portcullis/login?rd=/app/page', 'alice');
    const fresh = victim.cookie(host, kSessionCookie)!.value;
    assert.notEqual(fresh, stolen, 'the victim logs in under a new id');
    assert.equal((await attacker.request(`${h.origin}/app/page`)).status, 302,
      'the planted session ended when the victim logged in over it');
    assert.equal((await victim.request(`${h.origin}/app/page`)).status, 200);
    assert.deepEqual(h.upstream.lastHeader('x-portcullis-subject'), ['alice']);
  });

  test('login/binding a new login in the same browser replaces the session id', async () => {
    const browser = h.browser();
    await h.login(browser, '/app/page');
    const first = browser.cookie(host, kSessionCookie)!.value;
    await h.login(browser, '/.portcullis/login?rd=/app/page');
    const second = browser.cookie(host, kSessionCookie)!.value;
    assert.notEqual(second, first);
    const old = h.browser();
    old.plant(host, kSessionCookie, first);
    assert.equal((await old.request(`${h.origin}/app/page`)).status, 302, 'the old id is over');
  });

  test('login/binding state: a callback whose state differs is refused', async () => {
    const browser = h.browser();
    const callback = await untilCallback(browser);
    callback.searchParams.set('state', 'B'.repeat(43));
    assert.equal(await code(browser, callback), 'IAM_LOGIN_STATE_MISMATCH');
    assert.equal(browser.cookie(host, kSessionCookie), undefined);
    assert.equal(browser.cookie(host, kLoginCookie), undefined, 'the login cookie is spent');
  });

  test('login/binding stolen code: the callback URL without the pre-login cookie is refused', async () => {
    const victim = h.browser();
    const callback = await untilCallback(victim);
    const thief = h.browser();
    assert.equal(await code(thief, callback), 'IAM_LOGIN_STATE_MISSING');
    assert.equal(thief.cookie(host, kSessionCookie), undefined);
  });

  test('login/binding login CSRF: another browser\'s callback meets this browser\'s own state', async () => {
    const attacker = h.browser();
    const attackerCallback = await untilCallback(attacker, 'mallory');
    const victim = h.browser();
    await victim.request(`${h.origin}/app/page`);
    assert.equal(await code(victim, attackerCallback), 'IAM_LOGIN_STATE_MISMATCH');
    assert.equal(victim.cookie(host, kSessionCookie), undefined);
  });

  test('login/binding nonce: an ID token whose nonce is not this login\'s is refused', async () => {
    const browser = h.browser();
    const callback = await untilCallback(browser);
    reseal(browser, { nonce: 'C'.repeat(43) });
    assert.equal(await code(browser, callback), 'IAM_LOGIN_NONCE_MISMATCH');
    assert.equal(browser.cookie(host, kSessionCookie), undefined);
  });

  test('login/binding PKCE: the challenge is S256 of the sealed verifier, and the IdP checks it', async () => {
    const browser = h.browser();
    const res = await browser.request(`${h.origin}/app/page`);
    const sent = new URL(res.header('location')!).searchParams.get('code_challenge');
    assert.equal(sent, codeChallenge(loginState(browser).verifier));

    const callback = await untilCallback(browser);
    reseal(browser, { verifier: 'D'.repeat(43) });
    assert.equal(await code(browser, callback), 'IAM_LOGIN_CODE_REFUSED');
    assert.equal(browser.cookie(host, kSessionCookie), undefined);
  });

  test('login/binding an expired or altered pre-login cookie counts as none', async () => {
    const expired = h.browser();
    const first = await untilCallback(expired);
    reseal(expired, {}, Math.floor(Date.now() / 1000) - 1);
    assert.equal(await code(expired, first), 'IAM_LOGIN_STATE_MISSING');

    const altered = h.browser();
    const second = await untilCallback(altered);
    const value = altered.cookie(host, kLoginCookie)!.value;
    const flipped = `${value.slice(0, 20)}${value[20] === 'A' ? 'B' : 'A'}${value.slice(21)}`;
    altered.plant(host, kLoginCookie, flipped);
    assert.equal(await code(altered, second), 'IAM_LOGIN_STATE_MISSING');
  });

  test('login/binding a code is good once: replaying the callback fails at the IdP', async () => {
    const browser = h.browser();
    const callback = await untilCallback(browser);
    const spent = browser.cookie(host, kLoginCookie)!.value;
    assert.equal((await browser.request(callback.href)).status, 302);
    browser.plant(host, kLoginCookie, spent);
    assert.equal(await code(browser, callback), 'IAM_LOGIN_CODE_REFUSED');
  });

  test('login/binding repeated parameters and a foreign iss are refused before any exchange', async () => {
    const browser = h.browser();
    const callback = await untilCallback(browser);
    const state = callback.searchParams.get('state')!;
    const exchanges = h.idp.tokenExchanges.length;
    const twice = new URL(callback);
    twice.searchParams.append('state', state);
    const spent = browser.cookie(host, kLoginCookie)!.value;
    assert.equal(await code(browser, twice), 'IAM_LOGIN_CALLBACK_INVALID');
    browser.plant(host, kLoginCookie, spent);
    const foreign = new URL(callback);
    foreign.searchParams.set('iss', 'https://evil.example');
    assert.equal(await code(browser, foreign), 'IAM_LOGIN_CALLBACK_INVALID');
    browser.plant(host, kLoginCookie, spent);
    const noIss = new URL(callback);
    noIss.searchParams.delete('iss');
    assert.equal(await code(browser, noIss), 'IAM_LOGIN_CALLBACK_INVALID',
      'the IdP says it always sends iss (RFC 9207), so a response without it is not its');
    assert.equal(h.idp.tokenExchanges.length, exchanges, 'no token request was made');
  });
});
