/**
 * The CI gate's micro-benchmark, run as a child on the target core by gate.ts:
 *
 *   node dist/bench/ci/gate-micro.js [--rounds N] [--time-ms T]
 *
 * Three tinybench tasks in one process, each a batch of calls timed as one sample: the fixed
 * baseline loop (baseline-loop.ts), `PolicyEngine.decide` over the 1,000-rule generated policy
 * and its 1,000 requests (wasm-decide.bench.ts), and authenticating a cached RS256 token
 * (cached-fixture.ts). Every round is a fresh Bench with the tasks in a rotated order; the
 * output is one JSON line with each round's median µs per call, from which the gate takes
 * ratios to the baseline (the machine's speed cancels out) and their median over rounds.
 */
import { parseArgs } from 'node:util';
import { Bench } from 'tinybench';

import { prepareCachedFixture } from '../micro/authn/cached-fixture.js';
import { generatePolicy } from '../micro/authz/policy-gen.js';
import { prepareWasm } from '../micro/authz/wasm-decide.bench.js';
import { baselineOnce } from './baseline-loop.js';

/** Per call, µs: one round's medians. */
export interface GateMicroRound {
  baselineUs: number;
  wasmDecideUs: number;
  cachedAuthnUs: number;
}

const kRules = 1000;
const kBatch = 1000;

const { values } = parseArgs({ options: {
  rounds: { type: 'string', default: '5' }, 'time-ms': { type: 'string', default: '250' },
} });
const rounds = Number(values.rounds);
const timeMs = Number(values['time-ms']);

// Step 1: the three functions, ready.
const policy = generatePolicy(kRules, 1000, 42);
const wasm = await prepareWasm(policy);
const fixture = await prepareCachedFixture();
let sink = 0;
let next = 0;
const tasks: Record<keyof GateMicroRound, () => void> = {
  baselineUs: () => {
    for (let k = 0; k < kBatch; k++) sink ^= baselineOnce();
  },
  wasmDecideUs: () => {
    for (let k = 0; k < kBatch; k++) {
      if (wasm.decide(next)) sink++;
      next = next + 1 === policy.requests.length ? 0 : next + 1;
    }
  },
  cachedAuthnUs: () => {
    for (let k = 0; k < kBatch; k++) {
      const result = fixture.authenticate(fixture.headers[k & 3] as string);
      if (result instanceof Promise) throw new Error('cache miss in the gate micro-benchmark');
      if (result.ok) sink++;
    }
  },
};

// Step 2: rounds, the order rotating, medians per call.
const names = Object.keys(tasks) as (keyof GateMicroRound)[];
const results: GateMicroRound[] = [];
for (let round = 0; round < rounds; round++) {
  const bench = new Bench({ name: `ci-gate round ${round + 1}`, time: timeMs, warmupTime: 50 });
  for (let i = 0; i < names.length; i++) {
    const name = names[(i + round) % names.length] as keyof GateMicroRound;
    const run = tasks[name];
    bench.add(name, () => {
      const start = bench.now();
      run();
      const elapsed = bench.now() - start;
      return { overriddenDuration: elapsed / kBatch, overriddenIterationCost: elapsed };
    });
  }
  await bench.run();
  const medianUs = (name: string): number => {
    const result = bench.tasks.find((t) => t.name === name)?.result;
    return result !== undefined && 'latency' in result ? result.latency.p50 * 1e3 : Number.NaN;
  };
  results.push({ baselineUs: medianUs('baselineUs'), wasmDecideUs: medianUs('wasmDecideUs'),
    cachedAuthnUs: medianUs('cachedAuthnUs') });
}

await fixture.close();
console.log(JSON.stringify({ rules: kRules, batch: kBatch, timeMs, rounds: results, sink }));
