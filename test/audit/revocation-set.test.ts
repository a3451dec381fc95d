/**
 * The revocation set the request path reads: each kind matches its principal field, issuer
 * scoping, expiry, merge of duplicates, and strict parsing of revocations from outside.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { principalFromClaims } from '../../src/authn/index.js';
import { parseRevocation, type Revocation, RevocationSet } from '../../src/audit/index.js';

const kNow = 1_800_000_000;
const alice = principalFromClaims('https://idp.test',
  { sub: 'alice', sid: 's1', jti: 't1', client_id: 'web', exp: kNow + 600 }, 'k1');

function revocation(r: Partial<Revocation> & Pick<Revocation, 'kind' | 'value'>): Revocation {
  return { issuer: null, expiresAtSec: kNow + 60, revokedAtMs: kNow * 1000, reason: null, ...r };
}

describe('audit/revocation-set', () => {
  const cases: Array<[string, Partial<Revocation> & Pick<Revocation, 'kind' | 'value'>, boolean]> = [
    ['a subject revocation matches the sub claim', { kind: 'subject', value: 'alice' }, true],
    ['a session revocation matches sid', { kind: 'session', value: 's1' }, true],
    ['a token revocation matches jti', { kind: 'token', value: 't1' }, true],
    ['a client revocation matches client_id', { kind: 'client', value: 'web' }, true],
    ['another subject does not match', { kind: 'subject', value: 'bob' }, false],
    ['a value of one kind does not match another kind', { kind: 'token', value: 's1' }, false],
    ['an issuer-scoped revocation matches that issuer',
      { kind: 'subject', value: 'alice', issuer: 'https://idp.test' }, true],
    ['an issuer-scoped revocation ignores other issuers',
      { kind: 'subject', value: 'alice', issuer: 'https://other.test' }, false],
  ];
  for (const [why, r, expected] of cases) {
    test(why, () => {
      const set = new RevocationSet();
      set.add(revocation(r), kNow);
      assert.equal(set.match(alice, kNow) !== undefined, expected);
    });
  }

  test('an empty set matches nothing and costs one comparison', () => {
    assert.equal(new RevocationSet().match(alice), undefined);
  });

  test('a revocation ends at expiresAtSec and is dropped then', () => {
    const set = new RevocationSet();
    set.add(revocation({ kind: 'subject', value: 'alice', expiresAtSec: kNow + 10 }), kNow);
    assert.ok(set.match(alice, kNow + 9));
    assert.equal(set.match(alice, kNow + 10), undefined);
    assert.equal(set.size, 0);
  });

  test('an already expired revocation is not added', () => {
    const set = new RevocationSet();
    assert.equal(set.add(revocation({ kind: 'token', value: 't1', expiresAtSec: kNow }), kNow), false);
    assert.equal(set.size, 0);
  });

  test('the same revocation twice keeps the later expiry, counted once', () => {
    const set = new RevocationSet();
    set.add(revocation({ kind: 'token', value: 't1', expiresAtSec: kNow + 100 }), kNow);
    set.add(revocation({ kind: 'token', value: 't1', expiresAtSec: kNow + 50 }), kNow);
    assert.equal(set.size, 1);
    assert.equal(set.list(kNow)[0]?.expiresAtSec, kNow + 100);
  });

  test('remove lifts exactly one identity', () => {
    const set = new RevocationSet();
    set.add(revocation({ kind: 'subject', value: 'alice' }), kNow);
    set.add(revocation({ kind: 'subject', value: 'alice', issuer: 'https://idp.test' }), kNow);
    assert.equal(set.remove('subject', null, 'alice'), true);
    assert.ok(set.match(alice, kNow), 'the issuer-scoped one still applies');
    assert.equal(set.size, 1);
  });

  const bad: Array<[string, unknown]> = [
    ['not an object', 'subject:alice'],
    ['an unknown kind', { ...revocation({ kind: 'subject', value: 'a' }), kind: 'user' }],
    ['an empty value', revocation({ kind: 'subject', value: '' })],
    ['a missing issuer field (null must be explicit)',
      { kind: 'subject', value: 'a', expiresAtSec: 1, revokedAtMs: 1, reason: null }],
    ['a non-numeric expiry', { ...revocation({ kind: 'subject', value: 'a' }), expiresAtSec: 'soon' }],
    ['a reason over 200 characters', revocation({ kind: 'subject', value: 'a', reason: 'x'.repeat(201) })],
  ];
  for (const [why, value] of bad) {
    test(`parseRevocation refuses ${why}`, () => assert.equal(parseRevocation(value), undefined));
  }
  test('parseRevocation accepts a well-formed revocation', () => {
    assert.deepEqual(parseRevocation(revocation({ kind: 'client', value: 'web' })),
      revocation({ kind: 'client', value: 'web' }));
  });

  test('a replica fed every change notice ends up holding the same revocations', () => {
    const main = new RevocationSet();
    const replica = new RevocationSet();
    main.onChange((change) => replica.apply(structuredClone(change)));
    main.add(revocation({ kind: 'subject', value: 'alice' }), kNow);
    main.add(revocation({ kind: 'token', value: 't9' }), kNow);
    main.remove('token', null, 't9');
    assert.deepEqual(replica.list(kNow), main.list(kNow));
    main.replace([revocation({ kind: 'client', value: 'web' })], kNow);
    assert.deepEqual(replica.list(kNow), main.list(kNow));
    assert.equal(replica.match(alice, kNow)?.kind, 'client');
  });

  test('an add that changes nothing (an earlier expiry) sends no notice', () => {
    const set = new RevocationSet();
    const notices: string[] = [];
    set.onChange((change) => notices.push(change.op));
    set.add(revocation({ kind: 'subject', value: 'alice', expiresAtSec: kNow + 100 }), kNow);
    set.add(revocation({ kind: 'subject', value: 'alice', expiresAtSec: kNow + 50 }), kNow);
    set.remove('subject', null, 'nobody');
    assert.deepEqual(notices, ['add']);
  });
});
