/**
 * The micro-benchmarks the suite folds into its report, each run as a child process on the
 * target core (as the authn bench runs its cached-path micro-benchmark), and their output read
 * back: the policy engines side by side (bench/micro/authz/decide-side-by-side.bench.ts, its
 * Markdown table) and JWT verification pool against inline (bench/micro/authn/verify.bench.ts
 * --json). A child that fails is recorded with its output, never thrown.
 */
import { describeFailure, runToEnd } from '../e2e/child-output.js';

/** One row of a micro-benchmark, per call (per token for verification), in µs. */
export interface MicroRow {
  name: string;
  medianUs: number;
  p99Us: number;
  rmePct: number;
  samples: number;
  /** Verification only: main-thread busy time per token (event-loop utilization). */
  mainThreadUs?: number;
}

/** What one micro-benchmark child gave. */
export interface MicroResult {
  command: string[];
  env: Record<string, string>;
  seconds: number;
  rows: MicroRow[];
  /** Lines worth keeping beside the table (the engines' allow counts). */
  notes: string[];
  error?: string;
}

/**
 * Rows of decide-side-by-side's table: `| authz/decide rules=50 | portcullis wasm | 0.440 |
 * 0.512 | 1201 | 0.31 |` becomes `authz/decide rules=50 engine=portcullis wasm`.
 */
export function parseAuthzTable(out: string): MicroRow[] {
  const rows: MicroRow[] = [];
  const num = '([\\d.]+)';
  const re = new RegExp(`^\\| (authz/decide rules=\\d+) \\| ([^|]+?) \\| ${num} \\| ${num} `
    + `\\| (\\d+) \\| ${num} \\|$`, 'gm');
  for (const m of out.matchAll(re)) {
    rows.push({ name: `${m[1]} engine=${m[2]}`, medianUs: Number(m[3]), p99Us: Number(m[4]),
      samples: Number(m[5]), rmePct: Number(m[6]) });
  }
  return rows;
}

/** The verify bench's JSON line (`--json`), as rows; empty when there is none. */
export function parseVerifyJson(out: string): MicroRow[] {
  const line = out.split('\n').find((l) => l.startsWith('{"batch"'));
  if (line === undefined) return [];
  const parsed = JSON.parse(line) as { rows?: MicroRow[] };
  return parsed.rows ?? [];
}

/** Runs the policy engines side by side; quick mode: 50 and 1,000 rules, 0.5 s per task. */
export async function runAuthzMicro(repoRoot: string, cpus: string | undefined,
  isQuick: boolean): Promise<MicroResult> {
  const env: Record<string, string> = isQuick
    ? { AUTHZ_BENCH_RULES: '50,1000', AUTHZ_BENCH_TIME_MS: '500' } : {};
  const argv = pin(cpus, ['node', 'dist/bench/micro/authz/decide-side-by-side.bench.js']);
  const out = await runToEnd(argv, { cwd: repoRoot, env,
    timeoutMs: (isQuick ? 5 : 15) * 60_000 });
  const rows = parseAuthzTable(out.stdout);
  // The bench's own target line names 10,000 rules, which quick mode leaves out (NaN then).
  const notes = out.stdout.split('\n').filter((l) => /allows per engine|WARNING|^targets:/.test(l)
    && !l.includes('NaN'));
  const result: MicroResult = { command: argv, env, seconds: out.seconds, rows, notes };
  if (out.code !== 0 || rows.length === 0) result.error = describeFailure(argv, out);
  return result;
}

/** Runs JWT verification pool against inline (RS256, ES256, EdDSA, HS256). */
export async function runVerifyMicro(repoRoot: string, cpus: string | undefined):
  Promise<MicroResult> {
  const argv = pin(cpus, ['node', 'dist/bench/micro/authn/verify.bench.js', '--json']);
  const out = await runToEnd(argv, { cwd: repoRoot, timeoutMs: 5 * 60_000 });
  let rows: MicroRow[] = [];
  let parseError: string | undefined;
  try {
    rows = parseVerifyJson(out.stdout);
  } catch (err) {
    parseError = err instanceof Error ? err.message : String(err);
  }
  const result: MicroResult = { command: argv, env: {}, seconds: out.seconds, rows, notes: [] };
  if (out.code !== 0 || rows.length === 0) {
    result.error = parseError ?? describeFailure(argv, out);
  }
  return result;
}

function pin(cpus: string | undefined, argv: string[]): string[] {
  return cpus === undefined ? argv : ['taskset', '-c', cpus, ...argv];
}
