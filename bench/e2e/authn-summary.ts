/**
 * Turns the authn bench's raw runs into medians, the cached-path difference, the inline-vs-pool
 * comparison per algorithm, and the verdicts on issue 3's targets. A run with non-2xx answers or
 * timeouts is invalid (a target that refuses quickly must not look fast), and so is a cold run
 * that answered more requests than it had unique tokens.
 */
import { type AuthnAlgorithm, kAuthnAlgorithms, kAuthnTargets } from '../scenarios.js';
import type { CachedMicro } from './authn-micro.js';
import {
  type RunRecord, type TargetVerdict, fmtMs, fmtPct, fmtRate, median,
} from './forwarding-summary.js';

/**
 * One measured run; cold runs also say how many unique tokens they had. `discarded`: attempts
 * measured before this one and dropped because others took the target CPU (their req/s and the
 * share others took).
 */
export type AuthnRun = RunRecord & {
  tokensAvailable?: number;
  discarded?: Array<{ reqPerSec: number; othersShare: number }>;
};

/** Everything recorded for one target. `error` is set when it could not run or answer right. */
export interface TargetRecord {
  name: string;
  summary: string;
  section: 'cached' | 'cold';
  alg?: AuthnAlgorithm;
  /** Cold section: `portcullis-pool`, `haproxy`, ... */
  target?: string;
  /** CPU list when the target is not pinned to the target core alone (informational rows). */
  cpus?: string;
  command: string[];
  conf: string;
  runs: AuthnRun[];
  error?: string;
}

/** Medians over one target's runs. */
export interface AuthnSummary {
  name: string;
  section: 'cached' | 'cold';
  alg?: AuthnAlgorithm;
  target?: string;
  runs: number;
  reqPerSec: number;
  reqPerSecMin: number;
  reqPerSecMax: number;
  p50Us: number;
  p99Us: number;
  cpuUsPerRequest: number;
  peakRssBytes: number;
  invalid?: string;
}

/** Summary of one target, or undefined when it has no runs. */
export function summarizeAuthn(record: TargetRecord): AuthnSummary | undefined {
  const runs = record.runs;
  if (runs.length === 0) return undefined;
  const rates = runs.map((r) => r.wrk.reqPerSec);
  const non2xx = runs.reduce((sum, r) => sum + r.wrk.non2xx, 0);
  const timeouts = runs.reduce((sum, r) => sum + r.wrk.socketErrors.timeout, 0);
  const exhausted = runs.filter((r) => r.tokensAvailable !== undefined
    && r.wrk.requests > r.tokensAvailable).length;
  const summary: AuthnSummary = {
    name: record.name, section: record.section,
    ...(record.alg === undefined ? {} : { alg: record.alg }),
    ...(record.target === undefined ? {} : { target: record.target }),
    runs: runs.length,
    reqPerSec: median(rates),
    reqPerSecMin: Math.min(...rates),
    reqPerSecMax: Math.max(...rates),
    p50Us: median(runs.map((r) => r.wrk.p50Us)),
    p99Us: median(runs.map((r) => r.wrk.p99Us)),
    cpuUsPerRequest: median(runs.map((r) => r.cpuUsPerRequest)),
    peakRssBytes: Math.max(...runs.map((r) => r.peakRssBytes)),
  };
  const problems = [];
  if (non2xx > 0 || timeouts > 0) problems.push(`${non2xx} non-2xx answers, ${timeouts} timeouts`);
  if (exhausted > 0) {
    problems.push(`${exhausted} runs used up their unique tokens (raise maxColdReqPerSec)`);
  }
  if (problems.length > 0) summary.invalid = `${problems.join('; ')} over ${runs.length} runs`;
  return summary;
}

/** One paired difference: per round, CPU µs/req of one target minus another's. */
export interface PairedDifference {
  perRound: number[];
  medianUs: number;
}

/**
 * The cached path's CPU-per-request differences, paired within each round: `auth` is the
 * authenticated route against the public route with the same header (what checking the cached
 * token costs, identity headers included), `carry` against the public route without a header
 * (that plus carrying a 600-byte header), `noise` the public route against itself.
 */
export interface CachedDifference {
  auth: PairedDifference | undefined;
  carry: PairedDifference | undefined;
  noise: PairedDifference | undefined;
}

/** Paired differences of the cached section (each undefined when a side did not run). */
export function cachedDifference(records: readonly TargetRecord[]): CachedDifference {
  const byName = (name: string) => records.find((r) => r.name === name)?.runs ?? [];
  const pair = (minuend: string, subtrahend: string): PairedDifference | undefined => {
    const base = byName(subtrahend);
    const perRound = byName(minuend).flatMap((o) => {
      const b = base.find((r) => r.round === o.round);
      return b === undefined ? [] : [o.cpuUsPerRequest - b.cpuUsPerRequest];
    });
    return perRound.length === 0 ? undefined : { perRound, medianUs: median(perRound) };
  };
  return {
    auth: pair('authn/cached alg=RS256', 'authn/public token=RS256'),
    carry: pair('authn/cached alg=RS256', 'authn/public'),
    noise: pair('authn/public-again', 'authn/public'),
  };
}

/** '8.3 µs (rounds: 8.3, 14.7)' or 'not measured'. */
export function fmtDifference(d: PairedDifference | undefined): string {
  return d === undefined ? 'not measured' : `${d.medianUs.toFixed(1)} µs (rounds: `
    + `${d.perRound.map((v) => v.toFixed(1)).join(', ')})`;
}

