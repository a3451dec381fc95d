/**
 * The upstream-client bench's report: the data written as JSON, the medians over rounds, and
 * the Markdown rendering (printed to stdout and written next to the JSON in bench/results/).
 */
import type { ClientName } from './client-drivers.js';
import type { ClientLoopResult } from './client-loops.js';
import { fmtPct, fmtRate, kForeignLoadLimit, median } from './forwarding-summary.js';
import type { MachineFacts } from './machine.js';
import type { CoreUse } from './proc-stats.js';

/** One line per client for the report. */
export const kClientSummaries: Record<ClientName, string> = {
  'upstream-client/portcullis': 'src/upstream UpstreamPool.request(head, sink), sink counts bytes',
  'upstream-client/undici-dispatch': 'undici Pool.dispatch(opts, handler), minimal legacy handler',
  'upstream-client/undici-request': 'undici Pool.request(opts), body read with body.arrayBuffer()',
  'upstream-client/node-http': 'node:http request() with a keep-alive Agent, body read by events',
};

/** One child run of one client. */
export interface ClientRun {
  round: number;
  /** Position within its round (0 = first). */
  position: number;
  /** What the child measured itself (process.cpuUsage over its window). */
  result: ClientLoopResult;
  /** The child's CPU over the same window from /proc/<pid>/stat (clock-tick resolution). */
  procCpuUsPerRequest: number;
  /** The upstream nginx's CPU (master and worker) over the window, per request. */
  upstreamCpuUsPerRequest: number;
  /** Per-CPU use over the window, whatever ran there. */
  cores: CoreUse;
  /** Share of the client's CPU used by other processes (0..1); absent when unpinned. */
  othersOnClientCpu?: number;
}

/** Everything recorded for one client; `error` when a child failed or timed out. */
export interface ClientRecord {
  name: ClientName;
  summary: string;
  runs: ClientRun[];
  error?: string;
}

/** Medians over one client's runs. */
export interface ClientSummary {
  name: ClientName;
  runs: number;
  reqPerSec: number;
  cpuUsPerRequest: number;
  cpuUsPerRequestMin: number;
  cpuUsPerRequestMax: number;
  /** cpuUsPerRequest / Portcullis's; absent when either is not valid. */
  cpuVsPortcullis?: number;
  /** Why the figures do not count (a wrong answer, a failed child), if so. */
  invalid?: string;
}

/** Everything one invocation measured; serialized as-is to the .json file. */
export interface UpstreamClientReport {
  /** ISO 8601 start time. */
  startedAt: string;
  mode: 'full' | 'quick';
  machine: MachineFacts;
  undici: string;
  load: { inFlight: number; seconds: number; warmupSeconds: number; rounds: number };
  /** taskset CPU lists, or null when the machine has fewer than two CPUs. */
  pinning: { client: string; upstream: string } | null;
  upstream: { command: string[]; conf: string };
  /** One child's argv (the client name varies). */
  clientCommand: string[];
  clients: ClientRecord[];
  summaries: ClientSummary[];
}

/** Medians per client; the CPU ratio is taken against `upstream-client/portcullis`. */
export function summarizeClients(records: readonly ClientRecord[]): ClientSummary[] {
  const summaries: ClientSummary[] = [];
  for (const record of records) {
    const runs = record.runs;
    if (runs.length === 0) continue;
    const cpu = runs.map((r) => r.result.cpuUsPerRequest);
    const summary: ClientSummary = {
      name: record.name,
      runs: runs.length,
      reqPerSec: median(runs.map((r) => r.result.reqPerSec)),
      cpuUsPerRequest: median(cpu),
      cpuUsPerRequestMin: Math.min(...cpu),
      cpuUsPerRequestMax: Math.max(...cpu),
    };
    // A wrong answer fails its run (upstream-client.ts), so it shows up as `error` here.
    if (record.error !== undefined) summary.invalid = `a run failed: ${firstLine(record.error)}`;
    summaries.push(summary);
  }

  const ours = summaries.find((s) => s.name === 'upstream-client/portcullis');
  if (ours !== undefined && ours.invalid === undefined) {
    for (const s of summaries) {
      if (s.invalid === undefined) s.cpuVsPortcullis = s.cpuUsPerRequest / ours.cpuUsPerRequest;
    }
  }
  return summaries;
}

