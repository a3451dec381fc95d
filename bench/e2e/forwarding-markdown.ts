/**
 * The forwarding bench's report: the data written as JSON, and its Markdown rendering
 * (printed to stdout and written next to the JSON in bench/results/).
 */
import type { ForwardScenarioName } from '../scenarios.js';
import {
  type RssProbeRecord, type ScenarioRecord, type ScenarioSummary, type TargetVerdict,
  fmtBytes, fmtMs, fmtPct, fmtRate, foreignLoad, kForeignLoadLimit,
} from './forwarding-summary.js';
import type { MachineFacts } from './machine.js';

/** Everything one invocation measured; serialized as-is to the .json file. */
export interface ForwardingReport {
  /** ISO 8601 start time. */
  startedAt: string;
  mode: 'full' | 'quick';
  machine: MachineFacts;
  load: {
    threads: number; connections: number; seconds: number; rounds: number;
    warmupSeconds: number; wrkCommand: string[];
  };
  /** taskset CPU lists, or null when the machine has fewer than two CPUs. */
  pinning: { target: string; loadAndUpstream: string } | null;
  upstream: { command: string[]; conf: string };
  scenarios: ScenarioRecord[];
  summaries: ScenarioSummary[];
  rssProbe?: RssProbeRecord;
  targets: TargetVerdict[];
}

/** Renders the report as Markdown: headline table, RSS probe, verdicts, commands, raw runs. */
export function renderMarkdown(report: ReportInput): string {
  const { machine: m, load } = report;
  const lines = [
    `# Forwarding benchmark, ${report.startedAt.slice(0, 10)} (${report.mode}: `
      + `${load.rounds} round(s) x ${load.seconds} s)`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (${m.cpusAvailable} available), ${m.kernel}, `
      + `Node ${m.node}, ${m.nginx}, wrk ${m.wrk.replace(/^wrk\s+/, '')}.`,
    report.pinning === null
      ? 'Pinning: none (fewer than two CPUs): the figures mix target, load and upstream.'
      : `Pinning: target alone on CPU ${report.pinning.target} (taskset); wrk and the upstream `
        + `nginx on CPU ${report.pinning.loadAndUpstream}.`,
    `Load: \`${load.wrkCommand.join(' ')}\` after a ${load.warmupSeconds} s warm-up per run; `
      + 'rounds interleaved (A B C, B C A, C A B); medians across rounds.',
    '',
    ...headlineTable(report),
    '',
    rssLine(report.rssProbe),
    '',
    'Targets:',
    '',
    ...report.targets.map((v) => `- ${v.line}`),
    '',
    ...errorLines(report.scenarios),
    ...noiseLines(report),
    'Commands:',
    '',
    `- upstream: \`${report.upstream.command.join(' ')}\``,
    ...report.scenarios.map((s) => `- ${s.name}: `
      + (s.command.length === 0 ? '(not started)' : `\`${s.command.join(' ')}\``)),
    `- load: \`${load.wrkCommand.join(' ')}\``,
    '',
    ...runTable(report),
  ];
  return `${lines.join('\n')}\n`;
}

/** The parts of the report the Markdown needs. */
export type ReportInput = Omit<ForwardingReport, 'summaries'> & {
  summaries: ReadonlyMap<ForwardScenarioName, ScenarioSummary>;
};

