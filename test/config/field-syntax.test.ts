import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigLoadError, loadConfigText, parseUpstreamAddress } from '../../src/config/index.js';

/**
 * A config with one `key: value` line placed in the service (or its upstream, or routing);
 * a `name` or `addresses` line replaces the default one.
 */
function configWith(line: string, where: 'service' | 'upstream' | 'routing'): string {
  const key = line.slice(0, line.indexOf(':'));
  const pick = (fallback: string): string => (fallback.startsWith(`${key}:`) ? line : fallback);
  const service = where === 'service' && key !== 'name' ? `    ${line}\n` : '';
  const upstream = where === 'upstream' && key !== 'addresses' ? `      ${line}\n` : '';
  const routing = where === 'routing' ? `routing:\n  ${line}\n` : '';
  return `services:\n  - ${pick('name: web')}\n    access: public\n${service}` +
    `    upstream:\n      ${pick("addresses: ['127.0.0.1:3000']")}\n${upstream}${routing}`;
}

/** The fields the loader complains about ([] when the config is accepted). */
async function rejectedFields(yaml: string): Promise<string[]> {
  try {
    await loadConfigText(yaml, 'syntax.yaml', '/', {});
    return [];
  } catch (err) {
    if (!(err instanceof ConfigLoadError) || err.code !== 'IAM_CONFIG_INVALID') throw err;
    return err.diagnostics.map((d) => d.field);
  }
}

const kCases: ReadonlyArray<readonly [string, boolean, string]> = [
  // pathPrefix
  ['pathPrefix: /', true, 'the root prefix matches everything'],
  ['pathPrefix: /api/v1', true, 'a plain multi-segment prefix'],
  ['pathPrefix: api', false, 'a prefix must start with a slash'],
  ['pathPrefix: /api/', false, 'a trailing slash is ambiguous with the bare prefix'],
  ['pathPrefix: /a//b', false, 'empty segments never occur in a canonical path'],
  ['pathPrefix: /a/./b', false, 'dot segments never occur in a canonical path'],
  ['pathPrefix: /..', false, 'dot-dot segments never occur in a canonical path'],
  ['pathPrefix: "/a%2fb"', false, 'percent escapes are not accepted in prefixes'],
  ['pathPrefix: "/a;b"', false, 'the router rejects path parameters, so this could never match'],
  ['pathPrefix: "/a b"', false, 'spaces are not path characters'],
  // hosts
  ["hosts: ['*']", true, 'any host'],
  ["hosts: ['*.example.com']", true, 'a wildcard suffix'],
  ["hosts: ['a.*.com']", false, 'a wildcard only at the start'],
  ["hosts: ['https://example.com']", false, 'hosts carry no scheme'],
  ["hosts: ['10.0.0.1', '[::1]']", true, 'IP literals are hosts too'],
  ["hosts: ['-bad.example']", false, 'labels do not start with a hyphen'],
  ["hosts: ['1.2.3.999']", false, 'an all-numeric name must be a valid IPv4 address'],
  // name
  ['name: Web', false, 'service names are lower-case'],
  ['name: -web', false, 'service names do not start with a hyphen'],
  // limits of the service
  ['maxBodyBytes: 0', true, '0 means no body is allowed'],
  ['maxBodyBytes: 1.5', false, 'byte counts are integers'],
  ['stripPrefix: yes', false, 'YAML 1.2 has no yes/no booleans'],
];

const kUpstreamCases: ReadonlyArray<readonly [string, boolean, string]> = [
  ["addresses: ['[::1]:8080']", true, 'a bracketed IPv6 address'],
  ["addresses: ['::1:8080']", false, 'an unbracketed IPv6 address is ambiguous'],
  ["addresses: ['http://a:80']", false, 'plain text is written without a scheme'],
  ["addresses: ['https://a:443/path']", false, 'addresses carry no path'],
  ["addresses: ['a:0']", false, 'port 0 cannot be connected to'],
  ["addresses: ['a:080']", false, 'leading zeros in a port are refused'],
  ['balance: random', false, 'only the documented balancers exist'],
  ['maxQueued: 0', true, 'no queue: refuse when every connection is busy'],
  ['maxConnections: 0', false, 'a pool needs at least one connection'],
  ["tls: { rejectUnauthorized: false }", false, 'tls without an https:// address is a mistake'],
];

const kRoutingCases: ReadonlyArray<readonly [string, boolean, string]> = [
  ["trustedProxies: ['10.0.0.0/8', '192.168.0.1', 'fd00::/8', '::1']", true,
    'IPv4 and IPv6, blocks and single addresses'],
  ["trustedProxies: ['10.0.0.0/08']", false, 'prefix lengths have no leading zeros'],
  ["trustedProxies: ['fe80::1%eth0']", false, 'zone ids mean nothing in a trust list'],
  ["trustedProxies: ['fd00::/129']", false, 'IPv6 prefixes stop at 128'],
  ["trustedProxies: ['proxy.internal']", false, 'names are not addresses'],
  ['slashes: keep', false, 'only merge and reject exist'],
  ['requestIdHeader: "x request id"', false, 'spaces are not allowed in header names'],
];

describe('config/field-syntax', () => {
  const tables = [
    ['service', 'services[0].', kCases],
    ['upstream', 'services[0].upstream.', kUpstreamCases],
    ['routing', 'routing.', kRoutingCases],
  ] as const;
  for (const [where, parent, cases] of tables) {
    for (const [line, ok, why] of cases) {
      it(`config/field-syntax ${where} ${line}`, async () => {
        const fields = await rejectedFields(configWith(line, where));
        const field = parent + line.slice(0, line.indexOf(':'));
        // A rejection must be about this field (or inside it), not something incidental.
        assert.deepEqual(fields.length === 0, ok, `${why}: ${fields.join(', ')}`);
        assert.ok(fields.every((f) => f.startsWith(field)), `${why}: ${fields.join(', ')}`);
      });
    }
  }

  it('config/field-syntax parseUpstreamAddress gives host, port and origin', () => {
    assert.deepEqual(parseUpstreamAddress('https://API.internal:8443'),
      { isTLS: true, host: 'api.internal', port: 8443, origin: 'https://api.internal:8443' });
    assert.deepEqual(parseUpstreamAddress('[fd00::1]:80'),
      { isTLS: false, host: 'fd00::1', port: 80, origin: 'http://[fd00::1]:80' });
    assert.equal(parseUpstreamAddress('localhost'), undefined);
  });
});
