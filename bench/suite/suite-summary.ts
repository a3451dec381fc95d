/**
 * The suite's per-target figures: medians over a target's runs (peak RSS: the largest), and
 * why a target's figures cannot be compared. A run with non-2xx answers or timeouts is invalid
 * (a target that refuses quickly must not look fast), and so is a unique-token run that answered
 * more requests than it had tokens.
 */
import { median } from '../e2e/forwarding-summary.js';
import type { SuiteRotation, SuiteSection } from '../scenarios-suite.js';
import type { SuiteRecord } from './rotation.js';

/** One target's figures, in µs, bytes and requests per second. */
export interface SuiteSummary {
  name: string;
  rotation: SuiteRotation;
  sections: readonly SuiteSection[];
  runs: number;
  reqPerSec: number;
  reqPerSecMin: number;
  reqPerSecMax: number;
  p50Us: number;
  p99Us: number;
  /** NaN when no run carried the wrk `done` hook. */
  p999Us: number;
  cpuUsPerRequest: number;
  peakRssBytes: number;
  /** Largest share of the target CPU other processes took in a kept run (0..1). */
  othersMax: number;
  invalid?: string;
}

/**
 * Summary of one record, or undefined when it has no runs. `othersShare(run)` is the share of
 * the target CPU taken by others in that run (undefined when not pinned alone).
 */
export function summarizeSuite(record: SuiteRecord,
  othersShare: (run: SuiteRecord['runs'][number]) => number | undefined):
  SuiteSummary | undefined {
  const runs = record.runs;
  if (runs.length === 0) return undefined;
  const rates = runs.map((r) => r.wrk.reqPerSec);
  const p999s = runs.map((r) => r.wrk.p999Us).filter((v): v is number => v !== undefined);
  const summary: SuiteSummary = {
    name: record.name, rotation: record.rotation, sections: record.sections, runs: runs.length,
    reqPerSec: median(rates),
    reqPerSecMin: Math.min(...rates),
    reqPerSecMax: Math.max(...rates),
    p50Us: median(runs.map((r) => r.wrk.p50Us)),
    p99Us: median(runs.map((r) => r.wrk.p99Us)),
    p999Us: p999s.length === 0 ? Number.NaN : median(p999s),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
    othersMax: Math.max(0, ...runs.map((r) => othersShare(r) ?? 0)),
  };

  const non2xx = runs.reduce((sum, r) => sum + r.wrk.non2xx, 0);
  const timeouts = runs.reduce((sum, r) => sum + r.wrk.socketErrors.timeout, 0);
  const exhausted = runs.filter((r) => r.tokensAvailable !== undefined
    && r.wrk.requests > r.tokensAvailable).length;
  const problems: string[] = [];
  if (non2xx > 0 || timeouts > 0) problems.push(`${non2xx} non-2xx answers, ${timeouts} timeouts`);
  if (exhausted > 0) problems.push(`${exhausted} runs used up their unique tokens`);
  if (problems.length > 0) summary.invalid = `${problems.join('; ')} over ${runs.length} runs`;
  return summary;
}

/** Median of the per-element ratios `a[i] / b[i]` (the pairs' lengths must match). */
export function medianRatio(a: readonly number[], b: readonly number[]): number {
  if (a.length !== b.length || a.length === 0) return Number.NaN;
  return median(a.map((value, i) => value / (b[i] as number)));
}

/**
 * Ratio of two summaries' req/s, or why it cannot be given: a side missing, or invalid.
 * `names` label the sides in the reason.
 */
export function rateRatio(ours: SuiteSummary | undefined, theirs: SuiteSummary | undefined,
  names: readonly [string, string]): { ratio: number } | { why: string } {
  for (const [name, s] of [[names[0], ours], [names[1], theirs]] as const) {
    if (s === undefined) return { why: `${name} was not measured` };
    if (s.invalid !== undefined) return { why: `${name} is invalid: ${s.invalid}` };
  }
  return { ratio: (ours as SuiteSummary).reqPerSec / (theirs as SuiteSummary).reqPerSec };
}
