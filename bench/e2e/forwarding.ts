/**
 * End-to-end forwarding bench: the same wrk load against the upstream directly, nginx
 * proxy_pass, and Portcullis, interleaved round by round, each target pinned alone to one
 * core. Prints a Markdown report and writes it, with the raw data as JSON, to bench/results/.
 *
 *   npm run bench:forwarding              3 rounds x 8 s per target
 *   npm run bench:forwarding -- --quick   1 round x 3 s
 *   (--seconds N, --rounds N override either.)
 *
 * Exit code: 0 when every target passes, 1 when one fails or a scenario could not run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  type ForwardScenarioName, kForwardLoad, kForwardPinning, kForwardScenarios, kForwardTargets,
  upstreamConf,
} from '../scenarios.js';
import { installInterruptHandlers, runCleanup } from './children.js';
import { type ForwardingReport, renderMarkdown } from './forwarding-markdown.js';
import {
  type RssProbeRecord, type ScenarioRecord, type ScenarioSummary, judgeTargets, summarize,
} from './forwarding-summary.js';
import {
  type RunningTarget, checkAnswer, startNginxTarget, startTarget,
} from './forward-targets.js';
import { machineFacts } from './machine.js';
import { coreTimes, coreUse, cpuSeconds, memoryBytes, processTree } from './proc-stats.js';
import { holdIdleConnections } from './rss-probe.js';
import { type WrkOptions, runWrk, wrkCommand } from './wrk.js';

const kRepoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const kResultsDir = join(kRepoRoot, 'bench', 'results');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function readOptions(argv: string[]): { quick: boolean; seconds: number; rounds: number } {
  const { values } = parseArgs({ args: argv, options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
  } });
  const base = values.quick ? kForwardLoad.quick : kForwardLoad.full;
  const seconds = Number(values.seconds ?? base.seconds);
  const rounds = Number(values.rounds ?? base.rounds);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 120) {
    throw new Error('--seconds must be an integer from 1 to 120');
  }
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 9) {
    throw new Error('--rounds must be an integer from 1 to 9');
  }
  return { quick: values.quick ?? false, seconds, rounds };
}

/** One warm-up run (discarded), then the measured run with CPU and memory of the target. */
async function measure(target: RunningTarget, wrk: WrkOptions, warmupSeconds: number) {
  await runWrk({ ...wrk, url: `http://127.0.0.1:${target.port}/`, seconds: warmupSeconds });
  await sleep(200);

  const pids = processTree(target.pid);
  const cpuBefore = cpuSeconds(pids);
  const coresBefore = coreTimes();
  const result = await runWrk({ ...wrk, url: `http://127.0.0.1:${target.port}/` });
  const cpuUsed = cpuSeconds(pids) - cpuBefore;
  if (!isAlive(target.pid)) throw new Error(`${target.name} exited during the run`);
  return {
    wrk: result,
    cores: coreUse(coresBefore, coreTimes()),
    targetCpuShare: cpuUsed / result.durationSeconds,
    cpuUsPerRequest: result.requests > 0 ? (cpuUsed * 1e6) / result.requests : Number.NaN,
    peakRssBytes: memoryBytes(processTree(target.pid), 'VmHWM'),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Holds kForwardTargets.idleConnections idle connections on Portcullis and reads its RSS. */
async function probeRss(target: RunningTarget): Promise<RssProbeRecord> {
  const connections = kForwardTargets.idleConnections;
  const baselineRssBytes = memoryBytes(processTree(target.pid), 'VmRSS');
  const held = await holdIdleConnections(target.port, connections, 30_000);
  try {
    await sleep(500);
    return {
      connections,
      opened: held.opened,
      answered200: held.answered200,
      stillOpen: held.stillOpen(),
      baselineRssBytes,
      rssBytes: memoryBytes(processTree(target.pid), 'VmRSS'),
    };
  } finally {
    await held.close();
  }
}

async function main(argv: string[]): Promise<number> {
  const startedAt = new Date().toISOString();
  const opts = readOptions(argv);
  const warmupSeconds = opts.quick ? kForwardLoad.quick.warmupSeconds
    : kForwardLoad.full.warmupSeconds;
  const perRunSeconds = warmupSeconds + opts.seconds + 30;
  installInterruptHandlers((opts.rounds * kForwardScenarios.length * perRunSeconds + 180) * 1e3);

  const machine = await machineFacts();
  const pinning = availableParallelism() >= 2 ? kForwardPinning : null;
  if (pinning === null) log('warning: fewer than two CPUs: running unpinned');
  const wrk: WrkOptions = {
    url: 'http://127.0.0.1:PORT/', seconds: opts.seconds, threads: kForwardLoad.threads,
    connections: kForwardLoad.connections,
    ...(pinning === null ? {} : { cpus: pinning.loadAndUpstream }),
  };

  // 1. The upstream, sharing the load core with wrk.
  const upstream = await startNginxTarget('upstream', upstreamConf(), pinning?.loadAndUpstream);

  // 2. Every target, alone on the target core; one that cannot start or answers wrong is out.
  const records: ScenarioRecord[] = [];
  const running = new Map<ForwardScenarioName, RunningTarget>();
  for (const scenario of kForwardScenarios) {
    const record: ScenarioRecord = {
      name: scenario.name, summary: scenario.summary, command: [], conf: '', runs: [],
    };
    records.push(record);
    try {
      const target = await startTarget(scenario, upstream.port, kRepoRoot, pinning?.target);
      Object.assign(record, { command: target.command, conf: target.conf });
      const wrong = await checkAnswer(target.port);
      if (wrong !== undefined) throw new Error(wrong);
      running.set(scenario.name, target);
    } catch (err) {
      record.error = err instanceof Error ? err.message : String(err);
      log(`${scenario.name} cannot be measured: ${record.error}`);
    }
  }

  // 3. Rounds, the order rotating by one each round.
  for (let round = 1; round <= opts.rounds; round++) {
    const order = records.map((_, i) => records[(i + round - 1) % records.length]);
    for (const [position, record] of order.entries()) {
      const target = record === undefined ? undefined : running.get(record.name);
      if (record === undefined || target === undefined) continue;
      log(`round ${round}/${opts.rounds}: ${record.name}`);
      try {
        record.runs.push({ round, position, ...await measure(target, wrk, warmupSeconds) });
      } catch (err) {
        record.error = err instanceof Error ? err.message : String(err);
        running.delete(record.name);
      }
    }
  }

  // 4. Idle connections on Portcullis.
  const ours = running.get('forward/portcullis');
  let rssProbe: RssProbeRecord | undefined;
  if (ours !== undefined) {
    log(`RSS probe: ${kForwardTargets.idleConnections} idle connections`);
    rssProbe = await probeRss(ours).catch((err: unknown) => ({
      connections: kForwardTargets.idleConnections, opened: 0, answered200: 0, stillOpen: 0,
      baselineRssBytes: 0, rssBytes: 0, error: err instanceof Error ? err.message : String(err),
    }));
  }

  // 5. Report.
  const summaries = new Map<ForwardScenarioName, ScenarioSummary>();
  for (const record of records) {
    const summary = summarize(record);
    if (summary !== undefined) summaries.set(record.name, summary);
  }
  const targets = judgeTargets(summaries, records, rssProbe);
  const report: ForwardingReport = {
    startedAt,
    mode: opts.quick ? 'quick' : 'full',
    machine,
    load: { threads: wrk.threads, connections: wrk.connections, seconds: opts.seconds,
      rounds: opts.rounds, warmupSeconds, wrkCommand: wrkCommand(wrk) },
    pinning,
    upstream: { command: upstream.command, conf: upstreamConf() },
    scenarios: records,
    summaries: [...summaries.values()],
    ...(rssProbe === undefined ? {} : { rssProbe }),
    targets,
  };
  const markdown = renderMarkdown({ ...report, summaries });
  process.stdout.write(markdown);

  const stem = `forwarding-${report.startedAt.slice(0, 10)}${opts.quick ? '-quick' : ''}`;
  await mkdir(kResultsDir, { recursive: true });
  await writeFile(join(kResultsDir, `${stem}.md`), markdown);
  await writeFile(join(kResultsDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  log(`written: bench/results/${stem}.md and .json`);

  const hasErrors = records.some((r) => r.error !== undefined);
  return hasErrors || targets.some((t) => !t.pass) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  async (code) => {
    await runCleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    const detail = err instanceof Error ? err.stack ?? err.message : String(err);
    log(`forwarding bench failed: ${detail}`);
    await runCleanup();
    process.exit(1);
  },
);
