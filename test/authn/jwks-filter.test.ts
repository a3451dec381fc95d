import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { JWK } from 'jose';
import { type JwkDropReason, filterJwks, keySetDigest } from '../../src/authn/jwks-filter.js';
import { makeEcKey, makeRsaKey } from './jwks-test-server.js';

const kRsa = makeRsaKey('rsa-1');
const kEc = makeEcKey('ec-1');

describe('authn/jwks-filter', () => {
  const kDrops: readonly { why: string; key: unknown; reason: JwkDropReason }[] = [
    { why: 'a non-object entry is no key', key: 'rsa', reason: 'not_object' },
    {
      why: 'a key without kty cannot be typed',
      key: { kid: 'x', n: 'a', e: 'AQAB' },
      reason: 'no_kty',
    },
    {
      why: 'oct keys are HMAC secrets, which a JWKS never supplies',
      key: { kty: 'oct', kid: 'h', k: 'c2VjcmV0' },
      reason: 'symmetric',
    },
    { why: 'unknown key types are unused', key: { kty: 'XY' }, reason: 'kty_unsupported' },
    {
      why: 'use:enc keys never verify signatures',
      key: { ...kRsa.publicJwk, kid: 'e', use: 'enc' },
      reason: 'use_enc',
    },
    {
      why: 'key_ops without verify excludes verification',
      key: { ...kEc, kid: 'o', key_ops: ['encrypt'] },
      reason: 'not_for_verify',
    },
    {
      why: 'an HS256 alg on an RSA key is algorithm-confusion bait',
      key: { ...kRsa.publicJwk, kid: 'a', alg: 'HS256' },
      reason: 'alg_unusable',
    },
    { why: 'alg none never verifies', key: { ...kEc, alg: 'none' }, reason: 'alg_unusable' },
    {
      why: 'a key-wrapping alg is for encryption',
      key: { ...kRsa.publicJwk, kid: 'w', use: undefined, alg: 'RSA-OAEP' },
      reason: 'alg_unusable',
    },
    {
      why: 'a published private RSA key is rejected, not stripped',
      key: { ...kRsa.privateJwk, kid: 'p' },
      reason: 'private_member',
    },
    {
      why: 'a lone d member marks a leaked EC key',
      key: { ...kEc, kid: 'd', d: 'AAAA' },
      reason: 'private_member',
    },
    { why: 'a numeric kid is not a kid', key: { ...kEc, kid: 7 }, reason: 'bad_kid' },
    {
      why: 'a 1024-bit RSA modulus is breakable',
      key: { ...kRsa.publicJwk, kid: 'small', n: Buffer.alloc(128, 0xff).toString('base64url') },
      reason: 'rsa_size',
    },
    {
      why: 'a 16384-bit modulus would make each verification cost about 16 times as much',
      key: { ...kRsa.publicJwk, kid: 'huge', n: Buffer.alloc(2048, 0xff).toString('base64url') },
      reason: 'rsa_size',
    },
    {
      why: 'a 64-bit public exponent makes verification as slow as signing',
      key: { ...kRsa.publicJwk, kid: 'e64', e: Buffer.alloc(8, 0xff).toString('base64url') },
      reason: 'rsa_size',
    },
    {
      why: 'an even public exponent is not an RSA key',
      key: { ...kRsa.publicJwk, kid: 'even', e: Buffer.from([1, 0, 0]).toString('base64url') },
      reason: 'rsa_size',
    },
    {
      why: 'an RSA key without n cannot be sized',
      key: { ...kRsa.publicJwk, kid: 'no-n', n: undefined },
      reason: 'rsa_size',
    },
    { why: 'an empty kid cannot be looked up', key: { ...kEc, kid: '' }, reason: 'bad_kid' },
  ];
  for (const { why, key, reason } of kDrops) {
    test(`authn/jwks-filter drop reason=${reason}: ${why}`, () => {
      const result = filterJwks({ keys: [kEc, key] });
      assert.ok(result.ok);
      assert.deepEqual(result.keys, [kEc]);
      assert.deepEqual(result.dropped.map((d) => d.reason), [reason]);
    });
  }

  test('authn/jwks-filter rsa_size: 2048-bit and 8192-bit moduli with e = 65537 are kept', () => {
    const n8192 = Buffer.alloc(1024, 0xff).toString('base64url');
    const big = { ...kRsa.publicJwk, kid: 'big', n: n8192 };
    const result = filterJwks({ keys: [kRsa.publicJwk, big] });
    assert.ok(result.ok);
    assert.equal(result.keys.length, 2);
  });

  test('authn/jwks-filter duplicate kid: the first key is kept and the second reported', () => {
    const other = makeEcKey('ec-1');
    const result = filterJwks({ keys: [kEc, other] });
    assert.ok(result.ok);
    assert.deepEqual(result.keys, [kEc]);
    assert.deepEqual(result.dropped, [{ index: 1, kid: 'ec-1', reason: 'duplicate_kid' }]);
  });

  test('authn/jwks-filter maxKeys: keys past the bound are reported over_limit', () => {
    const keys = Array.from({ length: 5 }, (_, i) => ({ ...kEc, kid: `k${i}` }));
    const result = filterJwks({ keys }, 3);
    assert.ok(result.ok);
    assert.equal(result.keys.length, 3);
    assert.deepEqual(result.dropped.map((d) => d.reason), ['over_limit', 'over_limit']);
  });

  test('authn/jwks-filter copies: kept keys are frozen copies the body cannot change', () => {
    const body = { keys: [{ ...kEc, x5c: ['AAAA'] }] };
    const result = filterJwks(body);
    assert.ok(result.ok);
    body.keys[0]!.x5c[0] = 'BBBB';
    assert.deepEqual(result.keys[0]!.x5c, ['AAAA']);
    assert.ok(Object.isFrozen(result.keys[0]) && Object.isFrozen(result.keys[0]!.x5c));
  });

  const kInvalid: readonly { why: string; body: unknown }[] = [
    { why: 'null is no JWKS', body: null },
    { why: 'a bare array is no JWKS', body: [kEc] },
    { why: 'keys must be an array', body: { keys: kEc } },
  ];
  for (const { why, body } of kInvalid) {
    test(`authn/jwks-filter invalid body: ${why}`, () => {
      assert.deepEqual(filterJwks(body), { ok: false, reason: 'invalid_jwks' });
    });
  }

  test('authn/jwks-filter digest: member order and key order do not change the digest', () => {
    const reordered = Object.fromEntries(Object.entries(kEc).reverse()) as JWK;
    assert.equal(keySetDigest([kEc, kRsa.publicJwk]), keySetDigest([kRsa.publicJwk, reordered]));
    assert.notEqual(keySetDigest([kEc]), keySetDigest([kEc, kRsa.publicJwk]));
  });
});
