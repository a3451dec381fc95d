/**
 * Browser login behind a TLS-terminating front proxy (`login.transport: trusted-proxy`): the
 * proxy listener speaks plain HTTP, so only requests from the configured front proxy count as
 * having reached it over HTTPS. Requests from any other peer get no login redirect, no session
 * and no login endpoint (fail closed), because their session cookie could have crossed the
 * network in the clear.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type LoginHarness, startLoginHarness } from '../support/login-harness.js';

let trusted: LoginHarness;
let untrusted: LoginHarness;

before(async () => {
  trusted = await startLoginHarness({ frontProxies: ['127.0.0.1'] });
  untrusted = await startLoginHarness({ frontProxies: ['10.0.0.1'] });
});
after(async () => {
  await trusted.stop();
  await untrusted.stop();
});

describe('login/transport e2e', () => {
  test('login/transport from the front proxy: the redirect names the https callback, cookies are Secure', async () => {
    const res = await trusted.browser().request(`${trusted.origin}/app/page`);
    assert.equal(res.status, 302);
    const to = new URL(res.header('location')!);
    assert.equal(to.searchParams.get('redirect_uri'),
      `${trusted.origin.replace('http:', 'https:')}/.portcullis/callback`);
    assert.match(res.header('set-cookie')!, /; Secure;/);
  });

  test('login/transport from any other peer: 401, no redirect, and the endpoints refuse', async () => {
    const browser = untrusted.browser();
    const page = await browser.request(`${untrusted.origin}/app/page`);
    assert.equal(page.status, 401);
    assert.equal(page.header('location'), undefined);
    for (const path of ['/.portcullis/login', '/.portcullis/callback?code=a&state=b',
      '/.portcullis/logout']) {
      const res = await browser.request(`${untrusted.origin}${path}`);
      assert.equal(res.header('x-portcullis-error'), 'IAM_LOGIN_INSECURE_TRANSPORT', path);
    }
  });
});
