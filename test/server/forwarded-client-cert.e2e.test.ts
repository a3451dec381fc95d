/**
 * X-Forwarded-Client-Cert from a front proxy (Envoy), end to end: believed only from
 * `authn.forwardedClientCert.trustedProxies`, where it names the caller (an `mtls` principal);
 * from any other peer ignored; never passed on to a service.
 *
 * threats.md rows covered here: "Spoofed identity or forwarded headers" (a client that is not a
 * trusted proxy cannot claim a certificate, and the upstream never sees the header), "Header
 * injection from certificate / claim data (CRLF)" (a forwarded name holding a control character
 * is refused).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { localIssuerYaml, startLocalIssuer, type LocalIssuer } from '../support/local-issuer.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { createTestPki } from '../support/test-pki.js';

const kHash = '468ed33be74eee6556d90c0149c1309e9ba61d6425303443c0748a02dd8de688';
const kPay = 'spiffe://mesh.acme/ns/pay/sa/api';
const kXfcc = `By=spiffe://mesh.acme/ns/edge/sa/envoy;Hash=${kHash};Subject="CN=pay-api,O=Acme";` +
  `URI=${kPay};DNS=api.pay.internal`;

let issuer: LocalIssuer;
let upstream: RecordingUpstream;
let trusting: TestProxy;
let distrusting: TestProxy;
let secure: { ca: Buffer; servername: string; cert: Buffer; key: Buffer };

before(async () => {
  const pki = createTestPki();
  const server = pki.leaf('server', 'localhost', 'DNS:localhost', 'serverAuth');
  const edge = pki.issue('edge', { san: 'URI:spiffe://mesh.acme/ns/edge/sa/envoy' });
  secure = { ca: readFileSync(pki.caCert), servername: 'localhost',
    cert: readFileSync(edge.cert), key: readFileSync(edge.key) };
  issuer = await startLocalIssuer();
  upstream = await startRecordingUpstream();
  const services = `services:
  - name: private
    pathPrefix: /private
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: site
    pathPrefix: /
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`;
  trusting = await startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls: { host: 127.0.0.1, port: 0, certFile: '${server.cert}', keyFile: '${server.key}',
          caFiles: ['${pki.caCert}'] }
authn:
  forwardedClientCert: { trustedProxies: ['127.0.0.0/8'] }
  issuers:
${localIssuerYaml(issuer)}${services}`);
  distrusting = await startTestProxy(`authn:
  forwardedClientCert: { trustedProxies: ['10.0.0.0/8', '::1'] }
${services}`);
});

after(async () => {
  await trusting?.stop();
  await distrusting?.stop();
  await upstream?.close();
});

function get(proxy: TestProxy, target: string, extra = ''): Promise<RawResponse> {
  return rawRequest(proxy.port, `GET ${target} HTTP/1.1\r\nHost: api.test\r\n${extra}\r\n`,
    { waitForCloseMs: 50 });
}

function seen(name: string): string[] {
  return upstream.lastHeader(name);
}

describe('server/forwarded-client-cert', () => {
  test('from a trusted proxy the header names the caller: an mtls principal with its SPIFFE ID',
    async () => {
      const res = await get(trusting, '/private/x', `X-Forwarded-Client-Cert: ${kXfcc}\r\n`);
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(seen('x-portcullis-credential'), ['mtls']);
      assert.deepEqual(seen('x-portcullis-subject'), [kPay]);
      assert.deepEqual(seen('x-portcullis-spiffe-id'), [kPay]);
      assert.deepEqual(seen('x-forwarded-client-cert'), [], 'the service never sees the header');
    });

  test('a token from a trusted proxy\'s caller keeps the forwarded certificate alongside',
    async () => {
      const token = await issuer.sign({ sub: 'alice' });
      const res = await get(trusting, '/private/x',
        `X-Forwarded-Client-Cert: ${kXfcc}\r\nAuthorization: Bearer ${token}\r\n`);
      assert.equal(res.status, 200, res.body.toString());
      assert.deepEqual(seen('x-portcullis-credential'), ['jwt']);
      assert.deepEqual(seen('x-portcullis-subject'), ['alice']);
      assert.deepEqual(seen('x-portcullis-spiffe-id'), [kPay]);
    });

  test('a malformed header from a trusted proxy refuses, public routes included', async () => {
    const before = upstream.requests.length;
    for (const target of ['/private/x', '/status']) {
      const res = await get(trusting, target,
        'X-Forwarded-Client-Cert: Hash=nothex;URI=spiffe://mesh.acme/x\r\n');
      assert.equal(res.status, 401);
      assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_FORWARDED_CERT_INVALID');
    }
    // A control character inside a quoted name (a tab gets past both HTTP parsers; CR and LF
    // do not even do that) refuses too.
    const tab = await get(trusting, '/private/x',
      `X-Forwarded-Client-Cert: Hash=${kHash};Subject="CN=a\tX-Evil: 1"\r\n`);
    assert.equal(tab.status, 401);
    assert.equal(tab.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_FORWARDED_CERT_INVALID');
    assert.equal(upstream.requests.length, before);
  });

  test('two header lines are one list: the last element, from the closest proxy, counts',
    async () => {
      const outer = `Hash=${'c'.repeat(64)};URI=spiffe://mesh.acme/ns/outside/sa/x`;
      const res = await get(trusting, '/private/x', `X-Forwarded-Client-Cert: ${outer}\r\n` +
        `X-Forwarded-Client-Cert: ${kXfcc}\r\n`);
      assert.equal(res.status, 200);
      assert.deepEqual(seen('x-portcullis-spiffe-id'), [kPay]);
    });

  test('from any other peer the header is ignored: no credential, and it is not forwarded',
    async () => {
      const denied = await get(distrusting, '/private/x', `X-Forwarded-Client-Cert: ${kXfcc}\r\n`);
      assert.equal(denied.status, 401);
      assert.equal(denied.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_REQUIRED');
      const open = await get(distrusting, '/status', `X-Forwarded-Client-Cert: ${kXfcc}\r\n`);
      assert.equal(open.status, 200);
      assert.deepEqual(seen('x-forwarded-client-cert'), []);
      assert.deepEqual(seen('x-portcullis-spiffe-id'), []);
    });

  test('on the mTLS listener a trusted proxy\'s header names its caller, not the proxy',
    async () => {
      const res = await rawRequest(trusting.mtlsPort as number, 'GET /private/x HTTP/1.1\r\n' +
        `Host: api.test\r\nX-Forwarded-Client-Cert: ${kXfcc}\r\n\r\n`, { tls: secure });
      assert.equal(res.status, 200);
      assert.deepEqual(seen('x-portcullis-spiffe-id'), [kPay]);
      const direct = await rawRequest(trusting.mtlsPort as number,
        'GET /private/x HTTP/1.1\r\nHost: api.test\r\n\r\n', { tls: secure });
      assert.equal(direct.status, 200);
      assert.deepEqual(seen('x-portcullis-spiffe-id'), ['spiffe://mesh.acme/ns/edge/sa/envoy'],
        'without the header the connection certificate counts');
    });
});
