#!/usr/bin/env node
// Runs node's test runner over the compiled test files (dist/test/**/*.test.js) only, so that
// support modules under test/support are not mistaken for tests. Extra arguments filter by path:
// `npm test -- routing server/streaming`.
import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';

const root = path.resolve(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..');
const testRoot = path.join(root, 'dist', 'test');

function collect(dir) {
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...collect(full));
    else if (name.endsWith('.test.js')) out.push(full);
  }
  return out;
}

const filters = process.argv.slice(2);
const files = collect(testRoot).filter((f) => filters.length === 0 || filters.some((x) => f.includes(x)));
if (files.length === 0) {
  console.error(`no test files matched under ${testRoot}`);
  process.exit(1);
}
// A hung test fails after three minutes instead of stalling CI; force-exit ends a file whose
// before() hook failed and left its servers open.
const kRunnerFlags = ['--test', '--test-reporter=spec', '--test-timeout=180000', '--test-force-exit'];
const result = spawnSync(process.execPath, [...kRunnerFlags, ...files], {
  stdio: 'inherit',
  cwd: root,
});
process.exit(result.status ?? 1);
