/**
 * The hot function: `referenceDecide`, the plain TypeScript reference evaluator (a linear scan
 * written for clarity, the tests' oracle). Run alone:
 * node dist/bench/micro/authz/reference-decide.bench.js
 */
import { referenceDecide } from '../../../src/authz/index.js';
import { compilePolicy, decodeBundle } from '../../../src/policy/index.js';
import type { GeneratedPolicy } from './policy-gen.js';
import { runAlone, type EngineTask } from './task.js';

export async function prepareReference(g: GeneratedPolicy): Promise<EngineTask> {
  const { policy } = decodeBundle(compilePolicy([{ name: 'bench.yaml', text: g.yaml }],
    { createdAtMs: 0 }).bytes);
  const requests = g.requests.map((r) => r.portcullis);
  return { name: 'portcullis reference (TS)', batch: g.requests.length >= 1000 ? 20 : 1,
    decide: (i) => referenceDecide(policy, requests[i]!).allow };
}

await runAlone(import.meta.url, prepareReference);
