/**
 * Threats.md, "Unauthenticated side doors": nothing skips authentication because of who the
 * caller says it is (health-checker User-Agents), and the admin API (health, readiness, metrics,
 * sessions, revocations, bundle push, feed, dashboard, JWKS) lives only on the admin listener:
 * on the proxy listener those paths are ordinary paths that the policy decides, and the admin
 * listener never forwards anything to a service.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest, type RawResponse } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

const kAdminToken = 'side-doors-admin-token-41b7';
let upstream: RecordingUpstream;
let proxy: TestProxy;

before(async () => {
  upstream = await startRecordingUpstream();
  process.env.SIDE_DOORS_ADMIN = kAdminToken;
  proxy = await startTestProxy(`admin:
  token: { env: SIDE_DOORS_ADMIN }
services:
  - name: api
    pathPrefix: /
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

function get(port: number, path: string, extra = ''): Promise<RawResponse> {
  return rawRequest(port, `GET ${path} HTTP/1.1\r\nHost: api.test\r\n${extra}\r\n`);
}

const kAdminPaths = ['/healthz', '/readyz', '/metrics', '/config', '/sessions', '/revocations',
  '/policy/bundle', '/dashboard', '/feed', '/.well-known/jwks.json'];

describe('server/side-doors e2e', () => {
  const kAgents = ['kube-probe/1.30', 'GoogleHC/1.0', 'ELB-HealthChecker/2.0',
    'Prometheus/2.53.0', 'Consul Health Check', 'Envoy/HC'];
  for (const agent of kAgents) {
    test(`User-Agent "${agent}" gets the same 401 as anyone without a credential`, async () => {
      const seen = upstream.requests.length;
      const res = await get(proxy.port, '/health', `User-Agent: ${agent}\r\n`);
      assert.equal(res.status, 401);
      assert.deepEqual(res.headers.get('x-portcullis-error'), ['IAM_AUTHN_REQUIRED']);
      assert.equal(upstream.requests.length, seen);
    });
  }

  for (const path of kAdminPaths) {
    test(`${path} on the proxy listener is a service path the policy refuses, not the admin API`,
      async () => {
        const res = await get(proxy.port, path, `Authorization: Bearer ${kAdminToken}\r\n`);
        // The admin token is no bearer JWT of any issuer: refused as a credential.
        assert.equal(res.status, 401, `${path}: ${res.body.toString()}`);
        assert.doesNotMatch(res.body.toString(), /portcullis_|"ready"|"keys"|<html/i);
      });
  }

  test('the admin listener answers its own paths and forwards nothing', async () => {
    const seen = upstream.requests.length;
    const ready = await get(proxy.adminPort, '/readyz');
    assert.equal(ready.status, 200);
    for (const path of ['/api/orders', '/', '/health']) {
      const res = await get(proxy.adminPort, path, `Authorization: Bearer ${kAdminToken}\r\n`);
      assert.equal(res.status, 404, path);
    }
    assert.equal(upstream.requests.length, seen);
  });

  test('admin endpoints that need the admin token refuse a caller without it', async () => {
    for (const path of ['/config', '/sessions', '/revocations', '/metrics']) {
      const res = await get(proxy.adminPort, path);
      assert.ok(res.status === 401 || res.status === 403, `${path}: ${res.status}`);
    }
  });
});
