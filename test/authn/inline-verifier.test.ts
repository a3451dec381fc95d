/**
 * The inline verifier answers the tokens of one event-loop turn together at its end: none is
 * answered while the turn that asked still runs, more than a turn's share waits for the next
 * turn, the key set in force when the token is verified is the one used, and the in-flight
 * bound counts queued tokens.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { InlineVerifier } from '../../src/authn/index.js';
import { kIssuer, makeKey, signToken } from './support-keys.js';

const kAlgs = ['RS256', 'ES256'];
let issuers = 0;
/**
 * A key-set name of its own per test: the verify task module keeps key sets per process and
 * ignores a version it already holds, so tests must not share one (the name is only a lookup
 * key here; claims are checked elsewhere).
 */
const freshIssuer = (): string => `${kIssuer}/inline-${++issuers}`;

describe('authn/inline-verifier per turn', () => {
  test('tokens asked for in one turn are answered after it, all of them', async () => {
    const iss = freshIssuer();
    const key = await makeKey('ES256', 'ec-1');
    const tokens = await Promise.all([1, 2, 3].map((n) => signToken(key, {}, { n })));
    const v = new InlineVerifier('node');
    v.setKeySet({ issuer: iss, version: 1, keys: [key.jwk] });
    const answered: number[] = [];
    const pending = tokens.map((t, i) => v.verify(t, iss, kAlgs).then((r) => {
      answered.push(i);
      return r;
    }));
    await Promise.resolve();
    assert.deepEqual(answered, [], 'nothing is answered within the asking turn');
    assert.equal(v.inFlight, 3, 'queued tokens count as in flight');
    const results = await Promise.all(pending);
    assert.deepEqual(results.map((r) => (r.ok ? r.claims.n : r.code)), [1, 2, 3]);
    assert.deepEqual(answered, [0, 1, 2], 'answered in the order asked');
    assert.equal(v.inFlight, 0);
  });

  test('more tokens than one turn takes are verified over the next turns, none lost', async () => {
    const iss = freshIssuer();
    const key = await makeKey('ES256', 'ec-1');
    const token = await signToken(key);
    const bad = `${token.slice(0, -4)}AAAA`;
    const v = new InlineVerifier('node');
    v.setKeySet({ issuer: iss, version: 1, keys: [key.jwk] });
    const results = await Promise.all(Array.from({ length: 150 }, (_, i) =>
      v.verify(i % 10 === 9 ? bad : token, iss, kAlgs)));
    assert.equal(results.filter((r) => r.ok).length, 135);
    assert.ok(results.every((r, i) => (i % 10 === 9) === (!r.ok
      && r.code === 'IAM_AUTHN_SIGNATURE_INVALID')), 'each answer belongs to its own token');
    assert.equal(v.inFlight, 0);
  });

  test('a key set installed before the end of the turn is the one used', async () => {
    const iss = freshIssuer();
    const [oldKey, newKey] = await Promise.all([makeKey('RS256', 'k-old'),
      makeKey('RS256', 'k-new')]);
    const v = new InlineVerifier('node');
    v.setKeySet({ issuer: iss, version: 1, keys: [oldKey.jwk] });
    const [byNew, byOld] = await Promise.all([signToken(newKey), signToken(oldKey)]);
    // Both asked for, then the rotation, all in one turn.
    const signedByNew = v.verify(byNew, iss, kAlgs);
    const signedByOld = v.verify(byOld, iss, kAlgs);
    v.setKeySet({ issuer: iss, version: 2, keys: [newKey.jwk] });
    assert.equal((await signedByNew).ok, true, 'the rotated-in key verifies');
    assert.deepEqual(await signedByOld, { ok: false, code: 'IAM_AUTHN_KEY_UNKNOWN' },
      'the rotated-out key no longer does, and nothing fails as a verifier error');
  });

  test('past maxInFlight, queued tokens included, verify answers overloaded at once', async () => {
    const iss = freshIssuer();
    const key = await makeKey('ES256', 'ec-1');
    const token = await signToken(key);
    const v = new InlineVerifier('node', 2);
    v.setKeySet({ issuer: iss, version: 1, keys: [key.jwk] });
    const results = await Promise.all([1, 2, 3].map(() => v.verify(token, iss, kAlgs)));
    assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.code)),
      ['ok', 'ok', 'IAM_AUTHN_VERIFIER_OVERLOADED']);
    assert.equal((await v.verify(token, iss, kAlgs)).ok, true, 'room again once answered');
  });

  test('an issuer without keys answers keys-unavailable, never queued', async () => {
    const v = new InlineVerifier('node');
    assert.deepEqual(await v.verify('a.b.c', 'https://unknown.test', kAlgs),
      { ok: false, code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
    assert.equal(v.inFlight, 0);
  });
});
