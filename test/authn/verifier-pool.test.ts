import assert from 'node:assert/strict';
import { KeyObject, createHmac, sign as nodeSign, type webcrypto } from 'node:crypto';
import { type AddressInfo } from 'node:net';
import { createServer } from 'node:http';
import { after, before, describe, test } from 'node:test';
import { exportSPKI } from 'jose';
import type { ErrorCode } from '../../src/errors/index.js';
import { InlineVerifier, VerifierPool, inspectToken } from '../../src/authn/index.js';
import { type TestKey, kIssuer, makeKey, segment, signToken } from './support-keys.js';

const kLimits = { maxTokenBytes: 8192, maxHeaderBytes: 1024 };
const kAllAlgs = ['RS256', 'ES256', 'EdDSA'];

let rsa: TestKey;
let rsaNoAlg: TestKey;
let ec: TestKey;
let ed: TestKey;
let encKey: TestKey;
let attacker: TestKey;
/** The two places a signature can be checked, each with both engines; every case runs in all four. */
const kModes = ['pool/node', 'pool/jose', 'inline/node', 'inline/jose'] as const;
type Mode = typeof kModes[number];
const verifiers = new Map<Mode, VerifierPool | InlineVerifier>();
let server: ReturnType<typeof createServer>;
let serverUrl = '';
let serverHits = 0;

/** Runs the real pipeline order: shape check on the main thread, then the pool. */
async function check(mode: Mode, token: string, algorithms: readonly string[] = kAllAlgs):
  Promise<string> {
  const shape = inspectToken(token, kLimits);
  if (!shape.ok) return shape.code;
  const result = await verifier(mode).verify(token, kIssuer, algorithms);
  return result.ok ? 'ok' : result.code;
}

function verifier(mode: Mode): VerifierPool | InlineVerifier {
  return verifiers.get(mode) as VerifierPool | InlineVerifier;
}

/** An HS256 token whose HMAC secret is `secret`, as an attacker with the public key builds it. */
function hmacToken(secret: string, kid?: string): string {
  const signingInput = `${segment({ alg: 'HS256', ...(kid ? { kid } : {}) })}.${segment({
    iss: kIssuer, sub: 'admin', exp: 4_000_000_000 })}`;
  const mac = createHmac('sha256', secret).update(signingInput).digest('base64url');
  return `${signingInput}.${mac}`;
}

/** An ES256 token for `ec`'s kid with a signature supplied by the test. */
function esToken(signature: (input: string) => Buffer): string {
  const input = `${segment({ alg: 'ES256', kid: ec.kid })}.${segment({ iss: kIssuer, sub: 'x' })}`;
  return `${input}.${signature(input).toString('base64url')}`;
}

/** Signs with `ec`'s private key through node:crypto, choosing the signature encoding. */
function ecdsa(input: string, dsaEncoding: 'der' | 'ieee-p1363'): Buffer {
  const key = KeyObject.from(ec.privateKey as unknown as webcrypto.CryptoKey);
  return nodeSign('sha256', Buffer.from(input), { key, dsaEncoding });
}

