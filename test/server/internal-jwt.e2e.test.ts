/**
 * Internal JWTs: a service that opts in receives a token signed by the proxy, verifiable with the
 * JWKS on the admin listener, for its own audience and this request only. A client cannot send
 * its own (the x-portcullis- namespace is stripped on the way in).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createLocalJWKSet, exportJWK, generateKeyPair, jwtVerify, SignJWT, type JWK } from 'jose';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

let upstream: RecordingUpstream;
let proxy: TestProxy;
let token: string;
const kIssuer = 'https://portcullis.internal.test';

before(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-internal-jwt-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const signing = generateKeyPairSync('ed25519');
  writeFileSync(path.join(dir, 'proxy.pem'),
    signing.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);

  // An inbound issuer whose key the test holds.
  const inbound = await generateKeyPair('ES256');
  const jwk = { ...(await exportJWK(inbound.publicKey)), kid: 'in-1', alg: 'ES256', use: 'sig' };
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  token = await new SignJWT({ client_id: 'app-1', scope: 'orders:read' })
    .setProtectedHeader({ alg: 'ES256', kid: 'in-1' }).setIssuer('https://idp.test')
    .setSubject('alice').setAudience('api').setExpirationTime('10m').sign(inbound.privateKey);

  upstream = await startRecordingUpstream();
  proxy = await startTestProxy(`internalJwt:
  issuer: ${kIssuer}
  signingKey: { file: '${path.join(dir, 'proxy.pem')}' }
  ttlSec: 30
authn:
  issuers:
    - issuer: https://idp.test
      jwksFile: '${path.join(dir, 'jwks.json')}'
      audiences: [api]
services:
  - name: orders
    pathPrefix: /orders
    access: authenticated
    identity: { internalJwt: true }
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: plain
    pathPrefix: /plain
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

async function jwks(): Promise<{ keys: JWK[] }> {
  const res = await rawRequest(proxy.adminPort,
    'GET /.well-known/jwks.json HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(res.status, 200);
  return JSON.parse(res.body.toString()) as { keys: JWK[] };
}

describe('server/internal-jwt', () => {
  test('the service gets a proxy-signed JWT for its audience and this request', async () => {
    const res = await rawRequest(proxy.port, `GET /orders/7 HTTP/1.1\r\nHost: a\r\n` +
      `Authorization: Bearer ${token}\r\nX-Portcullis-Jwt: forged.by.client\r\n\r\n`);
    assert.equal(res.status, 200);
    const sent = upstream.lastHeader('x-portcullis-jwt');
    assert.equal(sent.length, 1, 'exactly one internal JWT, the client copy was removed');

    const { payload, protectedHeader } = await jwtVerify(sent[0]!, createLocalJWKSet(await jwks()),
      { issuer: kIssuer, audience: 'orders', algorithms: ['EdDSA'] });
    assert.equal(protectedHeader.alg, 'EdDSA');
    assert.equal(payload.sub, 'alice');
    assert.equal(payload.client_id, 'app-1');
    assert.equal(payload.scope, 'orders:read');
    assert.equal(payload.principal_issuer, 'https://idp.test');
    assert.equal(payload.request_id, res.headers.get('x-request-id')?.[0]);
    assert.equal((payload.exp ?? 0) - (payload.iat ?? 0), 30);
  });

  test('a service that did not opt in gets no internal JWT', async () => {
    const res = await rawRequest(proxy.port,
      `GET /plain/x HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\n\r\n`);
    assert.equal(res.status, 200);
    assert.deepEqual(upstream.lastHeader('x-portcullis-jwt'), []);
  });

  test('the JWKS holds one public signing key and no private member', async () => {
    const { keys } = await jwks();
    assert.equal(keys.length, 1);
    assert.equal(keys[0]?.use, 'sig');
    assert.equal(typeof keys[0]?.kid, 'string');
    assert.equal(keys[0]?.d, undefined);
  });
});
