/**
 * Turns the raw runs of the forwarding bench into per-target medians, and judges the targets
 * of bench/scenarios.ts. A run with non-2xx answers or timeouts is invalid: a proxy that
 * answers 403 or 502 quickly must not look fast.
 */
import { type ForwardScenarioName, kForwardTargets } from '../scenarios.js';
import type { CoreUse } from './proc-stats.js';
import type { WrkResult } from './wrk.js';

/** One measured wrk run against one target. */
export interface RunRecord {
  round: number;
  /** Position of this target within its round (0 = first). */
  position: number;
  wrk: WrkResult;
  /** CPU of the target's process tree during the run, divided by the requests served. */
  cpuUsPerRequest: number;
  /** Sum of VmHWM over the target's process tree after the run, in bytes. */
  peakRssBytes: number;
  /**
   * Per-CPU use during the run (0..1), whatever ran there: `busy` counts softirqs and steal,
   * `tasks` only processes. A load core near 1 means wrk and the upstream set the pace.
   */
  cores: CoreUse;
  /** The target's CPU seconds per wall second of the run (1 = one full core). */
  targetCpuShare: number;
}

/** Everything recorded for one target. `error` is set when it could not run or answer right. */
export interface ScenarioRecord {
  name: ForwardScenarioName;
  summary: string;
  command: string[];
  conf: string;
  runs: RunRecord[];
  error?: string;
}

/** Medians over the valid runs of one target (peak RSS: the largest). */
export interface ScenarioSummary {
  name: ForwardScenarioName;
  runs: number;
  reqPerSec: number;
  reqPerSecMin: number;
  reqPerSecMax: number;
  p50Us: number;
  p99Us: number;
  cpuUsPerRequest: number;
  peakRssBytes: number;
  /** Why the figures cannot be compared (non-2xx answers, timeouts), if so. */
  invalid?: string;
}

/** The RSS probe: Portcullis holding idle keep-alive connections. */
export interface RssProbeRecord {
  connections: number;
  opened: number;
  answered200: number;
  stillOpen: number;
  baselineRssBytes: number;
  rssBytes: number;
  error?: string;
}

/** One target's verdict, as printed. */
export interface TargetVerdict {
  target: string;
  pass: boolean;
  line: string;
}

/** Above this share of the target CPU used by other processes, a run counts as disturbed. */
export const kForeignLoadLimit = 0.1;

/**
 * Share of the target's CPU taken by processes other than the target during `run` (0..1),
 * or undefined when nothing was pinned. Softirqs and hypervisor steal are not counted: the
 * kernel's loopback work lands there whatever runs.
 */
export function foreignLoad(run: RunRecord, targetCpu: number | undefined): number | undefined {
  if (targetCpu === undefined) return undefined;
  return Math.max(0, (run.cores.tasks[targetCpu] ?? 0) - run.targetCpuShare);
}

/** Median of a non-empty list (mean of the middle two for an even count). */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  if (sorted.length % 2 === 1) return sorted[mid] ?? Number.NaN;
  return ((sorted[mid - 1] ?? Number.NaN) + (sorted[mid] ?? Number.NaN)) / 2;
}

/** Summary of one target, or undefined when it has no runs. */
export function summarize(record: ScenarioRecord): ScenarioSummary | undefined {
  const runs = record.runs;
  if (runs.length === 0) return undefined;
  const rates = runs.map((r) => r.wrk.reqPerSec);
  const non2xx = runs.reduce((sum, r) => sum + r.wrk.non2xx, 0);
  const timeouts = runs.reduce((sum, r) => sum + r.wrk.socketErrors.timeout, 0);
  const summary: ScenarioSummary = {
    name: record.name,
    runs: runs.length,
    reqPerSec: median(rates),
    reqPerSecMin: Math.min(...rates),
    reqPerSecMax: Math.max(...rates),
    p50Us: median(runs.map((r) => r.wrk.p50Us)),
    p99Us: median(runs.map((r) => r.wrk.p99Us)),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
  };
  if (non2xx > 0 || timeouts > 0) {
    summary.invalid = `${non2xx} non-2xx answers and ${timeouts} timeouts over ${runs.length} runs`;
  }
  return summary;
}

