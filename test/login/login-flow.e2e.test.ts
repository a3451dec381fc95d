/**
 * Browser login end to end against the real OpenID provider: which requests are sent to log in
 * (and which keep their 401), the authorization request, the callback, the cookies and their
 * attributes, the session as a credential, and the reserved endpoints never reaching a service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type LoginHarness, startLoginHarness } from '../support/login-harness.js';
import { kNavigationHeaders } from '../support/test-browser.js';

let h: LoginHarness;
let host: string;

before(async () => {
  h = await startLoginHarness({ loginYaml: "  allowedRedirectOrigins: ['https://docs.example.com']" });
  host = new URL(h.origin).hostname;
});
after(async () => {
  await h.stop();
});

describe('login/flow e2e', () => {
  test('login/flow round trip: protected page -> IdP -> callback -> the page, as alice', async () => {
    const browser = h.browser();
    browser.plant(host, 'theme', 'dark');
    const out = await h.login(browser, '/app/page?x=1');
    assert.equal(out.status, 200, out.body);
    assert.equal(out.url, `${h.origin}/app/page?x=1`);
    assert.equal(h.upstream.requests.at(-1)!.url, '/app/page?x=1');
    assert.deepEqual(h.upstream.lastHeader('x-portcullis-credential'), ['session']);
    assert.deepEqual(h.upstream.lastHeader('x-portcullis-subject'), ['alice']);
    assert.deepEqual(h.upstream.lastHeader('x-portcullis-client-id'), [h.idp.loginClientId]);
    assert.deepEqual(h.upstream.lastHeader('x-portcullis-groups'), ['staff']);
    // The application's own cookie goes through; the proxy's never do. (The IdP's cookies come
    // along too: browsers share cookies across the ports of one host, and so does the jar.)
    const cookies = h.upstream.lastHeader('cookie').join('; ').split('; ');
    assert.ok(cookies.includes('theme=dark'));
    assert.ok(!cookies.some((c) => c.startsWith('__Host-portcullis')), cookies.join('; '));
    // The IdP was visited exactly once for the authorization request.
    assert.equal(browser.visited.filter((u) => u.startsWith(`${h.idp.issuer}/auth?`)).length, 1);
  });

  test('login/flow the authorization request: code flow, S256 PKCE, state, nonce, no token', async () => {
    const browser = h.browser();
    const res = await browser.request(`${h.origin}/app/a`);
    assert.equal(res.status, 302);
    const location = new URL(res.header('location')!);
    assert.equal(`${location.origin}${location.pathname}`, `${h.idp.issuer}/auth`);
    const q = location.searchParams;
    assert.equal(q.get('response_type'), 'code');
    assert.equal(q.get('client_id'), h.idp.loginClientId);
    assert.equal(q.get('redirect_uri'), `${h.origin}/.portcullis/callback`);
    assert.equal(q.get('scope'), 'openid email profile groups');
    assert.equal(q.get('code_challenge_method'), 'S256');
    for (const name of ['state', 'nonce', 'code_challenge']) {
      assert.match(q.get(name) ?? '', /^[A-Za-z0-9_-]{43}$/, `${name}: 256 random bits`);
    }
    assert.equal(q.has('code_verifier'), false, 'the verifier never leaves the proxy');
    assert.equal(res.header('cache-control'), 'no-store');
    assert.equal(res.header('x-portcullis-error'), undefined);
  });

  test('login/flow cookies: __Host- names, Secure, HttpOnly, SameSite=Lax, Path=/, no Domain', async () => {
    const browser = h.browser();
    await browser.request(`${h.origin}/app/a`);
    const pre = browser.cookie(host, '__Host-portcullis-login');
    assert.ok(pre !== undefined, 'the pre-login cookie is set with the redirect');
    await h.login(browser, '/app/a');
    const session = browser.cookie(host, '__Host-portcullis-session');
    assert.ok(session !== undefined, 'the session cookie is set by the callback');
    for (const [what, setCookie] of [['pre-login', pre.setCookie], ['session', session.setCookie]]) {
      const attributes = setCookie!.split(';').slice(1).map((a) => a.trim().toLowerCase());
      assert.ok(attributes.includes('secure'), `${what}: Secure`);
      assert.ok(attributes.includes('httponly'), `${what}: HttpOnly`);
      assert.ok(attributes.includes('samesite=lax'), `${what}: SameSite=Lax`);
      assert.ok(attributes.includes('path=/'), `${what}: Path=/`);
      assert.ok(!attributes.some((a) => a.startsWith('domain')), `${what}: host-only`);
    }
    assert.match(pre.setCookie, /Max-Age=600(;|$)/);
    assert.match(session.setCookie, /Max-Age=43200(;|$)/);
    assert.match(session.value, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(browser.cookie(host, '__Host-portcullis-login'), undefined,
      'the callback deletes the one-time pre-login cookie');
  });

  test('login/flow the session is the credential: no IdP visit, API calls from the page work', async () => {
    const browser = h.browser();
    await h.login(browser, '/app/first');
    const visits = browser.visited.length;
    const page = await browser.request(`${h.origin}/app/second`);
    assert.equal(page.status, 200);
    const xhr = await browser.request(`${h.origin}/app/data`, { headers: { accept: 'application/json' } });
    assert.equal(xhr.status, 200);
    assert.equal(browser.visited.length, visits + 2);
  });

  const kKeeps401: ReadonlyArray<{ why: string; path: string; method?: 'GET' | 'POST';
    headers: Record<string, string> }> = [
    { why: 'an API call (Accept: application/json) is told to authenticate, not redirected',
      path: '/app/x', headers: { accept: 'application/json' } },
    { why: 'a fetch() from a page (Sec-Fetch-Mode: cors) keeps its 401 even accepting HTML',
      path: '/app/x', headers: { ...kNavigationHeaders, 'sec-fetch-mode': 'cors' } },
    { why: 'an iframe or image (Sec-Fetch-Dest other than document) is no top-level navigation',
      path: '/app/x', headers: { ...kNavigationHeaders, 'sec-fetch-dest': 'iframe' } },
    { why: 'an XHR library marks itself with X-Requested-With', path: '/app/x',
      headers: { ...kNavigationHeaders, 'x-requested-with': 'XMLHttpRequest' } },
    { why: 'a POST is never turned into a GET to the IdP', path: '/app/x', method: 'POST',
      headers: kNavigationHeaders },
    { why: 'a service without login: true keeps bearer-only behaviour', path: '/api/x',
      headers: kNavigationHeaders },
  ];
  for (const c of kKeeps401) {
    test(`login/flow keeps 401: ${c.why}`, async () => {
      const res = await h.browser().request(`${h.origin}${c.path}`,
        { method: c.method ?? 'GET', headers: c.headers });
      assert.equal(res.status, 401);
      assert.equal(res.header('x-portcullis-error'), 'IAM_AUTHN_REQUIRED');
      assert.equal(res.header('www-authenticate'), 'Bearer');
      assert.equal(res.header('location'), undefined);
    });
  }

  test('login/flow a bad bearer token is refused, never redirected', async () => {
    const res = await h.browser().request(`${h.origin}/app/x`,
      { headers: { ...kNavigationHeaders, authorization: 'Bearer not.a.token' } });
    assert.equal(res.status, 401);
    assert.equal(res.header('location'), undefined);
  });

  test('login/flow loginPath?rd= starts a login that returns to rd', async () => {
    const browser = h.browser();
    const out = await h.login(browser, `/.portcullis/login?rd=${encodeURIComponent('/app/dash?tab=2')}`);
    assert.equal(out.status, 200);
    assert.equal(out.url, `${h.origin}/app/dash?tab=2`);
  });

  // The raw query as a link would carry it: decoded once by the proxy, then checked.
  const kRefusedRd: ReadonlyArray<readonly [string, string]> = [
    ['//evil.example/', 'protocol-relative: another host'],
    ['/%5Cevil.example', 'decodes to /\\evil.example, which browsers read as //evil.example'],
    ['%5C/evil.example', 'decodes to \\/evil.example, a slash to browsers'],
    ['/%09/evil.example', 'decodes to a tab that URL parsers drop, leaving //evil.example'],
    ['/%0a/evil.example', 'decodes to a line feed, dropped the same way'],
    ['https://evil.example/', 'an origin not on the allow-list'],
    ['https://127.0.0.1%40evil.example/', 'user info: the real host would be evil.example'],
    ['https://docs.example.com.evil.example/', 'an allowed name as the prefix of another host'],
    ['https://xn--dcs-xna.example.com/', 'a punycode look-alike of the allowed host'],
    ['javascript:alert(document.cookie)', 'not an http(s) URL'],
  ];
  for (const [rd, why] of kRefusedRd) {
    test(`login/flow loginPath refuses rd=${rd}: ${why}`, async () => {
      const res = await h.browser().request(`${h.origin}/.portcullis/login?rd=${rd}`);
      assert.equal(res.status, 400);
      assert.equal(res.header('x-portcullis-error'), 'IAM_LOGIN_REDIRECT_REFUSED');
      assert.equal(res.header('location'), undefined);
    });
  }

  test('login/flow an rd on the allow-list is where the browser lands after login', async () => {
    const browser = h.browser();
    const { url } = await browser.navigate(
      `${h.origin}/.portcullis/login?rd=${encodeURIComponent('https://docs.example.com/guide?a=1')}`,
      { stop: (u) => u.hostname === 'docs.example.com' });
    assert.equal(url, 'https://docs.example.com/guide?a=1');
    assert.ok(browser.cookie(host, '__Host-portcullis-session') !== undefined);
  });

  test('login/flow the IdP refusing the login ends at the callback with IAM_LOGIN_IDP_REFUSED', async () => {
    const browser = h.browser();
    const { res } = await browser.navigate(`${h.origin}/app/x`, { rewrite: (u) => {
      if (u.pathname.startsWith('/interaction/')) u.searchParams.set('deny', '1');
      return u.href;
    } });
    assert.equal(res?.status, 401);
    assert.equal(res?.header('x-portcullis-error'), 'IAM_LOGIN_IDP_REFUSED');
    assert.equal(browser.cookie(host, '__Host-portcullis-session'), undefined);
  });

  test('login/flow the reserved endpoints are never routed, even under a service at "/"', async () => {
    const before = h.upstream.requests.length;
    const browser = h.browser();
    const callback = await browser.request(`${h.origin}/.portcullis/callback?code=x&state=y`);
    assert.equal(callback.header('x-portcullis-error'), 'IAM_LOGIN_STATE_MISSING');
    const logout = await browser.request(`${h.origin}/.portcullis/logout`);
    assert.equal(logout.status, 302);
    const post = await browser.request(`${h.origin}/.portcullis/callback`, { method: 'POST',
      headers: {}, body: 'code=x' });
    assert.equal(post.header('x-portcullis-error'), 'IAM_ROUTING_METHOD_UNSUPPORTED');
    assert.equal(h.upstream.requests.length, before, 'the service at "/" saw none of them');
    const open = await browser.request(`${h.origin}/.portcullis-other`);
    assert.equal(open.status, 200, 'only the exact reserved paths are the proxy\'s');
  });
});
