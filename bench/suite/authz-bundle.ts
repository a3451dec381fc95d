/**
 * The signed policy bundle of the authz targets, made the way an operator makes one: the
 * generated 50-rule policy written as a folder, `portcullis compile`, an Ed25519 key, then
 * `portcullis sign`. The proxy loads it through its `policy:` block and checks the signature.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

import { describeFailure, runToEnd } from '../e2e/child-output.js';
import { generatePolicy } from '../micro/authz/policy-gen.js';
import { benchPolicyYaml, kAuthzPolicy } from '../scenarios-suite.js';

/** The bundle and what made it. Paths are absolute, inside the caller's directory. */
export interface AuthzBundle {
  bundleFile: string;
  signatureFile: string;
  publicKeyFile: string;
  /** Rules in the compiled sources (checked to be kAuthzPolicy.totalRules). */
  ruleCount: number;
  bundleBytes: number;
  /** The CLI commands run, for the report. */
  commands: string[][];
}

const kCreatedAt = '2026-01-01T00:00:00Z';

/** Counts `id:` entries under the files' `rules:` lists (every rule has exactly one id). */
export function countRules(yamlTexts: readonly string[]): number {
  let count = 0;
  for (const text of yamlTexts) count += text.match(/^\s+- \{ id: /gm)?.length ?? 0;
  return count;
}

/**
 * Writes the policy into `dir`/policy, compiles and signs it with the CLI of `repoRoot` (built).
 * Rejects with the CLI's output when a step fails, or when the rule count is not 50.
 */
export async function buildAuthzBundle(repoRoot: string, dir: string): Promise<AuthzBundle> {
  // 1. Sources: the generated rules (no requests needed) and the bench's rule, read after them.
  const policyDir = join(dir, 'policy');
  await mkdir(policyDir, { recursive: true });
  const generated = generatePolicy(kAuthzPolicy.generatedRules, 0, kAuthzPolicy.seed).yaml;
  const bench = benchPolicyYaml();
  await writeFile(join(policyDir, 'generated.yaml'), generated);
  await writeFile(join(policyDir, 'zz-bench.yaml'), bench);
  const ruleCount = countRules([generated, bench]);
  if (ruleCount !== kAuthzPolicy.totalRules) {
    throw new Error(`the bench policy has ${ruleCount} rules, not ${kAuthzPolicy.totalRules}`);
  }

  // 2. A signing key pair for this run only.
  const pair = generateKeyPairSync('ed25519');
  const keyFile = join(dir, 'signer.pem');
  const publicKeyFile = join(dir, 'signer.pub.pem');
  await writeFile(keyFile, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(publicKeyFile, pair.publicKey.export({ type: 'spki', format: 'pem' }));

  // 3. Compile and sign with the CLI.
  const bundleFile = join(dir, 'policy.bundle');
  const commands = [
    ['node', 'bin/portcullis.js', 'compile', policyDir, '-o', bundleFile, '--created-at',
      kCreatedAt],
    ['node', 'bin/portcullis.js', 'sign', bundleFile, '--key', keyFile],
  ];
  for (const argv of commands) {
    const out = await runToEnd(argv, { cwd: repoRoot, timeoutMs: 60_000 });
    if (out.code !== 0) throw new Error(describeFailure(argv, out));
  }
  const bundleBytes = (await readFile(bundleFile)).length;
  return { bundleFile, signatureFile: `${bundleFile}.jws`, publicKeyFile, ruleCount, bundleBytes,
    commands };
}
