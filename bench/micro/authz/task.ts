/**
 * Shared plumbing of the authz micro-benchmarks: an engine task (one hot function over the
 * generated requests) and how a sample is measured. A sample runs `batch` consecutive requests
 * and reports the per-call mean (`overriddenDuration`), because one fast call is shorter than
 * the timer's own overhead; slow engines use a batch of 1.
 */
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { Bench } from 'tinybench';
import { kAuthzScenarios } from '../../scenarios.js';
import { generatePolicy, type GeneratedPolicy } from './policy-gen.js';

/** One engine, ready to decide request `i` of the generated set. Returns allow. */
export interface EngineTask {
  readonly name: string;
  readonly batch: number;
  readonly decide: (i: number) => boolean;
}

let sink = 0;

/** Adds `task` to `bench` under `label`, cycling through `count` requests. */
export function addTask(bench: Bench, label: string, task: EngineTask, count: number): void {
  let next = 0;
  bench.add(label, () => {
    const start = bench.now();
    for (let k = 0; k < task.batch; k++) {
      if (task.decide(next)) sink++;
      next = next + 1 === count ? 0 : next + 1;
    }
    const elapsed = bench.now() - start;
    return { overriddenDuration: elapsed / task.batch, overriddenIterationCost: elapsed };
  });
}

/** The sink, printed after a run so no call can be optimized away. */
export function sinkValue(): number {
  return sink;
}

/** The machine line every report starts with. */
export function machineLine(): string {
  return `node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`;
}

/** When `moduleUrl` is the entry point, benchmarks its engine alone over every scenario. */
export async function runAlone(moduleUrl: string,
  prepare: (g: GeneratedPolicy) => Promise<EngineTask>): Promise<void> {
  if (process.argv[1] !== fileURLToPath(moduleUrl)) return;
  const bench = new Bench({ name: 'authz', time: 1000, warmupTime: 200 });
  for (const s of kAuthzScenarios) {
    const task = await prepare(generatePolicy(s.rules, s.requests, s.seed));
    addTask(bench, `${s.name} engine=${task.name}`, task, s.requests);
  }
  await bench.run();
  console.log(machineLine());
  console.table(bench.table());
  console.log(`sink ${sinkValue()}`);
}
