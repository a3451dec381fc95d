/**
 * docs/threat-coverage.md names, for every attack class of the threat list, the tests that
 * cover it. This keeps the page honest: each class is present with at least one test, and every
 * test file it names exists (a renamed or deleted test fails here, not silently in the doc).
 */
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

const kRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

/** The classes of shared/reference/threats.md, by their first words. */
const kClasses = [
  'Path normalization bypass', 'Fragment / query confusion', 'Host / authority case',
  'Spoofed identity or forwarded headers', 'Hop-by-hop stripping', 'Header injection from',
  'Request smuggling', 'JWT `alg: none`', 'Algorithm confusion', 'Embedded key',
  '`jku` / `x5u`', '`kid` injection', 'ECDSA signature malleability', 'JOSE resource exhaustion',
  'Unsafe caching', 'Open redirect', 'Session fixation', 'Claim parsing tricks',
  'Regex / wildcard mistakes', 'Unauthenticated side doors', 'Token leakage',
  'Client authentication gaps', 'Control/data-plane version skew',
];

function rows(): Map<string, string[]> {
  const text = readFileSync(path.join(kRoot, 'docs/threat-coverage.md'), 'utf8');
  const out = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const cells = line.split('|').map((c) => c.trim());
    if (cells.length < 4 || cells[1] === 'Class' || cells[1]?.startsWith('---')) continue;
    out.set(cells[1] as string, [...(cells[2] ?? '').matchAll(/`(test\/[^`]+)`/g)]
      .map((m) => m[1] as string));
  }
  return out;
}

describe('docs/threat-coverage', () => {
  const table = rows();

  for (const name of kClasses) {
    test(`"${name}" has a row naming at least one test`, () => {
      const row = [...table.entries()].find(([cls]) => cls.startsWith(name));
      assert.ok(row !== undefined, `no row for ${name}`);
      assert.ok(row[1].length > 0, `the row for ${name} names no test`);
    });
  }

  test('every test file the page names exists', () => {
    const missing = [...table.values()].flat().filter((f) => !existsSync(path.join(kRoot, f)));
    assert.deepEqual(missing, []);
  });

  test('the page has no row for a class the list does not have', () => {
    const extra = [...table.keys()].filter((cls) => !kClasses.some((c) => cls.startsWith(c)));
    assert.deepEqual(extra, []);
  });
});
