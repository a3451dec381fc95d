/**
 * The policy engines side by side, in one tinybench run, on the same generated policies and the
 * same 1,000 requests (bench/scenarios.ts kAuthzScenarios: 50, 1,000 and 10,000 rules):
 * Portcullis WASM (request encoding included), the TypeScript reference evaluator, Cedar
 * (cedar-wasm, preparsed), casbin, and the same tree walk ported to TypeScript. Prints medians,
 * p99, ratios and the targets.
 *
 *   npm run build && node dist/bench/micro/authz/decide-side-by-side.bench.js
 *
 * Before timing, every engine decides every request once and the allow counts are compared:
 * the policies are equivalent only if they agree.
 */
import { Bench } from 'tinybench';
import { kAuthzScenarios } from '../../scenarios.js';
import { prepareCasbin } from './casbin-enforce.bench.js';
import { prepareCedar } from './cedar-is-authorized.bench.js';
import { generatePolicy } from './policy-gen.js';
import { prepareReference } from './reference-decide.bench.js';
import { addTask, type EngineTask, machineLine, sinkValue } from './task.js';
import { prepareTreeWalker } from './tree-walker-decide.bench.js';
import { prepareWasm } from './wasm-decide.bench.js';

const kTimeMs = Number(process.env.AUTHZ_BENCH_TIME_MS ?? 1500);
/** The WASM engine a second time, under another name: the run's noise floor (STYLE.md 11). */
const prepareWasmAgain = async (g: Parameters<typeof prepareWasm>[0]): Promise<EngineTask> =>
  ({ ...(await prepareWasm(g)), name: 'portcullis wasm (again)' });
const kAllEngines = { wasm: prepareWasm, reference: prepareReference, cedar: prepareCedar,
  casbin: prepareCasbin, treewalk: prepareTreeWalker, wasmagain: prepareWasmAgain };
/** AUTHZ_BENCH_ENGINES=wasm,cedar narrows the run (the ratio report needs all six). */
const kEngines = (process.env.AUTHZ_BENCH_ENGINES ?? 'wasm,reference,cedar,casbin,treewalk,wasmagain')
  .split(',')
  .map((n) => kAllEngines[n as keyof typeof kAllEngines]);
/** AUTHZ_BENCH_RULES=50,1000 narrows the scenarios. */
const kRules = process.env.AUTHZ_BENCH_RULES?.split(',').map(Number);
const kScenarios = kAuthzScenarios.filter((s) => kRules === undefined || kRules.includes(s.rules));

// Step 1: every policy set loaded before any engine decides anything (cedar-wasm on Node 20
// crashed inside V8 when a policy set was preparsed after decisions had run; peers.md).
const prepared: { scenario: (typeof kAuthzScenarios)[number]; tasks: EngineTask[] }[] = [];
for (const scenario of kScenarios) {
  const g = generatePolicy(scenario.rules, scenario.requests, scenario.seed);
  const tasks: EngineTask[] = [];
  for (const prepare of kEngines) tasks.push(await prepare(g));
  prepared.push({ scenario, tasks });
}

// Step 2: the engines must agree on every request, or the comparison is not like for like.
for (const { scenario, tasks } of prepared) {
  // Plain loops: V8 in Node 20 aborted ("unreachable code" in the deoptimizer) when these
  // calls ran inside an Array.prototype.map callback.
  const allows: number[] = [];
  for (const t of tasks) {
    let n = 0;
    for (let i = 0; i < scenario.requests; i++) if (t.decide(i)) n++;
    allows.push(n);
  }
  const counts = tasks.map((t, i) => `${t.name}=${allows[i]}`).join(', ');
  console.log(`${scenario.name}: allows per engine ${counts}`);
  if (new Set(allows).size !== 1) {
    console.log('  WARNING: the engines disagree; the comparison is not like for like');
  }
}

// Step 3: one run, all tasks.
const bench = new Bench({ name: 'authz side by side', time: kTimeMs, warmupTime: 300 });
for (const { scenario, tasks } of prepared) {
  for (const t of tasks) addTask(bench, `${scenario.name} engine=${t.name}`, t, scenario.requests);
}
await bench.run();

// Step 4: the report.
console.log(machineLine());
const us = (ms: number): string => (ms * 1000).toFixed(3);
const median = new Map<string, number>();
console.log('\n| scenario | engine | median µs | p99 µs | samples | rme % |');
console.log('|---|---|---:|---:|---:|---:|');
for (const task of bench.tasks) {
  type Latency = { p50: number; p99: number; samplesCount: number; rme: number };
  const r = task.result as unknown as { latency: Latency };
  median.set(task.name, r.latency.p50);
  const [scenario, engine] = task.name.split(' engine=') as [string, string];
  console.log(`| ${scenario} | ${engine} | ${us(r.latency.p50)} | ${us(r.latency.p99)} | ` +
    `${r.latency.samplesCount} | ${r.latency.rme.toFixed(2)} |`);
}
if (kEngines.length === 6) {
console.log('\n| scenario | reference / wasm | cedar / wasm | casbin / wasm | TS tree walk / wasm ' +
  '| wasm again / wasm (noise) |');
console.log('|---|---:|---:|---:|---:|---:|');
for (const { scenario, tasks } of prepared) {
  const m = (t: EngineTask): number => median.get(`${scenario.name} engine=${t.name}`)!;
  const wasm = m(tasks[0]!);
  console.log(`| ${scenario.name} | ${(m(tasks[1]!) / wasm).toFixed(1)}x | ` +
    `${(m(tasks[2]!) / wasm).toFixed(0)}x | ${(m(tasks[3]!) / wasm).toFixed(0)}x | ` +
    `${(m(tasks[4]!) / wasm).toFixed(2)}x | ${(m(tasks[5]!) / wasm).toFixed(2)}x |`);
}
const at = (rules: number, i: number): number =>
  median.get(`authz/decide rules=${rules} engine=${prepared[0]!.tasks[i]!.name}`)! * 1000;
console.log(`\ntargets: wasm median <= 1 µs at 1,000 rules: ${at(1000, 0).toFixed(3)} µs; ` +
  `<= 2 µs at 10,000: ${at(10_000, 0).toFixed(3)} µs; >= 100x cedar and casbin at 1,000: ` +
  `${(at(1000, 2) / at(1000, 0)).toFixed(0)}x, ${(at(1000, 3) / at(1000, 0)).toFixed(0)}x`);
}
console.log(`sink ${sinkValue()}`);
