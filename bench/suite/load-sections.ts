/**
 * The load part of the suite: everything the targets share (tokens, JWKS, the signed bundle,
 * the wrk scripts, the nginx upstream), then the three rotations of bench/scenarios-suite.ts:
 *
 * 1. `one-core`: serving limit, forwarding, edge authorization with one reused token and the
 *    decision listener, every target alone on CPU 0, all in one rotation so that the ratios
 *    between them (authz over no-auth forwarding, over HAProxy, over fastify) compare runs made
 *    minutes apart at most;
 * 2. `unique`: edge authorization with a new RS256 token per request, a fresh process per run;
 * 3. `multicore`: `serve --threads 1|2` on CPUs 0 and 1, which wrk and the upstream share.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { kAuthnLoad, kForwardPinning, upstreamConf } from '../scenarios.js';
import {
  type SuiteRotation, kAuthzPolicy, kSuiteLoad, kSuiteScenarios,
} from '../scenarios-suite.js';
import { type TokenSet, signExtraToken, tokenSet, writeJwks } from '../e2e/authn-tokens.js';
import { onCleanup } from '../e2e/children.js';
import { startNginxTarget } from '../e2e/forward-targets.js';
import { type WrkOptions, wrkCommand } from '../e2e/wrk.js';
import { writeTokenScript } from '../e2e/wrk-token-script.js';
import { type AuthzBundle, buildAuthzBundle } from './authz-bundle.js';
import { type SuiteRecord, runRotation } from './rotation.js';
import { type SuiteContext, loadTarget } from './suite-targets.js';

/** Run lengths and filters of the load part. */
export interface LoadOptions {
  repoRoot: string;
  seconds: number;
  rounds: number;
  warmupSeconds: number;
  /** False on a one-CPU machine: nothing is pinned. */
  isPinned: boolean;
  /** Whether a target (by name) runs (`--only`). */
  keep: (name: string) => boolean;
  log: (line: string) => void;
}

/** What the load part measured and how, for the report. */
export interface LoadResult {
  records: SuiteRecord[];
  bundle: AuthzBundle;
  tokens: Omit<TokenSet, 'sample'>;
  upstream: { command: string[]; conf: string };
  wrkCommand: string[];
  pinning: { target: string; loadAndUpstream: string; multicore: string } | null;
}

/** Seconds the load part may take at most (for the watchdog and token validity). */
export function loadPartBoundSeconds(opts: Pick<LoadOptions, 'seconds' | 'rounds'
  | 'warmupSeconds'>): number {
  const perRun = (opts.warmupSeconds + opts.seconds + 30) * (1 + kSuiteLoad.maxReruns);
  return kSuiteScenarios.length * opts.rounds * perRun + 300;
}

/** The pieces every target shares, prepared once. */
export interface SharedPieces {
  ctx: SuiteContext;
  bundle: AuthzBundle;
  rs256: TokenSet;
  upstream: { command: string[]; port: number };
}

/**
 * Tokens (cached across invocations; at least `warmCount` and `runCount`, valid for
 * `validSeconds` more), the JWKS file, the unique-token wrk script, the signed bundle (in a temp
 * dir removed at cleanup), the nginx upstream on the load core, and the check tokens.
 */
export async function prepareShared(opts: {
  repoRoot: string; pinning: LoadResult['pinning']; warmCount: number; runCount: number;
  validSeconds: number; log: (line: string) => void;
}): Promise<SharedPieces> {
  const cacheDir = join(opts.repoRoot, 'bench', '.cache', 'authn-tokens');
  const rs256 = await tokenSet(cacheDir, 'RS256', opts.warmCount, opts.runCount,
    opts.validSeconds, opts.log);
  const jwksFile = await writeJwks(cacheDir, [rs256]);
  const tokenScript = await writeTokenScript(cacheDir);
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-suite-'));
  onCleanup(() => rm(dir, { recursive: true, force: true }));
  const bundle = await buildAuthzBundle(opts.repoRoot, dir);
  const upstream = await startNginxTarget('upstream', upstreamConf(),
    opts.pinning?.loadAndUpstream);
  const withoutScope = await signExtraToken(rs256, { scope: 'orders:none' });
  const ctx: SuiteContext = {
    repoRoot: opts.repoRoot, upstreamPort: upstream.port, targetCpus: opts.pinning?.target,
    multicoreCpus: opts.pinning?.multicore, jwksFile, bundle, rs256,
    tokens: { valid: rs256.sample, withoutScope }, tokenScript,
  };
  opts.log(`policy: ${bundle.ruleCount} rules, ${bundle.bundleBytes} bytes, signed; request `
    + `allowed by ${kAuthzPolicy.ruleId}`);
  return { ctx, bundle, rs256, upstream };
}

/** The pinning of the suite, or null on a one-CPU machine. */
export function suitePinning(isPinned: boolean): LoadResult['pinning'] {
  return isPinned ? { ...kForwardPinning, multicore: kSuiteLoad.multicoreCpus } : null;
}

/** Prepares the shared pieces and runs the three rotations. */
export async function runLoadSections(opts: LoadOptions): Promise<LoadResult> {
  const pinning = suitePinning(opts.isPinned);
  const rate = kAuthnLoad.maxColdReqPerSec.RS256;
  const { ctx, bundle, rs256, upstream } = await prepareShared({
    repoRoot: opts.repoRoot, pinning, warmCount: rate * opts.warmupSeconds,
    runCount: rate * opts.seconds, validSeconds: loadPartBoundSeconds(opts), log: opts.log,
  });

  // 2. The rotations, in turn.
  const wrkBase: WrkOptions = {
    url: 'http://127.0.0.1:PORT/', seconds: opts.seconds, threads: kSuiteLoad.threads,
    connections: kSuiteLoad.connections,
    ...(pinning === null ? {} : { cpus: pinning.loadAndUpstream }),
  };
  const records: SuiteRecord[] = [];
  for (const rotation of ['one-core', 'unique', 'multicore'] as SuiteRotation[]) {
    const targets = kSuiteScenarios.filter((s) => s.rotation === rotation && opts.keep(s.name))
      .map((s) => loadTarget(s, ctx));
    if (targets.length === 0) continue;
    records.push(...await runRotation(targets, {
      rounds: opts.rounds, wrkBase, warmupSeconds: opts.warmupSeconds,
      isFresh: rotation === 'unique', maxReruns: kSuiteLoad.maxReruns, log: opts.log,
      targetCpu: pinning === null ? undefined : Number(pinning.target),
    }));
  }

  const { sample: _sample, ...tokens } = rs256;
  return { records, bundle, tokens, upstream: { command: upstream.command, conf: upstreamConf() },
    wrkCommand: wrkCommand(wrkBase), pinning };
}
