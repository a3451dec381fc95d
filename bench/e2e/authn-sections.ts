/**
 * The two measured sections of the authn bench. Both rotate their targets' order by one each
 * round, so drift on the machine falls on every target alike.
 *
 * - Cached: one Portcullis process for all rounds; after the answer checks, one warm-up of each
 *   target so the first round does not also pay for the JIT's start.
 * - Cold: a fresh process per run (started, checked, warmed with the warm-up tokens, measured
 *   with tokens it has never seen, stopped), so no measured token is ever a cache hit.
 */
import {
  type CachedScenario, type ColdScenario, kCachedScenarios, kColdScenarios, kPrivatePath,
} from '../scenarios.js';
import type { AuthnRun, TargetRecord } from './authn-summary.js';
import {
  type AuthnTarget, type TargetContext, checkAuthn, startFastifyTarget, startHaproxyTarget,
  startPortcullisTarget,
} from './authn-targets.js';
import type { TokenSet } from './authn-tokens.js';
import { measureRun } from './measure.js';
import { type WrkOptions, runWrk } from './wrk.js';

/** What both sections need. */
export interface SectionOptions {
  ctx: TargetContext;
  wrkBase: WrkOptions;
  warmupSeconds: number;
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
      const wrong = await checkAuthn(proxy.port, s.path, s.hasToken ? rs256.sample : undefined);
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
        await recordRun(record, round, position, opts.log, () => measureRun(proxy.pid,
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
      await recordRun(record, round, position, opts.log,
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

/** Runs one measurement into `record`; a failure marks the target as not measurable. */
async function recordRun(record: TargetRecord, round: number, position: number,
  log: (line: string) => void, run: () => Promise<Omit<AuthnRun, 'round' | 'position'>>):
  Promise<void> {
  try {
    record.runs.push({ round, position, ...await run() });
  } catch (err) {
    record.error = err instanceof Error ? err.message : String(err);
    log(`${record.name} cannot be measured: ${record.error}`);
  }
}
