/**
 * The hot function: `TreeWalker.decide`, the decision-tree walk ported to TypeScript (same tree
 * image, same request encoding, V8 instead of WebAssembly). Run alone:
 * node dist/bench/micro/authz/tree-walker-decide.bench.js
 */
import { TreeWalker } from '../../../src/authz/tree-walker.js';
import { compilePolicy, decodeBundle } from '../../../src/policy/index.js';
import type { GeneratedPolicy } from './policy-gen.js';
import { runAlone, type EngineTask } from './task.js';

export function prepareTreeWalker(g: GeneratedPolicy): Promise<EngineTask> {
  const bundle = decodeBundle(compilePolicy([{ name: 'bench.yaml', text: g.yaml }],
    { createdAtMs: 0 }).bytes);
  const walker = new TreeWalker(bundle);
  const requests = g.requests.map((r) => r.portcullis);
  return Promise.resolve({ name: 'portcullis tree walk (TS)', batch: 1000,
    decide: (i) => (walker.decide(requests[i]!) & 1) === 1 });
}

await runAlone(import.meta.url, prepareTreeWalker);
