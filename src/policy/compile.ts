/**
 * The compiler driver: policy files -> parse -> check -> lower -> emit (a bundle's bytes).
 *
 * Pure apart from `readPolicyDir`: no clock, no environment. The creation time is an input, so
 * the same files and the same `createdAtMs` always give byte-identical bundles (the CLI takes it
 * from `--created-at` or SOURCE_DATE_EPOCH, as reproducible builds do, else the current time).
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { encodeBundle, sourceDigest, type BundleMeta } from './bundle.js';
import { type CheckedPolicy, checkPolicy } from './check.js';
import { type Diagnostic, PolicyCompileError } from './diagnostics.js';
import { type LoweredPolicy, lowerPolicy } from './lower.js';
import { parsePolicy, type PolicyFile } from './parse.js';

/** Options of one compilation. */
export interface CompileOptions {
  /** Milliseconds since the epoch written as the bundle's creation time. */
  readonly createdAtMs: number;
  /** Overrides the version the sources declare (for CI that numbers rollouts itself). */
  readonly policyVersion?: number;
  /** Written into the bundle, e.g. "portcullis 0.1.0". */
  readonly compiler?: string;
}

/** A successful compilation. */
export interface CompiledPolicy {
  readonly bytes: Uint8Array;
  readonly meta: Omit<BundleMeta, 'schemaVersion'>;
  readonly policy: CheckedPolicy;
  readonly lowered: LoweredPolicy;
  /** Warnings (errors throw). */
  readonly diagnostics: readonly Diagnostic[];
}

/** Compiles `files`. Throws `PolicyCompileError` (with every diagnostic) when any error is found. */
export function compilePolicy(files: readonly PolicyFile[], options: CompileOptions): CompiledPolicy {
  // Pass 1: parse.
  const parsed = parsePolicy(files);
  const sink = parsed.sink;
  if (parsed.policy === undefined) throw new PolicyCompileError(sink.list);

  // Pass 2: check.
  const checked = checkPolicy(parsed.policy, sink, parsed.obligationPos);
  if (sink.hasErrors) throw new PolicyCompileError(sink.list);
  const policy = options.policyVersion === undefined ? checked
    : { ...checked, version: options.policyVersion };

  // Pass 3: lower.
  const lowered = lowerPolicy(policy, sink);
  if (sink.hasErrors) throw new PolicyCompileError(sink.list);

  // Pass 4: emit.
  const meta = {
    policyVersion: policy.version,
    sourceDigest: sourceDigest(files),
    createdAtMs: options.createdAtMs,
    compiler: options.compiler ?? 'portcullis',
  };
  const bytes = encodeBundle(meta, policy, lowered);
  return { bytes, meta, policy, lowered, diagnostics: sink.list };
}

/** Reads the `*.yaml` / `*.yml` files directly inside `dir` (sub-folders such as tests/ are not read). */
export async function readPolicyDir(dir: string): Promise<PolicyFile[]> {
  const names = (await readdir(dir, { withFileTypes: true }))
    .filter((e) => e.isFile() && /\.ya?ml$/.test(e.name)).map((e) => e.name).sort();
  return Promise.all(names.map(async (name) => ({
    name, text: await readFile(path.join(dir, name), 'utf8'),
  })));
}
