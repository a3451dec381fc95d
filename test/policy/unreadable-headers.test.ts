/**
 * The headers policy conditions may not read are exactly the ones the proxy strips from clients
 * (plus the credentials): the two lists live apart (src/policy must not import the proxy), so
 * this test holds them together over every name either side knows of, in both spellings.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isReadableHeader } from '../../src/policy/check.js';
import { isReservedIdentityHeader } from '../../src/upstream/index.js';

const kNames = [
  'forwarded', 'x-real-ip', 'x-request-id', 'true-client-ip', 'remote-user', 'x-email', 'x-jwt',
  'x-id-token', 'x-access-token', 'x-principal', 'x-subject', 'x-groups', 'x-roles', 'x-scopes',
  'x-tenant', 'x-spiffe-id', 'x-ssl-client-cert', 'ssl-client-cert', 'x-forwarded-for',
  'x-auth-request-user', 'x-authenticated-userid', 'x-portcullis-subject', 'x-user', 'x-user-id',
  'x-remote-user', 'x-client-cert', 'x-original-uri', 'x-envoy-original-path', 'x-rewrite-url',
  'x-env', 'x-export-format', 'accept', 'user-agent', 'x-team', 'content-type',
];

describe('policy/unreadable-headers', () => {
  test('a header is unreadable by policy exactly when the proxy strips it from clients', () => {
    for (const name of [...kNames, ...kNames.map((n) => n.replaceAll('-', '_'))]) {
      assert.equal(isReadableHeader(name), !isReservedIdentityHeader(name), name);
    }
  });

  test('credentials are unreadable too', () => {
    for (const name of ['authorization', 'proxy-authorization', 'cookie']) {
      assert.equal(isReadableHeader(name), false, name);
    }
  });
});
