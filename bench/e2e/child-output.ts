/**
 * Runs a command to its end and collects what it printed: the micro-benchmarks the suite folds
 * into its report, `openssl speed`, the policy CLI. Every run is bounded in time (SIGKILL at the
 * limit) and registered with children.ts, so an interrupted bench leaves nothing behind.
 */
import { spawn } from 'node:child_process';

import { killOnExit } from './children.js';

/** How a command ended. `code` is the exit code, a signal name, or the spawn error's message. */
export interface ChildOutput {
  code: number | string;
  stdout: string;
  stderr: string;
  /** Wall time from spawn to exit, in seconds. */
  seconds: number;
  /** True when it was killed at `timeoutMs`. */
  isTimedOut: boolean;
}

/** Options of `runToEnd`. */
export interface RunToEndOptions {
  cwd: string;
  timeoutMs: number;
  /** Added to this process's environment. */
  env?: Readonly<Record<string, string>>;
  /** Kept from the end of each stream, in characters (default 1 MB). */
  maxChars?: number;
}

/** Runs `argv` (argv[0] looked up on the PATH) and resolves when it exits; never rejects. */
export async function runToEnd(argv: readonly string[], opts: RunToEndOptions):
  Promise<ChildOutput> {
  const started = performance.now();
  const child = spawn(argv[0] ?? 'false', argv.slice(1), {
    cwd: opts.cwd, stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
  });
  const forget = killOnExit(child);
  const limit = opts.maxChars ?? 1_000_000;
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
    stdout = (stdout + chunk).slice(-limit);
  });
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-limit);
  });

  let isTimedOut = false;
  const timer = setTimeout(() => {
    isTimedOut = true;
    child.kill('SIGKILL');
  }, opts.timeoutMs);
  const code = await new Promise<number | string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('close', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
  });
  clearTimeout(timer);
  forget();
  return { code, stdout, stderr, seconds: (performance.now() - started) / 1000, isTimedOut };
}

/** '`cmd` exited 2 (timed out): <last lines>' for error messages. */
export function describeFailure(argv: readonly string[], out: ChildOutput): string {
  const tail = `${out.stdout}\n${out.stderr}`.trim().split('\n').slice(-12).join('\n');
  return `\`${argv.join(' ')}\` exited ${out.code}${out.isTimedOut ? ' (timed out)' : ''}`
    + (tail === '' ? '' : `:\n${tail}`);
}
