/**
 * Authenticated routes end to end: a real OpenID provider (oidc-provider) issues JWT access
 * tokens through the client-credentials grant, the proxy finds its keys through discovery, and a
 * real upstream records what got through. Every refusal must leave the upstream untouched.
 */
import assert from 'node:assert/strict';
import { createHash, createHmac, createPublicKey } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CompactSign, exportJWK, generateKeyPair, SignJWT } from 'jose';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';

let idp: TestIdp;
let upstream: RecordingUpstream;
let proxy: TestProxy;

/** A second issuer whose key the test holds, to sign tokens with chosen claims. */
let local: { issuer: string; jwksFile: string; sign(claims: Record<string, unknown>): Promise<string> };
type PrivateKey = Awaited<ReturnType<typeof generateKeyPair>>['privateKey'];
let localPrivateKey: PrivateKey;
const localKey = async (): Promise<PrivateKey> => localPrivateKey;

async function startLocalIssuer(): Promise<typeof local> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  localPrivateKey = privateKey;
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-local-issuer-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const jwksFile = path.join(dir, 'jwks.json');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'local-1', alg: 'ES256', use: 'sig' };
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  const issuer = 'https://local-issuer.test';
  return {
    issuer,
    jwksFile,
    sign: (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'local-1' })
      .setIssuer(issuer).setAudience('local').setExpirationTime('10m').sign(privateKey),
  };
}

/**
 * The IdP signs RS256 (verified in the worker pool); the local issuer signs ES256, verified on
 * the main thread (`inlineAlgorithms`), so every case here runs through both verifiers.
 */
function config(audience: string): string {
  return `authn:
  pool: { inlineAlgorithms: [ES256] }
  issuers:
    - issuer: '${idp.issuer}'
      discovery: true
      audiences: ['${audience}']
      clockSkewSec: 0
      refresh: { unknownKidIntervalMs: 200 }
    - issuer: '${local.issuer}'
      jwksFile: '${local.jwksFile}'
      audiences: [local]
services:
  - name: api
    pathPrefix: /api
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: token-passing
    pathPrefix: /passes-token
    access: authenticated
    identity: { headers: false, forwardToken: true }
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`;
}

before(async () => {
  idp = await startTestIdp({ accessTokenTtlSec: 3 });
  local = await startLocalIssuer();
  upstream = await startRecordingUpstream();
  proxy = await startTestProxy(config(idp.audience));
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await idp?.stop();
});

/** The `kid` of a compact JWS, read without verifying it (for assertions only). */
function kidOf(token: string): unknown {
  const header = JSON.parse(Buffer.from(token.split('.')[0] ?? '', 'base64url').toString());
  return (header as { kid?: unknown }).kid;
}

function get(path: string, authorization?: string): Promise<RawResponse> {
  const auth = authorization === undefined ? '' : `Authorization: ${authorization}\r\n`;
  return rawRequest(proxy.port, `GET ${path} HTTP/1.1\r\nHost: api.test\r\n${auth}\r\n`);
}

