/**
 * Outbound TLS: a request over TLS to a loopback node:https upstream with a throwaway
 * self-signed certificate (made with the openssl CLI; the test skips when it is missing).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { UpstreamPool } from '../../src/upstream/index.js';
import { fetchOnce, kTestPool } from './harness.js';

/** A self-signed certificate for `localhost`, or null when openssl is not installed. */
function selfSigned(): { key: Buffer; cert: Buffer } | null {
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-upstream-tls-'));
  try {
    const made = spawnSync('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
      '-days', '1',
      '-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost',
      '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
    ], { stdio: 'ignore', timeout: 10_000 });
    if (made.status !== 0) return null;
    return { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) };
  } catch {
    return null;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const kPair = selfSigned();

const kSkip = kPair === null ? 'openssl not installed' : false;

test('upstream/socket-open tls', { timeout: 10_000, skip: kSkip }, async () => {
  const pair = kPair!;
  const server = createServer(
    { key: pair.key, cert: pair.cert }, (_req, res) => res.end('over tls'),
  );
  let accepted = 0;
  server.on('secureConnection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = { host: '127.0.0.1', port: (server.address() as AddressInfo).port };
  try {
    const trusting = new UpstreamPool(
      { ...kTestPool, address, tls: { ca: pair.cert, servername: 'localhost' } },
    );
    const first = await fetchOnce(trusting);
    const second = await fetchOnce(trusting);
    assert.equal(
      first.body.toString(), 'over tls', 'the certificate verifies against the configured CA',
    );
    assert.equal(second.status, 200);
    assert.equal(accepted, 1, 'the TLS connection is kept alive and reused');
    await trusting.close();

    const untrusting = new UpstreamPool(
      { ...kTestPool, address, tls: { servername: 'localhost' } },
    );
    const refused = await fetchOnce(untrusting);
    assert.equal(
      refused.error,
      'IAM_UPSTREAM_CONNECT_FAILED',
      'an unknown issuer fails the handshake: certificates are checked by default',
    );
    await untrusting.close();

    const wrongName = new UpstreamPool(
      { ...kTestPool, address, tls: { ca: pair.cert, servername: 'other.test' } },
    );
    assert.equal(
      (await fetchOnce(wrongName)).error, 'IAM_UPSTREAM_CONNECT_FAILED', 'the name is checked too',
    );
    await wrongName.close();
  } finally {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
});
