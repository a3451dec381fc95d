/**
 * JwksSource against a real OpenID provider: `oidc-provider` (panva, v9) serving discovery and
 * its JWKS on loopback. The package is a dev dependency; it is imported dynamically so this file
 * compiles without its type declarations, and the suite skips with a reason if the package is
 * missing, except under CI, where a missing provider is a failure.
 */
import assert from 'node:assert/strict';
import { type Server, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { JwksSource } from '../../src/authn/jwks-source.js';
import { makeRsaKey } from './jwks-test-server.js';

const kProviderModule = 'oidc-provider';

interface ProviderModule {
  default: new (issuer: string, config: Record<string, unknown>) => {
    callback(): (req: unknown, res: unknown) => void;
  };
}

async function loadProvider(): Promise<ProviderModule | undefined> {
  try {
    // A variable specifier keeps tsc from requiring the package's types at build time.
    return (await import(kProviderModule)) as ProviderModule;
  } catch (err) {
    if (process.env['CI']) throw err;
    return undefined;
  }
}

const kModule = await loadProvider();
const kSkip = kModule === undefined ? 'oidc-provider is not installed (npm install)' : false;

describe('authn/jwks-oidc', { skip: kSkip }, () => {
  const key = makeRsaKey('oidc-rsa-1');
  let server: Server;
  let issuer: string;
  let jwksHits = 0;

  before(async () => {
    assert.ok(kModule);
    // The issuer URL must be known before the provider exists, so bind the port first.
    server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const provider = new kModule.default(issuer, {
      jwks: { keys: [key.privateJwk] },
      cookies: { keys: ['jwks-oidc-test-cookie-key'] },
    });
    const handle = provider.callback();
    server.on('request', (req: { url?: string }, res: unknown) => {
      if (req.url?.startsWith('/jwks') === true) jwksHits++;
      handle(req, res);
    });
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  test('authn/jwks-oidc discovery: issuer, jwks_uri, then the public provider key', async () => {
    const source = new JwksSource({ issuer, discovery: issuer });
    try {
      await source.start();
      const keys = source.current()?.keys ?? [];
      assert.deepEqual(keys.map((k) => k.kid), ['oidc-rsa-1']);
      assert.equal(keys[0]?.n, key.publicJwk.n);
      assert.equal(keys[0]?.d, undefined);
      assert.equal(source.status().version, 1);
    } finally {
      source.stop();
    }
  });

  test('authn/jwks-oidc issuer mismatch: an issuer the provider does not claim fails', async () => {
    const configured = `${issuer}/`;
    const source = new JwksSource({ issuer: configured, discovery: issuer });
    try {
      await assert.rejects(source.start(), { code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
      assert.equal(source.status().lastError, 'issuer_mismatch');
    } finally {
      source.stop();
    }
  });

  test('authn/jwks-oidc unknown kid: five callers, one refetch, kid stays unknown', async () => {
    const source = new JwksSource({ issuer, discovery: issuer, minRefetchIntervalMs: 60_000 });
    try {
      await source.start();
      const before = jwksHits;
      const calls = Array.from({ length: 5 }, () => source.refreshForUnknownKid('nope'));
      const results = await Promise.all(calls);
      assert.deepEqual(results, [false, false, false, false, false]);
      assert.equal(jwksHits - before, 1);
      assert.equal(source.status().consecutiveFailures, 0);
    } finally {
      source.stop();
    }
  });
});
