/**
 * The test provider's browser-login support (test/support/oidc-provider-login.ts), exercised
 * without the proxy: an authorization-code login with PKCE completed headlessly, the code
 * exchanged with client_secret_basic, the ID token carrying the account's claims and the nonce.
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { type TestIdp, startTestIdp } from '../support/oidc-provider.js';
import { TestBrowser } from '../support/test-browser.js';

const kRedirect = 'https://rp.example/cb';
let idp: TestIdp;

before(async () => {
  idp = await startTestIdp();
  await idp.setLoginClient({ redirectUris: [kRedirect] });
});
after(async () => {
  await idp.stop();
});

/** Runs the authorization request as `account`; resolves the redirect back to the client. */
async function authorize(opts: { account?: string; deny?: boolean; challenge?: string }):
  Promise<URL> {
  const verifier = randomBytes(32).toString('base64url');
  const url = new URL(`${idp.issuer}/auth`);
  url.search = new URLSearchParams({ response_type: 'code', client_id: idp.loginClientId,
    redirect_uri: kRedirect, scope: 'openid email groups', state: 's1', nonce: 'n1',
    code_challenge: opts.challenge ?? createHash('sha256').update(verifier).digest('base64url'),
    code_challenge_method: 'S256' }).toString();
  const browser = new TestBrowser();
  const { url: back } = await browser.navigate(url.href, {
    stop: (u) => u.hostname === 'rp.example',
    rewrite: (u) => {
      if (!u.pathname.startsWith('/interaction/')) return u.href;
      if (opts.deny === true) u.searchParams.set('deny', '1');
      else u.searchParams.set('account', opts.account ?? 'alice');
      return u.href;
    },
  });
  await browser.close();
  const result = new URL(back);
  result.searchParams.set('verifier', verifier);
  return result;
}

async function exchange(code: string, verifier: string, secret = idp.loginClientSecret):
  Promise<{ status: number; body: Record<string, unknown> }> {
  const basic = Buffer.from(`${idp.loginClientId}:${secret}`).toString('base64');
  const res = await fetch(`${idp.issuer}/token`, { method: 'POST',
    headers: { authorization: `Basic ${basic}` },
    body: new URLSearchParams({ grant_type: 'authorization_code', code, redirect_uri: kRedirect,
      code_verifier: verifier }) });
  return { status: res.status, body: await res.json() as Record<string, unknown> };
}

describe('support/oidc-provider login', () => {
  test('support/oidc-provider login: code, then an ID token with the account\'s claims', async () => {
    const back = await authorize({ account: 'ines' });
    assert.equal(back.searchParams.get('state'), 's1');
    assert.equal(back.searchParams.get('iss'), idp.issuer);
    const { status, body } = await exchange(back.searchParams.get('code')!,
      back.searchParams.get('verifier')!);
    assert.equal(status, 200);
    const { payload } = await jwtVerify(String(body.id_token),
      createRemoteJWKSet(new URL(idp.jwksUri)), { issuer: idp.issuer, audience: idp.loginClientId });
    assert.equal(payload.sub, 'ines');
    assert.equal(payload.nonce, 'n1');
    assert.equal(payload['email'], 'ines@b\u00fccher.example');
    assert.equal(payload['email_verified'], true);
    assert.equal(idp.tokenExchanges.at(-1)?.status, 200);
  });

  test('support/oidc-provider login: a wrong verifier or secret is refused at the token endpoint', async () => {
    const back = await authorize({});
    const wrongVerifier = await exchange(back.searchParams.get('code')!, 'x'.repeat(43));
    assert.equal(wrongVerifier.body.error, 'invalid_grant');
    const again = await authorize({});
    const wrongSecret = await exchange(again.searchParams.get('code')!,
      again.searchParams.get('verifier')!, 'wrong');
    assert.equal(wrongSecret.body.error, 'invalid_client');
  });

  test('support/oidc-provider login: ?deny=1 ends the interaction with access_denied', async () => {
    const back = await authorize({ deny: true });
    assert.equal(back.searchParams.get('error'), 'access_denied');
    assert.equal(back.searchParams.has('code'), false);
  });
});
