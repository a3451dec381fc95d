/**
 * Principals from verified claims: groups from configured claim paths, attributes from scalar
 * claims and configured paths, the session and token ids, and the bounds that keep a large or
 * hostile claim set from growing a principal without limit.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  kMaxAttributeLength, kMaxAttributes, kMaxGroups, principalFromClaims, type PrincipalRules,
} from '../../src/authn/index.js';

const kIssuer = 'https://idp.test';

function rules(groupsClaims: string[], attributeClaims: Record<string, string> = {}):
  PrincipalRules {
  return { groupsClaims, attributeClaims };
}

function principal(claims: Record<string, unknown>, r: PrincipalRules = rules([])) {
  return principalFromClaims(kIssuer, claims, 'kid-1', 'jwt', r);
}

describe('authn/principal groups', () => {
  const kCases: ReadonlyArray<{ why: string; claims: Record<string, unknown>; paths: string[];
    expect: string[] }> = [
    { why: 'an array claim gives its strings in order', claims: { groups: ['a', 'b'] },
      paths: ['groups'], expect: ['a', 'b'] },
    { why: 'a space-separated string claim is split like scope', claims: { roles: 'x y' },
      paths: ['roles'], expect: ['x', 'y'] },
    { why: 'a nested path (Keycloak realm roles) is walked', claims: { realm_access:
      { roles: ['admin'] } }, paths: ['realm_access.roles'], expect: ['admin'] },
    { why: 'a namespaced top-level name with dots is used as written (Auth0 style)',
      claims: { 'https://example.com/roles': ['ops'] }, paths: ['https://example.com/roles'],
      expect: ['ops'] },
    { why: 'several paths merge, duplicates kept once', claims: { groups: ['a', 'b'],
      roles: ['b', 'c'] }, paths: ['groups', 'roles'], expect: ['a', 'b', 'c'] },
    { why: 'non-string entries and empty names are skipped', claims: { groups: ['a', 7, '', null] },
      paths: ['groups'], expect: ['a'] },
    { why: 'a number or object at the path gives no groups', claims: { groups: { a: 1 } },
      paths: ['groups'], expect: [] },
    { why: 'a path through __proto__ never reaches a prototype', claims: JSON.parse(
      '{"a":{}}') as Record<string, unknown>, paths: ['a.__proto__.toString'], expect: [] },
    { why: 'no configured path means no groups, whatever the claims', claims: { groups: ['a'] },
      paths: [], expect: [] },
  ];
  for (const c of kCases) {
    test(c.why, () => {
      assert.deepEqual([...principal(c.claims, rules(c.paths)).groups], c.expect);
    });
  }

  test(`at most ${kMaxGroups} groups are kept`, () => {
    const many = Array.from({ length: kMaxGroups + 10 }, (_, i) => `g${i}`);
    assert.equal(principal({ groups: many }, rules(['groups'])).groups.length, kMaxGroups);
  });
});

describe('authn/principal attributes', () => {
  test('top-level strings, numbers and booleans become text; registered claims do not', () => {
    const p = principal({ sub: 'u1', iss: kIssuer, exp: 9, jti: 'j', scope: 'a', tenant: 't1',
      level: 3, verified: true, nested: { a: 1 }, list: ['x'] });
    assert.deepEqual({ ...p.attributes }, { tenant: 't1', level: '3', verified: 'true' });
  });

  test('a configured path adds a nested claim and wins over a top-level one', () => {
    const p = principal({ tenant: 'top', org: { tenant: 'nested' }, dept: 'd' },
      rules([], { tenant: 'org.tenant', unit: 'dept' }));
    assert.deepEqual({ ...p.attributes }, { tenant: 'nested', dept: 'd', unit: 'd' });
  });

  test('a configured path that finds nothing removes a same-named top-level value', () => {
    const p = principal({ tenant: 'spoofable' }, rules([], { tenant: 'org.tenant' }));
    assert.equal(p.attributes.tenant, undefined);
  });

  test(`a value longer than ${kMaxAttributeLength} characters is left out, not cut`, () => {
    const p = principal({ long: 'x'.repeat(kMaxAttributeLength + 1), short: 'ok' });
    assert.deepEqual({ ...p.attributes }, { short: 'ok' });
  });

  test(`at most ${kMaxAttributes} attributes come from top-level claims`, () => {
    const claims = Object.fromEntries(Array.from({ length: 50 }, (_, i) => [`c${i}`, 'v']));
    assert.equal(Object.keys(principal(claims).attributes).length, kMaxAttributes);
  });

  test('a claim named __proto__ is an ordinary attribute and pollutes nothing', () => {
    const claims = JSON.parse('{"__proto__":"x","constructor":"y"}') as Record<string, unknown>;
    const p = principal(claims);
    assert.equal(p.attributes.__proto__, 'x');
    assert.equal(p.attributes.constructor, 'y');
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });
});

describe('authn/principal ids and immutability', () => {
  test('sid and jti become the session and token ids; kind, issuer and key id are kept', () => {
    const p = principal({ sub: 'u', sid: 's-1', jti: 't-1', azp: 'web' });
    assert.equal(p.sessionId, 's-1');
    assert.equal(p.tokenId, 't-1');
    assert.equal(p.clientId, 'web');
    assert.equal(p.kind, 'jwt');
    assert.equal(p.issuer, kIssuer);
    assert.equal(p.keyId, 'kid-1');
    assert.equal(p.certificate, undefined);
  });

  test('the principal and its arrays are frozen, and later claim changes do not reach it', () => {
    const claims: Record<string, unknown> = { groups: ['a'], tenant: 't' };
    const p = principal(claims, rules(['groups']));
    (claims.groups as string[]).push('b');
    claims.tenant = 'changed';
    assert.deepEqual([...p.groups], ['a']);
    assert.equal(p.attributes.tenant, 't');
    assert.ok(Object.isFrozen(p) && Object.isFrozen(p.groups) && Object.isFrozen(p.attributes));
  });
});
