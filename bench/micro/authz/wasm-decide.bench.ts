/**
 * The hot function: `PolicyEngine.decide` (WASM), request encoding included. Exports the task
 * for decide-side-by-side.bench.ts; run alone: node dist/bench/micro/authz/wasm-decide.bench.js
 */
import { loadEvaluator, PolicyEngine } from '../../../src/authz/index.js';
import { compilePolicy, decodeBundle } from '../../../src/policy/index.js';
import type { GeneratedPolicy } from './policy-gen.js';
import { runAlone, type EngineTask } from './task.js';

/** Compiles and loads the policy; the returned function decides request `i`. */
export async function prepareWasm(g: GeneratedPolicy): Promise<EngineTask> {
  const bundle = decodeBundle(compilePolicy([{ name: 'bench.yaml', text: g.yaml }],
    { createdAtMs: 0 }).bytes);
  const engine = new PolicyEngine(await loadEvaluator(), bundle);
  const requests = g.requests.map((r) => r.portcullis);
  return { name: 'portcullis wasm', batch: 1000, decide: (i) => engine.decide(requests[i]!).allow };
}

await runAlone(import.meta.url, prepareWasm);
