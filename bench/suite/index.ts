/**
 * The whole benchmark suite in one command (issue 6): load runs with wrk against servers on
 * 127.0.0.1 (serving limit, forwarding, edge authorization with a reused and with unique
 * tokens, the decision listener, multi-core), the policy-engine and JWT micro-benchmarks, and
 * `openssl speed`; then the targets, a Markdown report and a JSON file in bench/results/.
 *
 *   npm run bench                    3 rounds x 8 s per target, full micro-benchmarks
 *   npm run bench -- --quick         1 round x 3 s, policy engines at 50 and 1,000 rules only
 *   (--seconds N, --rounds N override; --only A,B keeps the targets and parts whose name
 *   contains one of them: load target names, `micro/authz`, `micro/verify`, `openssl`.)
 *
 * Exit code: 1 only when a scenario could not run at all (a target that never measured, a
 * micro-benchmark or openssl that failed; the report lists them). Missed targets print FAIL
 * and still exit 0.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

import { authnFacts } from '../e2e/authn-facts.js';
import { installInterruptHandlers, runCleanup } from '../e2e/children.js';
import { foreignLoad } from '../e2e/forwarding-summary.js';
import { machineFacts } from '../e2e/machine.js';
import { kSuiteLoad, kSuiteScenarios } from '../scenarios-suite.js';
import { type LoadResult, loadPartBoundSeconds, runLoadSections } from './load-sections.js';
import { runAuthzMicro, runVerifyMicro } from './micro-runs.js';
import { runOpensslSpeed } from './openssl-speed.js';
import { renderSuiteMarkdown } from './suite-markdown.js';
import { type SuiteReport, collectFailures } from './suite-report.js';
import { summarizeSuite } from './suite-summary.js';
import { judgeSuite } from './suite-verdicts.js';

const kRepoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const kResultsDir = join(kRepoRoot, 'bench', 'results');

function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

function readOptions(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: {
    quick: { type: 'boolean', default: false },
    seconds: { type: 'string' },
    rounds: { type: 'string' },
    only: { type: 'string' },
  } });
  const isQuick = values.quick ?? false;
  const base = isQuick ? kSuiteLoad.quick : kSuiteLoad.full;
  const seconds = Number(values.seconds ?? base.seconds);
  const rounds = Number(values.rounds ?? base.rounds);
  if (!Number.isInteger(seconds) || seconds < 1 || seconds > 60) {
    throw new Error('--seconds must be an integer from 1 to 60');
  }
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 9) {
    throw new Error('--rounds must be an integer from 1 to 9');
  }
  const only = values.only?.split(',').filter((o) => o !== '');
  const keep = (name: string): boolean => only === undefined || only.some((o) => name.includes(o));
  return { isQuick, seconds, rounds, warmupSeconds: base.warmupSeconds, only, keep };
}

async function main(argv: string[]): Promise<number> {
  const started = new Date();
  const opts = readOptions(argv);
  const microBoundSeconds = (opts.isQuick ? 5 : 15) * 60 + 5 * 60 + 3 * 60;
  installInterruptHandlers((loadPartBoundSeconds(opts) + microBoundSeconds) * 1e3);
  const isPinned = availableParallelism() >= 2;
  if (!isPinned) log('warning: fewer than two CPUs: running unpinned');
  const targetCpus = isPinned ? '0' : undefined;
  const invocation = process.env.npm_lifecycle_event === 'bench'
    ? `npm run bench${argv.length === 0 ? '' : ` -- ${argv.join(' ')}`}`
    : `node dist/bench/suite/index.js ${argv.join(' ')}`.trim();

  // 1. Load runs.
  const loadFailures: string[] = [];
  let loadResult: LoadResult | undefined;
  if (kSuiteScenarios.some((s) => opts.keep(s.name))) {
    try {
      loadResult = await runLoadSections({ repoRoot: kRepoRoot, seconds: opts.seconds,
        rounds: opts.rounds, warmupSeconds: opts.warmupSeconds, isPinned, keep: opts.keep, log });
    } catch (err) {
      loadFailures.push(`load runs: ${err instanceof Error ? err.message : String(err)}`);
      log(`the load runs could not start: ${loadFailures[0]}`);
    }
  }

  // 2. Micro-benchmarks and openssl, on the target core.
  const micro: SuiteReport['micro'] = {};
  if (opts.keep('micro/authz')) {
    log('micro: policy engines side by side');
    micro.authz = await runAuthzMicro(kRepoRoot, targetCpus, opts.isQuick);
  }
  if (opts.keep('micro/verify')) {
    log('micro: JWT verification, pool against inline');
    micro.verify = await runVerifyMicro(kRepoRoot, targetCpus);
  }
  const openssl = opts.keep('openssl') ? await runOpensslSpeed(kRepoRoot, targetCpus) : undefined;

  // 3. Figures, verdicts, report.
  const targetCpu = loadResult?.pinning === null || loadResult === undefined ? undefined
    : Number(loadResult.pinning.target);
  const summaries = (loadResult?.records ?? []).flatMap((record) => summarizeSuite(record,
    (run) => (record.cpus === undefined ? foreignLoad(run, targetCpu) : undefined)) ?? []);
  const finished = new Date();
  const draft: Omit<SuiteReport, 'failures'> = {
    startedAt: started.toISOString(), finishedAt: finished.toISOString(),
    durationSeconds: (finished.getTime() - started.getTime()) / 1000,
    mode: opts.isQuick ? 'quick' : 'full', isPartial: opts.only !== undefined, invocation,
    machine: { ...await machineFacts(), ...await authnFacts(kRepoRoot),
      openssl: openssl?.version ?? 'not run' },
    load: { threads: kSuiteLoad.threads, connections: kSuiteLoad.connections,
      seconds: opts.seconds, rounds: opts.rounds, warmupSeconds: opts.warmupSeconds,
      maxReruns: kSuiteLoad.maxReruns, wrkCommand: loadResult?.wrkCommand ?? [] },
    ...(loadResult === undefined ? {} : { loadResult }),
    summaries, micro, ...(openssl === undefined ? {} : { openssl }),
    targets: judgeSuite(summaries),
  };
  const report: SuiteReport = { ...draft, failures: [...loadFailures, ...collectFailures(draft)] };
  const markdown = renderSuiteMarkdown(report);
  process.stdout.write(markdown);

  const stem = `suite-${report.startedAt.slice(0, 10)}${opts.isQuick ? '-quick' : ''}`
    + (report.isPartial ? '-partial' : '');
  await mkdir(kResultsDir, { recursive: true });
  await writeFile(join(kResultsDir, `${stem}.md`), markdown);
  await writeFile(join(kResultsDir, `${stem}.json`), `${JSON.stringify(report, null, 2)}\n`);
  log(`written: bench/results/${stem}.md and .json (${report.durationSeconds.toFixed(0)} s)`);
  return report.failures.length > 0 ? 1 : 0;
}

main(process.argv.slice(2)).then(
  async (code) => {
    await runCleanup();
    process.exit(code);
  },
  async (err: unknown) => {
    log(`benchmark suite failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    await runCleanup();
    process.exit(1);
  },
);
