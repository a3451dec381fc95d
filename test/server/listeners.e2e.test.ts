/**
 * Listeners: TLS on the proxy listener, the admin API on its own address, a refused address
 * already in use, and balancing over several upstream addresses.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import https from 'node:https';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { PortcullisError } from '../../src/errors/index.js';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, oneService } from '../support/proxy-harness.js';

let upstreamA: RecordingUpstream;
let upstreamB: RecordingUpstream;

before(async () => {
  upstreamA = await startRecordingUpstream();
  upstreamB = await startRecordingUpstream();
});

after(async () => {
  await upstreamA?.close();
  await upstreamB?.close();
});

function selfSignedCert(): { cert: string; key: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-tls-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const cert = path.join(dir, 'cert.pem');
  const key = path.join(dir, 'key.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256',
    '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=localhost',
    '-addext', 'subjectAltName=DNS:localhost,IP:127.0.0.1'], { stdio: 'ignore' });
  return { cert, key };
}

describe('server/listeners', () => {
  test('the proxy listener serves TLS with the configured certificate', async () => {
    const { cert, key } = selfSignedCert();
    const proxy = await startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: 0, tls: { certFile: '${cert}', keyFile: '${key}' } }
  admin: { host: 127.0.0.1, port: 0 }
${oneService(upstreamA.port)}`);
    try {
      const status = await new Promise<number>((resolve, reject) => {
        https.get({ host: '127.0.0.1', port: proxy.port, path: '/tls', rejectUnauthorized: false,
          agent: false }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      });
      assert.equal(status, 200);
      assert.deepEqual(upstreamA.lastHeader('x-forwarded-proto'), ['https']);
    } finally {
      await proxy.stop();
    }
  });

  test('admin endpoints live on the admin listener only, and /config needs the admin token',
    async () => {
      process.env.PORTCULLIS_TEST_ADMIN_TOKEN = 'admin-secret-value';
      const proxy = await startTestProxy(`admin: { token: { env: PORTCULLIS_TEST_ADMIN_TOKEN } }
${oneService(upstreamA.port)}`);
      try {
        const admin = (p: string, h = ''): ReturnType<typeof rawRequest> =>
          rawRequest(proxy.adminPort, `GET ${p} HTTP/1.1\r\nHost: a\r\n${h}\r\n`);
        assert.equal((await admin('/healthz')).status, 200);
        const ready = await admin('/readyz');
        assert.equal(ready.status, 200);
        assert.equal((JSON.parse(ready.body.toString()) as { status: string }).status, 'ready');
        assert.equal((await admin('/config')).status, 401);
        assert.equal((await admin('/config', 'Authorization: Bearer wrong\r\n')).status, 401);
        const config = await admin('/config', 'Authorization: Bearer admin-secret-value\r\n');
        assert.equal(config.status, 200);
        assert.doesNotMatch(config.body.toString(), /admin-secret-value/);
        assert.match(config.body.toString(), /\[redacted\]/);
        // The proxy listener forwards /healthz to the service like any other path.
        const seen = upstreamA.requests.length;
        await rawRequest(proxy.port, 'GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n');
        assert.equal(upstreamA.requests.length, seen + 1);
      } finally {
        await proxy.stop();
      }
    });

  test('an address already in use is refused with IAM_SERVER_LISTEN_FAILED', async () => {
    const blocker = net.createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as net.AddressInfo).port;
    try {
      await assert.rejects(startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: ${port} }
  admin: { host: 127.0.0.1, port: 0 }
${oneService(upstreamA.port)}`), (err: unknown) =>
        err instanceof PortcullisError && err.code === 'IAM_SERVER_LISTEN_FAILED');
    } finally {
      blocker.close();
    }
  });

  test('round-robin spreads requests over every upstream address', async () => {
    const proxy = await startTestProxy(`services:
  - name: app
    access: public
    upstream: { addresses: ['127.0.0.1:${upstreamA.port}', '127.0.0.1:${upstreamB.port}'] }
`);
    try {
      const a0 = upstreamA.requests.length;
      const b0 = upstreamB.requests.length;
      for (let i = 0; i < 10; i++) {
        assert.equal((await rawRequest(proxy.port, `GET /rr/${i} HTTP/1.1\r\nHost: a\r\n\r\n`)).status, 200);
      }
      assert.equal(upstreamA.requests.length - a0, 5);
      assert.equal(upstreamB.requests.length - b0, 5);
    } finally {
      await proxy.stop();
    }
  });
});
