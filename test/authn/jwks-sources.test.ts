import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { JwksSources } from '../../src/authn/jwks-sources.js';
import { type JwksTestServer, makeEcKey, startJwksServer } from './jwks-test-server.js';

describe('authn/jwks-sources', () => {
  let server: JwksTestServer;
  before(async () => {
    server = await startJwksServer();
    server.routes.set('/a', { body: { keys: [makeEcKey('a1')] } });
    server.routes.set('/b', { body: { keys: [makeEcKey('b1')] } });
    server.routes.set('/down', { status: 503 });
  });
  after(() => server.close());

  test('authn/jwks-sources lookup: an issuer string reaches only its own source', async () => {
    const sources = new JwksSources([
      { issuer: 'https://a.test', jwksUrl: `${server.baseUrl}/a` },
      { issuer: 'https://b.test', jwksUrl: `${server.baseUrl}/b` },
    ]);
    try {
      await sources.startAll();
      assert.deepEqual(sources.issuers(), ['https://a.test', 'https://b.test']);
      assert.deepEqual(sources.current('https://a.test')?.keys.map((k) => k.kid), ['a1']);
      assert.deepEqual(sources.current('https://b.test')?.keys.map((k) => k.kid), ['b1']);
      assert.equal(sources.get('https://a.test/'), undefined, 'a trailing slash is another issuer');
      assert.equal(sources.get('HTTPS://A.TEST'), undefined, 'issuers are compared exactly');
      assert.equal(sources.status()['https://b.test']?.version, 1);
    } finally {
      sources.stopAll();
    }
  });

  test('authn/jwks-sources startAll: one issuer without keys fails the whole start', async () => {
    const sources = new JwksSources([
      { issuer: 'https://a.test', jwksUrl: `${server.baseUrl}/a` },
      { issuer: 'https://down.test', jwksUrl: `${server.baseUrl}/down` },
    ]);
    await assert.rejects(sources.startAll(), { code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
    assert.equal(sources.status()['https://down.test']?.lastError, 'status');
  });

  test('authn/jwks-sources config: the same issuer twice is a configuration error', () => {
    const twice = { issuer: 'https://a.test', jwksUrl: `${server.baseUrl}/a` };
    assert.throws(() => new JwksSources([twice, twice]), { code: 'IAM_CONFIG_INVALID' });
  });
});
