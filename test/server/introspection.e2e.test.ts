/**
 * Opaque access tokens through RFC 7662 introspection at a real oidc-provider: an active token
 * becomes an `opaque` principal, an unknown one is refused as inactive, and an unreachable
 * endpoint is a 503 (fail closed), with nothing forwarded in either refusal. The proxy is a
 * confidential client there (threats.md, "Client authentication gaps in OAuth endpoints"): with
 * a wrong secret the provider refuses it, and a good token is still never taken as active.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort } from '../support/free-port.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';

let idp: TestIdp;
let upstream: RecordingUpstream;
let proxy: TestProxy;
let deadEndpointProxy: TestProxy;
let wrongSecretProxy: TestProxy;

const service = (port: number): string => `services:
  - name: api
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${port}'] }
`;

before(async () => {
  idp = await startTestIdp();
  upstream = await startRecordingUpstream();
  process.env.PORTCULLIS_TEST_INTROSPECTION_SECRET = idp.clientSecret('svc-a');
  proxy = await startTestProxy(`authn:
  issuers:
    - issuer: '${idp.issuer}'
      discovery: true
      audiences: ['${idp.audience}']
      introspection:
        endpoint: '${idp.introspectionEndpoint}'
        clientId: svc-a
        clientSecret: { env: PORTCULLIS_TEST_INTROSPECTION_SECRET }
${service(upstream.port)}`);
  // An introspection-only issuer (no key source) whose endpoint nobody listens on.
  deadEndpointProxy = await startTestProxy(`authn:
  issuers:
    - issuer: 'https://unreachable-idp.test'
      introspection:
        endpoint: 'http://127.0.0.1:${await freePort()}/introspect'
        clientId: svc-a
        clientSecret: { env: PORTCULLIS_TEST_INTROSPECTION_SECRET }
      refresh: { fetchTimeoutMs: 500 }
${service(upstream.port)}`);
  process.env.PORTCULLIS_TEST_WRONG_SECRET = 'not-the-svc-a-secret';
  wrongSecretProxy = await startTestProxy(`authn:
  issuers:
    - issuer: '${idp.issuer}'
      discovery: true
      introspection:
        endpoint: '${idp.introspectionEndpoint}'
        clientId: svc-a
        clientSecret: { env: PORTCULLIS_TEST_WRONG_SECRET }
${service(upstream.port)}`);
});

after(async () => {
  await proxy?.stop();
  await deadEndpointProxy?.stop();
  await wrongSecretProxy?.stop();
  await upstream?.close();
  await idp?.stop();
});

function get(port: number, path: string, token: string): Promise<RawResponse> {
  return rawRequest(port,
    `GET ${path} HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\n\r\n`);
}

describe('server/introspection e2e', () => {
  test('an active opaque token is accepted, twice, as an opaque principal', async () => {
    const token = await idp.opaqueToken('svc-a');
    for (let i = 0; i < 2; i++) {
      const res = await get(proxy.port, `/opaque/${i}`, token);
      assert.equal(res.status, 200);
      assert.deepEqual(upstream.lastHeader('x-portcullis-credential'), ['opaque']);
      assert.deepEqual(upstream.lastHeader('x-portcullis-client-id'), ['svc-a']);
      assert.deepEqual(upstream.lastHeader('x-portcullis-scopes'), ['read write']);
      assert.deepEqual(upstream.lastHeader('authorization'), []);
    }
  });

  test('JWT access tokens keep working next to introspection', async () => {
    const res = await get(proxy.port, '/jwt', await idp.clientCredentialsToken());
    assert.equal(res.status, 200);
    assert.deepEqual(upstream.lastHeader('x-portcullis-credential'), ['jwt']);
  });

  test('an opaque token the issuer does not know: 401 IAM_AUTHN_TOKEN_INACTIVE', async () => {
    const seen = upstream.requests.length;
    for (let i = 0; i < 2; i++) {
      const res = await get(proxy.port, '/unknown', 'opaque-token-nobody-issued');
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_TOKEN_INACTIVE');
    }
    assert.equal(upstream.requests.length, seen);
  });

  test('with a wrong client secret a genuine active token fails closed: 503, not active',
    async () => {
      const token = await idp.opaqueToken('svc-a');
      const seen = upstream.requests.length;
      const res = await get(wrongSecretProxy.port, '/wrong-secret', token);
      assert.equal(res.status, 503);
      assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_INTROSPECTION_FAILED');
      assert.equal(upstream.requests.length, seen);
      // The same token through the correctly configured proxy is active: only the secret
      // differs.
      assert.equal((await get(proxy.port, '/right-secret', token)).status, 200);
    });

  test('an unreachable introspection endpoint fails closed: 503', async () => {
    const seen = upstream.requests.length;
    const res = await get(deadEndpointProxy.port, '/x', 'some-opaque-token');
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_INTROSPECTION_FAILED');
    assert.equal(upstream.requests.length, seen);
  });
});
