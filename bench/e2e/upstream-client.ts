/**
 * Upstream client bench: CPU per request of four HTTP/1.1 clients (Portcullis's UpstreamPool,
 * undici Pool.dispatch, undici Pool.request, node:http) driving the same nginx upstream. Each
 * client runs in its own child process (client-loops.ts) pinned alone to one CPU and measures
 * its own CPU time; rounds interleave the clients, reversing the order every other round.
 * Prints a Markdown report and writes it, with the raw data as JSON, to bench/results/.
 *
 *   node dist/bench/e2e/upstream-client.js            3 rounds x 6 s per client
 *   node dist/bench/e2e/upstream-client.js --quick    1 round x 2 s
 *
 * Exit code: 0 when every client ran and answered right, 1 otherwise.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { upstreamConf } from '../scenarios.js';
import { kClientNames } from './client-drivers.js';
import type { ClientLoopResult } from './client-loops.js';
import { installInterruptHandlers, killOnExit, runCleanup } from './children.js';
import { checkAnswer, startNginxTarget } from './forward-targets.js';
import { machineFacts } from './machine.js';
import { type CoreTimes, coreTimes, coreUse, cpuSeconds, processTree } from './proc-stats.js';
import {
  type ClientRecord, type ClientRun, type UpstreamClientReport, kClientSummaries,
  renderUpstreamClientMarkdown, summarizeClients,
} from './upstream-client-report.js';

/** Load shape and run lengths (milliseconds), full and --quick. */
const kLoad = {
  inFlight: 64,
  full: { warmupMs: 1_000, measureMs: 6_000, rounds: 3 },
  quick: { warmupMs: 500, measureMs: 2_000, rounds: 1 },
} as const;
/** taskset lists: each client alone on one CPU, the upstream nginx on the other. */
const kPinning = { client: '0', upstream: '1' } as const;
/** A child gets this long beyond its warm-up and window before it is killed. */
const kChildGraceMs = 15_000;

const kRepoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const kResultsDir = join(kRepoRoot, 'bench', 'results');
const kLoopScript = fileURLToPath(new URL('./client-loops.js', import.meta.url));

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** The argv of one child; `cpus` undefined runs it unpinned. */
function childCommand(
  client: string, port: number, warmupMs: number, measureMs: number, cpus: string | undefined,
): string[] {
  const node = [process.execPath, kLoopScript, '--client', client, '--port', String(port),
    '--in-flight', String(kLoad.inFlight), '--warmup-ms', String(warmupMs),
    '--measure-ms', String(measureMs)];
  return cpus === undefined ? node : ['taskset', '-c', cpus, ...node];
}

/** Window snapshot taken by the parent when the child announces a window edge. */
interface Snapshot {
  at: number;
  childCpu: number;
  upstreamCpu: number;
  cores: CoreTimes[];
}

/**
 * Runs one child to completion and pairs its own figures with /proc readings over the same
 * window. Rejects when it exits without a result, or is still running after its time limit.
 */
async function runChild(
  command: string[], upstreamPid: number, clientCpu: number | undefined, limitMs: number,
): Promise<Omit<ClientRun, 'round' | 'position'>> {
  const child = spawn(command[0] ?? 'node', command.slice(1), {
    cwd: kRepoRoot, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const forget = killOnExit(child);
  const timer = setTimeout(() => child.kill('SIGKILL'), limitMs);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4_096);
  });

  // 1. Snapshot /proc on each window edge; keep the result line.
  const upstreamPids = processTree(upstreamPid);
  const snap = (): Snapshot => ({ at: performance.now(), childCpu: cpuSeconds([child.pid ?? -1]),
    upstreamCpu: cpuSeconds(upstreamPids), cores: coreTimes() });
  const edges: Snapshot[] = [];
  let result: ClientLoopResult | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    let message: { event?: string } & ClientLoopResult;
    try {
      message = JSON.parse(line) as typeof message;
    } catch {
      stderr += `\nunexpected output: ${line.slice(0, 200)}`;
      return;
    }
    const { event, ...fields } = message;
    if (event === 'window-start' || event === 'window-end') edges.push(snap());
    if (event === 'result') result = fields;
  });

  // 2. Wait for it to end (the kill timer bounds this).
  const status = await new Promise<string | number>((resolve) => {
    child.once('error', (err) => resolve(err.message));
    child.once('close', (code, signal) => resolve(code ?? signal ?? 'unknown'));
  });
  clearTimeout(timer);
  forget();
  if (result?.firstWrongAnswer !== undefined) {
    throw new Error(`wrong answer (${result.wrongAnswers}): ${result.firstWrongAnswer}`);
  }
  const [start, end] = edges;
  if (status !== 0 || result === undefined || start === undefined || end === undefined) {
    throw new Error(`child ended (${status}) without a result:\n${stderr}`);
  }

  // 3. The same window as seen from /proc.
  const wallSeconds = (end.at - start.at) / 1e3;
  const cores = coreUse(start.cores, end.cores);
  const childShare = (end.childCpu - start.childCpu) / wallSeconds;
  const requests = Math.max(1, result.requests);
  const perRequest = (seconds: number): number => seconds * 1e6 / requests;
  return {
    result,
    procCpuUsPerRequest: perRequest(end.childCpu - start.childCpu),
    upstreamCpuUsPerRequest: perRequest(end.upstreamCpu - start.upstreamCpu),
    cores,
    ...(clientCpu === undefined ? {} : {
      othersOnClientCpu: Math.max(0, (cores.tasks[clientCpu] ?? 0) - childShare),
    }),
  };
}

