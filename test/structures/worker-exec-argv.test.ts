/**
 * Worker threads inherit the process's node flags, but node refuses a Worker given a V8 option
 * or a per-process flag: the regression was `node --max-old-space-size=96 bin/portcullis.js
 * serve` failing to start its verifier pool (and `--expose-gc` likewise). Here a real process is
 * started with such flags plus a harmless one, and starts a Worker with what the filter keeps.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';

const kModule = new URL('../../src/structures/index.js', import.meta.url).href;
const kScript = `
import { Worker } from 'node:worker_threads';
const { workerExecArgv } = await import(${JSON.stringify(kModule)});
const flags = workerExecArgv(process.execArgv, ['--no-deprecation']);
const worker = new Worker('0', { eval: true, execArgv: flags });
worker.once('exit', (code) => { console.log(JSON.stringify({ flags, code })); });
`;

const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-exec-argv-'));
const kFile = path.join(kDir, 'start-worker.mjs');
writeFileSync(kFile, kScript);
after(() => rmSync(kDir, { recursive: true, force: true }));

describe('structures/worker-exec-argv', () => {
  test('V8 and per-process flags are left out; node flags and extras reach the Worker', () => {
    const run = spawnSync(process.execPath, ['--max-old-space-size=96', '--expose-gc',
      '--no-warnings', kFile], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { flags: string[]; code: number };
    assert.deepEqual(out.flags, ['--no-warnings', '--no-deprecation']);
    assert.equal(out.code, 0, 'the Worker started and ended normally');
  });

  test('a process without flags starts no probe and passes only the extras', () => {
    const run = spawnSync(process.execPath, [kFile], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    const out = JSON.parse(run.stdout) as { flags: string[] };
    assert.deepEqual(out.flags, ['--no-deprecation']);
  });
});
