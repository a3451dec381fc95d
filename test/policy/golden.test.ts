/**
 * Golden tests of the compiler: each folder under test/policy/golden holds policy sources and
 * the expected output next to them: `expected-tree.txt` (the tree image, 8 words a line),
 * `expected-bundle.json` (the decoded bundle without the tree) and `expected-bundle.sha256`.
 * Regenerate only on purpose, and review the diff: `UPDATE_GOLDEN=1 npm test -- policy/golden`.
 */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { compilePolicy, decodeBundle, readPolicyDir } from '../../src/policy/index.js';

const kRoot = fileURLToPath(new URL('../../../test/policy/golden', import.meta.url));
const kUpdate = process.env.UPDATE_GOLDEN === '1';
/** A fixed creation time, so the bytes depend on the sources only. */
const kCreatedAtMs = Date.UTC(2026, 0, 1);

function treeText(tree: Uint32Array): string {
  const lines: string[] = [];
  for (let i = 0; i < tree.length; i += 8) {
    const words = Array.from(tree.subarray(i, i + 8), (w) => w.toString().padStart(10));
    lines.push(`${i.toString().padStart(6)}: ${words.join(' ')}`);
  }
  return `${lines.join('\n')}\n`;
}

function check(dir: string, file: string, actual: string): void {
  const at = path.join(dir, file);
  if (kUpdate) writeFileSync(at, actual);
  assert.equal(actual, readFileSync(at, 'utf8'), `${file} differs (UPDATE_GOLDEN=1 to accept)`);
}

describe('policy/golden', () => {
  for (const name of readdirSync(kRoot).sort()) {
    const dir = path.join(kRoot, name);
    test(`${name}: tree and bundle equal the expected output`, async () => {
      const files = await readPolicyDir(dir);
      const { bytes } = compilePolicy(files, { createdAtMs: kCreatedAtMs, compiler: 'golden' });
      const { tree, ...rest } = decodeBundle(bytes);
      check(dir, 'expected-tree.txt', treeText(tree));
      check(dir, 'expected-bundle.json', `${JSON.stringify(rest, null, 2)}\n`);
      check(dir, 'expected-bundle.sha256', `${createHash('sha256').update(bytes).digest('hex')}\n`);
    });

    test(`${name}: the same input gives byte-identical bundles`, async () => {
      const files = await readPolicyDir(dir);
      const a = compilePolicy(files, { createdAtMs: kCreatedAtMs }).bytes;
      const b = compilePolicy([...files].reverse(), { createdAtMs: kCreatedAtMs }).bytes;
      assert.deepEqual(Buffer.from(a), Buffer.from(b));
      const later = compilePolicy(files, { createdAtMs: kCreatedAtMs + 1 }).bytes;
      assert.notDeepEqual(Buffer.from(a), Buffer.from(later), 'the creation time is part of the bundle');
    });
  }
});
