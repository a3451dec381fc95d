/**
 * The verify task's signature step, algorithm by algorithm, in both places it runs (the pool's
 * threads and inline on the main thread) and with both engines (node and jose). The attack table
 * of verifier-pool.test.ts covers RS256, ES256 and EdDSA against malicious tokens; this file
 * covers every other algorithm the config accepts and the encodings each one must refuse: PSS salt
 * lengths, PKCS#1 against PSS, exact signature lengths, curves that do not fit, keys that cannot
 * be prepared, payloads that are not strict UTF-8 JSON objects.
 */
import assert from 'node:assert/strict';
import {
  type KeyObject, constants, generateKeyPairSync, sign,
} from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import type { JWK } from 'jose';
import type { ErrorCode } from '../../../src/errors/index.js';
import { InlineVerifier, VerifierPool, inspectToken } from '../../../src/authn/index.js';
import { kIssuer, segment } from '../support-keys.js';

const kLimits = { maxTokenBytes: 16384, maxHeaderBytes: 1024 };
const kAllAlgs = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384',
  'ES512', 'EdDSA'];

/** A private key and the public JWK a key set holds for it. */
interface NodeKey {
  readonly privateKey: KeyObject;
  readonly jwk: JWK;
}

function nodeKey(kid: string, alg: string | undefined, make: () => { privateKey: KeyObject;
  publicKey: KeyObject }): NodeKey {
  const { privateKey, publicKey } = make();
  const jwk: JWK = { ...(publicKey.export({ format: 'jwk' }) as JWK), kid, use: 'sig' };
  if (alg !== undefined) jwk.alg = alg;
  return { privateKey, jwk };
}

const rsa = (bits: number) => () => generateKeyPairSync('rsa', { modulusLength: bits });
const ec = (curve: string) => () => generateKeyPairSync('ec', { namedCurve: curve });

let rsaKey: NodeKey;
let rsaWeak: NodeKey;
let p256: NodeKey;
let p384: NodeKey;
let p521: NodeKey;
let p384LabelledES256: NodeKey;
let ed25519: NodeKey;
let ed448: NodeKey;
let x25519: NodeKey;
const kModes = ['pool/node', 'pool/jose', 'inline/node', 'inline/jose'] as const;
type Mode = typeof kModes[number];
const verifiers = new Map<Mode, VerifierPool | InlineVerifier>();

/** How the test signs: node:crypto's digest and options, and an optional signature rewrite. */
interface Signing {
  readonly hash: string | null;
  readonly options?: Record<string, unknown>;
  readonly mangle?: (signature: Buffer) => Buffer;
}

function token(key: NodeKey, header: Record<string, unknown>, signing: Signing,
  payload: unknown = { iss: kIssuer, sub: 'alice' }): string {
  const input = `${segment(header)}.${segment(payload)}`;
  const raw = sign(signing.hash, Buffer.from(input), { key: key.privateKey, ...signing.options });
  return `${input}.${(signing.mangle?.(raw) ?? raw).toString('base64url')}`;
}

const kPkcs1 = { padding: constants.RSA_PKCS1_PADDING };
const pss = (saltLength: number) => ({ padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });
const kP1363 = { dsaEncoding: 'ieee-p1363' };

before(() => {
  rsaKey = nodeKey('rsa', undefined, rsa(2048));
  rsaWeak = nodeKey('rsa-1024', undefined, rsa(1024));
  p256 = nodeKey('p256', undefined, ec('P-256'));
  p384 = nodeKey('p384', 'ES384', ec('P-384'));
  p521 = nodeKey('p521', 'ES512', ec('P-521'));
  p384LabelledES256 = nodeKey('p384-says-es256', 'ES256', ec('P-384'));
  ed25519 = nodeKey('ed25519', 'EdDSA', () => generateKeyPairSync('ed25519'));
  ed448 = nodeKey('ed448', undefined, () => generateKeyPairSync('ed448'));
  x25519 = nodeKey('x25519', undefined, () => generateKeyPairSync('x25519'));
  // The key set holds keys the JWKS filter would drop (the 1024-bit RSA key): the task must
  // refuse them on its own.
  const keySet = { issuer: kIssuer, version: 1, keys: [rsaKey, rsaWeak, p256, p384, p521,
    p384LabelledES256, ed25519, ed448, x25519].map((k) => k.jwk) };
  for (const engine of ['node', 'jose'] as const) {
    verifiers.set(`pool/${engine}`, new VerifierPool({
      threads: 1, maxQueue: 1000, batchMaxItems: 16, batchMaxWaitUs: 200, engine }));
    verifiers.set(`inline/${engine}`, new InlineVerifier(engine));
  }
  for (const v of verifiers.values()) v.setKeySet(keySet);
});

