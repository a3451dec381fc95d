/**
 * The CI benchmark gate, `npm run bench:ci` (after `npm test`, which built everything): short,
 * and judged only on ratios measured in this same run against the committed floors of
 * bench/ci/floors.ts, never on absolute times, so a slower or busier CI machine does not fail it
 * while a real regression of the auth path does.
 *
 * 1. Load: Portcullis without authentication and Portcullis with a cached RS256 token + the
 *    signed 50-rule policy (the suite's targets), alone on CPU 0, wrk and nginx on CPU 1; three
 *    pairs of adjacent 3 s runs, the pair's order alternating; per pair the req/s ratio and the
 *    CPU-per-request ratio, then the medians.
 * 2. Micro: gate-micro.ts on CPU 0: the WASM decision and the cached authentication, each over
 *    a fixed baseline loop timed in the same process, five rounds, medians.
 *
 *   npm run bench:ci
 *   npm run bench:ci -- --inject-busy-us 10   (a known slowdown: must FAIL)
 *
 * Exit code: 0 when every ratio is at or above its floor; 1 otherwise, or when one could not
 * be measured. Writes bench/results/ci-gate-<date>[-injected-repeatN-busyUus].{md,json}.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { describeFailure, runToEnd } from '../e2e/child-output.js';
import { installInterruptHandlers, runCleanup } from '../e2e/children.js';
import { machineFacts } from '../e2e/machine.js';
import type { SuiteRecord } from '../suite/rotation.js';
import { kGateFloors } from './floors.js';
import { judgeGate, ratiosPerRound } from './gate-check.js';
import type { GateMicroRound } from './gate-micro.js';
import { type GateReport, renderGateMarkdown } from './gate-report.js';
import { runGateLoad } from './gate-load.js';
import { type Injection, injectionFor, isInjecting, readInjection } from './injection.js';

const kRepoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const kResultsDir = join(kRepoRoot, 'bench', 'results');
/** The whole gate is stopped (and fails) after this: CI must never hang on it. */
const kLimitMs = 175_000;

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function readOptions(argv: string[]): { pairs: number; seconds: number; microRounds: number;
  injection: Injection } {
  const { values } = parseArgs({ args: argv, options: {
    pairs: { type: 'string', default: '3' },
    seconds: { type: 'string', default: '3' },
    'micro-rounds': { type: 'string', default: '5' },
    'inject-repeat': { type: 'string' },
    'inject-busy-us': { type: 'string' },
  } });
  const [pairs, seconds, microRounds] = [values.pairs, values.seconds, values['micro-rounds']]
    .map(Number) as [number, number, number];
  for (const [flag, value, max] of [['pairs', pairs, 9], ['seconds', seconds, 10],
    ['micro-rounds', microRounds, 15]] as const) {
    if (!Number.isInteger(value) || value < 1 || value > max) {
      throw new Error(`--${flag} must be an integer from 1 to ${max}`);
    }
  }
  const injection = readInjection({ repeat: values['inject-repeat'],
    busyUs: values['inject-busy-us'] }, process.env);
  return { pairs, seconds, microRounds, injection };
}

/** Runs gate-micro.ts on CPU 0 (with the injection, if any) and reads its rounds. */
async function runMicro(rounds: number, injection: Injection, cpus: string | undefined):
  Promise<GateReport['micro']> {
  const { nodeArgs, env } = injectionFor(injection);
  const node = ['node', ...nodeArgs, 'dist/bench/ci/gate-micro.js', '--rounds', String(rounds)];
  const command = cpus === undefined ? node : ['taskset', '-c', cpus, ...node];
  const out = await runToEnd(command, { cwd: kRepoRoot, env, timeoutMs: 90_000 });
  const line = out.stdout.split('\n').find((l) => l.startsWith('{"rules"'));
  if (out.code !== 0 || line === undefined) {
    return { command, rounds: [], error: describeFailure(command, out) };
  }
  return { command, rounds: (JSON.parse(line) as { rounds: GateMicroRound[] }).rounds };
}

/** Below this many valid load pairs the e2e ratios are not judged (they fail as unmeasured). */
const kMinValidPairs = 2;

/**
 * The pairs (same round) whose two runs both answered only 2xx without timeouts: a proxy that
 * answers errors quickly must not pass. Returns the runs of each side, pair by pair.
 */