function readOptions(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: {
    quick: { type: 'boolean', default: false },
  } });
  const quick = values.quick ?? false;
  return { quick, ...(quick ? kLoad.quick : kLoad.full) };
}

async function main(argv: string[]): Promise<number> {
  const startedAt = new Date().toISOString();
  const opts = readOptions(argv);
  const childLimitMs = opts.warmupMs + opts.measureMs + kChildGraceMs;
  installInterruptHandlers(opts.rounds * kClientNames.length * childLimitMs + 60_000);

  const machine = await machineFacts();
  const pinning = availableParallelism() >= 2 ? kPinning : null;
  if (pinning === null) log('warning: fewer than two CPUs: running unpinned');
  const undiciPackage = join(kRepoRoot, 'node_modules', 'undici', 'package.json');
  const undici = (JSON.parse(readFileSync(undiciPackage, 'utf8')) as { version: string }).version;

  // 1. The upstream, alone on its CPU; it must answer the expected body before any load.
  const upstream = await startNginxTarget('upstream', upstreamConf(), pinning?.upstream);
  const wrong = await checkAnswer(upstream.port);
  if (wrong !== undefined) throw new Error(`the upstream answers wrong: ${wrong}`);

  // 2. Rounds: A B C D, then D C B A, and so on; one child at a time.
  const records: ClientRecord[] = kClientNames.map((name) => ({
    name, summary: kClientSummaries[name], runs: [],
  }));
  const clientCpu = pinning === null ? undefined : Number(pinning.client);
  for (let round = 1; round <= opts.rounds; round++) {
    const order = round % 2 === 1 ? records : [...records].reverse();
    for (const [position, record] of order.entries()) {
      log(`round ${round}/${opts.rounds}: ${record.name}`);
      const command = childCommand(record.name, upstream.port, opts.warmupMs, opts.measureMs,
        pinning?.client);
      try {
        const run = await runChild(command, upstream.pid, clientCpu, childLimitMs);
        record.runs.push({ round, position, ...run });
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
        log(`${record.name} failed: ${record.error}`);
      }
      await sleep(200);
    }
  }

  // 3. Report.
  const report: UpstreamClientReport = {
    startedAt,
    mode: opts.quick ? 'quick' : 'full',
    machine,
    undici,
    load: { inFlight: kLoad.inFlight, seconds: opts.measureMs / 1e3,
      warmupSeconds: opts.warmupMs / 1e3, rounds: opts.rounds },
    pinning,
    upstream: { command: upstream.command, conf: upstreamConf() },
    clientCommand: childCommand('<client>', upstream.port, opts.warmupMs, opts.measureMs,
      pinning?.client),
    clients: records,
    summaries: summarizeClients(records),
  };
  const markdown = renderUpstreamClientMarkdown(report);
  process.stdout.write(markdown);

  const stem = `upstream-client-${startedAt.slice(0, 10)}${opts.quick ? '-quick' : ''}`;
  await mkdir(kResultsDir, { recursive: true });
  await writeFile(join(kResultsDir, `${stem}.md`), markdown);
  await writeFile(join(kResultsDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  log(`written: bench/results/${stem}.md and .json`);
  return report.summaries.length === records.length
    && report.summaries.every((s) => s.invalid === undefined) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  async (code) => {
    await runCleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    log(`upstream-client bench failed: ${err instanceof Error ? err.stack ?? err.message : err}`);
    await runCleanup();
    process.exit(1);
  },
);
