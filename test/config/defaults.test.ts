import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  ConfigLoadError, describeConfig, embeddedDefaultConfig, loadConfigText,
} from '../../src/config/index.js';

const kMinimal = `services:
  - name: web
    access: public
    upstream:
      addresses: ['127.0.0.1:3000']
`;

function isDeepFrozen(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return true;
  return Object.isFrozen(value) && Object.values(value).every(isDeepFrozen);
}

describe('config/defaults', () => {
  it('config/defaults every documented default is applied to a minimal file', async () => {
    const config = await loadConfigText(kMinimal, 'minimal.yaml', '/', {});
    assert.deepEqual(config.listeners, {
      proxy: { host: '127.0.0.1', port: 8080 },
      admin: { host: '127.0.0.1', port: 9901 },
    });
    assert.deepEqual(config.limits,
      { maxHeaderBytes: 16384, maxHeaderCount: 100, maxUrlBytes: 8192 });
    assert.deepEqual(config.routing,
      { slashes: 'merge', trustedProxies: [], requestIdHeader: 'x-request-id' });
    assert.deepEqual(config.shutdown, { drainTimeoutMs: 10000 });
    assert.deepEqual(config.log, { level: 'info' });
    assert.deepEqual(config.demo, { enabled: false, port: 8081 });
    assert.deepEqual(config.uws, { allowFallback: false });
    assert.deepEqual(config.admin, {});
    assert.deepEqual(config.services, [{
      name: 'web',
      hosts: ['*'],
      pathPrefix: '/',
      stripPrefix: false,
      access: 'public',
      maxBodyBytes: 10485760,
      login: false,
      identity: {
        headers: true, headerNames: {}, attributes: {}, forwardToken: false, internalJwt: false,
      },
      upstream: {
        addresses: ['127.0.0.1:3000'],
        balance: 'round-robin',
        maxConnections: 128,
        maxQueued: 1024,
        connectTimeoutMs: 2000,
        headersTimeoutMs: 30000,
        bodyTimeoutMs: 30000,
        idleTimeoutMs: 60000,
        failureCooldownMs: 2000,
      },
    }]);
  });

  it('config/defaults the loaded config is deeply frozen', async () => {
    const config = await loadConfigText(kMinimal, 'minimal.yaml', '/', {});
    assert.ok(isDeepFrozen(config));
  });

  it('config/defaults hosts and the request-id header are lower-cased', async () => {
    const yaml = `${kMinimal}    hosts: [API.Example.COM, '*.Example.org']\n` +
      'routing: { requestIdHeader: X-Trace-Id }\n';
    const config = await loadConfigText(yaml, 'case.yaml', '/', {});
    assert.deepEqual(config.services[0]?.hosts, ['api.example.com', '*.example.org']);
    assert.equal(config.routing.requestIdHeader, 'x-trace-id');
  });

  it('config/defaults the embedded default validates and routes only the demo', () => {
    const config = embeddedDefaultConfig();
    assert.deepEqual(config.listeners.proxy, { host: '127.0.0.1', port: 8080 });
    assert.deepEqual(config.listeners.admin, { host: '127.0.0.1', port: 9901 });
    assert.deepEqual(config.demo, { enabled: true, port: 8081 });
    assert.deepEqual(config.services.map((s) => [s.name, s.hosts, s.pathPrefix, s.access,
      s.stripPrefix, s.upstream.addresses]), [
      ['demo-public', ['*'], '/public', 'public', false, ['127.0.0.1:8081']],
      ['demo-private', ['*'], '/private', 'authenticated', false, ['127.0.0.1:8081']],
    ]);
    assert.ok(isDeepFrozen(config));
  });

  it('config/defaults the embedded default round-trips through describeConfig and the loader',
    async () => {
      const text = describeConfig(embeddedDefaultConfig());
      const again = await loadConfigText(text, 'described.yaml', '/', {});
      assert.deepEqual(again, embeddedDefaultConfig());
    });

  it('config/defaults embedded default port overrides are applied', () => {
    const config = embeddedDefaultConfig({ proxyPort: 0, adminPort: 0, demoPort: 40123 });
    assert.equal(config.listeners.proxy.port, 0);
    assert.equal(config.listeners.admin.port, 0);
    assert.equal(config.demo.port, 40123);
    assert.deepEqual(config.services[0]?.upstream.addresses, ['127.0.0.1:40123']);
  });

  it('config/defaults an out-of-range demo port override is IAM_CONFIG_INVALID', () => {
    // The routes point at the demo port, and an upstream address cannot use port 0.
    assert.throws(() => embeddedDefaultConfig({ demoPort: 0 }),
      (err: unknown) => err instanceof ConfigLoadError && err.code === 'IAM_CONFIG_INVALID');
  });
});
