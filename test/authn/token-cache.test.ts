/**
 * The verified-token cache: bounded, version-bound, never past exp, flushed per issuer.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { VerifiedTokenCache } from '../../src/authn/token-cache.js';
import { principalFromClaims } from '../../src/authn/principal.js';

const kNow = 1_800_000_000;

describe('authn/token-cache', () => {
  test('a stored verification is returned for the same token and key-set version', () => {
    const cache = new VerifiedTokenCache(10, 1 << 20);
    cache.set('tok-a', 'iss', 3, 'k1', { exp: kNow + 60 }, undefined, kNow);
    assert.equal(cache.peek('tok-a', kNow)?.kid, 'k1');
  });

  test('an entry records the key-set version it was verified under', () => {
    const cache = new VerifiedTokenCache(10, 1 << 20);
    cache.set('tok-a', 'iss', 3, 'k1', { exp: kNow + 60 }, undefined, kNow);
    assert.equal(cache.peek('tok-a', kNow)?.version, 3);
  });

  test('an entry never outlives the token exp', () => {
    const cache = new VerifiedTokenCache(10, 1 << 20);
    cache.set('tok-a', 'iss', 1, undefined, { exp: kNow + 5 }, undefined, kNow);
    assert.notEqual(cache.peek('tok-a', kNow + 4), undefined);
    assert.equal(cache.peek('tok-a', kNow + 5), undefined);
  });

  test('a token without exp is kept five minutes at most', () => {
    const cache = new VerifiedTokenCache(10, 1 << 20);
    cache.set('tok-a', 'iss', 1, undefined, {}, undefined, kNow);
    assert.notEqual(cache.peek('tok-a', kNow + 299), undefined);
    assert.equal(cache.peek('tok-a', kNow + 300), undefined);
  });

  test('an already expired token is not stored', () => {
    const cache = new VerifiedTokenCache(10, 1 << 20);
    cache.set('tok-a', 'iss', 1, undefined, { exp: kNow }, undefined, kNow);
    assert.equal(cache.size, 0);
  });

  test('the entry bound evicts the oldest entries first', () => {
    const cache = new VerifiedTokenCache(2, 1 << 20);
    for (const t of ['t1', 't2', 't3']) {
      cache.set(t, 'iss', 1, undefined, { exp: kNow + 60 }, undefined, kNow);
    }
    assert.equal(cache.size, 2);
    assert.equal(cache.peek('t1', kNow), undefined);
    assert.notEqual(cache.peek('t3', kNow), undefined);
  });

  test('the byte bound holds whatever the entry count allows', () => {
    const cache = new VerifiedTokenCache(1000, 4096);
    for (let i = 0; i < 100; i++) {
      cache.set(`${'x'.repeat(1000)}${i}`, 'iss', 1, undefined, { exp: kNow + 60 }, undefined,
        kNow);
    }
    assert.ok(cache.size <= 3, `held ${cache.size} entries of ~1.3 KB in 4 KB`);
  });

  test('maxEntries 0 disables the cache', () => {
    const cache = new VerifiedTokenCache(0, 1 << 20);
    cache.set('tok-a', 'iss', 1, undefined, { exp: kNow + 60 }, undefined, kNow);
    assert.equal(cache.peek('tok-a', kNow), undefined);
  });

  test('flushIssuer drops that issuer only', () => {
    const cache = new VerifiedTokenCache(10, 1 << 20);
    cache.set('a', 'iss-1', 1, undefined, { exp: kNow + 60 }, undefined, kNow);
    cache.set('b', 'iss-2', 1, undefined, { exp: kNow + 60 }, undefined, kNow);
    cache.flushIssuer('iss-1');
    assert.equal(cache.peek('a', kNow), undefined);
    assert.notEqual(cache.peek('b', kNow), undefined);
  });
});

describe('authn/principal', () => {
  const kCases: ReadonlyArray<readonly [string, Record<string, unknown>, readonly string[], string | undefined]> = [
    ['a space-separated scope claim gives each scope', { scope: 'read  write' }, ['read', 'write'], undefined],
    ['an scp array gives its string members', { scp: ['a', 1, 'b'] }, ['a', 'b'], undefined],
    ['client_id names the client', { client_id: 'svc-a' }, [], 'svc-a'],
    ['azp names the client when client_id is absent', { azp: 'svc-b' }, [], 'svc-b'],
  ];
  for (const [why, claims, scopes, clientId] of kCases) {
    test(why, () => {
      const p = principalFromClaims('iss', { sub: 'u1', exp: 5, ...claims }, 'kid-1');
      assert.deepEqual(p.scopes, scopes);
      assert.equal(p.clientId, clientId);
      assert.equal(p.subject, 'u1');
      assert.equal(p.kind, 'jwt');
      assert.equal(p.keyId, 'kid-1');
    });
  }

  test('a token with the same signature but another payload never hits the entry', () => {
    const cache = new VerifiedTokenCache(10, 1 << 20);
    const signature = 'S'.repeat(86);
    const original = `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.${signature}`;
    const altered = `eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJhZG1pbiJ9.${signature}`;
    cache.set(original, 'iss', 1, 'k1', { exp: kNow + 60, sub: 'alice' }, undefined, kNow);
    assert.equal(cache.peek(altered, kNow), undefined, 'the whole token must match');
    assert.equal(cache.peek(original, kNow)?.claims.sub, 'alice', 'the original still hits');
  });

  test('two tokens ending alike take turns in one entry; neither ever answers for the other', () => {
    const cache = new VerifiedTokenCache(10, 1 << 20);
    const tail = 'T'.repeat(40);
    const a = `header.payload-a.${tail}`;
    const b = `header.payload-b.${tail}`;
    cache.set(a, 'iss', 1, undefined, { exp: kNow + 60, sub: 'a' }, undefined, kNow);
    cache.set(b, 'iss', 1, undefined, { exp: kNow + 60, sub: 'b' }, undefined, kNow);
    assert.equal(cache.peek(a, kNow), undefined);
    assert.equal(cache.peek(b, kNow)?.claims.sub, 'b');
    assert.equal(cache.size, 1);
  });
});
