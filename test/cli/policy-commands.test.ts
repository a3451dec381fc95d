/**
 * The policy commands as CI runs them: compile (reproducible bytes, diagnostics with file:line
 * and exit 1), sign (a JWS the proxy's verifier accepts), test (a readable report, exit 1 on a
 * failing case) and explain.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { bundleVerifyKey, verifyBundleSignature } from '../../src/policy/index.js';
import { kBin } from '../support/proxy-process.js';

const kExample = fileURLToPath(new URL('../../../examples/policy', import.meta.url));

function run(args: string[], env: Record<string, string> = {}):
  { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [kBin, ...args], {
    encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('cli/policy-commands', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-policy-'));

  test('compile writes the same bytes for the same sources and creation time', () => {
    const a = path.join(dir, 'a.bundle');
    const b = path.join(dir, 'b.bundle');
    assert.equal(run(['compile', kExample, '-o', a, '--created-at', '2026-01-01T00:00:00Z']).status, 0);
    const r = run(['compile', kExample, '-o', b], { SOURCE_DATE_EPOCH: '1767225600' });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /policy version 1, 5 rules, \d+ bytes, digest [0-9a-f]{64}/);
    assert.deepEqual(readFileSync(a), readFileSync(b));
  });

  test('compile reports errors as file:line:column with a PC code and exits 1', () => {
    const bad = path.join(dir, 'bad');
    mkdirSync(bad);
    writeFileSync(path.join(bad, 'p.yaml'),
      "version: 1\nrules:\n  - { id: a, effect: allow, who: { roles: [nobody] }, paths: ['/a'] }\n");
    const r = run(['compile', bad, '-o', path.join(dir, 'x.bundle')]);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /^p\.yaml:3:5: error PC200: /m);
    assert.match(r.stderr, /IAM_POLICY_COMPILE_FAILED/);
  });

  test('sign writes a detached JWS that verifies over the bundle', async () => {
    const bundle = path.join(dir, 'a.bundle');
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const keyFile = path.join(dir, 'k.pem');
    writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }));
    const r = run(['sign', bundle, '--key', keyFile]);
    assert.equal(r.status, 0, r.stderr);
    const jws = readFileSync(`${bundle}.jws`, 'utf8');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    await verifyBundleSignature(readFileSync(bundle), jws, [bundleVerifyKey(pem)]);
  });

  test('test passes the example policy and prints one line per case', () => {
    const r = run(['test', kExample]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /^ {2}ok {4}orders\.yaml: a reader reads its own tenant's orders$/m);
    assert.match(r.stdout, /^7 passed, 0 failed$/m);
  });

  test('a failing case is reported with what was expected and exits 1', () => {
    const cases = path.join(dir, 'cases');
    mkdirSync(cases);
    writeFileSync(path.join(cases, 'c.yaml'), `cases:
  - name: wrong on purpose
    request: { service: console, path: /healthz }
    expect: { decision: deny }
`);
    const r = run(['test', kExample, '--cases', cases]);
    assert.equal(r.status, 1);
    assert.match(r.stdout, /FAIL {2}c\.yaml: wrong on purpose\n +expected deny, got allow by health-public/);
    assert.match(r.stdout, /^0 passed, 1 failed$/m);
  });

  test('explain names every rule and why it did or did not apply', () => {
    const r = run(['explain', kExample, path.join(kExample, 'tests', 'orders.yaml'),
      '--name', "a reader cannot read another tenant's orders"]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /no +allow orders-read \(policy\.yaml:\d+\): its condition is false/);
    assert.match(r.stdout, /decision: deny by default-deny/);
  });

  test('usage errors exit 2', () => {
    assert.equal(run(['compile', kExample]).status, 2);
    assert.equal(run(['sign', 'x.bundle']).status, 2);
    assert.equal(run(['explain', kExample]).status, 2);
  });
});
