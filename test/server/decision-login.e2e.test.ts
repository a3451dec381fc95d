/**
 * The decision listener and browser-login sessions: a session cookie in a check is no
 * credential (src/server/README.md, "The decision listener"). A browser logs in for real through
 * the proxy listener (real OpenID provider), so its cookie is a live session there; the same
 * cookie in an nginx-flavored check is decided as if no cookie had been sent: 401
 * IAM_AUTHN_REQUIRED on an authenticated login-mode service (never a redirect to log in, no
 * identity headers), an anonymous allow on a public one. Why: the ingress, not Portcullis,
 * forwards the request, so nothing would remove the session cookie before the application saw
 * it, and nginx turns a redirect answer into a 500.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type LoginHarness, startLoginHarness } from '../support/login-harness.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { kNavigationHeaders } from '../support/test-browser.js';

const kSessionCookie = '__Host-portcullis-session';
let h: LoginHarness;
let sessionId: string;

/** An nginx `auth_request` check for `GET uri` from the trusted ingress, with extra lines. */
function check(uri: string, extra: readonly string[]): Promise<RawResponse> {
  const head = ['GET /_portcullis HTTP/1.1', 'Host: 127.0.0.1', 'X-Original-Method: GET',
    `X-Original-URI: ${uri}`, 'X-Forwarded-Host: 127.0.0.1', 'X-Forwarded-Proto: https',
    'X-Forwarded-For: 127.0.0.1', ...extra].join('\r\n');
  return rawRequest(h.proxy.decision?.port ?? 0, `${head}\r\n\r\n`);
}

const kNavigationLines = Object.entries(kNavigationHeaders).map(([k, v]) => `${k}: ${v}`);

before(async () => {
  h = await startLoginHarness({ decisionIngress: ['127.0.0.1/32'] });
  const browser = h.browser();
  const out = await h.login(browser, '/app/start');
  assert.equal(out.status, 200, out.body);
  const cookie = browser.cookie('127.0.0.1', kSessionCookie);
  assert.ok(cookie !== undefined, 'the login set a session cookie');
  sessionId = cookie.value;
});
after(async () => {
  await h?.stop();
});

describe('decision listener and browser sessions', () => {
  test('the cookie is a live session on the proxy listener (so the refusals below mean something)', async () => {
    const browser = h.browser();
    browser.plant('127.0.0.1', kSessionCookie, sessionId);
    const res = await browser.request(`${h.origin}/app/page`);
    assert.equal(res.status, 200);
    assert.deepEqual(h.upstream.lastHeader('x-portcullis-subject'), ['alice']);
  });

  test('a check with only that session cookie is anonymous: 401, no redirect, no identity', async () => {
    const res = await check('/app/page', [`Cookie: ${kSessionCookie}=${sessionId}`,
      ...kNavigationLines]);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_REQUIRED');
    assert.deepEqual(res.headers.get('www-authenticate'), ['Bearer']);
    assert.equal(res.headers.get('location'), undefined, 'never sent to log in');
    assert.equal(res.headers.get('x-portcullis-subject'), undefined);
    assert.equal(res.headers.get('set-cookie'), undefined, 'the check touches no cookie');
  });

  test('on a public route the session adds nothing: an anonymous allow without identity', async () => {
    const res = await check('/welcome', [`Cookie: ${kSessionCookie}=${sessionId}`]);
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.get('x-portcullis-path'), ['/welcome']);
    assert.equal(res.headers.get('x-portcullis-subject'), undefined);
    assert.equal(res.headers.get('x-portcullis-credential'), undefined);
  });

  test('the session stays live after the checks: deciding without it ends nothing', async () => {
    const browser = h.browser();
    browser.plant('127.0.0.1', kSessionCookie, sessionId);
    const res = await browser.request(`${h.origin}/app/again`);
    assert.equal(res.status, 200);
  });
});
