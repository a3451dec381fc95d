/**
 * The identity provider going down: the proxy keeps serving with the last good keys (a failed
 * refresh never empties the key set), and readiness reports the degraded state per issuer.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { startTestIdp, type TestIdp } from '../support/oidc-provider.js';

let idp: TestIdp;
let upstream: RecordingUpstream;
let proxy: TestProxy;

interface Readiness {
  readonly status: string;
  readonly degraded: boolean;
  readonly issuers: Record<string, { lastError?: string; consecutiveFailures: number; version: number }>;
}

async function readiness(): Promise<Readiness> {
  const res = await rawRequest(proxy.adminPort, 'GET /readyz HTTP/1.1\r\nHost: a\r\n\r\n');
  assert.equal(res.status, 200);
  return JSON.parse(res.body.toString()) as Readiness;
}

before(async () => {
  idp = await startTestIdp({ accessTokenTtlSec: 300 });
  upstream = await startRecordingUpstream();
  // Refresh every 300 ms so that the outage shows within the test's time.
  proxy = await startTestProxy(`authn:
  issuers:
    - issuer: '${idp.issuer}'
      discovery: true
      audiences: ['${idp.audience}']
      refresh: { minMs: 300, maxMs: 300, fetchTimeoutMs: 500 }
services:
  - name: api
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
  await idp?.stop();
});

describe('server/idp-outage', () => {
  test('with the provider down, tokens still verify with the cached keys and readiness says degraded',
    async () => {
      const before = await readiness();
      assert.equal(before.degraded, false);
      assert.equal(before.issuers[idp.issuer]?.version, 1);

      const tokens = [await idp.clientCredentialsToken(), await idp.clientCredentialsToken()];
      await idp.stop();
      await new Promise((r) => setTimeout(r, 1200));

      const during = await readiness();
      assert.equal(during.status, 'ready', 'the instance keeps serving');
      assert.equal(during.degraded, true);
      assert.ok((during.issuers[idp.issuer]?.consecutiveFailures ?? 0) >= 1);
      assert.equal(typeof during.issuers[idp.issuer]?.lastError, 'string');
      assert.equal(during.issuers[idp.issuer]?.version, 1, 'the last good keys stay');

      // Neither token was seen by the proxy before: both need a signature check now.
      for (const token of tokens) {
        const res = await rawRequest(proxy.port,
          `GET /outage HTTP/1.1\r\nHost: a\r\nAuthorization: Bearer ${token}\r\n\r\n`);
        assert.equal(res.status, 200);
      }
    });
});
