/**
 * Inbound mutual TLS, end to end: the node:https listener (listeners.mtls) in front of the same
 * request path as the uWS listener, with certificates made by openssl in the test.
 *
 * threats.md rows covered here: "Header injection from certificate / claim data (CRLF)" (SAN
 * with CR LF refused before any header exists), "Spoofed identity or forwarded headers" (a
 * client's own x-portcullis-spiffe-id never reaches the upstream).
 */
import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { byRequestId, readRecords } from '../support/audit-files.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { createTestPki, type Leaf, type TestPki } from '../support/test-pki.js';

const kIssuer = 'https://mtls-issuer.test';
const kSpiffe = 'spiffe://prod.acme/ns/pay/sa/api';
const kAdminToken = 'mtls-listener-admin-token';

let pki: TestPki;
let foreignPki: TestPki;
const leaves: Record<string, Leaf> = {};
let upstream: RecordingUpstream;
let proxy: TestProxy;
let sign: (claims: Record<string, unknown>) => Promise<string>;
let auditFile = '';

before(async () => {
  pki = createTestPki();
  foreignPki = createTestPki();
  const hour = 3_600_000;
  leaves.server = pki.leaf('server', 'localhost', 'DNS:localhost,IP:127.0.0.1', 'serverAuth');
  leaves.spiffe = pki.issue('spiffe', { subject: ['O=Acme', 'CN=pay-api'],
    san: `URI:${kSpiffe},DNS:pay-api.internal` });
  leaves.plain = pki.issue('plain', { subject: ['O=Acme', 'CN=batch'] });
  leaves.twoIds = pki.issue('two-ids', { san: 'URI:spiffe://a.acme/one,URI:spiffe://a.acme/two' });
  leaves.crlf = pki.issue('crlf', { san: 'URI:spiffe://a.acme/x\\r\\nx-portcullis-subject: root' });
  leaves.expired = pki.issue('expired', {
    notBefore: new Date(Date.now() - 3 * hour), notAfter: new Date(Date.now() - hour),
  });
  leaves.future = pki.issue('future', {
    notBefore: new Date(Date.now() + hour), notAfter: new Date(Date.now() + 3 * hour),
  });
  leaves.foreign = foreignPki.issue('foreign', { san: `URI:${kSpiffe}` });
  leaves.revoked = pki.issue('revoked', { san: `URI:${kSpiffe}` });
  leaves.batchJob = pki.issue('batch-job', { san: 'URI:spiffe://prod.acme/ns/batch/sa/nightly' });
  pki.revoke(leaves.revoked);
  const crlFile = pki.crl();

  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-mtls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const jwk = { ...(await exportJWK(publicKey)), kid: 'm-1', alg: 'ES256', use: 'sig' };
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  sign = (claims) => new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'm-1' })
    .setIssuer(kIssuer).setExpirationTime('10m').sign(privateKey);

  upstream = await startRecordingUpstream();
  auditFile = path.join(dir, 'audit.log');
  process.env.MTLS_TEST_ADMIN_TOKEN = kAdminToken;
  proxy = await startTestProxy(`audit:
  sink: file
  file: { path: '${auditFile}' }
admin: { token: { env: MTLS_TEST_ADMIN_TOKEN } }
listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls:
    host: 127.0.0.1
    port: 0
    certFile: '${leaves.server.cert}'
    keyFile: '${leaves.server.key}'
    caFiles: ['${pki.caCert}']
    crlFile: '${crlFile}'
authn:
  issuers:
    - issuer: '${kIssuer}'
      jwksFile: '${path.join(dir, 'jwks.json')}'
services:
  - name: private
    pathPrefix: /private
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: site
    pathPrefix: /
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

/** TLS options presenting `leaf` (or no certificate) and trusting the proxy's server cert. */
function client(leaf: Leaf | undefined): tls.ConnectionOptions {
  return {
    ca: readFileSync(pki.caCert), servername: 'localhost',
    ...(leaf === undefined ? {} : { cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) }),
  };
}

async function send(leaf: Leaf | undefined, head: string): Promise<RawResponse> {
  return rawRequest(proxy.mtlsPort as number, head, { tls: client(leaf), waitForCloseMs: 100 });
}

/** The last upstream request's value of `name`, or undefined. */
function seen(name: string): string | undefined {
  return upstream.lastHeader(name)[0];
}

describe('server/mtls-listener', () => {
  test('a trusted client certificate is the principal: SPIFFE ID, issuer DN, credential mtls',
    async () => {
      const before = upstream.requests.length;
      const res = await send(leaves.spiffe, 'GET /private/orders HTTP/1.1\r\nHost: api.test\r\n' +
        'X-Portcullis-Spiffe-Id: spiffe://evil/admin\r\n\r\n');
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(upstream.requests.length, before + 1);
      assert.equal(upstream.requests.at(-1)?.url, '/private/orders');
      assert.equal(seen('x-portcullis-credential'), 'mtls');
      assert.equal(seen('x-portcullis-subject'), kSpiffe);
      assert.deepEqual(upstream.lastHeader('x-portcullis-spiffe-id'), [kSpiffe],
        'exactly one copy, the proxy\'s');
      assert.equal(seen('x-portcullis-issuer'), 'CN=portcullis-test-ca');
      assert.equal(seen('x-forwarded-proto'), 'https');
    });

  test('without a SPIFFE ID the subject DN names the caller', async () => {
    const res = await send(leaves.plain, 'GET /private/x HTTP/1.1\r\nHost: api.test\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(seen('x-portcullis-subject'), 'CN=batch,O=Acme');
    assert.equal(seen('x-portcullis-spiffe-id'), undefined);
  });

  test('a bearer token names the principal and the certificate rides along', async () => {
    const token = await sign({ sub: 'alice' });
    const res = await send(leaves.spiffe, 'GET /private/both HTTP/1.1\r\nHost: api.test\r\n' +
      `Authorization: Bearer ${token}\r\n\r\n`);
    assert.equal(res.status, 200, res.body.toString());
    assert.equal(seen('x-portcullis-credential'), 'jwt');
    assert.equal(seen('x-portcullis-subject'), 'alice');
    assert.equal(seen('x-portcullis-spiffe-id'), kSpiffe);
    assert.equal(seen('authorization'), undefined, 'the token is not forwarded by default');
  });

  test('a bad bearer token is refused even with a good certificate (no fallback)', async () => {
    const before = upstream.requests.length;
    const token = await sign({ sub: 'alice' });
    const res = await send(leaves.spiffe, 'GET /private/x HTTP/1.1\r\nHost: api.test\r\n' +
      `Authorization: Bearer ${token.slice(0, -4)}AAAA\r\n\r\n`);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_SIGNATURE_INVALID');
    assert.equal(upstream.requests.length, before);
  });

  test('another Authorization scheme is no credential: the certificate is; the header stays out',
    async () => {
      const res = await send(leaves.spiffe, 'GET /private/basic HTTP/1.1\r\nHost: api.test\r\n' +
        'Authorization: Basic dXNlcjpwYXNz\r\n\r\n');
      assert.equal(res.status, 200, res.body.toString());
      assert.equal(seen('x-portcullis-credential'), 'mtls');
      assert.equal(seen('authorization'), undefined);
    });

  test('a revoked SPIFFE ID is refused on its next request (IAM_AUTHN_REVOKED)', async () => {
    const head = 'GET /private/x HTTP/1.1\r\nHost: api.test\r\n\r\n';
    assert.equal((await send(leaves.batchJob, head)).status, 200);
    const revoked = await fetch(`http://127.0.0.1:${proxy.adminPort}/revocations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${kAdminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ kind: 'subject', value: 'spiffe://prod.acme/ns/batch/sa/nightly' }),
    });
    assert.ok(revoked.status === 201 || revoked.status === 202, String(revoked.status));
    const before = upstream.requests.length;
    const res = await send(leaves.batchJob, head);
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_REVOKED');
    assert.equal(upstream.requests.length, before);
  });

  test('public routes forward without identity headers, as on the proxy listener', async () => {
    const res = await send(leaves.spiffe, 'GET /status HTTP/1.1\r\nHost: api.test\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(seen('x-portcullis-credential'), undefined);
  });

  const kRefusedInHandshake: ReadonlyArray<readonly [string, string]> = [
    ['foreign', 'a certificate from a CA that is not in caFiles'],
    ['expired', 'an expired certificate'],
    ['future', 'a certificate that is not valid yet'],
    ['revoked', 'a certificate on the CRL (crlFile)'],
    ['none', 'no certificate at all'],
  ];
  for (const [name, why] of kRefusedInHandshake) {
    test(`${why} fails the TLS handshake; nothing is forwarded`, async () => {
      const before = upstream.requests.length;
      const res = await send(name === 'none' ? undefined : leaves[name],
        'GET /private/x HTTP/1.1\r\nHost: api.test\r\n\r\n');
      assert.equal(res.status, 0);
      assert.equal(res.isClosed, true);
      assert.equal(upstream.requests.length, before);
    });
  }

  const kRefusedNames: ReadonlyArray<readonly [string, string, string]> = [
    ['twoIds', 'IAM_AUTHN_CERTIFICATE_AMBIGUOUS', 'two SPIFFE IDs: the caller is ambiguous'],
    ['crlf', 'IAM_AUTHN_CERTIFICATE_INVALID', 'a SAN with CR LF could inject a header'],
  ];
  for (const [name, code, why] of kRefusedNames) {
    test(`${why}: 401 ${code}, public routes included, nothing forwarded`, async () => {
      const before = upstream.requests.length;
      for (const target of ['/private/x', '/status']) {
        const res = await send(leaves[name], `GET ${target} HTTP/1.1\r\nHost: api.test\r\n\r\n`);
        assert.equal(res.status, 401);
        assert.equal(res.headers.get('x-portcullis-error')?.[0], code);
        assert.equal(res.headers.get('www-authenticate'), undefined, 'no Bearer challenge');
        assert.equal(res.isClosed, true);
      }
      assert.equal(upstream.requests.length, before);
    });
  }

  test('the audit record names the mTLS listener and the certificate fingerprint', async () => {
    const id = 'mtls-audit-1';
    const res = await send(leaves.spiffe, `GET /private/audited HTTP/1.1\r\nHost: api.test\r\n` +
      `X-Request-Id: ${id}\r\n\r\n`);
    assert.equal(res.status, 200);
    let record;
    for (let i = 0; i < 100 && record === undefined; i++) {
      await new Promise((r) => setTimeout(r, 30));
      record = byRequestId(readRecords(auditFile)).get(id);
    }
    assert.ok(record !== undefined, 'the record was written');
    const der = new X509Certificate(readFileSync(leaves.spiffe!.cert)).raw;
    assert.equal(record.listener, 'mtls');
    assert.equal(record.principal?.kind, 'mtls');
    assert.equal(record.principal?.subject, kSpiffe);
    assert.equal(record.principal?.certificateSha256,
      createHash('sha256').update(der).digest('hex'));
  });

  test('the proxy listener (uWS) still needs a token: no certificate reaches it', async () => {
    const res = await rawRequest(proxy.port, 'GET /private/x HTTP/1.1\r\nHost: api.test\r\n\r\n');
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_REQUIRED');
  });
});

