/**
 * The cost of the audit sink: the forwarding bench's Portcullis target (one public service,
 * nginx upstream, wrk) with `audit.sink: none` and `audit.sink: file`, plus two runs with a
 * live-feed subscriber (one that reads, one that never reads), interleaved round by round, each
 * target alone on one core. `sink=none` runs twice: the spread between the two is the noise.
 *
 *   node dist/bench/e2e/audit-sink.js              3 rounds x 8 s per target
 *   node dist/bench/e2e/audit-sink.js --quick      1 round x 3 s
 *
 * Writes bench/results/audit-sink-<date>[-quick].{md,json}. Exit 0 when sink=file keeps at
 * least 95% of sink=none's req/s on a quiet machine (the two baseline runs within 5% of each
 * other, no run with more than 10% of the target CPU taken by others); 1 otherwise, when the
 * machine was too busy to tell, or when a target could not run.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { WebSocket } from 'undici';

import {
  type AuditSinkScenario, auditSinkConfig, kAuditSinkScenarios, kAuditSinkTargets, kForwardLoad,
  kForwardPinning, upstreamConf,
} from '../scenarios.js';
import { installInterruptHandlers, onCleanup, runCleanup } from './children.js';
import { checkAnswer, startNginxTarget } from './forward-targets.js';
import { foreignLoad, kForeignLoadLimit, median, type RunRecord } from './forwarding-summary.js';
import { machineFacts } from './machine.js';
import { measureRun } from './measure.js';
import { type PortcullisProcess, startPortcullis } from './portcullis-process.js';
import { type WrkOptions, wrkCommand } from './wrk.js';

const kRepoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const kAdminToken = 'bench-admin-token';

interface Target {
  readonly scenario: AuditSinkScenario;
  readonly proxy: PortcullisProcess;
  readonly runs: RunRecord[];
  /** Feed messages (reader) or bytes never read (stalled), over all runs. */
  feedSeen: number;
}

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/** A feed subscriber for the length of one run; resolves a function that ends it. */
async function subscribe(target: Target): Promise<() => void> {
  const url = `ws://127.0.0.1:${target.proxy.adminPort}/feed`;
  if (target.scenario.feed === 'reader') {
    const ws = new WebSocket(url, { headers: { authorization: `Bearer ${kAdminToken}` } } as never);
    ws.addEventListener('message', () => { target.feedSeen++; });
    await new Promise((resolve, reject) => {
      ws.addEventListener('open', resolve);
      ws.addEventListener('error', reject);
    });
    return () => ws.close();
  }
  // Stalled: a raw WebSocket handshake, then the socket is never read again.
  const socket = net.connect(target.proxy.adminPort, '127.0.0.1');
  await new Promise((resolve) => socket.once('connect', resolve));
  socket.write(`GET /feed HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n`
    + 'Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n'
    + `Sec-WebSocket-Key: ${Buffer.alloc(16, 1).toString('base64')}\r\n`
    + `Authorization: Bearer ${kAdminToken}\r\n\r\n`);
  await new Promise((resolve) => socket.once('data', resolve));
  socket.pause();
  return () => socket.destroy();
}

function readOptions(argv: string[]): { quick: boolean; seconds: number; rounds: number } {
  const { values } = parseArgs({ args: argv, options: { quick: { type: 'boolean', default: false },
    seconds: { type: 'string' }, rounds: { type: 'string' } } });
  const base = values.quick ? kForwardLoad.quick : kForwardLoad.full;
  return { quick: values.quick ?? false, seconds: Number(values.seconds ?? base.seconds),
    rounds: Number(values.rounds ?? base.rounds) };
}

