/**
 * Unit cases for the upstream header list: hop-by-hop and Connection-named headers, reserved
 * identity headers in every spelling, and the trusted-proxy rule for X-Forwarded-*.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  buildUpstreamHeaders, isReservedIdentityHeader, TrustedProxies,
} from '../../src/upstream/forward-headers.js';

const base = {
  host: 'app.test', remoteAddress: '192.0.2.10', proto: 'http' as const, requestId: 'rid-1',
  requestIdHeader: 'x-request-id',
};

function values(flat: readonly string[], name: string): string[] {
  const out: string[] = [];
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === name) out.push(flat[i + 1]!);
  return out;
}

describe('upstream/forward-headers', () => {
  const kReserved: ReadonlyArray<readonly [string, boolean, string]> = [
    ['x-user', true, 'the plain identity header is reserved'],
    ['x_user', true, 'the underscore spelling normalises to the same name'],
    ['x-user-email', true, 'every x-user* name is reserved'],
    ['x-auth-request-user', true, 'oauth2-proxy style headers are reserved'],
    ['x_forwarded_for', true, 'forwarding headers in underscore spelling are reserved'],
    ['x-forwarded-client-cert', true, "Envoy's client-cert header is reserved"],
    ['x-envoy-original-path', true, 'Envoy internal headers are reserved'],
    ['forwarded', true, 'RFC 7239 Forwarded is reserved'],
    ['x-portcullis-anything', true, "the proxy's own namespace is reserved"],
    ['accept', false, 'ordinary end-to-end headers pass'],
    ['x-userland', true, 'prefix matching errs on the safe side for x-user*'],
    ['authorization', false, 'credentials are handled by the authn stage, not stripped here'],
  ];
  for (const [name, expected, why] of kReserved) {
    test(`isReservedIdentityHeader(${name}) is ${expected}: ${why}`, () => {
      assert.equal(isReservedIdentityHeader(name), expected);
    });
  }

  test('proxy headers are appended once, after client copies are removed', () => {
    const out = buildUpstreamHeaders({ ...base, headers: [
      'host', 'evil', 'x-forwarded-for', '1.1.1.1', 'x-request-id', 'client-id', 'accept', '*/*',
    ] }, new TrustedProxies([]));
    assert.deepEqual(values(out, 'host'), ['app.test']);
    assert.deepEqual(values(out, 'x-forwarded-for'), ['192.0.2.10']);
    assert.deepEqual(values(out, 'x-request-id'), ['rid-1']);
    assert.deepEqual(values(out, 'accept'), ['*/*']);
  });

  test('Connection-named headers go, but cannot remove what the proxy sets', () => {
    const out = buildUpstreamHeaders({ ...base, headers: [
      'connection', 'close, X-Forwarded-For, x-custom', 'x-custom', '1', 'x-keep', '2',
    ] }, new TrustedProxies([]));
    assert.deepEqual(values(out, 'x-custom'), []);
    assert.deepEqual(values(out, 'x-keep'), ['2']);
    assert.deepEqual(values(out, 'connection'), []);
    assert.deepEqual(values(out, 'x-forwarded-for'), ['192.0.2.10']);
  });

  test('a trusted peer keeps its X-Forwarded-For chain, joined over repeated headers', () => {
    const out = buildUpstreamHeaders({ ...base, headers: [
      'x-forwarded-for', '203.0.113.1', 'x-forwarded-for', '198.51.100.2',
      'x-forwarded-proto', 'https',
    ] }, new TrustedProxies(['192.0.2.0/24']));
    assert.deepEqual(values(out, 'x-forwarded-for'), ['203.0.113.1, 198.51.100.2, 192.0.2.10']);
    assert.deepEqual(values(out, 'x-forwarded-proto'), ['https']);
  });

  test('TrustedProxies matches CIDRs and single addresses of both families', () => {
    const trusted = new TrustedProxies(['10.0.0.0/8', '2001:db8::/32', '192.0.2.7']);
    assert.equal(trusted.has('10.1.2.3'), true);
    assert.equal(trusted.has('11.0.0.1'), false);
    assert.equal(trusted.has('2001:db8::1'), true);
    assert.equal(trusted.has('2001:db9::1'), false);
    assert.equal(trusted.has('192.0.2.7'), true);
    assert.equal(trusted.has('192.0.2.8'), false);
  });

  test('dropAuthorization removes the token; identity headers come last', () => {
    const out = buildUpstreamHeaders({ ...base, dropAuthorization: true,
      identity: ['x-portcullis-subject', 'alice'],
      headers: ['authorization', 'Bearer t', 'accept', '*/*'] }, new TrustedProxies([]));
    assert.deepEqual(values(out, 'authorization'), []);
    assert.deepEqual(out.slice(-2), ['x-portcullis-subject', 'alice']);
  });

  test('owned names (renamed identity headers) are removed in every _/- spelling', () => {
    const out = buildUpstreamHeaders({ ...base, ownedNames: new Set(['user-id']),
      identity: ['user-id', 'alice'],
      headers: ['user-id', 'mallory', 'user_id', 'mallory', 'accept', '*/*'] },
    new TrustedProxies([]));
    assert.deepEqual(values(out, 'user-id'), ['alice']);
    assert.deepEqual(values(out, 'user_id'), []);
    assert.deepEqual(values(out, 'accept'), ['*/*']);
  });

  test('without dropAuthorization the Authorization header passes unchanged', () => {
    const out = buildUpstreamHeaders({ ...base, headers: ['authorization', 'Bearer t'] },
      new TrustedProxies([]));
    assert.deepEqual(values(out, 'authorization'), ['Bearer t']);
  });
});
