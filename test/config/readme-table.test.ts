/**
 * The README's configuration tables must describe the schema as it is: every key the loader
 * produces with defaults has a row, and every documented default equals the loaded value.
 * (The README keeps the one table of defaults; this test stops it drifting from the code.)
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { loadConfigText } from '../../src/config/index.js';

const kReadme = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8');

/** Rows of the tables under "## Configuration": key -> documented default (cell text). */
function readmeRows(): Map<string, string> {
  const section = kReadme.split(/^## /m).find((s) => s.startsWith('Configuration')) ?? '';
  const rows = new Map<string, string>();
  for (const line of section.split('\n')) {
    // Cells split on unescaped pipes; `\|` inside a cell (as in `merge` \| `reject`) stays.
    const cells = line.replaceAll('\\|', '\u0000').split('|').map((c) => c.trim());
    const key = /^`([A-Za-z.]+)`/.exec(cells[1] ?? '')?.[1];
    if (key !== undefined && cells.length >= 5) rows.set(key, cells[3]!.replaceAll('\u0000', '|'));
  }
  return rows;
}

/** Leaf values of a loaded config object, by dotted path (arrays are leaves). */
function leaves(value: unknown, prefix: string, out: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, child] of Object.entries(value)) {
      leaves(child, prefix === '' ? key : `${prefix}.${key}`, out);
    }
  } else {
    out.set(prefix, value);
  }
  return out;
}

/** The README's spelling of a default: `8080`, `merge`, `[]`, `['*']`. */
function spelled(value: unknown): string {
  if (Array.isArray(value)) return `\`[${value.map((v) => `'${String(v)}'`).join(', ')}]\``;
  return `\`${String(value)}\``;
}

describe('config/readme-table', () => {
  const minimal = `services:
  - name: app
    access: public
    upstream: { addresses: ['127.0.0.1:1'] }
`;

  test('every top-level key the loader fills in is documented with its default', async () => {
    const config = await loadConfigText(minimal, 'readme.yaml', tmpdir());
    const rows = readmeRows();
    const { services: _services, ...rest } = config as unknown as Record<string, unknown>;
    for (const [key, value] of leaves(rest, '', new Map())) {
      assert.ok(rows.has(key), `README has no row for ${key}`);
      assert.equal(rows.get(key), spelled(value), `default of ${key}`);
    }
  });

  test('every service key the loader fills in is documented with its default', async () => {
    const config = await loadConfigText(minimal, 'readme.yaml', tmpdir());
    const rows = readmeRows();
    const given = new Set(['name', 'access', 'upstream.addresses']);
    const service = (config as unknown as { services: unknown[] }).services[0];
    for (const [key, value] of leaves(service, '', new Map())) {
      assert.ok(rows.has(key), `README has no row for services[].${key}`);
      if (!given.has(key)) assert.equal(rows.get(key), spelled(value), `default of ${key}`);
    }
  });

  test('every decision-listener key the loader fills in is documented with its default',
    async () => {
      const block = "{ flavor: envoy, trustedIngress: ['10.0.0.1'], pathPrefix: /authz }";
      const config = await loadConfigText(`listeners: { decision: ${block} }\n${minimal}`,
        'readme.yaml', tmpdir());
      const rows = readmeRows();
      const given = new Set(['flavor', 'trustedIngress', 'pathPrefix']);
      for (const [key, value] of leaves(config.listeners.decision, '', new Map())) {
        const row = `listeners.decision.${key}`;
        assert.ok(rows.has(row), `README has no row for ${row}`);
        if (!given.has(key)) assert.equal(rows.get(row), spelled(value), `default of ${row}`);
      }
    });

  test('every issuer key the loader fills in is documented with its default', async () => {
    const issuers = "  issuers:\n    - { issuer: 'https://a.example', discovery: true }\n";
    const yaml = `${minimal}authn:\n${issuers}`;
    const config = await loadConfigText(yaml, 'readme.yaml', tmpdir());
    const rows = readmeRows();
    const given = new Set(['issuer', 'discovery']);
    const issuer = config.authn.issuers[0];
    for (const [key, value] of leaves(issuer, '', new Map())) {
      assert.ok(rows.has(key), `README has no row for authn.issuers[].${key}`);
      if (!given.has(key)) assert.equal(rows.get(key), spelled(value), `default of ${key}`);
    }
  });

  test('every login key the loader fills in is documented with its default', async () => {
    const tls = `{ certFile: '${import.meta.filename}', keyFile: '${import.meta.filename}' }`;
    const yaml = `listeners: { proxy: { tls: ${tls} } }
${minimal}authn: { issuers: [{ issuer: 'https://a.example', discovery: true }] }
login: { issuer: 'https://a.example', clientId: web, clientSecret: { env: S } }
`;
    const config = await loadConfigText(yaml, 'readme.yaml', tmpdir(), { S: 'secret' });
    const rows = readmeRows();
    const given = new Set(['issuer', 'clientId', 'clientSecret']);
    for (const [key, value] of leaves(config.login, '', new Map())) {
      assert.ok(rows.has(`login.${key}`), `README has no row for login.${key}`);
      if (!given.has(key)) assert.equal(rows.get(`login.${key}`), spelled(value), `default of ${key}`);
    }
  });
});