before(async () => {
  [rsa, rsaNoAlg, ec, ed, encKey, attacker] = await Promise.all([
    makeKey('RS256', 'rsa-1'),
    makeKey('RS256', 'rsa-noalg', false),
    makeKey('ES256', 'ec-1'),
    makeKey('EdDSA', 'ed-1'),
    makeKey('RS256', 'enc-1'),
    makeKey('RS256', 'attacker'),
  ]);
  const keySet = {
    issuer: kIssuer,
    version: 1,
    keys: [rsa.jwk, rsaNoAlg.jwk, ec.jwk, ed.jwk, { ...encKey.jwk, use: 'enc' }],
  };
  for (const engine of ['node', 'jose'] as const) {
    verifiers.set(`pool/${engine}`, new VerifierPool({
      threads: 1, maxQueue: 1000, batchMaxItems: 16, batchMaxWaitUs: 200, engine }));
    verifiers.set(`inline/${engine}`, new InlineVerifier(engine));
  }
  for (const v of verifiers.values()) v.setKeySet(keySet);
  server = createServer((_req, res) => {
    serverHits++;
    res.end(JSON.stringify({ keys: [attacker.jwk] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  serverUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`;
});

after(async () => {
  for (const v of verifiers.values()) if (v instanceof VerifierPool) await v.close();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

/** The order of the P-256 group (SEC 2, section 2.4.2). */
const kP256N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;

/** A copy of a P1363 signature (r || s, 32 bytes each) with r and/or s replaced. */
function withHalves(sig: Buffer, r: bigint | undefined, s: bigint | undefined): Buffer {
  const out = Buffer.from(sig);
  if (r !== undefined) out.write(r.toString(16).padStart(64, '0'), 0, 'hex');
  if (s !== undefined) out.write(s.toString(16).padStart(64, '0'), 32, 'hex');
  return out;
}

interface Case {
  readonly why: string;
  readonly token: () => Promise<string> | string;
  readonly algorithms?: readonly string[];
  readonly expect: 'ok' | ErrorCode;
}

const kCases: readonly Case[] = [
  // Genuine tokens.
  { why: 'an RS256 token with its kid verifies', token: () => signToken(rsa), expect: 'ok' },
  { why: 'an ES256 token with its kid verifies', token: () => signToken(ec), expect: 'ok' },
  { why: 'an EdDSA token with its kid verifies', token: () => signToken(ed), expect: 'ok' },
  {
    why: 'a kid-less RS256 token verifies by trying the few keys that fit RS256',
    token: () => signToken(rsaNoAlg, { kid: undefined }),
    expect: 'ok',
  },

  // Unsigned or truncated.
  {
    why: 'alg none with an empty signature is refused before the pool',
    token: () => `${segment({ alg: 'none' })}.${segment({ iss: kIssuer })}.`,
    expect: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'alg none with a non-empty signature is never allowed',
    token: () => `${segment({ alg: 'none' })}.${segment({ iss: kIssuer })}.AAAA`,
    expect: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'a genuine token with its signature removed is malformed',
    token: async () => (await signToken(rsa)).replace(/[^.]+$/, ''),
    expect: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'a genuine token cut to two segments is malformed',
    token: async () => (await signToken(rsa)).replace(/\.[^.]+$/, ''),
    expect: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'a genuine token with a changed payload fails the signature',
    token: async () => {
      const [h, , s] = (await signToken(rsa)).split('.');
      return `${h}.${segment({ iss: kIssuer, sub: 'admin' })}.${s}`;
    },
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },

  // Algorithm confusion: the RSA public key used as an HMAC secret.
  {
    why: 'HS256 keyed with the RSA public key PEM is refused (HS256 is not on the list)',
    token: async () => hmacToken(await exportSPKI(rsa.publicKey), rsa.kid),
    algorithms: ['RS256'],
    expect: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'HS256 keyed with the PEM is refused even if a misconfigured list names HS256',
    token: async () => hmacToken(await exportSPKI(rsa.publicKey), rsa.kid),
    algorithms: ['RS256', 'HS256'],
    expect: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'HS256 keyed with the JWK JSON of the public key is refused',
    token: () => hmacToken(JSON.stringify(rsa.jwk)),
    algorithms: ['RS256', 'HS256'],
    expect: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'HS256 keyed with the whole JWKS document text is refused',
    token: () => hmacToken(JSON.stringify({ keys: [rsa.jwk] }), rsa.kid),
    algorithms: ['RS256', 'HS256'],
    expect: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'HS256 keyed with the PEM behind leading whitespace is refused',
    token: async () => hmacToken(`\n  ${await exportSPKI(rsa.publicKey)}`),
    algorithms: ['RS256', 'HS256'],
    expect: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },

  // Keys the token brings with it are never trusted.
  {
    why: 'a token signed by its own embedded jwk (no kid) fails against the issuer keys',
    token: () => signToken(attacker, { kid: undefined, jwk: attacker.jwk }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'a token with an embedded jwk claiming the issuer kid fails the signature',
    token: () => signToken(attacker, { kid: rsa.kid, jwk: attacker.jwk }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'an x5c header with the attacker certificate is no trust anchor: the issuer kid decides',
    token: () => signToken(attacker, { kid: rsa.kid, x5c: ['MIIBsjCCAVmgAwIBAgIUAttacker'] }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'a jku header pointing at the attacker key set is not fetched and the kid is unknown',
    token: () => signToken(attacker, { jku: serverUrl }),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },
  {
    why: 'an x5u header is not fetched either',
    token: () => signToken(attacker, { x5u: serverUrl }),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },
  {
    why: 'a genuine token carrying a jku header still verifies with the configured keys only',
    token: () => signToken(rsa, { jku: serverUrl }),
    expect: 'ok',
  },

  // Key selection.
  {
    why: 'an unknown kid matches no key',
    token: () => signToken(attacker),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },
  {
    why: 'a key marked use:enc never verifies a signature',
    token: () => signToken(encKey),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },
  {
    why: 'a kid-less RS256 token is refused when the allow-list excludes RS256',
    token: () => signToken(rsaNoAlg, { kid: undefined }),
    algorithms: ['ES256'],
    expect: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
  {
    why: 'a key whose JWK says RS256 is not used for a PS256 token, even if PS256 is allowed',
    token: () => `${segment({ alg: 'PS256', kid: rsa.kid })}.${segment({ iss: kIssuer })}.AAAA`,
    algorithms: ['RS256', 'PS256'],
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },
  {
    why: 'an ES256 token for the RSA kid matches no key of that type',
    token: () => signToken({ ...ec, kid: rsa.kid }),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },

  // ECDSA signature encodings.
  {
    why: 'an ES256 signature with r = s = 0 (64 zero bytes) is invalid',
    token: () => esToken(() => Buffer.alloc(64)),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'a correct ES256 signature in DER rather than JOSE (P1363) form is invalid',
    token: () => esToken((input) => ecdsa(input, 'der')),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'the same signature in P1363 form verifies, so the DER case fails only on encoding',
    token: () => esToken((input) => ecdsa(input, 'ieee-p1363')),
    expect: 'ok',
  },
  {
    why: 'r = 0 next to a genuine s is invalid (the r=s=0 "psychic signature" family)',
    token: () => esToken((input) => withHalves(ecdsa(input, 'ieee-p1363'), 0n, undefined)),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 's = n (out of range, congruent to 0) is invalid',
    token: () => esToken((input) => withHalves(ecdsa(input, 'ieee-p1363'), undefined, kP256N)),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'r = n + 1 (out of range, congruent to 1) is invalid: values are never reduced mod n',
    token: () => esToken((input) => withHalves(ecdsa(input, 'ieee-p1363'), kP256N + 1n, undefined)),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    // RFC 7518 section 3.4 accepts any s in [1, n-1]; signers (OpenSSL, node) emit high s half
    // of the time, so refusing it would refuse good tokens. The twin is a different token
    // string (its own cache entry) with the same claims: no bypass.
    why: 'the high-S twin (n - s) of a genuine signature verifies, as RFC 7518 allows',
    token: () => esToken((input) => {
      const sig = ecdsa(input, 'ieee-p1363');
      const s = BigInt(`0x${sig.subarray(32).toString('hex')}`);
      return withHalves(sig, undefined, kP256N - s);
    }),
    expect: 'ok',
  },
];

for (const mode of kModes) {
  describe(`authn/verifier-pool tokens (${mode})`, () => {
    for (const c of kCases) {
      test(c.why, async () => {
        assert.equal(await check(mode, await c.token(), c.algorithms), c.expect);
      });
    }

    test('a signed token with zip is still refused by the shape check', async () => {
      const token = await signToken(rsa, { zip: 'DEF' });
      assert.equal(await check(mode, token), 'IAM_AUTHN_TOKEN_MALFORMED');
    });

    test('no test above made a request to the jku/x5u server', () => {
      assert.equal(serverHits, 0);
    });

    test('an issuer without a key set answers keys-unavailable', async () => {
      const token = await signToken(rsa);
      const result = await verifier(mode).verify(token, 'https://other.test', kAllAlgs);
      assert.deepEqual(result, { ok: false, code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
    });

    test('a verified token reports its kid, alg and claims', async () => {
      const result = await verifier(mode).verify(await signToken(ec), kIssuer, kAllAlgs);
      assert.equal(result.ok, true);
      if (!result.ok) return;
      assert.equal(result.kid, ec.kid);
      assert.equal(result.alg, 'ES256');
      assert.equal(result.claims.iss, kIssuer);
    });
  });
}
