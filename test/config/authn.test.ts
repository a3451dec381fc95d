import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigLoadError, embeddedDefaultConfig, formatDiagnostic, kJwsAlgorithms, loadConfigText,
} from '../../src/config/index.js';

/** A valid service on lines 1 to 5; `authn` starts on line 6 in every case below. */
const kService = `services:
  - name: web
    access: authenticated
    upstream:
      addresses: ['127.0.0.1:3000']
`;

/** `kService` plus an `authn` block whose issuers list starts on line 8. */
const withIssuers = (entries: string): string => `${kService}authn:\n  issuers:\n${entries}`;

const kDefaultRefresh = {
  minMs: 300000, maxMs: 86400000, unknownKidIntervalMs: 30000, fetchTimeoutMs: 5000,
};

interface BadCase {
  readonly name: string;
  readonly why: string;
  readonly yaml: string;
  readonly line: number;
  readonly column: number;
  readonly field: string;
}

const kCases: readonly BadCase[] = [
  {
    name: 'HS256 in algorithms',
    why: 'HMAC would let any verifier forge tokens, so HS256 is refused at the list entry',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksUrl: https://a.example/jwks\n' +
      '      algorithms: [RS256, HS256]\n'),
    line: 10, column: 27, field: 'authn.issuers[0].algorithms[1]',
  },
  {
    name: 'HS256 in inlineAlgorithms',
    why: 'the inline list takes the same algorithm entries as an issuer, so HMAC is refused there too',
    yaml: `${kService}authn:\n  pool:\n    inlineAlgorithms: [HS256]\n`,
    line: 8, column: 24, field: 'authn.pool.inlineAlgorithms[0]',
  },
  {
    name: 'unknown signature engine',
    why: 'only the two implemented engines can be chosen; a typo must not fall back silently',
    yaml: `${kService}authn:\n  pool:\n    engine: openssl\n`,
    line: 8, column: 13, field: 'authn.pool.engine',
  },
  {
    name: 'empty step in a groups claim path',
    why: 'a path like "realm_access..roles" names no claim, so it is an error at the entry',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksUrl: https://a.example/jwks\n' +
      '      groupsClaims: [realm_access..roles]\n'),
    line: 10, column: 22, field: 'authn.issuers[0].groupsClaims[0]',
  },
  {
    name: 'attribute name with a dot',
    why: 'policy writes claims.<name>, so a name must be one identifier; the entry is named',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksUrl: https://a.example/jwks\n' +
      '      attributeClaims: { a.b: c }\n'),
    line: 10, column: 31, field: 'authn.issuers[0].attributeClaims.a.b',
  },
  {
    name: 'none in algorithms',
    why: '"none" is no signature at all, so it is refused at the list entry',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksUrl: https://a.example/jwks\n' +
      '      algorithms: [none]\n'),
    line: 10, column: 20, field: 'authn.issuers[0].algorithms[0]',
  },
  {
    name: 'unknown algorithm',
    why: 'an algorithm outside the asymmetric list is an error at the entry',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksUrl: https://a.example/jwks\n' +
      '      algorithms: [RS1]\n'),
    line: 10, column: 20, field: 'authn.issuers[0].algorithms[0]',
  },
  {
    name: 'empty algorithms',
    why: 'an empty list would accept no token; leaving the key out is how to accept them all',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksUrl: https://a.example/jwks\n' +
      '      algorithms: []\n'),
    line: 10, column: 19, field: 'authn.issuers[0].algorithms',
  },
  {
    name: 'two key sources',
    why: 'discovery and jwksUrl together leave unclear which keys are trusted; the entry is blamed',
    yaml: withIssuers('    - issuer: https://a.example\n      discovery: true\n' +
      '      jwksUrl: https://a.example/jwks\n'),
    line: 8, column: 7, field: 'authn.issuers[0]',
  },
  {
    name: 'no key source',
    why: 'an issuer without discovery, jwksUrl or jwksFile has no keys; the entry is blamed',
    yaml: withIssuers('    - issuer: https://a.example\n'),
    line: 8, column: 7, field: 'authn.issuers[0]',
  },
  {
    name: 'discovery false',
    why: 'discovery is either true or left out, so false is an error at the value',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksUrl: https://a.example/jwks\n' +
      '      discovery: false\n'),
    line: 10, column: 18, field: 'authn.issuers[0].discovery',
  },
  {
    name: 'duplicate issuer',
    why: 'a token\'s iss must select one entry, so the second use of an issuer is an error',
    yaml: withIssuers('    - issuer: https://a.example\n      discovery: true\n' +
      '    - issuer: https://a.example\n      jwksUrl: https://a.example/jwks\n'),
    line: 10, column: 15, field: 'authn.issuers[1].issuer',
  },
  {
    name: 'relative issuer',
    why: 'an issuer is an absolute URL, so a bare path is an error at the value',
    yaml: withIssuers('    - issuer: /realms/main\n      discovery: true\n'),
    line: 8, column: 15, field: 'authn.issuers[0].issuer',
  },
  {
    name: 'non-http issuer',
    why: 'only http and https issuers can be discovered or compared, so ftp:// is refused',
    yaml: withIssuers('    - issuer: ftp://a.example\n      discovery: true\n'),
    line: 8, column: 15, field: 'authn.issuers[0].issuer',
  },
  {
    name: 'issuer with a query',
    why: 'OpenID issuers carry no query, and discovery appends a path to the issuer',
    yaml: withIssuers('    - issuer: https://a.example/?tenant=1\n      discovery: true\n'),
    line: 8, column: 15, field: 'authn.issuers[0].issuer',
  },
  {
    name: 'bad jwksUrl',
    why: 'a JWKS URL must be an absolute http(s) URL',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksUrl: a.example/jwks\n'),
    line: 9, column: 16, field: 'authn.issuers[0].jwksUrl',
  },
  {
    name: 'missing jwksFile',
    why: 'a key file that cannot be read fails at load, not at the first request',
    yaml: withIssuers('    - issuer: https://a.example\n      jwksFile: missing-jwks.json\n'),
    line: 9, column: 17, field: 'authn.issuers[0].jwksFile',
  },
  {
    name: 'refresh minMs above maxMs',
    why: 'the shortest refresh interval cannot exceed the longest; minMs is blamed',
    yaml: withIssuers('    - issuer: https://a.example\n      discovery: true\n' +
      '      refresh: { minMs: 600000, maxMs: 60000 }\n'),
    line: 10, column: 25, field: 'authn.issuers[0].refresh.minMs',
  },
  {
    name: 'clock skew out of range',
    why: 'clockSkewSec stops at 600 seconds',
    yaml: withIssuers('    - issuer: https://a.example\n      discovery: true\n' +
      '      clockSkewSec: 601\n'),
    line: 10, column: 21, field: 'authn.issuers[0].clockSkewSec',
  },
  {
    name: 'unknown issuer key (typo)',
    why: 'strict mappings turn a misspelt audiences into an error at the key',
    yaml: withIssuers('    - issuer: https://a.example\n      discovery: true\n' +
      '      audiance: [api]\n'),
    line: 10, column: 7, field: 'authn.issuers[0].audiance',
  },
  {
    name: 'unknown authn key (typo)',
    why: 'a misspelt maxTokenBytes must not fall back to the default unnoticed',
    yaml: `${kService}authn:\n  maxTokenByte: 4096\n`,
    line: 7, column: 3, field: 'authn.maxTokenByte',
  },
  {
    name: 'too many pool threads',
    why: 'pool.threads stops at 64',
    yaml: `${kService}authn:\n  pool: { threads: 65 }\n`,
    line: 7, column: 20, field: 'authn.pool.threads',
  },
  {
    name: 'token cap too large',
    why: 'maxTokenBytes stops at 65536',
    yaml: `${kService}authn:\n  maxTokenBytes: 65537\n`,
    line: 7, column: 18, field: 'authn.maxTokenBytes',
  },
];

