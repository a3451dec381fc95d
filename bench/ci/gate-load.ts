/**
 * The load half of the CI gate: the suite's no-auth Portcullis and its authz Portcullis (cached
 * RS256 token, signed 50-rule policy), measured in adjacent pairs. A two-target rotation is
 * exactly that: round r runs A then B, round r + 1 runs B then A. Only the authz process gets
 * the injected slowdown, so the no-auth run stays the yardstick.
 */
import { kSuiteLoad, kSuiteScenarios } from '../scenarios-suite.js';
import { prepareShared, suitePinning } from '../suite/load-sections.js';
import { type SuiteRecord, runRotation } from '../suite/rotation.js';
import { loadTarget } from '../suite/suite-targets.js';
import { type WrkOptions, wrkCommand } from '../e2e/wrk.js';
import { type Injection, injectionFor } from './injection.js';

/** The two targets of the gate, in the first pair's order. */
export const kGateTargets = ['forward/portcullis', 'authz/cached target=portcullis'] as const;

/** Runs the pairs; rejects only when the shared pieces cannot be prepared. */
export async function runGateLoad(opts: {
  repoRoot: string; pairs: number; seconds: number; warmupSeconds: number; isPinned: boolean;
  injection: Injection; log: (line: string) => void;
}): Promise<{ records: SuiteRecord[]; wrkCommand: string[] }> {
  // 1. Two tokens are enough (the cached path reuses one); a larger cached set is reused.
  const pinning = suitePinning(opts.isPinned);
  const { ctx } = await prepareShared({ repoRoot: opts.repoRoot, pinning, warmCount: 1,
    runCount: 1, validSeconds: 600, log: opts.log });
  const { nodeArgs, env } = injectionFor(opts.injection);

  // 2. The pairs.
  const scenarios = kGateTargets.map((name) => {
    const scenario = kSuiteScenarios.find((s) => s.name === name);
    if (scenario === undefined) throw new Error(`no suite scenario ${name}`);
    return scenario;
  });
  const wrkBase: WrkOptions = {
    url: 'http://127.0.0.1:PORT/', seconds: opts.seconds, threads: kSuiteLoad.threads,
    connections: kSuiteLoad.connections,
    ...(pinning === null ? {} : { cpus: pinning.loadAndUpstream }),
  };
  const records = await runRotation(
    scenarios.map((s) => loadTarget(s, { ...ctx, authzNodeArgs: nodeArgs, authzEnv: env })),
    { rounds: opts.pairs, wrkBase, warmupSeconds: opts.warmupSeconds, isFresh: false,
      maxReruns: kSuiteLoad.maxReruns, log: opts.log,
      targetCpu: pinning === null ? undefined : Number(pinning.target) });
  return { records, wrkCommand: wrkCommand(wrkBase) };
}
