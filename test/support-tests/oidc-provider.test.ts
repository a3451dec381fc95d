/**
 * The test OpenID provider in test/support/oidc-provider.ts: discovery, client_credentials JWT
 * access tokens verified against its own JWKS, client authentication, and key rotation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { type TestIdp, startTestIdp } from '../support/oidc-provider.js';

interface Discovery {
  issuer?: string;
  jwks_uri?: string;
  token_endpoint?: string;
}

async function getJson<T>(url: string): Promise<T> {
  const res = await fetch(url);
  assert.equal(res.status, 200, `GET ${url}`);
  return (await res.json()) as T;
}

async function jwksKids(idp: TestIdp): Promise<string[]> {
  const jwks = await getJson<{ keys: Array<{ kid?: string; d?: string }> }>(idp.jwksUri);
  for (const key of jwks.keys) assert.equal(key.d, undefined, 'the JWKS never holds private parts');
  return jwks.keys.map((key) => key.kid ?? '');
}

async function verify(idp: TestIdp, token: string): Promise<Record<string, unknown>> {
  // A fresh key set per call, so a rotation is never hidden behind jose's JWKS cache.
  const keys = createRemoteJWKSet(new URL(idp.jwksUri));
  const { payload } = await jwtVerify(token, keys, { issuer: idp.issuer, audience: idp.audience });
  return payload;
}

describe('support/oidc-provider', () => {
  let idp: TestIdp;

  before(async () => {
    idp = await startTestIdp();
  });
  after(async () => {
    await idp.stop();
  });

  test('support/oidc-provider discovery: names the issuer and the jwks_uri', async () => {
    const doc = await getJson<Discovery>(`${idp.issuer}/.well-known/openid-configuration`);
    assert.match(idp.issuer, /^http:\/\/127\.0\.0\.1:\d+$/);
    assert.equal(doc.issuer, idp.issuer);
    assert.equal(doc.jwks_uri, idp.jwksUri);
  });

  test('support/oidc-provider token: a verified JWT with kid, iss, aud, exp, subject', async () => {
    const token = await idp.clientCredentialsToken();
    assert.equal(token.split('.').length, 3);
    const kid = decodeProtectedHeader(token).kid;
    assert.ok(kid !== undefined && (await jwksKids(idp)).includes(kid));

    const payload = await verify(idp, token);
    assert.equal(payload['iss'], idp.issuer);
    assert.equal(payload['aud'], idp.audience);
    assert.equal(typeof payload['exp'], 'number');
    assert.equal(payload['client_id'] ?? payload['sub'], 'svc-a');
  });

  test('support/oidc-provider token clientId=svc-b scope=read: both carried', async () => {
    const payload = await verify(idp, await idp.clientCredentialsToken({
      clientId: 'svc-b',
      scope: 'read',
    }));
    assert.equal(payload['client_id'] ?? payload['sub'], 'svc-b');
    assert.equal(payload['scope'], 'read');
  });

  test('support/oidc-provider wrong secret: the token endpoint refuses, no token', async () => {
    const doc = await getJson<Discovery>(`${idp.issuer}/.well-known/openid-configuration`);
    assert.ok(doc.token_endpoint !== undefined);
    const res = await fetch(doc.token_endpoint, {
      method: 'POST',
      headers: { authorization: `Basic ${Buffer.from('svc-a:not-the-secret').toString('base64')}` },
      body: new URLSearchParams({ grant_type: 'client_credentials', resource: idp.audience }),
    });
    const body = (await res.json()) as { access_token?: string; error?: string };
    assert.ok(res.status === 400 || res.status === 401, `status ${res.status}`);
    assert.equal(body.access_token, undefined);
    assert.equal(body.error, 'invalid_client');
  });

  test('support/oidc-provider rotateKeys: new kid, the JWKS holds only the new key', async () => {
    const oldToken = await idp.clientCredentialsToken();
    const before = decodeProtectedHeader(oldToken).kid;
    const issuer = idp.issuer;
    await idp.rotateKeys();

    const token = await idp.clientCredentialsToken();
    const kid = decodeProtectedHeader(token).kid;
    assert.equal(idp.issuer, issuer, 'the issuer and port survive rotation');
    assert.notEqual(kid, before);
    assert.deepEqual(await jwksKids(idp), [kid]);
    assert.equal((await verify(idp, token))['iss'], issuer);
    await assert.rejects(verify(idp, oldToken), { code: 'ERR_JWKS_NO_MATCHING_KEY' });
  });
});

describe('support/oidc-provider algorithms', () => {
  // Each non-default algorithm yields a token whose header names it and which verifies against
  // the JWKS, with exp - iat equal to the requested lifetime.
  for (const alg of ['ES256', 'EdDSA'] as const) {
    test(`support/oidc-provider token alg=${alg}: signed with it, verifiable`, async () => {
      const idp = await startTestIdp({ alg, accessTokenTtlSec: 60 });
      try {
        const token = await idp.clientCredentialsToken();
        assert.equal(decodeProtectedHeader(token).alg, alg);
        const payload = await verify(idp, token);
        assert.equal(Number(payload['exp']) - Number(payload['iat']), 60);
      } finally {
        await idp.stop();
      }
    });
  }
});
