/**
 * What a service learns about its caller, end to end: groups from a nested claim path,
 * attributes from a mapped claim, identity headers renamed out of the reserved namespace, and
 * the client's own copies of those names removed (the `_` spelling is covered in
 * test/upstream/forward-headers.test.ts: uWS drops such requests first), so the upstream sees
 * exactly one value and it is the proxy's.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

const kIssuer = 'https://identity-issuer.test';
let upstream: RecordingUpstream;
let proxy: TestProxy;
let sign: (claims: Record<string, unknown>) => Promise<string>;

before(async () => {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-identity-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const jwk = { ...(await exportJWK(publicKey)), kid: 'id-1', alg: 'ES256', use: 'sig' };
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'id-1' })
    .setIssuer(kIssuer).setExpirationTime('10m').sign(privateKey);

  upstream = await startRecordingUpstream();
  const yaml = `authn:
  issuers:
    - issuer: '${kIssuer}'
      jwksFile: '${path.join(dir, 'jwks.json')}'
      groupsClaims: [realm_access.roles, groups]
      attributeClaims: { tenant: org.tenant }
services:
  - name: renamed
    pathPrefix: /renamed
    access: authenticated
    identity:
      headerNames: { subject: user-id, groups: user-groups }
      attributes: { tenant: tenant-id }
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: defaults
    pathPrefix: /defaults
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: open
    pathPrefix: /open
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`;
  proxy = await startTestProxy(yaml);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

/** Sends a GET with `extra` header lines and returns the headers the upstream received. */
async function forwarded(target: string, extra: string): Promise<Map<string, string[]>> {
  const before = upstream.requests.length;
  const head = `GET ${target} HTTP/1.1\r\nHost: api.test\r\n${extra}\r\n`;
  const res = await rawRequest(proxy.port, head);
  assert.equal(res.status, 200, res.body.toString());
  assert.equal(upstream.requests.length, before + 1);
  const raw = upstream.requests[before]?.rawHeaders ?? [];
  const out = new Map<string, string[]>();
  for (let i = 0; i < raw.length; i += 2) {
    const name = (raw[i] as string).toLowerCase();
    out.set(name, [...(out.get(name) ?? []), raw[i + 1] as string]);
  }
  return out;
}

const kClaims = {
  sub: 'alice', realm_access: { roles: ['admin', 'ops team'] }, groups: ['ops team', 'billing'],
  org: { tenant: 'acme' }, tenant: 'top-level-ignored',
};

describe('server/identity-propagation e2e', () => {
  test('renamed headers carry the principal and the client copies are gone', async () => {
    const token = await sign(kClaims);
    const seen = await forwarded('/renamed/x', `Authorization: Bearer ${token}\r\n` +
      'User-Id: mallory\r\nUser-ID: mallory\r\nTenant-Id: evil\r\nUser-Groups: root\r\n');
    assert.deepEqual(seen.get('user-id'), ['alice']);
    assert.deepEqual(seen.get('tenant-id'), ['acme']);
    assert.deepEqual(seen.get('user-groups'), ['admin,ops%20team,billing']);
    assert.equal(seen.get('x-portcullis-subject'), undefined);
    assert.deepEqual(seen.get('x-portcullis-credential'), ['jwt']);
    assert.equal(seen.get('authorization'), undefined);
  });

  test('a service with default names sends groups under x-portcullis-groups, no attributes',
    async () => {
      const token = await sign(kClaims);
      const seen = await forwarded('/defaults/x', `Authorization: Bearer ${token}\r\n`);
      assert.deepEqual(seen.get('x-portcullis-subject'), ['alice']);
      assert.deepEqual(seen.get('x-portcullis-groups'), ['admin,ops%20team,billing']);
      assert.equal(seen.get('tenant-id'), undefined);
    });

  test('a renamed name means nothing on another service: it passes there as sent', async () => {
    const seen = await forwarded('/open/x', 'Tenant-Id: someone\r\n');
    assert.deepEqual(seen.get('tenant-id'), ['someone']);
  });

  test('a tenant claim holding CR LF refuses the request before the upstream', async () => {
    const token = await sign({ ...kClaims, org: { tenant: 'a\r\nx-injected: 1' } });
    const before = upstream.requests.length;
    const res = await rawRequest(proxy.port,
      `GET /renamed/x HTTP/1.1\r\nHost: api.test\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    assert.equal(res.status, 401);
    assert.deepEqual(res.headers.get('x-portcullis-error'), ['IAM_AUTHN_CLAIM_INVALID']);
    assert.equal(upstream.requests.length, before);
  });
});
