/**
 * Identity headers from a principal: present fields only, and claim values that could break a
 * header (controls, non-byte characters, oversize) refuse rather than pass.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { principalFromClaims } from '../../src/authn/principal.js';
import { isReservedIdentityHeader } from '../../src/upstream/forward-headers.js';
import { identityHeaderPlan, identityHeaders } from '../../src/upstream/identity-headers.js';

const kGroups = { groupsClaims: ['groups'], attributeClaims: { tenant: 'org.tenant' } };

describe('upstream/identity-headers', () => {
  test('a full principal gives every header, in a fixed order', () => {
    const p = principalFromClaims('https://idp', { sub: 'u1', client_id: 'c1', scope: 'a b' }, 'k');
    assert.deepEqual(identityHeaders(p), [
      'x-portcullis-credential', 'jwt', 'x-portcullis-subject', 'u1',
      'x-portcullis-issuer', 'https://idp', 'x-portcullis-client-id', 'c1',
      'x-portcullis-scopes', 'a b',
    ]);
  });

  test('absent claims leave their header out', () => {
    const p = principalFromClaims('https://idp', {}, undefined);
    assert.deepEqual(identityHeaders(p), [
      'x-portcullis-credential', 'jwt', 'x-portcullis-issuer', 'https://idp',
    ]);
  });

  test('groups are percent-encoded and comma-joined, so spaces and commas stay unambiguous', () => {
    const p = principalFromClaims('https://idp', { groups: ['ops', 'CN=Admins,OU=IT', 'a b'] },
      undefined, 'jwt', kGroups);
    assert.deepEqual(identityHeaders(p)?.slice(-2), [
      'x-portcullis-groups', 'ops,CN%3DAdmins%2COU%3DIT,a%20b',
    ]);
  });

  test('a plan renames fields and sends chosen attributes under their own names', () => {
    const plan = identityHeaderPlan({ subject: 'x-user-id' }, { tenant: 'x-tenant-id' },
      isReservedIdentityHeader);
    const p = principalFromClaims('https://idp', { sub: 'u1', org: { tenant: 't9' } }, undefined,
      'jwt', kGroups);
    assert.deepEqual(identityHeaders(p, plan), [
      'x-portcullis-credential', 'jwt', 'x-user-id', 'u1', 'x-portcullis-issuer', 'https://idp',
      'x-tenant-id', 't9',
    ]);
  });

  test('names outside the reserved namespace become owned names; reserved ones do not', () => {
    const plan = identityHeaderPlan({ subject: 'user-id', issuer: 'x-user-issuer' },
      { tenant: 'tenant-id' }, isReservedIdentityHeader);
    assert.deepEqual([...plan.ownedNames].sort(), ['tenant-id', 'user-id']);
  });

  test('an attribute value with CR LF refuses like any claim', () => {
    const plan = identityHeaderPlan({}, { tenant: 'x-tenant' }, isReservedIdentityHeader);
    const p = principalFromClaims('https://idp', { tenant: 'a\r\nX-Evil: 1' }, undefined);
    assert.equal(identityHeaders(p, plan), undefined);
  });

  const kRefused: ReadonlyArray<readonly [string, Record<string, unknown>]> = [
    ['CR LF in sub would split the header block', { sub: 'a\r\nX-Injected: 1' }],
    ['a NUL truncates values in C upstreams', { sub: 'a\u0000b' }],
    ['a tab-free control character is still a control', { client_id: 'a\u0007' }],
    ['DEL is a control character', { sub: 'a\u007f' }],
    ['a character above 0xFF is not one byte', { sub: 'caf\u20ac' }],
    ['a 2 KB subject is refused, not cut', { sub: 'x'.repeat(2048) }],
  ];
  for (const [why, claims] of kRefused) {
    test(`refused: ${why}`, () => {
      const p = principalFromClaims('https://idp', claims, undefined);
      assert.equal(identityHeaders(p), undefined);
    });
  }

  test('a repeat request with the same principal reuses its frozen list; each plan has its own', () => {
    const p = principalFromClaims('https://idp', { sub: 'u1', tenant: 't1' }, undefined);
    const first = identityHeaders(p);
    assert.equal(identityHeaders(p), first, 'the same list, not rebuilt');
    assert.ok(Object.isFrozen(first));
    const renamed = identityHeaderPlan({ subject: 'x-user' }, {}, isReservedIdentityHeader);
    assert.equal(identityHeaders(p, renamed)?.[2], 'x-user');
    const bad = principalFromClaims('https://idp', { sub: 'a\r\nb' }, undefined);
    assert.equal(identityHeaders(bad), undefined);
    assert.equal(identityHeaders(bad), undefined, 'a refusal is remembered as a refusal');
  });
});
