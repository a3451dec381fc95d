/**
 * Identity headers from a principal: present fields only, and claim values that could break a
 * header (controls, non-byte characters, oversize) refuse rather than pass.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { principalFromClaims } from '../../src/authn/principal.js';
import { identityHeaders } from '../../src/upstream/identity-headers.js';

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
      assert.equal(identityHeaders(principalFromClaims('https://idp', claims, undefined)), undefined);
    });
  }
});