/** A compact JWS over `payload` with a key the IdP never published. */
async function forged(header: Record<string, unknown>, payload: Record<string, unknown>):
  Promise<string> {
  const { privateKey } = await generateKeyPair('RS256');
  return new CompactSign(Buffer.from(JSON.stringify(payload)))
    .setProtectedHeader({ alg: 'RS256', ...header }).sign(privateKey);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The provider's published RSA key, as its JWK and as SPKI PEM (an attacker has both). */
async function providerKey(): Promise<{ jwk: Record<string, unknown>; pem: string }> {
  const { keys } = await (await fetch(idp.jwksUri)).json() as { keys: Record<string, unknown>[] };
  const jwk = keys.find((k) => k.kty === 'RSA' && k.use !== 'enc');
  assert.ok(jwk !== undefined, 'the provider publishes an RSA signing key');
  const pem = createPublicKey({ key: jwk as never, format: 'jwk' })
    .export({ type: 'spki', format: 'pem' }).toString();
  return { jwk, pem };
}

/** An HS256 token over provider-style claims whose HMAC secret is `secret`. */
function hmacToken(secret: string, header: Record<string, unknown> = {}): string {
  const input = `${b64({ alg: 'HS256', ...header })}.${b64({ iss: idp.issuer,
    aud: idp.audience, sub: 'mallory', exp: 4102444800 })}`;
  return `${input}.${createHmac('sha256', secret).update(input).digest('base64url')}`;
}

/** A local ES256 token whose 64-byte r || s signature is replaced by `rewrite(r, s)`. */
async function reSigned(rewrite: (r: Buffer, s: Buffer) => Buffer): Promise<string> {
  const token = await local.sign({ sub: 'alice' });
  const [h, p, sig] = token.split('.') as [string, string, string];
  const raw = Buffer.from(sig, 'base64url');
  return `${h}.${p}.${rewrite(raw.subarray(0, 32), raw.subarray(32)).toString('base64url')}`;
}

/** ASN.1 DER `SEQUENCE { INTEGER r, INTEGER s }`, the form JOSE does not use (RFC 7518 3.4). */
function derSignature(r: Buffer, s: Buffer): Buffer {
  const int = (v: Buffer): Buffer => {
    let i = 0;
    while (i < v.length - 1 && v[i] === 0) i++;
    const body = (v[i]! & 0x80) !== 0 ? Buffer.concat([Buffer.from([0]), v.subarray(i)])
      : v.subarray(i);
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([int(r), int(s)]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}

async function assertRefused(res: RawResponse, code: string, seenBefore: number): Promise<void> {
  assert.equal(res.status, code === 'IAM_AUTHN_KEYS_UNAVAILABLE' ? 503 : 401);
  assert.equal(res.headers.get('x-portcullis-error')?.[0], code);
  assert.equal(upstream.requests.length, seenBefore, 'nothing reached the upstream');
}

describe('server/bearer-auth e2e', () => {
  test('no Authorization header: 401 with a bare Bearer challenge', async () => {
    const seen = upstream.requests.length;
    const res = await get('/api/x');
    await assertRefused(res, 'IAM_AUTHN_REQUIRED', seen);
    assert.deepEqual(res.headers.get('www-authenticate'), ['Bearer']);
  });

  test('a Basic credential is no bearer token: 401 IAM_AUTHN_REQUIRED', async () => {
    const seen = upstream.requests.length;
    await assertRefused(await get('/api/x', 'Basic dXNlcjpwYXNz'), 'IAM_AUTHN_REQUIRED', seen);
  });

  test('a token from the provider is accepted, twice (the second from the cache)', async () => {
    const token = await idp.clientCredentialsToken();
    for (let i = 0; i < 2; i++) {
      const seen = upstream.requests.length;
      const res = await get(`/api/ok/${i}`, `Bearer ${token}`);
      assert.equal(res.status, 200);
      assert.equal(upstream.requests.length, seen + 1);
      assert.equal(upstream.requests.at(-1)?.url, `/api/ok/${i}`);
    }
  });

  const kRefusals: ReadonlyArray<readonly [string, () => Promise<string>, string]> = [
    ['a token that is not a JWS', async () => 'not-a-jwt', 'IAM_AUTHN_TOKEN_MALFORMED'],
    ['alg none with an empty signature', async () =>
      `${b64({ alg: 'none' })}.${b64({ iss: idp.issuer, aud: idp.audience })}.`,
    'IAM_AUTHN_TOKEN_MALFORMED'],
    ['alg none with a made-up signature', async () =>
      `${b64({ alg: 'none' })}.${b64({ iss: idp.issuer, aud: idp.audience })}.c2ln`,
    'IAM_AUTHN_ALG_NOT_ALLOWED'],
    ['alg NONE in upper case', async () =>
      `${b64({ alg: 'NONE' })}.${b64({ iss: idp.issuer })}.c2ln`, 'IAM_AUTHN_ALG_NOT_ALLOWED'],
    ['alg None in mixed case', async () =>
      `${b64({ alg: 'None' })}.${b64({ iss: idp.issuer })}.c2ln`, 'IAM_AUTHN_ALG_NOT_ALLOWED'],
    ['a five-segment JWE given as a bearer token', async () =>
      `${b64({ alg: 'RSA-OAEP', enc: 'A256GCM' })}.a.b.c.d`, 'IAM_AUTHN_TOKEN_MALFORMED'],
    ['a header that is not base64url JSON', async () =>
      `e30ZZ.${b64({ iss: idp.issuer })}.c2ln`, 'IAM_AUTHN_TOKEN_MALFORMED'],
    ['a token over authn.maxTokenBytes', async () =>
      `${b64({ alg: 'RS256' })}.${b64({ iss: idp.issuer, pad: 'p'.repeat(9000) })}.c2ln`,
    'IAM_AUTHN_TOKEN_TOO_LARGE'],
    ['an unknown crit header parameter', async () =>
      `${b64({ alg: 'RS256', kid: 'k', crit: ['exp-v2'], 'exp-v2': 1 })}.${b64({ iss: idp.issuer })}.c2ln`,
    'IAM_AUTHN_CRIT_UNSUPPORTED'],
    ['a token without exp from a trusted key', async () =>
      new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: 'local-1' })
        .setIssuer(local.issuer).setAudience('local').sign(await localKey()),
    'IAM_AUTHN_CLAIM_INVALID'],
    ['a token not valid before a future nbf', async () =>
      local.sign({ sub: 'alice', nbf: Math.floor(Date.now() / 1000) + 3600 }),
    'IAM_AUTHN_TOKEN_NOT_YET_VALID'],
    ['a token signed by a trusted key claiming another configured issuer', async () =>
      new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: 'local-1' })
        .setIssuer(idp.issuer).setAudience(idp.audience).setExpirationTime('5m')
        .sign(await localKey()),
    'IAM_AUTHN_KEY_UNKNOWN'],
    ['HS256 with a made-up signature', async () =>
      `${b64({ alg: 'HS256' })}.${b64({ iss: idp.issuer, aud: idp.audience })}.c2ln`,
    'IAM_AUTHN_ALG_NOT_ALLOWED'],
    ['a token from an issuer that is not configured', async () =>
      forged({ kid: 'k1' }, { iss: 'https://evil.example', exp: 4102444800 }),
    'IAM_AUTHN_ISSUER_UNKNOWN'],
    ['a token signed by a key the provider never published', async () =>
      forged({ kid: 'forged-kid' }, { iss: idp.issuer, aud: idp.audience, exp: 4102444800 }),
    'IAM_AUTHN_KEY_UNKNOWN'],
    ['a token carrying its own key in a jwk header', async () => {
      const { privateKey, publicKey } = await generateKeyPair('RS256');
      return new CompactSign(Buffer.from(JSON.stringify({ iss: idp.issuer, aud: idp.audience,
        exp: 4102444800 }))).setProtectedHeader({ alg: 'RS256', jwk: await exportJWK(publicKey) })
        .sign(privateKey);
      // The embedded key is ignored: the provider's own key is tried, and does not verify.
    }, 'IAM_AUTHN_SIGNATURE_INVALID'],
    ['HS256 keyed with the provider public key as PEM text', async () =>
      hmacToken((await providerKey()).pem), 'IAM_AUTHN_ALG_NOT_ALLOWED'],
    ['HS256 keyed with the provider public key as JWK text, naming its kid', async () => {
      const { jwk } = await providerKey();
      return hmacToken(JSON.stringify(jwk), { kid: jwk.kid });
    }, 'IAM_AUTHN_ALG_NOT_ALLOWED'],
    // jku and x5u point at the recording upstream: a fetch would show up as upstream contact.
    ['a jku header naming a key URL (never fetched), with the provider kid', async () =>
      forged({ kid: (await providerKey()).jwk.kid, jku: `http://127.0.0.1:${upstream.port}/jwks` },
        { iss: idp.issuer, aud: idp.audience, exp: 4102444800 }),
    'IAM_AUTHN_SIGNATURE_INVALID'],
    ['an x5u header naming a certificate URL (never fetched)', async () =>
      forged({ kid: (await providerKey()).jwk.kid, x5u: `http://127.0.0.1:${upstream.port}/x5u` },
        { iss: idp.issuer, aud: idp.audience, exp: 4102444800 }),
    'IAM_AUTHN_SIGNATURE_INVALID'],
    ['a signature from another key under the provider kid', async () =>
      forged({ kid: (await providerKey()).jwk.kid },
        { iss: idp.issuer, aud: idp.audience, exp: 4102444800 }),
    'IAM_AUTHN_SIGNATURE_INVALID'],
    ['a provider token with its signature truncated', async () =>
      (await idp.clientCredentialsToken()).slice(0, -12), 'IAM_AUTHN_SIGNATURE_INVALID'],
    ['a payload that is not base64url', async () =>
      `${b64({ alg: 'RS256' })}.${b64({ iss: idp.issuer }).slice(0, 8)}*!.c2ln`,
    'IAM_AUTHN_TOKEN_MALFORMED'],
    ['a payload that is base64url but not JSON', async () =>
      `${b64({ alg: 'RS256' })}.${Buffer.from('{"iss": nope').toString('base64url')}.c2ln`,
    'IAM_AUTHN_TOKEN_MALFORMED'],
    ['an expired token from a trusted key', async () =>
      new SignJWT({ sub: 'alice' }).setProtectedHeader({ alg: 'ES256', kid: 'local-1' })
        .setIssuer(local.issuer).setAudience('local')
        .setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(await localKey()),
    'IAM_AUTHN_TOKEN_EXPIRED'],
    ['an ES256 signature in DER form', async () => reSigned(derSignature),
      'IAM_AUTHN_SIGNATURE_INVALID'],
    ['an ES256 signature with r = 0', async () =>
      reSigned((_r, s) => Buffer.concat([Buffer.alloc(32), s])), 'IAM_AUTHN_SIGNATURE_INVALID'],
    ['an ES256 signature with s = 0', async () =>
      reSigned((r) => Buffer.concat([r, Buffer.alloc(32)])), 'IAM_AUTHN_SIGNATURE_INVALID'],
    ['an ES256 signature with r = s = 0', async () =>
      reSigned(() => Buffer.alloc(64)), 'IAM_AUTHN_SIGNATURE_INVALID'],
    ['a provider token with one signature byte changed', async () => {
      const token = await idp.clientCredentialsToken();
      const flipped = token.at(-2) === 'A' ? 'B' : 'A';
      return `${token.slice(0, -2)}${flipped}${token.at(-1)}`;
    }, 'IAM_AUTHN_SIGNATURE_INVALID'],
  ];
  for (const [why, make, code] of kRefusals) {
    test(`${why}: 401 ${code}`, async () => {
      const seen = upstream.requests.length;
      const res = await get('/api/refused', `Bearer ${await make()}`);
      await assertRefused(res, code, seen);
      assert.match(res.headers.get('www-authenticate')?.[0] ?? '', /error="invalid_token"/);
    });
  }

  test('the ES256 signature rewrites above are what refuses: unchanged, the token passes', async () => {
    const seen = upstream.requests.length;
    const res = await get('/api/control', `Bearer ${await reSigned((r, s) => Buffer.concat([r, s]))}`);
    assert.equal(res.status, 200);
    assert.equal(upstream.requests.length, seen + 1);
  });

  test('the upstream gets the principal as x-portcullis-* headers, not the token', async () => {
    const token = await idp.clientCredentialsToken({ scope: 'read' });
    const res = await get('/api/whoami', `Bearer ${token}`);
    assert.equal(res.status, 200);
    assert.deepEqual(upstream.lastHeader('x-portcullis-credential'), ['jwt']);
    assert.deepEqual(upstream.lastHeader('x-portcullis-issuer'), [idp.issuer]);
    assert.deepEqual(upstream.lastHeader('x-portcullis-client-id'), ['svc-a']);
    assert.deepEqual(upstream.lastHeader('x-portcullis-scopes'), ['read']);
    assert.deepEqual(upstream.lastHeader('authorization'), [], 'the token stays at the proxy');
  });

  test('a client-sent x-portcullis-subject is replaced by the verified one', async () => {
    const token = await local.sign({ sub: 'alice' });
    const res = await rawRequest(proxy.port, `GET /api/spoof HTTP/1.1\r\nHost: a\r\n` +
      `Authorization: Bearer ${token}\r\nX-Portcullis-Subject: root\r\n\r\n`);
    assert.equal(res.status, 200);
    assert.deepEqual(upstream.lastHeader('x-portcullis-subject'), ['alice']);
  });

  test('identity.forwardToken passes the token on; identity.headers false sends none', async () => {
    const token = await idp.clientCredentialsToken();
    assert.equal((await get('/passes-token/x', `Bearer ${token}`)).status, 200);
    assert.deepEqual(upstream.lastHeader('authorization'), [`Bearer ${token}`]);
    assert.deepEqual(upstream.lastHeader('x-portcullis-subject'), []);
    assert.deepEqual(upstream.lastHeader('x-portcullis-credential'), []);
  });

  test('a signed claim with CR LF in it is refused, never turned into a header', async () => {
    const token = await local.sign({ sub: 'alice\r\nX-Injected: 1' });
    const seen = upstream.requests.length;
    await assertRefused(await get('/api/inject', `Bearer ${token}`), 'IAM_AUTHN_CLAIM_INVALID',
      seen);
  });

  test('two Authorization headers are refused, even when both hold valid tokens', async () => {
    const token = await idp.clientCredentialsToken();
    const seen = upstream.requests.length;
    const res = await rawRequest(proxy.port, `GET /api/two HTTP/1.1\r\nHost: a\r\n` +
      `Authorization: Bearer ${token}\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    await assertRefused(res, 'IAM_AUTHN_TOKEN_MALFORMED', seen);
  });

  test('a payload altered under a kept signature is refused while the original is cached', async () => {
    const token = await idp.clientCredentialsToken();
    assert.equal((await get('/api/original', `Bearer ${token}`)).status, 200, 'now cached');
    const [header, payload, signature] = token.split('.') as [string, string, string];
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const altered = `${header}.${b64({ ...claims, scope: 'read write admin' })}.${signature}`;
    const seen = upstream.requests.length;
    await assertRefused(await get('/api/altered', `Bearer ${altered}`),
      'IAM_AUTHN_SIGNATURE_INVALID', seen);
  });

  test('a token for another audience is refused', async () => {
    const strict = await startTestProxy(config('https://other.audience.test'));
    try {
      const token = await idp.clientCredentialsToken();
      const seen = upstream.requests.length;
      const res = await rawRequest(strict.port,
        `GET /api/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\n\r\n`);
      await assertRefused(res, 'IAM_AUTHN_AUDIENCE_MISMATCH', seen);
    } finally {
      await strict.stop();
    }
  });

  test('an accepted token is refused once expired, although its verification is cached', async () => {
    const token = await idp.clientCredentialsToken();
    assert.equal((await get('/api/before-expiry', `Bearer ${token}`)).status, 200);
    await new Promise((r) => setTimeout(r, 4200));
    const seen = upstream.requests.length;
    await assertRefused(await get('/api/after-expiry', `Bearer ${token}`),
      'IAM_AUTHN_TOKEN_EXPIRED', seen);
  });

  test('a body sent with a token waits for authentication and arrives intact', async () => {
    const token = await idp.clientCredentialsToken();
    const body = Buffer.alloc(300 * 1024, 'b');
    const res = await rawRequest(proxy.port, Buffer.concat([Buffer.from(
      `POST /api/upload HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`, 'latin1'), body]));
    assert.equal(res.status, 200);
    const rec = upstream.requests.at(-1);
    assert.equal(rec?.bodyBytes, body.length);
    assert.equal(rec?.bodySha256, createHash('sha256').update(body).digest('hex'));
  });

  test('a rotation that keeps the old key published: old and new tokens both verify', async () => {
    const old = await idp.clientCredentialsToken();
    assert.equal((await get('/api/pre-overlap', `Bearer ${old}`)).status, 200);
    await idp.rotateKeys({ keepPrevious: true });
    // Unknown-kid refetches are rate-limited (200 ms here): earlier cases used one already.
    await new Promise((r) => setTimeout(r, 250));
    const fresh = await idp.clientCredentialsToken();
    assert.notEqual(kidOf(fresh), kidOf(old), 'the provider signs with the new key');
    const res = await get('/api/overlap-new', `Bearer ${fresh}`);
    assert.equal(res.status, 200, `the new kid triggered one refetch ${
      res.headers.get('x-portcullis-error')?.[0]}`);
    // The refetch made a new key-set version, which flushed the cache: the old token is
    // verified again, against the old key, still published.
    assert.equal((await get('/api/overlap-old', `Bearer ${old}`)).status, 200);
  });

  test('after a key rotation, new tokens are accepted and old ones refused', async () => {
    const old = await idp.clientCredentialsToken();
    assert.equal((await get('/api/pre-rotation', `Bearer ${old}`)).status, 200);
    await idp.rotateKeys();
    // Unknown-kid refetches are rate-limited (200 ms here): earlier cases used one already.
    await new Promise((r) => setTimeout(r, 250));
    const fresh = await idp.clientCredentialsToken();
    const res = await get('/api/post-rotation', `Bearer ${fresh}`);
    assert.equal(res.status, 200, `the unknown kid triggered one refetch of the provider keys ${
      res.headers.get('x-portcullis-error')?.[0]}`);
    const seen = upstream.requests.length;
    await assertRefused(await get('/api/old-token', `Bearer ${old}`), 'IAM_AUTHN_KEY_UNKNOWN',
      seen);
  });
});
