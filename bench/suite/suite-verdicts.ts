/**
 * The suite's targets (kSuiteTargets, issue 6), judged on the summaries of one invocation and
 * printed as PASS or FAIL with the size of any miss. A target whose inputs were not measured, or
 * are invalid, is a FAIL that says so; none of this changes the exit code (index.ts).
 */
import { fmtBytes, fmtMs, fmtPct, fmtRate } from '../e2e/forwarding-summary.js';
import type { TargetVerdict } from '../e2e/forwarding-summary.js';
import { kSuiteTargets } from '../scenarios-suite.js';
import { type SuiteSummary, rateRatio } from './suite-summary.js';

const kOurs = 'authz/cached target=portcullis';

/** The verdicts, in the order of the issue's list. */
export function judgeSuite(summaries: readonly SuiteSummary[]): TargetVerdict[] {
  const t = kSuiteTargets;
  const find = (name: string) => summaries.find((s) => s.name === name);
  const ours = find(kOurs);

  // 1. Cached JWT + policy + forwarding against no-auth forwarding, HAProxy and fastify.
  const verdicts = [
    atLeast(`cached JWT + 50-rule policy + forwarding req/s >= ${t.minAuthzOverNoAuth}x `
      + 'Portcullis no-auth forwarding', ours, find('forward/portcullis'), t.minAuthzOverNoAuth,
    ['Portcullis authz', 'forward/portcullis']),
    atLeast(`the same >= ${t.minAuthzOverHaproxy}x HAProxy jwt_verify RS256 + ACLs`, ours,
      find('authz/cached target=haproxy'), t.minAuthzOverHaproxy, ['Portcullis authz', 'HAProxy']),
    atLeast(`the same >= ${t.minAuthzOverFastify}x fastify + @fastify/jwt`, ours,
      find('authz/cached target=fastify'), t.minAuthzOverFastify, ['Portcullis authz', 'fastify']),
  ];

  // 2. Its p99 no worse than either peer's.
  for (const [peer, label] of [['haproxy', 'HAProxy'], ['fastify', 'fastify']] as const) {
    verdicts.push(p99NoWorse(`the same p99 <= ${label}'s p99`, ours,
      find(`authz/cached target=${peer}`), label));
  }

  // 3. Unique RS256 tokens against HAProxy.
  verdicts.push(atLeast(`unique RS256 tokens: Portcullis req/s >= ${t.minUniqueOverHaproxy}x `
    + 'HAProxy', find('authz/unique target=portcullis'), find('authz/unique target=haproxy'),
  t.minUniqueOverHaproxy, ['Portcullis', 'HAProxy']));

  // 4. Memory of every Portcullis target over its load runs.
  verdicts.push(judgeRss(summaries.filter((s) => s.name.includes('portcullis')
    || s.name.startsWith('multicore/'))));
  return verdicts;
}

function atLeast(target: string, ours: SuiteSummary | undefined, theirs: SuiteSummary | undefined,
  factor: number, names: readonly [string, string]): TargetVerdict {
  const r = rateRatio(ours, theirs, names);
  if ('why' in r) return { target, pass: false, line: `FAIL ${target}: ${r.why}` };
  const mine = (ours as SuiteSummary).reqPerSec;
  const need = factor * (theirs as SuiteSummary).reqPerSec;
  const pass = r.ratio >= factor;
  const miss = pass ? '' : `; misses by ${fmtPct(1 - mine / need)} (needs ${fmtRate(need)}, `
    + `${fmtRate(need - mine)} req/s more)`;
  return { target, pass, line: `${pass ? 'PASS' : 'FAIL'} ${target}: ${fmtRate(mine)} = `
    + `${r.ratio.toFixed(2)}x of ${fmtRate((theirs as SuiteSummary).reqPerSec)}${miss}` };
}

function p99NoWorse(target: string, ours: SuiteSummary | undefined,
  theirs: SuiteSummary | undefined, label: string): TargetVerdict {
  const r = rateRatio(ours, theirs, ['Portcullis authz', label]);
  if ('why' in r) return { target, pass: false, line: `FAIL ${target}: ${r.why}` };
  const mine = (ours as SuiteSummary).p99Us;
  const limit = (theirs as SuiteSummary).p99Us;
  const pass = mine <= limit;
  const miss = pass ? '' : `; misses by ${fmtMs(mine - limit)} (${fmtPct(mine / limit - 1)})`;
  return { target, pass, line: `${pass ? 'PASS' : 'FAIL'} ${target}: ${fmtMs(mine)} against `
    + `${fmtMs(limit)}${miss}` };
}

function judgeRss(ours: readonly SuiteSummary[]): TargetVerdict {
  const limit = kSuiteTargets.maxPeakRssBytes;
  const target = `peak RSS of every Portcullis process during load runs < ${fmtBytes(limit)}`;
  if (ours.length === 0) return { target, pass: false, line: `FAIL ${target}: not measured` };
  const worst = ours.reduce((a, b) => (b.peakRssBytes > a.peakRssBytes ? b : a));
  const pass = worst.peakRssBytes < limit;
  const others = ours.filter((s) => s !== worst)
    .map((s) => `${s.name} ${fmtBytes(s.peakRssBytes)}`).join(', ');
  const miss = pass ? '' : `; over by ${fmtBytes(worst.peakRssBytes - limit)} `
    + `(${fmtPct(worst.peakRssBytes / limit - 1)})`;
  return { target, pass, line: `${pass ? 'PASS' : 'FAIL'} ${target}: largest ${worst.name} `
    + `${fmtBytes(worst.peakRssBytes)}${miss}${others === '' ? '' : `; others: ${others}`}` };
}
