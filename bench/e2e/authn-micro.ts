/**
 * Runs the cached-path micro-benchmark (bench/micro/authn/cached-path.bench.ts) as a child on
 * the target core and reads its one JSON line: the main-thread cost of authenticating a request
 * whose token is in the verified-token cache, claim checks included.
 */
import { spawn } from 'node:child_process';

import { killOnExit } from './children.js';

/** The micro-benchmark's figures; per call, in microseconds. */
export interface CachedMicro {
  name: string;
  medianUs: number;
  meanUs: number;
  p99Us: number;
  rmePct: number;
  samples: number;
  callsPerSample: number;
  command: string[];
  error?: string;
}

/** Runs it (bounded to 120 s); a failure is recorded in `error`, never thrown. */
export async function runCachedMicro(repoRoot: string, cpus: string | undefined):
  Promise<CachedMicro> {
  const node = ['node', 'dist/bench/micro/authn/cached-path.bench.js', '--json'];
  const command = cpus === undefined ? node : ['taskset', '-c', cpus, ...node];
  const child = spawn(command[0] ?? 'node', command.slice(1), {
    cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const forget = killOnExit(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), 120_000);
  const code = await new Promise<number | string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('close', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
  });
  clearTimeout(timer);
  forget();

  const line = out.split('\n').find((l) => l.startsWith('{'));
  const empty = { name: 'authn/authenticate path=cached alg=RS256', medianUs: Number.NaN,
    meanUs: Number.NaN, p99Us: Number.NaN, rmePct: Number.NaN, samples: 0, callsPerSample: 0,
    command };
  if (code !== 0 || line === undefined) {
    return { ...empty, error: `exited ${code}: ${out.slice(-2_000)}` };
  }
  return { ...empty, ...(JSON.parse(line) as Partial<CachedMicro>), command };
}