/** Judges the three targets: throughput and p99 against nginx proxy_pass, RSS under load. */
export function judgeTargets(
  summaries: ReadonlyMap<ForwardScenarioName, ScenarioSummary>,
  records: readonly ScenarioRecord[],
  probe: RssProbeRecord | undefined,
): TargetVerdict[] {
  const t = kForwardTargets;
  const ours = summaries.get('forward/portcullis');
  const ref = summaries.get('forward/nginx-proxy');
  const missing = whyNotComparable(ours, ref, records);

  // 1. Throughput: at least minReqPerSecRatio x nginx proxy_pass.
  const rateName = `req/s >= ${t.minReqPerSecRatio.toFixed(2)}x nginx proxy_pass`;
  let rate: TargetVerdict = { target: rateName, pass: false, line: `FAIL ${rateName}: ${missing}` };
  if (ours !== undefined && ref !== undefined && missing === undefined) {
    const ratio = ours.reqPerSec / ref.reqPerSec;
    const pass = ratio >= t.minReqPerSecRatio;
    const need = t.minReqPerSecRatio * ref.reqPerSec;
    const miss = pass ? '' : `; misses by ${fmtPct(1 - ours.reqPerSec / need)} `
      + `(needs ${fmtRate(need)}, ${fmtRate(need - ours.reqPerSec)} more)`;
    rate = { target: rateName, pass, line: `${pass ? 'PASS' : 'FAIL'} ${rateName}: Portcullis `
      + `${fmtRate(ours.reqPerSec)} = ${ratio.toFixed(2)}x of ${fmtRate(ref.reqPerSec)}${miss}` };
  }

  // 2. Tail latency: p99 at most maxP99Ratio x nginx proxy_pass.
  const p99Name = `p99 <= ${t.maxP99Ratio}x nginx proxy_pass`;
  let p99: TargetVerdict = { target: p99Name, pass: false, line: `FAIL ${p99Name}: ${missing}` };
  if (ours !== undefined && ref !== undefined && missing === undefined) {
    const ratio = ours.p99Us / ref.p99Us;
    const pass = ratio <= t.maxP99Ratio;
    const limit = t.maxP99Ratio * ref.p99Us;
    const miss = pass ? '' : `; misses by ${fmtPct(ours.p99Us / limit - 1)} `
      + `(${fmtMs(ours.p99Us - limit)} over the limit of ${fmtMs(limit)})`;
    p99 = { target: p99Name, pass, line: `${pass ? 'PASS' : 'FAIL'} ${p99Name}: Portcullis `
      + `${fmtMs(ours.p99Us)} = ${ratio.toFixed(2)}x of ${fmtMs(ref.p99Us)}${miss}` };
  }

  return [rate, p99, judgeRss(probe)];
}

function judgeRss(probe: RssProbeRecord | undefined): TargetVerdict {
  const t = kForwardTargets;
  const name = `RSS at ${t.idleConnections.toLocaleString('en-US')} connections < `
    + fmtBytes(t.maxIdleRssBytes);
  if (probe === undefined || probe.error !== undefined) {
    return { target: name, pass: false, line: `FAIL ${name}: not measured: `
      + `${firstLine(probe?.error ?? 'Portcullis did not run')}` };
  }
  if (probe.answered200 < probe.connections || probe.stillOpen < probe.connections) {
    return { target: name, pass: false, line: `FAIL ${name}: probe not valid: ${probe.opened} `
      + `opened, ${probe.answered200} answered 200, ${probe.stillOpen} still open` };
  }
  const pass = probe.rssBytes < t.maxIdleRssBytes;
  const miss = pass ? '' : `; over by ${fmtBytes(probe.rssBytes - t.maxIdleRssBytes)} `
    + `(${fmtPct(probe.rssBytes / t.maxIdleRssBytes - 1)})`;
  return { target: name, pass, line: `${pass ? 'PASS' : 'FAIL'} ${name}: `
    + `${fmtBytes(probe.rssBytes)}${miss}` };
}

function whyNotComparable(
  ours: ScenarioSummary | undefined, ref: ScenarioSummary | undefined,
  records: readonly ScenarioRecord[],
): string | undefined {
  const pairs = [['forward/portcullis', ours], ['forward/nginx-proxy', ref]] as const;
  for (const [name, summary] of pairs) {
    const error = records.find((r) => r.name === name)?.error;
    if (summary === undefined) return `not measured: ${name}: ${firstLine(error ?? 'no run')}`;
    if (summary.invalid !== undefined) return `${name} runs are invalid: ${summary.invalid}`;
  }
  return undefined;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}

/** 94123 -> '94.1k'. */
export function fmtRate(perSecond: number): string {
  return perSecond >= 1_000 ? `${(perSecond / 1_000).toFixed(1)}k` : perSecond.toFixed(0);
}

/** Microseconds as milliseconds: 412 -> '0.41 ms'. */
export function fmtMs(us: number): string {
  return `${(us / 1_000).toFixed(2)} ms`;
}

/** Bytes in MB (10^6 bytes): '85.3 MB'. */
export function fmtBytes(bytes: number): string {
  return `${(bytes / 1e6).toFixed(1)} MB`;
}

/** A fraction as a percentage: 0.067 -> '6.7%'. */
export function fmtPct(fraction: number): string {
  return `${(fraction * 100).toFixed(1)}%`;
}