/** Renders the report: headline table, notes, commands, every run. */
export function renderUpstreamClientMarkdown(report: UpstreamClientReport): string {
  const { machine: m, load } = report;
  const lines = [
    `# Upstream client benchmark, ${report.startedAt.slice(0, 10)} (${report.mode}: `
      + `${load.rounds} round(s) x ${load.seconds} s)`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (${m.cpusAvailable} available), ${m.kernel}, `
      + `Node ${m.node}, ${m.nginx}, undici ${report.undici}.`,
    report.pinning === null
      ? 'Pinning: none (fewer than two CPUs): client and upstream share the CPUs.'
      : `Pinning: each client alone on CPU ${report.pinning.client} (taskset), one at a time; `
        + `the upstream nginx (one worker) on CPU ${report.pinning.upstream}.`,
    `Load: ${load.inFlight} requests in flight, \`GET /\` answered 200 with a 97-byte body; `
      + `${load.seconds} s measured after a ${load.warmupSeconds} s warm-up, per child; order `
      + 'reversed every other round; medians across rounds.',
    '',
    '| client | req/s | CPU µs/req | CPU vs portcullis | runs: CPU µs/req range |',
    '|---|---:|---:|---:|---:|',
    ...report.clients.map((record) => {
      const s = report.summaries.find((x) => x.name === record.name);
      if (s === undefined) return `| ${record.name} | not run | - | - | - |`;
      const mark = s.invalid === undefined ? '' : ' (invalid)';
      const ratio = s.cpuVsPortcullis === undefined ? '-' : `${s.cpuVsPortcullis.toFixed(2)}x`;
      return `| ${record.name}${mark} | ${fmtRate(s.reqPerSec)} | ${s.cpuUsPerRequest.toFixed(1)} `
        + `| ${ratio} | ${s.runs}: ${s.cpuUsPerRequestMin.toFixed(1)}-`
        + `${s.cpuUsPerRequestMax.toFixed(1)} |`;
    }),
    '',
    ...report.clients.map((r) => `- ${r.name}: ${r.summary}`),
    '',
    ...problemLines(report),
    'Commands:',
    '',
    `- upstream: \`${report.upstream.command.join(' ')}\``,
    `- each client: \`${report.clientCommand.join(' ')}\``,
    '',
    ...runTable(report),
  ];
  return `${lines.join('\n')}\n`;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

function problemLines(report: UpstreamClientReport): string[] {
  const lines = report.summaries.filter((s) => s.invalid !== undefined)
    .map((s) => `- ${s.name} is invalid: ${s.invalid}`);
  for (const record of report.clients) {
    if (record.error !== undefined && record.runs.length === 0) {
      lines.push(`- ${record.name} has no valid run: ${record.error.split('\n').join('\n  ')}`);
    }
  }
  const runs = report.clients.flatMap((r) => r.runs);
  const disturbed = runs.filter((r) => (r.othersOnClientCpu ?? 0) > kForeignLoadLimit).length;
  if (disturbed > 0) {
    lines.push(`- Warning: in ${disturbed} of ${runs.length} runs, other processes took more `
      + `than ${fmtPct(kForeignLoadLimit)} of the client CPU: the machine was not quiet.`);
  }
  return lines.length === 0 ? [] : ['Problems:', '', ...lines, ''];
}

function runTable(report: UpstreamClientReport): string[] {
  const runs = report.clients.flatMap((record) => record.runs.map((run) => ({ record, run })));
  runs.sort((a, b) => a.run.round - b.run.round || a.run.position - b.run.position);
  return [
    'Every run (CPU µs/req: the child\'s process.cpuUsage(); "/proc": the same from '
      + '/proc/<pid>/stat, 10 ms ticks; "upstream": nginx\'s CPU per request):',
    '',
    '| round | client | req/s | CPU µs/req | /proc | upstream | client CPU share | CPUs busy '
      + '| others on client CPU | requests | wrong |',
    '|---:|---|---:|---:|---:|---:|---:|---|---:|---:|---:|',
    ...runs.map(({ record, run }) => {
      const r = run.result;
      const others = run.othersOnClientCpu;
      return `| ${run.round} | ${record.name} | ${fmtRate(r.reqPerSec)} `
        + `| ${r.cpuUsPerRequest.toFixed(1)} | ${run.procCpuUsPerRequest.toFixed(1)} `
        + `| ${run.upstreamCpuUsPerRequest.toFixed(1)} | ${fmtPct(r.cpuShare)} `
        + `| ${run.cores.busy.map((f) => `${Math.round(f * 100)}%`).join(' ')} `
        + `| ${others === undefined ? '-' : `${Math.round(others * 100)}%`} `
        + `| ${r.requests} | ${r.wrongAnswers} |`;
    }),
  ];
}