describe('config/authn', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-authn-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('config/authn an absent authn block takes every default and no issuers', async () => {
    const config = await loadConfigText(kService, 'authn.yaml', dir, {});
    assert.deepEqual(config.authn, {
      maxTokenBytes: 8192,
      maxTokenHeaderBytes: 2048,
      pool: {
        threads: 2, maxQueue: 4096, batchMaxItems: 16, batchMaxWaitUs: 200,
        inlineAlgorithms: ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384',
          'ES512', 'EdDSA'],
        engine: 'node',
      },
      cache: { maxEntries: 10000, maxBytes: 16777216 },
      issuers: [],
      forwardedClientCert: { trustedProxies: [] },
    });
  });

  it('config/authn forwardedClientCert.trustedProxies takes addresses and CIDRs only', async () => {
    const good = await loadConfigText(`${kService}authn:\n  forwardedClientCert:\n` +
      "    trustedProxies: ['10.0.0.0/8', '::1']\n", 'authn.yaml', dir, {});
    assert.deepEqual(good.authn.forwardedClientCert.trustedProxies, ['10.0.0.0/8', '::1']);
    const error = await loadConfigText(`${kService}authn:\n  forwardedClientCert:\n` +
      "    trustedProxies: ['envoy.internal']\n", 'authn.yaml', dir, {}).catch((e: unknown) => e);
    assert.ok(error instanceof ConfigLoadError, 'a host name is no address: refused');
    assert.equal(error.diagnostics[0]?.field, 'authn.forwardedClientCert.trustedProxies[0]');
  });

  it('config/authn an issuer with only a key source gets every issuer default', async () => {
    const yaml = withIssuers('    - issuer: https://a.example\n' +
      '      jwksUrl: https://a.example/k\n');
    const config = await loadConfigText(yaml, 'authn.yaml', dir, {});
    assert.deepEqual(config.authn.issuers, [{
      issuer: 'https://a.example',
      jwksUrl: 'https://a.example/k',
      algorithms: [...kJwsAlgorithms],
      audiences: [],
      requiredClaims: [],
      requireExp: true,
      clockSkewSec: 30,
      groupsClaims: ['groups', 'roles'],
      attributeClaims: {},
      refresh: kDefaultRefresh,
    }]);
  });

  it('config/authn every issuer field is kept as written, jwksFile made absolute', async () => {
    await writeFile(join(dir, 'keys.json'), '{"keys":[]}\n');
    const yaml = withIssuers('    - issuer: https://b.example/realm\n      jwksFile: keys.json\n' +
      '      algorithms: [ES256, EdDSA]\n      audiences: [api]\n      requiredClaims: [sub]\n' +
      '      requireExp: false\n      clockSkewSec: 0\n      maxTokenAgeSec: 3600\n' +
      '      typ: at+jwt\n      refresh: { minMs: 1000, maxMs: 1000 }\n' +
      '      groupsClaims: [realm_access.roles]\n      attributeClaims: { tenant: org.tenant }\n' +
      '    - issuer: http://127.0.0.1:4000\n      discovery: true\n');
    const config = await loadConfigText(yaml, 'authn.yaml', dir, {});
    const [first, second] = config.authn.issuers;
    assert.deepEqual(first, {
      issuer: 'https://b.example/realm',
      jwksFile: join(dir, 'keys.json'),
      algorithms: ['ES256', 'EdDSA'],
      audiences: ['api'],
      requiredClaims: ['sub'],
      requireExp: false,
      clockSkewSec: 0,
      maxTokenAgeSec: 3600,
      typ: 'at+jwt',
      groupsClaims: ['realm_access.roles'],
      attributeClaims: { tenant: 'org.tenant' },
      refresh: { ...kDefaultRefresh, minMs: 1000, maxMs: 1000 },
    });
    assert.equal(second?.discovery, true);
  });

  it('config/authn authenticated routes with no issuers load (they fail closed)', async () => {
    // Such routes answer 401 to everyone; that is safe, so it is not a config error.
    const config = await loadConfigText(`${kService}authn: { issuers: [] }\n`, 'a.yaml', dir, {});
    assert.equal(config.services[0]?.access, 'authenticated');
    assert.deepEqual(config.authn.issuers, []);
  });

  it('config/authn the embedded default has no issuers', () => {
    assert.deepEqual(embeddedDefaultConfig().authn.issuers, []);
  });

  for (const c of kCases) {
    it(`config/authn ${c.name}`, async () => {
      const error = await loadConfigText(c.yaml, 'bad.yaml', dir, {}).then(
        () => assert.fail(`expected a ConfigLoadError: ${c.why}`),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ConfigLoadError, c.why);
      assert.equal(error.code, 'IAM_CONFIG_INVALID', c.why);
      const where = error.diagnostics.map(({ line, column, field }) => ({ line, column, field }));
      assert.deepEqual(where[0], { line: c.line, column: c.column, field: c.field },
        `${c.why}\n${error.diagnostics.map(formatDiagnostic).join('\n')}`);
      assert.ok(error.diagnostics.every((d) => d.file === 'bad.yaml'), c.why);
    });
  }
});