/** Inline against pool for one algorithm: which had the higher req/s, and the p99s. */
export interface PlacementChoice {
  alg: AuthnAlgorithm;
  pool?: AuthnSummary;
  inline?: AuthnSummary;
  faster?: 'pool' | 'inline';
  line: string;
}

/** Below this req/s ratio, inline against pool is reported as no clear difference. */
const kClearPlacementRatio = 1.1;

/** The inline-vs-pool comparison per algorithm (default pool settings against inline). */
export function placementChoices(summaries: readonly AuthnSummary[]): PlacementChoice[] {
  return kAuthnAlgorithms.map((alg) => {
    const find = (target: string) => summaries.find((s) => s.alg === alg && s.target === target
      && s.invalid === undefined);
    const pool = find('portcullis-pool');
    const inline = find('portcullis-inline');
    if (pool === undefined || inline === undefined) {
      return { alg, line: `${alg}: not compared (pool or inline did not run validly)` };
    }
    const faster = inline.reqPerSec >= pool.reqPerSec ? 'inline' : 'pool';
    const ratio = Math.max(inline.reqPerSec, pool.reqPerSec)
      / Math.min(inline.reqPerSec, pool.reqPerSec);
    const line = `${alg}: inline ${fmtRate(inline.reqPerSec)} req/s, p99 ${fmtMs(inline.p99Us)}; `
      + `pool ${fmtRate(pool.reqPerSec)} req/s, p99 ${fmtMs(pool.p99Us)}: **${faster}** is faster `
      + `(${ratio.toFixed(2)}x req/s, p99 `
      + `${faster === 'inline' ? (inline.p99Us / pool.p99Us).toFixed(2)
        : (pool.p99Us / inline.p99Us).toFixed(2)}x of the other's)`
      + (ratio < kClearPlacementRatio ? `; within ${fmtPct(kClearPlacementRatio - 1)}, less than `
        + 'the round-to-round spread here: not a clear difference' : '');
    return { alg, pool, inline, faster, line };
  });
}

/**
 * The verdicts: the cached path (end-to-end difference and micro-benchmark, each at most
 * kAuthnTargets.maxCachedPathUs), and Portcullis as shipped (`defaultInline` decides whether
 * RS256 runs inline or in the pool) with unique RS256 tokens against HAProxy and fastify.
 */
export function judgeAuthn(records: readonly TargetRecord[], summaries: readonly AuthnSummary[],
  micro: CachedMicro | undefined, defaultInline: readonly string[]): TargetVerdict[] {
  const t = kAuthnTargets;
  const verdicts: TargetVerdict[] = [];

  // 1. The cached path, end to end (same request bytes) and in the micro-benchmark.
  const diff = cachedDifference(records);
  const e2eName = `cached RS256 token costs <= ${t.maxCachedPathUs} µs CPU per request `
    + '(authenticated route minus public route with the same header, median of per-round '
    + 'differences)';
  verdicts.push(diff.auth === undefined
    ? { target: e2eName, pass: false, line: `FAIL ${e2eName}: not measured` }
    : verdict(e2eName, diff.auth.medianUs <= t.maxCachedPathUs, `${fmtDifference(diff.auth)}; `
      + `against the public route without the header ${fmtDifference(diff.carry)}; noise, the `
      + `public route against itself: ${fmtDifference(diff.noise)}`
      + miss(diff.auth.medianUs, t.maxCachedPathUs, 'over')));
  const microName = `cached-path micro-benchmark median <= ${t.maxCachedPathUs} µs`;
  verdicts.push(micro === undefined || micro.error !== undefined
    ? { target: microName, pass: false, line: `FAIL ${microName}: not measured` }
    : verdict(microName, micro.medianUs <= t.maxCachedPathUs, `${micro.medianUs.toFixed(2)} µs `
      + `(p99 ${micro.p99Us.toFixed(2)} µs, ±${micro.rmePct.toFixed(1)}%, ${micro.samples} `
      + `samples of ${micro.callsPerSample} calls)`));

  // 2. Unique RS256 tokens, Portcullis as configured by default against the peers.
  const ours = defaultInline.includes('RS256') ? 'portcullis-inline' : 'portcullis-pool';
  const pick = (target: string) => summaries.find((s) => s.alg === 'RS256' && s.target === target);
  const mine = pick(ours);
  for (const [peer, factor] of [['haproxy', t.minVsHaproxy], ['fastify', t.minVsFastify]] as const) {
    const name = `unique RS256 tokens: Portcullis (default, ${ours}) req/s >= ${factor}x ${peer}`;
    const other = pick(peer);
    const why = mine === undefined || other === undefined ? 'not measured'
      : mine.invalid ?? other.invalid;
    if (mine === undefined || other === undefined || why !== undefined) {
      verdicts.push({ target: name, pass: false, line: `FAIL ${name}: ${why}` });
      continue;
    }
    const need = factor * other.reqPerSec;
    verdicts.push(verdict(name, mine.reqPerSec >= need, `${fmtRate(mine.reqPerSec)} = `
      + `${(mine.reqPerSec / other.reqPerSec).toFixed(2)}x of ${fmtRate(other.reqPerSec)}`
      + (mine.reqPerSec >= need ? '' : `; misses by ${fmtPct(1 - mine.reqPerSec / need)} `
        + `(needs ${fmtRate(need)})`)));
  }
  return verdicts;
}

function verdict(target: string, pass: boolean, detail: string): TargetVerdict {
  return { target, pass, line: `${pass ? 'PASS' : 'FAIL'} ${target}: ${detail}` };
}

function miss(value: number, limit: number, word: string): string {
  return value <= limit ? '' : `; ${(value - limit).toFixed(1)} µs ${word} the limit`;
}