after(async () => {
  for (const v of verifiers.values()) if (v instanceof VerifierPool) await v.close();
});

interface Case {
  readonly why: string;
  readonly token: () => string;
  /** Skip the main thread's shape check (the task must stand on its own). */
  readonly isRaw?: boolean;
  readonly expect: 'ok' | ErrorCode;
}

const kCases: readonly Case[] = [
  // Every RSA algorithm with one key that has no `alg` (so kty decides).
  ...(['256', '384', '512'] as const).flatMap((bits): Case[] => [
    { why: `RS${bits} (PKCS#1 v1.5, SHA-${bits}) verifies with an RSA key without alg`,
      token: () => token(rsaKey, { alg: `RS${bits}`, kid: 'rsa' },
        { hash: `sha${bits}`, options: kPkcs1 }),
      expect: 'ok' },
    { why: `PS${bits} with MGF1-SHA-${bits} and a ${Number(bits) / 8}-byte salt verifies`,
      token: () => token(rsaKey, { alg: `PS${bits}`, kid: 'rsa' },
        { hash: `sha${bits}`, options: pss(Number(bits) / 8) }),
      expect: 'ok' },
  ]),
  {
    why: 'PS256 with an empty salt is refused: RFC 7518 3.5 fixes the salt at the hash length',
    token: () => token(rsaKey, { alg: 'PS256', kid: 'rsa' }, { hash: 'sha256', options: pss(0) }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'PS256 with a 64-byte salt is refused for the same reason',
    token: () => token(rsaKey, { alg: 'PS256', kid: 'rsa' }, { hash: 'sha256', options: pss(64) }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'a PKCS#1 v1.5 signature labelled PS256 is refused (the padding is the algorithm)',
    token: () => token(rsaKey, { alg: 'PS256', kid: 'rsa' }, { hash: 'sha256', options: kPkcs1 }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'a PSS signature labelled RS256 is refused',
    token: () => token(rsaKey, { alg: 'RS256', kid: 'rsa' }, { hash: 'sha256', options: pss(32) }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'an RS384 signature labelled RS256 is refused (the hash is the algorithm)',
    token: () => token(rsaKey, { alg: 'RS256', kid: 'rsa' }, { hash: 'sha384', options: kPkcs1 }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'an RS256 signature with a zero byte put in front is refused: exactly the modulus length',
    token: () => token(rsaKey, { alg: 'RS256', kid: 'rsa' },
      { hash: 'sha256', options: kPkcs1, mangle: (s) => Buffer.concat([Buffer.alloc(1), s]) }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'a 1024-bit RSA key in the key set is never used, even for a genuine signature',
    token: () => token(rsaWeak, { alg: 'RS256', kid: 'rsa-1024' },
      { hash: 'sha256', options: kPkcs1 }),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },

  // ECDSA on the larger curves.
  {
    why: 'ES384 on P-384 verifies with a 96-byte r || s',
    token: () => token(p384, { alg: 'ES384', kid: 'p384' }, { hash: 'sha384', options: kP1363 }),
    expect: 'ok',
  },
  {
    why: 'ES512 on P-521 verifies with a 132-byte r || s',
    token: () => token(p521, { alg: 'ES512', kid: 'p521' }, { hash: 'sha512', options: kP1363 }),
    expect: 'ok',
  },
  {
    why: 'an ES384 signature in DER form is refused (JOSE signatures are r || s)',
    token: () => token(p384, { alg: 'ES384', kid: 'p384' }, { hash: 'sha384' }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'an ES512 signature with one byte cut off the end is refused: exactly 132 bytes',
    token: () => token(p521, { alg: 'ES512', kid: 'p521' },
      { hash: 'sha512', options: kP1363, mangle: (s) => s.subarray(0, 131) }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'an ES256 token naming the P-384 key is refused: the curve does not fit the algorithm',
    token: () => token(p384, { alg: 'ES256', kid: 'p384' }, { hash: 'sha256', options: kP1363 }),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },
  {
    why: 'a P-384 key whose JWK claims ES256 is not used for ES256: type and curve must fit too',
    token: () => token(p384LabelledES256, { alg: 'ES256', kid: 'p384-says-es256' },
      { hash: 'sha256', options: kP1363 }),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },
  {
    why: 'a kid-less ES256 token verifies with the one P-256 key among the others',
    token: () => token(p256, { alg: 'ES256' }, { hash: 'sha256', options: kP1363 }),
    expect: 'ok',
  },

  // EdDSA.
  {
    why: 'an Ed448 key is never used for EdDSA: only Ed25519 is implemented (by jose 6 as well)',
    token: () => token(ed448, { alg: 'EdDSA', kid: 'ed448' }, { hash: null }),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },
  {
    why: 'an Ed25519 signature with a byte appended is refused: exactly 64 bytes',
    token: () => token(ed25519, { alg: 'EdDSA', kid: 'ed25519' },
      { hash: null, mangle: (s) => Buffer.concat([s, Buffer.alloc(1)]) }),
    expect: 'IAM_AUTHN_SIGNATURE_INVALID',
  },
  {
    why: 'an X25519 (key agreement) key never verifies an EdDSA token',
    token: () => `${segment({ alg: 'EdDSA', kid: 'x25519' })}.${segment({ iss: kIssuer })}.`
      + Buffer.alloc(64, 1).toString('base64url'),
    expect: 'IAM_AUTHN_KEY_UNKNOWN',
  },

  // The payload, after a genuine signature.
  {
    why: 'a genuinely signed payload that is not strict UTF-8 is malformed (not a key problem)',
    token: () => {
      const input = `${segment({ alg: 'ES256', kid: 'p256' })}.`
        + Buffer.from('{"iss":"https://issuer.test","sub":"\xff"}', 'latin1').toString('base64url');
      const signature = sign('sha256', Buffer.from(input),
        { key: p256.privateKey, dsaEncoding: 'ieee-p1363' });
      return `${input}.${signature.toString('base64url')}`;
    },
    expect: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'a genuinely signed payload that is a JSON array is malformed',
    token: () => token(p256, { alg: 'ES256', kid: 'p256' }, { hash: 'sha256', options: kP1363 },
      [kIssuer]),
    isRaw: true,
    expect: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'a signature segment with characters outside base64url is malformed, shape check or not',
    token: () => `${token(p256, { alg: 'ES256', kid: 'p256' },
      { hash: 'sha256', options: kP1363 })}!!!!`,
    isRaw: true,
    expect: 'IAM_AUTHN_TOKEN_MALFORMED',
  },
  {
    why: 'an algorithm the verifier does not implement is refused even when listed',
    token: () => `${segment({ alg: 'ES256K', kid: 'p256' })}.${segment({ iss: kIssuer })}.AAAA`,
    isRaw: true,
    expect: 'IAM_AUTHN_ALG_NOT_ALLOWED',
  },
];

for (const mode of kModes) {
  describe(`authn/verify-task algorithms (${mode})`, () => {
    for (const c of kCases) {
      test(c.why, async () => {
        const value = c.token();
        if (c.isRaw !== true) {
          const shape = inspectToken(value, kLimits);
          assert.equal(shape.ok, true, 'the case must pass the shape check');
        }
        const verifier = verifiers.get(mode) as VerifierPool | InlineVerifier;
        const result = await verifier.verify(value, kIssuer, [...kAllAlgs, 'ES256K']);
        assert.equal(result.ok ? 'ok' : result.code, c.expect);
      });
    }
  });
}