describe('server/mtls-listener expiry', () => {
  test('a certificate that expires while its connection stays open refuses the next request',
    async () => {
      const short = pki.issue('short', { san: `URI:${kSpiffe}`,
        notBefore: new Date(Date.now() - 60_000), notAfter: new Date(Date.now() + 2500) });
      const socket = tls.connect({ ...client(short), port: proxy.mtlsPort as number,
        host: '127.0.0.1' });
      let received = '';
      let isClosed = false;
      socket.on('data', (d: Buffer) => {
        received += d.toString('latin1');
      });
      socket.on('close', () => {
        isClosed = true;
      });
      const until = async (done: () => boolean): Promise<void> => {
        for (let i = 0; i < 250 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
      };
      socket.write('GET /private/early HTTP/1.1\r\nHost: api.test\r\n\r\n');
      // The recording upstream answers chunked: the first response ends with the last chunk.
      await until(() => received.endsWith('0\r\n\r\n'));
      assert.match(received, /^HTTP\/1\.1 200 /);
      await new Promise((r) => setTimeout(r, 3200));
      const first = received.length;
      socket.write('GET /private/late HTTP/1.1\r\nHost: api.test\r\n\r\n');
      await until(() => isClosed);
      socket.destroy();
      const late = received.slice(first);
      assert.match(late, /^HTTP\/1\.1 401 /);
      assert.match(late, /x-portcullis-error: IAM_AUTHN_CERTIFICATE_EXPIRED/);
      assert.equal(isClosed, true, 'the connection is closed after the refusal');
      assert.equal(upstream.requests.some((r) => r.url === '/private/late'), false);
    });
});

describe('server/mtls-listener start-up', () => {
  test('a caFiles entry without a certificate refuses to start (IAM_SERVER_LISTEN_FAILED)',
    async () => {
      const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-mtls-ca-'));
      process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
      const notCa = path.join(dir, 'not-a-ca.pem');
      writeFileSync(notCa, 'this file holds no certificate\n');
      await assert.rejects(startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls: { host: 127.0.0.1, port: 0, certFile: '${leaves.server!.cert}',
          keyFile: '${leaves.server!.key}', caFiles: ['${pki.caCert}', '${notCa}'] }
services:
  - name: site
    access: public
    upstream: { addresses: ['127.0.0.1:1'] }
`), (err: unknown) => {
        assert.equal((err as { code?: string }).code, 'IAM_SERVER_LISTEN_FAILED');
        return true;
      });
    });
});

describe('server/mtls-listener without token issuers', () => {
  test('the certificate alone authenticates; a bearer token nobody can verify is refused',
    async () => {
      const bare = await startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls: { host: 127.0.0.1, port: 0, certFile: '${leaves.server!.cert}',
          keyFile: '${leaves.server!.key}', caFiles: ['${pki.caCert}'] }
services:
  - name: private
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
      try {
        const head = 'GET /x HTTP/1.1\r\nHost: api.test\r\n';
        const tlsOptions = { tls: client(leaves.spiffe), waitForCloseMs: 50 };
        const alone = await rawRequest(bare.mtlsPort as number, `${head}\r\n`, tlsOptions);
        assert.equal(alone.status, 200);
        assert.equal(seen('x-portcullis-subject'), kSpiffe);
        const withToken = await rawRequest(bare.mtlsPort as number,
          `${head}Authorization: Bearer abc.def.ghi\r\n\r\n`, tlsOptions);
        assert.equal(withToken.status, 401);
        assert.equal(withToken.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_ISSUER_UNKNOWN');
        const plain = await rawRequest(bare.port, `${head}\r\n`);
        assert.equal(plain.status, 401);
        assert.equal(plain.headers.get('x-portcullis-error')?.[0], 'IAM_AUTHN_REQUIRED');
      } finally {
        await bare.stop();
      }
    });
});