function validPairs(records: readonly SuiteRecord[]) {
  const runsOf = (name: string) => records.find((r) => r.name === name)?.runs ?? [];
  const isValid = (run: SuiteRecord['runs'][number] | undefined): boolean => run !== undefined
    && run.wrk.non2xx === 0 && run.wrk.socketErrors.timeout === 0;
  const plain: SuiteRecord['runs'] = [];
  const authz: SuiteRecord['runs'] = [];
  let invalidPairs = 0;
  for (const run of runsOf('forward/portcullis')) {
    const other = runsOf('authz/cached target=portcullis').find((r) => r.round === run.round);
    if (isValid(run) && isValid(other)) {
      plain.push(run);
      authz.push(other as SuiteRecord['runs'][number]);
    } else {
      invalidPairs++;
    }
  }
  return { plain, authz, invalidPairs };
}

async function main(argv: string[]): Promise<number> {
  const started = new Date();
  const opts = readOptions(argv);
  installInterruptHandlers(kLimitMs);
  const cpus = availableParallelism() >= 2 ? '0' : undefined;
  const errors: string[] = [];
  if (isInjecting(opts.injection)) log(`injecting: ${JSON.stringify(opts.injection)}`);

  // 1. Load pairs, then 2. the micro-benchmark.
  let records: SuiteRecord[] = [];
  let wrkCommand: string[] = [];
  try {
    ({ records, wrkCommand } = await runGateLoad({ repoRoot: kRepoRoot, pairs: opts.pairs,
      seconds: opts.seconds, warmupSeconds: 1, isPinned: cpus !== undefined,
      injection: opts.injection, log }));
  } catch (err) {
    errors.push(`load: ${err instanceof Error ? err.message : String(err)}`);
  }
  for (const r of records) if (r.error !== undefined) errors.push(`${r.name}: ${r.error}`);
  log('micro: baseline loop, wasm decide, cached authn');
  const micro = await runMicro(opts.microRounds, opts.injection, cpus);
  if (micro.error !== undefined) errors.push(`micro: ${micro.error}`);

  // 3. Ratios per pair (both runs valid) and per micro round, medians, verdicts.
  const { plain, authz, invalidPairs } = validPairs(records);
  const why = new Map<string, string>();
  if (plain.length < kMinValidPairs) {
    for (const name of ['e2e/authz-over-noauth rate', 'e2e/authz-over-noauth cpu']) {
      why.set(name, `${plain.length} valid pairs, fewer than ${kMinValidPairs} (`
        + `${invalidPairs} had non-2xx answers or timeouts)`);
    }
  }
  const measured = new Map<string, number[]>([
    ['e2e/authz-over-noauth rate', why.size > 0 ? [] : ratiosPerRound(
      authz.map((r) => r.wrk.reqPerSec), plain.map((r) => r.wrk.reqPerSec))],
    ['e2e/authz-over-noauth cpu', why.size > 0 ? [] : ratiosPerRound(
      plain.map((r) => r.cpuUsPerRequest), authz.map((r) => r.cpuUsPerRequest))],
    ['micro/wasm-decide speed', ratiosPerRound(micro.rounds.map((r) => r.baselineUs),
      micro.rounds.map((r) => r.wasmDecideUs))],
    ['micro/cached-authn speed', ratiosPerRound(micro.rounds.map((r) => r.baselineUs),
      micro.rounds.map((r) => r.cachedAuthnUs))],
  ]);
  const verdicts = judgeGate(kGateFloors, measured, why);
  const warnings = invalidPairs === 0 ? [] : [`${invalidPairs} of ${opts.pairs} load pairs had `
    + 'non-2xx answers or timeouts and are left out (judged only with at least '
    + `${kMinValidPairs} valid pairs)`];

  // 4. Report.
  const report: GateReport = {
    startedAt: started.toISOString(), durationSeconds: (Date.now() - started.getTime()) / 1000,
    invocation: process.env.npm_lifecycle_event === 'bench:ci'
      ? `npm run bench:ci${argv.length === 0 ? '' : ` -- ${argv.join(' ')}`}`
      : `node dist/bench/ci/gate.js ${argv.join(' ')}`.trim(),
    machine: await machineFacts(), injection: opts.injection,
    load: { pairs: opts.pairs, seconds: opts.seconds, warmupSeconds: 1, wrkCommand },
    records, micro, verdicts, errors, warnings,
  };
  const markdown = renderGateMarkdown(report);
  process.stdout.write(markdown);
  const stem = `ci-gate-${report.startedAt.slice(0, 10)}` + (isInjecting(opts.injection)
    ? `-injected-repeat${opts.injection.repeat}-busy${opts.injection.busyUs}us` : '');
  await mkdir(kResultsDir, { recursive: true });
  await writeFile(join(kResultsDir, `${stem}.md`), markdown);
  await writeFile(join(kResultsDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  log(`written: bench/results/${stem}.md and .json`);
  return verdicts.every((v) => v.pass) && errors.length === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  async (code) => {
    await runCleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    log(`bench:ci failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    await runCleanup();
    process.exit(1);
  },
);
