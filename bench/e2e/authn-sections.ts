/**
 * The two measured sections of the authn bench. Both rotate their targets' order by one each
 * round, so drift on the machine falls on every target alike.
 *
 * - Cached: one Portcullis process for all rounds; after the answer checks, one warm-up of each
 *   target so the first round does not also pay for the JIT's start.
 * - Cold: a fresh process per run (started, checked, warmed with the warm-up tokens, measured
 *   with tokens it has never seen, stopped), so no measured token is ever a cache hit.
 *
 * Before each run the bench waits (up to 10 s) for both CPUs to be nearly idle; a run during
 * which other processes still took more than kForeignLoadLimit of the target CPU is measured
 * again (at most kAuthnLoad.maxReruns times), and the discarded attempts are kept.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import {
  type CachedScenario, type ColdScenario, kAuthnLoad, kCachedScenarios, kColdScenarios,
  kPrivatePath,
} from '../scenarios.js';
import type { AuthnRun, TargetRecord } from './authn-summary.js';
import {
  type AuthnTarget, type TargetContext, checkAuthn, startFastifyTarget, startHaproxyTarget,
  startPortcullisTarget,
} from './authn-targets.js';
import type { TokenSet } from './authn-tokens.js';
import { foreignLoad, kForeignLoadLimit } from './forwarding-summary.js';
import { measureRun } from './measure.js';
import { coreTimes, coreUse } from './proc-stats.js';
import { type WrkOptions, runWrk } from './wrk.js';

/** Before a run: wait (at most this long) until both CPUs are nearly idle for a second. */
const kQuietWaitMs = 10_000;
const kQuietShare = 0.1;

/** What both sections need. */
export interface SectionOptions {
  ctx: TargetContext;
  wrkBase: WrkOptions;
  warmupSeconds: number;
  /** The target CPU (pinning), for the disturbance check; undefined when unpinned. */
  targetCpu: number | undefined;
  /** Whether a target (by name) is to be measured (`--only`). */
  keep: (name: string) => boolean;
  log: (line: string) => void;
}

/** The verifier of the cached section: the config defaults. */
const kDefaultPool = { threads: 2, batchMaxItems: 16, batchMaxWaitUs: 200, inline: [] };

/** Section 1: public route against the cached RS256 token, `rounds` rounds in one process. */
export async function runCachedSection(opts: SectionOptions, rounds: number, rs256: TokenSet):
  Promise<TargetRecord[]> {
  const scenarios = kCachedScenarios.filter((s) => opts.keep(s.name));
  const records: TargetRecord[] = scenarios.map((s) => ({
    name: s.name, summary: s.summary, section: 'cached', command: [], conf: '', runs: [],
  }));
  if (records.length === 0) return records;

  const proxy = await startPortcullisTarget(opts.ctx, kDefaultPool);
  try {
    const wrkFor = (s: CachedScenario): WrkOptions => ({
      ...opts.wrkBase, url: `http://127.0.0.1:${proxy.port}${s.path}`,
      ...(s.hasToken ? { headers: [`Authorization: Bearer ${rs256.sample}`] } : {}),
    });
    for (const [i, s] of scenarios.entries()) {
      const record = records[i] as TargetRecord;
      Object.assign(record, { command: proxy.command, conf: proxy.conf });
      const wrong = await checkAuthn(proxy.port, s.path, s.hasToken ? rs256.sample : undefined,
        s.path === kPrivatePath);
      if (wrong !== undefined) record.error = wrong;
      else await runWrk({ ...wrkFor(s), seconds: opts.warmupSeconds });
    }

    for (let round = 1; round <= rounds; round++) {
      for (let position = 0; position < scenarios.length; position++) {
        const i = (position + round - 1) % scenarios.length;
        const s = scenarios[i] as CachedScenario;
        const record = records[i] as TargetRecord;
        if (record.error !== undefined) continue;
        opts.log(`cached path, round ${round}/${rounds}: ${record.name}`);
        await recordRun(opts, record, round, position, () => measureRun(proxy.pid,
          { ...wrkFor(s), seconds: opts.warmupSeconds }, wrkFor(s)));
      }
    }
  } finally {
    await proxy.stop();
  }
  return records;
}