function headlineTable(report: ReportInput): string[] {
  const direct = report.summaries.get('forward/direct');
  const proxy = report.summaries.get('forward/nginx-proxy');
  const ratio = (value: number, base: ScenarioSummary | undefined): string =>
    base === undefined ? '-' : `${(value / base.reqPerSec).toFixed(2)}x`;
  const rows = report.scenarios.map((record) => {
    const s = report.summaries.get(record.name);
    if (s === undefined) return `| ${record.name} | not run | - | - | - | - | - | - | - |`;
    const mark = s.invalid === undefined ? '' : ' (invalid)';
    return `| ${record.name}${mark} | ${fmtRate(s.reqPerSec)} | ${fmtMs(s.p50Us)} `
      + `| ${fmtMs(s.p99Us)} | ${s.cpuUsPerRequest.toFixed(1)} | ${fmtBytes(s.peakRssBytes)} `
      + `| ${ratio(s.reqPerSec, proxy)} | ${ratio(s.reqPerSec, direct)} `
      + `| ${s.runs}: ${fmtRate(s.reqPerSecMin)}-${fmtRate(s.reqPerSecMax)} |`;
  });
  return [
    '| target | req/s | p50 | p99 | CPU µs/req | peak RSS | req/s vs nginx-proxy '
      + '| req/s vs direct | runs: req/s range |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...rows,
  ];
}

function rssLine(probe: RssProbeRecord | undefined): string {
  if (probe === undefined) return 'RSS probe: not run (Portcullis did not run).';
  if (probe.error !== undefined) return `RSS probe: failed: ${probe.error.split('\n')[0]}`;
  return `RSS of Portcullis with ${probe.connections.toLocaleString('en-US')} idle keep-alive `
    + `connections: **${fmtBytes(probe.rssBytes)}** (before opening them: `
    + `${fmtBytes(probe.baselineRssBytes)}; ${probe.opened} opened, ${probe.answered200} answered `
    + `200, ${probe.stillOpen} still open when measured).`;
}

function errorLines(records: readonly ScenarioRecord[]): string[] {
  const failed = records.filter((r) => r.error !== undefined);
  if (failed.length === 0) return [];
  return [
    'Errors:',
    '',
    ...failed.map((r) => `- ${r.name}: ${(r.error ?? '').split('\n').join('\n  ')}`),
    '',
  ];
}

/** Warns when other processes took a noticeable share of the target CPU during some runs. */
function noiseLines(report: ReportInput): string[] {
  const cpu = targetCpu(report);
  const runs = report.scenarios.flatMap((r) => r.runs);
  const disturbed = runs.filter((run) => (foreignLoad(run, cpu) ?? 0) > kForeignLoadLimit);
  if (disturbed.length === 0) return [];
  return [
    `Warning: in ${disturbed.length} of ${runs.length} runs, other processes took more than `
      + `${fmtPct(kForeignLoadLimit)} of the target CPU (column "others on target CPU"): the `
      + 'machine was not quiet, and those figures understate the target. Rerun on a quiet machine.',
    '',
  ];
}

function targetCpu(report: ReportInput): number | undefined {
  return report.pinning === null ? undefined : Number(report.pinning.target);
}

function runTable(report: ReportInput): string[] {
  const cpu = targetCpu(report);
  const runs = report.scenarios.flatMap((record) =>
    record.runs.map((run) => ({ name: record.name, run })));
  runs.sort((a, b) => a.run.round - b.run.round || a.run.position - b.run.position);
  return [
    'Every run:',
    '',
    '| round | target | req/s | p50 | p99 | CPU µs/req | CPUs busy | others on target CPU '
      + '| requests | non-2xx | socket errors |',
    '|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|',
    ...runs.map(({ name, run }) => {
      const e = run.wrk.socketErrors;
      const others = foreignLoad(run, cpu);
      return `| ${run.round} | ${name} | ${fmtRate(run.wrk.reqPerSec)} | ${fmtMs(run.wrk.p50Us)} `
        + `| ${fmtMs(run.wrk.p99Us)} | ${run.cpuUsPerRequest.toFixed(1)} `
        + `| ${run.cores.busy.map((f) => `${Math.round(f * 100)}%`).join(' ')} `
        + `| ${others === undefined ? '-' : `${Math.round(others * 100)}%`} `
        + `| ${run.wrk.requests} | ${run.wrk.non2xx} `
        + `| c${e.connect} r${e.read} w${e.write} t${e.timeout} |`;
    }),
  ];
}