async function main(argv: string[]): Promise<number> {
  const startedAt = new Date().toISOString();
  const opts = readOptions(argv);
  const warmupSeconds = opts.quick ? kForwardLoad.quick.warmupSeconds
    : kForwardLoad.full.warmupSeconds;
  installInterruptHandlers((opts.rounds * kAuditSinkScenarios.length
    * (warmupSeconds + opts.seconds + 30) + 180) * 1e3);
  process.env['PORTCULLIS_BENCH_ADMIN_TOKEN'] = kAdminToken;
  const pinning = availableParallelism() >= 2 ? kForwardPinning : null;
  const wrk: WrkOptions = { url: '', seconds: opts.seconds, threads: kForwardLoad.threads,
    connections: kForwardLoad.connections,
    ...(pinning === null ? {} : { cpus: pinning.loadAndUpstream }) };

  // 1. The upstream on the load core, then every target on the target core.
  const upstream = await startNginxTarget('upstream', upstreamConf(), pinning?.loadAndUpstream);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-audit-bench-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const targets: Target[] = [];
  for (const [i, scenario] of kAuditSinkScenarios.entries()) {
    const proxy = await startPortcullis({ repoRoot: kRepoRoot, upstreamPort: upstream.port,
      ...(pinning === null ? {} : { cpus: pinning.target }),
      config: (p, a) => auditSinkConfig(p, a, upstream.port, scenario, join(dir, `audit-${i}.log`)) });
    onCleanup(() => proxy.stop());
    const wrong = await checkAnswer(proxy.proxyPort);
    if (wrong !== undefined) throw new Error(`${scenario.name}: ${wrong}`);
    targets.push({ scenario, proxy, runs: [], feedSeen: 0 });
  }

  // 2. Rounds, the order rotating by one each round.
  for (let round = 1; round <= opts.rounds; round++) {
    for (let position = 0; position < targets.length; position++) {
      const target = targets[(position + round - 1) % targets.length] as Target;
      log(`round ${round}/${opts.rounds}: ${target.scenario.name}`);
      const url = `http://127.0.0.1:${target.proxy.proxyPort}/`;
      const end = target.scenario.feed === 'none' ? () => {} : await subscribe(target);
      try {
        const run = await measureRun(target.proxy.pid, { ...wrk, url, seconds: warmupSeconds },
          { ...wrk, url });
        target.runs.push({ round, position, ...run });
      } finally {
        end();
      }
    }
  }

  // 3. Report: medians, ratios to sink=none, the verdict.
  const rows = targets.map((t) => ({
    name: t.scenario.name, summary: t.scenario.summary,
    reqPerSec: median(t.runs.map((r) => r.wrk.reqPerSec)),
    rates: t.runs.map((r) => Math.round(r.wrk.reqPerSec)),
    p99Us: median(t.runs.map((r) => r.wrk.p99Us)),
    cpuUsPerRequest: median(t.runs.map((r) => r.cpuUsPerRequest)),
    non2xx: t.runs.reduce((n, r) => n + r.wrk.non2xx, 0),
    othersOnTargetCpu: median(t.runs.map((r) => foreignLoad(r,
      pinning === null ? undefined : Number(pinning.target)) ?? 0)),
    feedSeen: t.feedSeen,
  }));
  const base = rows[0]?.reqPerSec ?? Number.NaN;
  const baseCpu = rows[0]?.cpuUsPerRequest ?? Number.NaN;
  const file = rows.find((r) => r.name === 'audit/sink=file')?.reqPerSec ?? Number.NaN;
  const ratio = file / base;
  // A verdict needs a quiet machine: the baseline measured twice must agree, and no other
  // process may have taken a real share of the target core.
  const noise = Math.abs((rows[2]?.reqPerSec ?? Number.NaN) / base - 1);
  const busiest = Math.max(...rows.map((r) => r.othersOnTargetCpu));
  const isQuiet = noise <= 1 - kAuditSinkTargets.minFileOverNoneRatio && busiest <= kForeignLoadLimit;
  const isPass = isQuiet && ratio >= kAuditSinkTargets.minFileOverNoneRatio
    && rows.every((r) => r.non2xx === 0);
  const verdict = !isQuiet ? `INCONCLUSIVE: the machine was not quiet (baseline noise `
    + `${(100 * noise).toFixed(1)}%, others on the target CPU up to ${(100 * busiest).toFixed(0)}%)`
    : isPass ? 'PASS' : 'FAIL';
  const machine = await machineFacts();
  const lines = [
    `# Audit sink cost, ${startedAt.slice(0, 10)}`, '',
    `Machine: ${machine.cpuModel}, ${machine.cpus} CPUs, Node ${machine.node}; `
      + `target pinned to CPU ${pinning?.target ?? 'none'}, wrk and nginx upstream to ${pinning?.loadAndUpstream ?? 'none'}.`,
    `Load: \`${wrkCommand({ ...wrk, url: 'http://127.0.0.1:PORT/' }).join(' ')}\`, `
      + `${opts.rounds} interleaved rounds, warm-up ${warmupSeconds} s each; medians.`, '',
    '| target | req/s (runs) | req/s vs sink=none | p99 | CPU µs/req | CPU vs sink=none '
      + '| others on target CPU | non-2xx |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map((r) => `| \`${r.name}\` | ${(r.reqPerSec / 1000).toFixed(1)}k (${r.rates.join(', ')}) `
      + `| ${(r.reqPerSec / base).toFixed(3)}x | ${(r.p99Us / 1000).toFixed(2)} ms `
      + `| ${r.cpuUsPerRequest.toFixed(1)} | ${(r.cpuUsPerRequest / baseCpu).toFixed(3)}x `
      + `| ${(100 * r.othersOnTargetCpu).toFixed(0)}% | ${r.non2xx} |`),
    '',
    `Target: sink=file >= ${kAuditSinkTargets.minFileOverNoneRatio}x sink=none req/s: `
      + `${verdict} (${ratio.toFixed(3)}x).`,
    `Feed: the reader got ${rows.find((r) => r.name.endsWith('feed=reader'))?.feedSeen ?? 0} messages.`,
    '',
  ];
  const markdown = lines.join('\n');
  process.stdout.write(markdown);
  const stem = `audit-sink-${startedAt.slice(0, 10)}${opts.quick ? '-quick' : ''}`;
  const resultsDir = join(kRepoRoot, 'bench', 'results');
  await mkdir(resultsDir, { recursive: true });
  await writeFile(join(resultsDir, `${stem}.md`), markdown);
  await writeFile(join(resultsDir, `${stem}.json`), `${JSON.stringify({ startedAt, machine,
    pinning, load: { ...opts, warmupSeconds }, upstream: upstream.command, rows,
    configs: targets.map((t) => t.proxy.config), runs: targets.map((t) => t.runs) }, null, 2)}\n`);
  return isPass ? 0 : 1;
}

main(process.argv.slice(2)).then(async (code) => {
  await runCleanup();
  process.exit(code);
}, async (err: unknown) => {
  log(`audit-sink bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  await runCleanup();
  process.exit(1);
});
