/**
 * Runs wrk and reads its report: throughput, the latency distribution (p50 and p99 from
 * `--latency`, p99.9 and the maximum from the Lua `done` hook of wrk-latency-script.ts), and
 * the counts that make a run invalid (non-2xx answers, timeouts).
 */
import { spawn } from 'node:child_process';

import { killOnExit } from './children.js';
import { ensureLatencyScript, latencyScriptPath, parseLatencyLine } from './wrk-latency-script.js';

/** What one wrk run measured. Latencies in microseconds. */
export interface WrkResult {
  requests: number;
  durationSeconds: number;
  reqPerSec: number;
  p50Us: number;
  p99Us: number;
  /**
   * p99.9 and the largest latency, from the `done` hook; undefined when the run's script does
   * not carry the hook (a script passed in that lacks it).
   */
  p999Us?: number;
  maxUs?: number;
  /** Answers with status >= 400 (wrk's "Non-2xx or 3xx responses"). */
  non2xx: number;
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

/** Options of one wrk run. */
export interface WrkOptions {
  url: string;
  seconds: number;
  threads: number;
  connections: number;
  /** taskset CPU list for wrk; unpinned when absent. */
  cpus?: string;
  /** Extra request headers, `Name: value` each (wrk's `-H`). */
  headers?: readonly string[];
  /**
   * A wrk Lua script (`-s`) and the arguments its `init(args)` receives (after `--`). It should
   * end with wrk-latency-script.ts's `done` hook, or the run has no p99.9. Without a script,
   * the hook-only script is passed.
   */
  script?: { path: string; args: readonly string[] };
}

/** The argv that `runWrk` executes, for reports. */
export function wrkCommand(opts: WrkOptions): string[] {
  const wrk = ['wrk', `-t${opts.threads}`, `-c${opts.connections}`, `-d${opts.seconds}s`,
    '--latency'];
  for (const header of opts.headers ?? []) wrk.push('-H', header);
  wrk.push('-s', opts.script?.path ?? latencyScriptPath());
  wrk.push(opts.url);
  if (opts.script !== undefined && opts.script.args.length > 0) {
    wrk.push('--', ...opts.script.args);
  }
  return opts.cpus === undefined ? wrk : ['taskset', '-c', opts.cpus, ...wrk];
}

/**
 * Runs wrk to completion and parses its report. Bounded: SIGKILLed 20 s after its duration.
 * Rejects when wrk fails or its report cannot be parsed (with wrk's output in the message).
 */
export async function runWrk(opts: WrkOptions): Promise<WrkResult> {
  if (opts.script === undefined) await ensureLatencyScript();
  const [command, ...args] = wrkCommand(opts);
  const child = spawn(command ?? 'wrk', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const forget = killOnExit(child);
  let out = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), (opts.seconds + 20) * 1_000);

  const code = await new Promise<number | string>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('close', (exitCode, signal) => resolve(exitCode ?? signal ?? 'unknown'));
  });
  clearTimeout(timer);
  forget();
  if (code !== 0) throw new Error(`wrk failed (${code}) against ${opts.url}:\n${out}`);
  return parseWrk(out);
}

const kUnitToUs: Record<string, number> = { us: 1, ms: 1e3, s: 1e6, m: 60e6, h: 3600e6 };

/**
 * Parses wrk 4.x `--latency` output, and the `done` hook's line when present. Throws when a
 * required figure (requests, duration, rate, p50, p99) is missing.
 */
export function parseWrk(out: string): WrkResult {
  const total = /(\d+) requests in ([\d.]+)(us|ms|s|m|h)/.exec(out);
  const rate = /Requests\/sec:\s+([\d.]+)/.exec(out);
  const p50 = percentile(out, 50);
  const p99 = percentile(out, 99);
  if (total === null || rate === null || p50 === undefined || p99 === undefined) {
    throw new Error(`cannot parse wrk output:\n${out}`);
  }

  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = /Non-2xx or 3xx responses: (\d+)/.exec(out);
  const hook = parseLatencyLine(out);
  return {
    requests: Number(total[1]),
    durationSeconds: toUs(total[2], total[3]) / 1e6,
    reqPerSec: Number(rate[1]),
    p50Us: p50,
    p99Us: p99,
    ...(hook === undefined ? {} : { p999Us: hook.p999Us, maxUs: hook.maxUs }),
    non2xx: non2xx === null ? 0 : Number(non2xx[1]),
    socketErrors: {
      connect: Number(socket?.[1] ?? 0),
      read: Number(socket?.[2] ?? 0),
      write: Number(socket?.[3] ?? 0),
      timeout: Number(socket?.[4] ?? 0),
    },
  };
}

function percentile(out: string, pct: number): number | undefined {
  const match = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m|h)\\s*$`, 'm').exec(out);
  return match === null ? undefined : toUs(match[1], match[2]);
}

function toUs(value: string | undefined, unit: string | undefined): number {
  return Number(value) * (kUnitToUs[unit ?? ''] ?? Number.NaN);
}

/** Version line of the installed wrk (its `-v` banner), or 'unknown'. */
export async function wrkVersion(): Promise<string> {
  return new Promise<string>((resolve) => {
    const child = spawn('wrk', ['-v'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (out += chunk));
    child.once('error', () => resolve('not installed'));
    child.once('close', () => resolve(out.split('\n')[0]?.replace(/\s+Copyright.*$/, '').trim()
      || 'unknown'));
  });
}
