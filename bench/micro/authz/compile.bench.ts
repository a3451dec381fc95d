/**
 * The hot function: `compilePolicy` on the generated policies (bench/scenarios.ts), with the
 * bundle size of each. Target: under 2 s for 10,000 rules.
 *
 *   node dist/bench/micro/authz/compile.bench.js
 */
import { Bench } from 'tinybench';
import { compilePolicy } from '../../../src/policy/index.js';
import { kAuthzScenarios } from '../../scenarios.js';
import { generatePolicy } from './policy-gen.js';
import { machineLine } from './task.js';

const bench = new Bench({ name: 'authz compile', time: 3000, warmupTime: 0, warmupIterations: 1,
  iterations: 3 });
const sizes: string[] = [];
for (const s of kAuthzScenarios) {
  const files = [{ name: 'bench.yaml', text: generatePolicy(s.rules, 1, s.seed).yaml }];
  const { bytes, lowered } = compilePolicy(files, { createdAtMs: 0 });
  sizes.push(`| ${s.rules} | ${bytes.length} | ${lowered.tree.length * 4} | ${lowered.strings.length} |`);
  bench.add(`authz/compile rules=${s.rules}`, () => {
    compilePolicy(files, { createdAtMs: 0 });
  });
}
await bench.run();
console.log(machineLine());
console.log('\n| task | median ms | max ms | samples |\n|---|---:|---:|---:|');
for (const t of bench.tasks) {
  const r = t.result as unknown as { latency: { p50: number; max: number; samplesCount: number } };
  const { p50, max, samplesCount } = r.latency;
  console.log(`| ${t.name} | ${p50.toFixed(1)} | ${max.toFixed(1)} | ${samplesCount} |`);
}
console.log('\n| rules | bundle bytes | tree bytes | strings |\n|---|---:|---:|---:|');
for (const line of sizes) console.log(line);
