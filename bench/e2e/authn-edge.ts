/**
 * End-to-end authentication bench (issue 3), one invocation, every target pinned alone to one
 * core and wrk with the upstream on the other, rounds interleaved:
 *
 * 1. the cached path: one Portcullis process, a public route without a token against an
 *    authenticated route with one reused RS256 token (the CPU-per-request difference is what
 *    authenticating a cached token costs), plus the cached-path micro-benchmark;
 * 2. cold verification: every request a different token, RS256 and ES256, for Portcullis with
 *    the pool and inline, HAProxy 2.6 `jwt_verify` and fastify + @fastify/jwt, a fresh process
 *    per run.
 *
 *   npm run bench:authn              cold: 3 rounds x 8 s per target; cached: 9 rounds x 4 s
 *   npm run bench:authn -- --quick   cold: 1 round x 3 s; cached: 2 rounds x 2 s
 *   (--seconds N, --rounds N override the cold section's; --only A,B keeps the targets whose
 *   name contains one of them; --two-cores adds the informational targets allowed on both CPUs.)
 *
 * Exit code: 0 when every target passes, 1 when one fails or a target could not run.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import {
  kAuthnAlgorithms, kAuthnLoad, kCachedScenarios, kColdScenarios, kForwardPinning, upstreamConf,
} from '../scenarios.js';
import { type AuthnReport, renderAuthnMarkdown } from './authn-markdown.js';
import { runCachedMicro } from './authn-micro.js';
import { runCachedSection, runColdSection } from './authn-sections.js';
import { judgeAuthn, summarizeAuthn } from './authn-summary.js';
import type { TargetContext } from './authn-targets.js';
import { type TokenSet, tokenSet, writeJwks } from './authn-tokens.js';
import { installInterruptHandlers, runCleanup } from './children.js';
import { startNginxTarget } from './forward-targets.js';
import { authnFacts } from './authn-facts.js';
import { machineFacts } from './machine.js';
import { type WrkOptions, wrkCommand } from './wrk.js';
import { writeTokenScript } from './wrk-token-script.js';

const kRepoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const kResultsDir = join(kRepoRoot, 'bench', 'results');
const kCacheDir = join(kRepoRoot, 'bench', '.cache', 'authn-tokens');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function readOptions(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    only: { type: 'string' },
    'two-cores': { type: 'boolean', default: false },
  } });
  const base = values.quick ? kAuthnLoad.quick : kAuthnLoad.full;
  const seconds = Number(values.seconds ?? base.seconds);
  const rounds = Number(values.rounds ?? base.rounds);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) {
    throw new Error('--seconds must be an integer from 1 to 60');
  }
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 9) {
    throw new Error('--rounds must be an integer from 1 to 9');
  }
  const quick = values.quick ?? false;
  const cached = quick ? kAuthnLoad.cached.quick : kAuthnLoad.cached.full;
  return { quick, seconds, rounds, warmupSeconds: base.warmupSeconds, only: values.only, cached,
    twoCores: values['two-cores'] ?? false };
}

async function main(argv: string[]): Promise<number> {
  const startedAt = new Date().toISOString();
  const opts = readOptions(argv);
  const perRun = (opts.warmupSeconds + opts.seconds + 30) * (1 + kAuthnLoad.maxReruns);
  const runs = opts.cached.rounds * kCachedScenarios.length
    + opts.rounds * kColdScenarios.length;
  installInterruptHandlers((runs * perRun + 600) * 1e3);
  const only = opts.only?.split(',');
  const keep = (name: string): boolean =>
    (only === undefined || only.some((o) => name.includes(o)))
    && (opts.twoCores || !name.endsWith('-2cores'));

  const machine = { ...await machineFacts(), ...await authnFacts(kRepoRoot) };
  const pinning = availableParallelism() >= 2 ? kForwardPinning : null;
  if (pinning === null) log('warning: fewer than two CPUs: running unpinned');
  const wrkBase: WrkOptions = {
    url: 'http://127.0.0.1:PORT/', seconds: opts.seconds, threads: kAuthnLoad.threads,
    connections: kAuthnLoad.connections,
    ...(pinning === null ? {} : { cpus: pinning.loadAndUpstream }),
  };

  // 1. Tokens (cached across invocations), the JWKS file, the wrk script, the upstream.
  const sets = new Map<string, TokenSet>();
  for (const alg of kAuthnAlgorithms) {
    const rate = kAuthnLoad.maxColdReqPerSec[alg];
    sets.set(alg, await tokenSet(kCacheDir, alg, rate * opts.warmupSeconds, rate * opts.seconds,
      runs * perRun, log));
  }
  const jwksFile = await writeJwks(kCacheDir, [...sets.values()]);
  const script = await writeTokenScript(kCacheDir);
  const upstream = await startNginxTarget('upstream', upstreamConf(), pinning?.loadAndUpstream);
  const ctx: TargetContext = { repoRoot: kRepoRoot, upstreamPort: upstream.port,
    cpus: pinning?.target, jwksFile };
  const rs256 = sets.get('RS256') as TokenSet;

  // 2. The cached path, then cold verification (bench/e2e/authn-sections.ts).
  const targetCpu = pinning === null ? undefined : Number(pinning.target);
  const sectionOpts = { ctx, wrkBase, warmupSeconds: opts.warmupSeconds, targetCpu, keep, log };
  const cached = await runCachedSection({ ...sectionOpts, warmupSeconds: opts.cached.warmupSeconds,
    wrkBase: { ...wrkBase, seconds: opts.cached.seconds } }, opts.cached.rounds, rs256);
  const cold = await runColdSection(sectionOpts, opts.rounds, sets, script);

  // 3. The cached-path micro-benchmark, on the target core.
  const micro = keep('micro') ? await runCachedMicro(kRepoRoot, pinning?.target) : undefined;

  // 4. Report.
  const records = [...cached, ...cold];
  const summaries = records.map(summarizeAuthn).filter((s) => s !== undefined);
  const targets = judgeAuthn(records, summaries, micro, machine.defaultInline);
  const report: AuthnReport = {
    startedAt, mode: opts.quick ? 'quick' : 'full', machine, pinning,
    load: { threads: wrkBase.threads, connections: wrkBase.connections, seconds: opts.seconds,
      rounds: opts.rounds, warmupSeconds: opts.warmupSeconds, cached: opts.cached,
      maxReruns: kAuthnLoad.maxReruns, wrkCommand: wrkCommand(wrkBase) },
    tokens: [...sets.values()].map(({ sample: _s, ...rest }) => rest),
    upstream: { command: upstream.command, conf: upstreamConf() },
    records, summaries, ...(micro === undefined ? {} : { micro }), targets,
  };
  const markdown = renderAuthnMarkdown(report);
  process.stdout.write(markdown);
  const stem = `authn-edge-${startedAt.slice(0, 10)}${opts.quick ? '-quick' : ''}`
    + (opts.only === undefined ? '' : '-partial');
  await mkdir(kResultsDir, { recursive: true });
  await writeFile(join(kResultsDir, `${stem}.md`), markdown);
  await writeFile(join(kResultsDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  log(`written: bench/results/${stem}.md and .json`);
  return records.some((r) => r.error !== undefined) || targets.some((t) => !t.pass) ? 1 : 0;
}

main(process.argv.slice(2)).then(
  async (code) => {
    await runCleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    log(`authn bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    await runCleanup();
    process.exit(1);
  },
);
