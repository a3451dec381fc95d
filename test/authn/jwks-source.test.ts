import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import type { JWK } from 'jose';
import { JwksSource, type JwksSourceOptions } from '../../src/authn/jwks-source.js';
import type { IssuerKeySet } from '../../src/authn/key-set.js';
import {
  type JwksTestServer,
  type Route,
  makeEcKey,
  makeRsaKey,
  sleep,
  startJwksServer,
  waitFor,
} from './jwks-test-server.js';

const kIssuer = 'https://issuer.test';
const kKeyA = makeEcKey('key-a');
const kKeyB = makeEcKey('key-b');

/** A JWKS route answering `keys` with the given Cache-Control header. */
function jwks(keys: readonly unknown[], cacheControl = 'max-age=0'): Route {
  return { body: { keys }, headers: { 'cache-control': cacheControl } };
}

function kids(source: JwksSource): (string | undefined)[] | undefined {
  return source.current()?.keys.map((k: JWK) => k.kid);
}

describe('authn/jwks-source', () => {
  let server: JwksTestServer;
  const sources: JwksSource[] = [];
  const make = (opts: Record<string, unknown>): JwksSource => {
    const source = new JwksSource({
      issuer: kIssuer,
      jwksUrl: `${server.baseUrl}/jwks`,
      minRefreshMs: 60_000,
      fetchTimeoutMs: 1_000,
      ...opts,
    } as JwksSourceOptions);
    sources.push(source);
    return source;
  };
  const hitsSince = (start: number) => (): number => server.hits('/jwks') - start;

  before(async () => {
    server = await startJwksServer();
  });
  afterEach(() => {
    for (const source of sources.splice(0)) source.stop();
    server.routes.clear();
  });
  after(() => server.close());

  test('authn/jwks-source max-age=0: clamped up to minRefreshMs, refreshes repeat', async () => {
    server.routes.set('/jwks', jwks([kKeyA], 'max-age=0'));
    const fetches = hitsSince(server.hits('/jwks'));
    await make({ minRefreshMs: 30, maxRefreshMs: 10_000 }).start();
    assert.ok(await waitFor(() => fetches() >= 4, 2_000));
  });

  test('authn/jwks-source max-age=3600: no refresh happens before it is due', async () => {
    server.routes.set('/jwks', jwks([kKeyA], 'max-age=3600'));
    const fetches = hitsSince(server.hits('/jwks'));
    await make({ minRefreshMs: 20, maxRefreshMs: 3_600_000 }).start();
    await sleep(300);
    assert.equal(fetches(), 1);
  });

  test('authn/jwks-source max-age=3600 maxRefreshMs=40: clamped down, it refreshes', async () => {
    server.routes.set('/jwks', jwks([kKeyA], 'max-age=3600'));
    const fetches = hitsSince(server.hits('/jwks'));
    await make({ minRefreshMs: 20, maxRefreshMs: 40 }).start();
    assert.ok(await waitFor(() => fetches() >= 3, 2_000));
  });

  const kFailures: readonly { why: string; route: Route; error: string }[] = [
    { why: 'a 500 keeps the last good keys', route: { status: 500, body: 'x' }, error: 'status' },
    {
      why: 'a stalled server times out and the keys stay',
      route: { delayMs: 2_000, body: { keys: [kKeyB] } },
      error: 'timeout',
    },
    {
      why: 'an oversize body is cut off and the keys stay',
      route: { body: { keys: [kKeyB], pad: 'x'.repeat(8_000) } },
      error: 'too_large',
    },
    { why: 'invalid JSON keeps the keys', route: { body: '{"keys":' }, error: 'invalid_json' },
    { why: 'a document without keys keeps the keys', route: { body: {} }, error: 'invalid_jwks' },
    {
      why: 'a set with no usable key keeps the keys rather than emptying the set',
      route: jwks([{ kty: 'oct', k: 'AA' }]),
      error: 'no_usable_keys',
    },
  ];
  for (const { why, route, error } of kFailures) {
    test(`authn/jwks-source refresh failure error=${error}: ${why}`, async () => {
      server.routes.set('/jwks', jwks([kKeyA]));
      const source = make({
        minRefreshMs: 30,
        backoffBaseMs: 10,
        fetchTimeoutMs: 100,
        maxBytes: 4_096,
      });
      await source.start();
      const good = source.current();
      server.routes.set('/jwks', route);

      assert.ok(await waitFor(() => source.status().consecutiveFailures >= 2, 2_000));
      const status = source.status();
      assert.equal(status.lastError, error);
      assert.equal(status.version, 1);
      assert.equal(source.current(), good);
      assert.deepEqual(kids(source), ['key-a']);
    });
  }

  test('authn/jwks-source recovery: a success after failures clears the error', async () => {
    server.routes.set('/jwks', jwks([kKeyA]));
    const source = make({ minRefreshMs: 30, backoffBaseMs: 10 });
    await source.start();
    server.routes.set('/jwks', { status: 503 });
    assert.ok(await waitFor(() => source.status().consecutiveFailures >= 1, 2_000));

    server.routes.set('/jwks', jwks([kKeyA]));
    assert.ok(await waitFor(() => source.status().consecutiveFailures === 0, 2_000));
    assert.equal(source.status().lastError, undefined);
    assert.equal(source.status().version, 1);
  });

  test('authn/jwks-source rotation: new keys bump the version and fire onChange once', async () => {
    server.routes.set('/jwks', jwks([kKeyA]));
    const source = make({ minRefreshMs: 30 });
    const seen: IssuerKeySet[] = [];
    source.onChange((ks) => seen.push(ks));
    await source.start();

    server.routes.set('/jwks', jwks([kKeyB, kKeyA]));
    assert.ok(await waitFor(() => seen.length >= 2, 2_000));
    await sleep(150);
    assert.deepEqual(seen.map((ks) => ks.version), [1, 2]);
    assert.deepEqual(seen[1]?.keys.map((k) => k.kid), ['key-b', 'key-a']);
    assert.equal(seen[1]?.issuer, kIssuer);
  });

  test('authn/jwks-source same keys reformatted: equal digest, the version stays', async () => {
    server.routes.set('/jwks', jwks([kKeyA, kKeyB]));
    const source = make({ minRefreshMs: 30 });
    await source.start();

    const reversed = Object.fromEntries(Object.entries(kKeyA).reverse());
    const fetches = hitsSince(server.hits('/jwks'));
    server.routes.set('/jwks', jwks([kKeyB, reversed]));
    assert.ok(await waitFor(() => fetches() >= 3, 2_000));
    assert.equal(source.status().version, 1);
  });

  test('authn/jwks-source unknown kid: 20 callers share one refetch, then none', async () => {
    server.routes.set('/jwks', { body: { keys: [kKeyA] }, delayMs: 50 });
    const source = make({ minRefetchIntervalMs: 60_000 });
    const fetches = hitsSince(server.hits('/jwks'));
    await source.start();
    assert.equal(fetches(), 1);
    server.routes.set('/jwks', { body: { keys: [kKeyA, kKeyB] }, delayMs: 50 });

    const ask = (kid: string): Promise<boolean[]> =>
      Promise.all(Array.from({ length: 20 }, () => source.refreshForUnknownKid(kid)));
    assert.deepEqual(new Set(await ask('key-b')), new Set([true]));
    assert.equal(fetches(), 2);

    assert.deepEqual(new Set(await ask('key-c')), new Set([false]));
    assert.equal(fetches(), 2, 'the second unknown kid falls inside the interval');
    assert.equal(await source.refreshForUnknownKid('key-a'), true);
    assert.equal(fetches(), 2, 'a known kid never fetches');
  });

  test('authn/jwks-source filtering: enc, oct, private-member keys are left out', async () => {
    const rsa = makeRsaKey('rsa-private');
    const oct = { kty: 'oct', kid: 'h', k: 'c2VjcmV0' };
    server.routes.set('/jwks', jwks([{ ...kKeyB, use: 'enc' }, oct, rsa.privateJwk, kKeyA]));
    const source = make({});
    await source.start();
    assert.deepEqual(source.current()?.keys, [kKeyA]);
  });

  test('authn/jwks-source first load failure: start rejects, keys unavailable', async () => {
    server.routes.set('/jwks', { status: 500 });
    const source = make({});
    await assert.rejects(source.start(), { code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
    assert.equal(source.current(), undefined);
    assert.equal(source.status().lastError, 'status');
  });

  test('authn/jwks-source discovery: the jwks_uri of a matching issuer is used', async () => {
    const issuer = `${server.baseUrl}/realm`;
    server.routes.set('/realm/.well-known/openid-configuration', {
      body: { issuer, jwks_uri: `${server.baseUrl}/certs` },
    });
    server.routes.set('/certs', jwks([kKeyB]));
    const source = make({ issuer, jwksUrl: undefined, discovery: issuer });
    await source.start();
    assert.deepEqual(kids(source), ['key-b']);
  });

  const kBadDiscovery: readonly { why: string; doc: (base: string) => unknown; error: string }[] = [
    {
      why: 'a different issuer in the document is refused',
      doc: (b) => ({ issuer: `${b}/other`, jwks_uri: `${b}/certs` }),
      error: 'issuer_mismatch',
    },
    {
      why: 'a trailing-slash issuer is a different issuer',
      doc: (b) => ({ issuer: `${b}/realm/`, jwks_uri: `${b}/certs` }),
      error: 'issuer_mismatch',
    },
    {
      why: 'a file: jwks_uri is never fetched',
      doc: (b) => ({ issuer: `${b}/realm`, jwks_uri: 'file:///etc/passwd' }),
      error: 'discovery_invalid',
    },
    {
      why: 'a missing jwks_uri is refused',
      doc: (b) => ({ issuer: `${b}/realm` }),
      error: 'discovery_invalid',
    },
  ];
  for (const { why, doc, error } of kBadDiscovery) {
    test(`authn/jwks-source discovery error=${error}: ${why}`, async () => {
      const issuer = `${server.baseUrl}/realm`;
      server.routes.set('/realm/.well-known/openid-configuration', { body: doc(server.baseUrl) });
      server.routes.set('/certs', jwks([kKeyB]));
      const source = make({ issuer, jwksUrl: undefined, discovery: issuer });
      const certsBefore = server.hits('/certs');
      await assert.rejects(source.start(), { code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
      assert.equal(source.status().lastError, error);
      assert.equal(server.hits('/certs'), certsBefore, 'no key fetch follows a refused document');
    });
  }

  const kBadConfig: readonly { why: string; opts: Record<string, unknown> }[] = [
    { why: 'no location at all is a config error', opts: { jwksUrl: undefined } },
    { why: 'two locations are ambiguous', opts: { jwksFile: '/tmp/x.json' } },
    { why: 'a file: jwksUrl is refused at construction', opts: { jwksUrl: 'file:///etc/passwd' } },
    { why: 'an empty issuer is refused', opts: { issuer: '' } },
  ];
  for (const { why, opts } of kBadConfig) {
    test(`authn/jwks-source config: ${why}`, () => {
      assert.throws(() => make(opts), { code: 'IAM_CONFIG_INVALID' });
    });
  }
});

describe('authn/jwks-source static file', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'jwks-source-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  test('authn/jwks-source file: read at start, reread on demand, version bumps', async () => {
    const file = path.join(dir, 'jwks.json');
    await writeFile(file, JSON.stringify({ keys: [kKeyA] }));
    const source = new JwksSource({ issuer: kIssuer, jwksFile: file });
    try {
      await source.start();
      assert.deepEqual(kids(source), ['key-a']);
      await writeFile(file, JSON.stringify({ keys: [kKeyA, kKeyB] }));
      assert.equal(await source.refreshForUnknownKid('key-b'), true);
      assert.equal(source.status().version, 2);

      await writeFile(file, 'not json');
      await source.reload();
      assert.equal(source.status().lastError, 'invalid_json');
      assert.equal(source.status().version, 2);
    } finally {
      source.stop();
    }
  });

  test('authn/jwks-source file missing: start rejects IAM_AUTHN_KEYS_UNAVAILABLE', async () => {
    const source = new JwksSource({ issuer: kIssuer, jwksFile: path.join(dir, 'absent.json') });
    await assert.rejects(source.start(), { code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
    assert.equal(source.status().lastError, 'file_unreadable');
  });
});