/** Section 2: every cold target, `rounds` rounds, a fresh process per run. */
export async function runColdSection(opts: SectionOptions, rounds: number,
  sets: ReadonlyMap<string, TokenSet>, script: string): Promise<TargetRecord[]> {
  const scenarios = kColdScenarios.filter((s) => opts.keep(s.name));
  const records: TargetRecord[] = scenarios.map((s) => ({
    name: s.name, summary: s.summary, section: 'cold', alg: s.alg, target: s.target,
    ...(s.cpus === undefined ? {} : { cpus: s.cpus }), command: [], conf: '', runs: [],
  }));

  for (let round = 1; round <= rounds; round++) {
    for (let position = 0; position < scenarios.length; position++) {
      const i = (position + round - 1) % scenarios.length;
      const scenario = scenarios[i] as ColdScenario;
      const record = records[i] as TargetRecord;
      const set = sets.get(scenario.alg);
      if (record.error !== undefined || set === undefined) continue;
      opts.log(`cold, round ${round}/${rounds}: ${record.name}`);
      await recordRun(opts, record, round, position,
        () => coldRun(opts, scenario, set, script, record));
    }
  }
  return records;
}

async function coldRun(opts: SectionOptions, scenario: ColdScenario, set: TokenSet,
  script: string, record: TargetRecord): Promise<Omit<AuthnRun, 'round' | 'position'>> {
  const ctx = scenario.cpus === undefined ? opts.ctx : { ...opts.ctx, cpus: scenario.cpus };
  const target = await startCold(ctx, scenario, set);
  try {
    Object.assign(record, { command: target.command, conf: target.conf });
    const wrong = await checkAuthn(target.port, kPrivatePath, set.sample);
    if (wrong !== undefined) throw new Error(wrong);
    const url = `http://127.0.0.1:${target.port}${kPrivatePath}`;
    const tokens = (file: string) => ({ path: script, args: [file, kPrivatePath] });
    const run = await measureRun(target.pid,
      { ...opts.wrkBase, url, seconds: opts.warmupSeconds, script: tokens(set.warmFile) },
      { ...opts.wrkBase, url, script: tokens(set.runFile) });
    return { ...run, tokensAvailable: set.runCount };
  } finally {
    await target.stop();
  }
}

function startCold(ctx: TargetContext, scenario: ColdScenario, set: TokenSet):
  Promise<AuthnTarget> {
  if (scenario.kind === 'haproxy') return startHaproxyTarget(ctx, scenario.alg, set.publicKeyPem);
  if (scenario.kind === 'fastify') return startFastifyTarget(ctx, scenario.alg, set.publicKeyPem);
  return startPortcullisTarget(ctx, scenario.verifier ?? kDefaultPool);
}

/** What `recordRun` needs to know; `maxReruns` defaults to kAuthnLoad.maxReruns. */
export type RerunOptions = Pick<SectionOptions, 'targetCpu' | 'log'> & { maxReruns?: number };

/**
 * Runs one measurement into `record`, again while others disturbed the target CPU (bounded); a
 * failure marks the target as not measurable (`record.error`). A record with `cpus` set is not
 * pinned alone, so it is never judged disturbed.
 */
export async function recordRun(opts: RerunOptions,
  record: Pick<TargetRecord, 'name' | 'cpus' | 'runs' | 'error'>, round: number,
  position: number, run: () => Promise<Omit<AuthnRun, 'round' | 'position'>>): Promise<void> {
  const discarded: NonNullable<AuthnRun['discarded']> = [];
  const maxReruns = opts.maxReruns ?? kAuthnLoad.maxReruns;
  try {
    for (let attempt = 0; ; attempt++) {
      await waitForQuiet(opts.log);
      const result: AuthnRun = { round, position, ...await run() };
      const cpu = record.cpus === undefined ? opts.targetCpu : undefined;
      const others = foreignLoad(result, cpu) ?? 0;
      if (others <= kForeignLoadLimit || attempt >= maxReruns) {
        record.runs.push(discarded.length === 0 ? result : { ...result, discarded });
        return;
      }
      opts.log(`  others took ${Math.round(others * 100)}% of the target CPU: measuring again`);
      discarded.push({ reqPerSec: result.wrk.reqPerSec, othersShare: others });
    }
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
    opts.log(`${record.name} cannot be measured: ${record.error}`);
  }
}

/**
 * Waits until a one-second sample shows every CPU less than kQuietShare busy with processes
 * (nothing of the bench runs between two runs), or kQuietWaitMs have passed.
 */
async function waitForQuiet(log: (line: string) => void): Promise<void> {
  const deadline = Date.now() + kQuietWaitMs;
  for (let waited = 0; ; waited++) {
    const before = coreTimes();
    await sleep(1_000);
    const use = coreUse(before, coreTimes());
    if (use.tasks.every((share) => share < kQuietShare)) return;
    if (Date.now() >= deadline) {
      log(`  the machine stayed busy (${use.tasks.map((f) => `${Math.round(f * 100)}%`).join(' ')}`
        + `) for ${kQuietWaitMs / 1000} s: measuring anyway`);
      return;
    }
    if (waited === 0) log('  waiting for the other processes to leave the CPUs');
  }
}
