/**
 * The hot function: `@cedar-policy/cedar-wasm` `statefulIsAuthorized`, Cedar's authorization
 * with a preparsed policy set (its fastest form; `isAuthorized` also reparses the policy text on
 * every call). Run alone: node dist/bench/micro/authz/cedar-is-authorized.bench.js
 */
import * as cedar from '@cedar-policy/cedar-wasm/nodejs';
import type { GeneratedPolicy } from './policy-gen.js';
import { runAlone, type EngineTask } from './task.js';

let kNextId = 0;

/**
 * Preparses the policy set. Every set must be loaded before any timed loop: on Node 20
 * cedar-wasm crashed inside V8 when policy sets were loaded between timed runs (peers.md).
 */
export function prepareCedar(g: GeneratedPolicy): Promise<EngineTask> {
  const id = `bench-${kNextId++}`;
  const parsed = cedar.preparsePolicySet(id, { staticPolicies: g.cedarPolicies });
  if (parsed.type !== 'success') throw new Error(`cedar: ${JSON.stringify(parsed).slice(0, 300)}`);
  const calls = g.requests.map((r) => ({ ...(r.cedar as object), preparsedPolicySetId: id }));
  return Promise.resolve({
    name: 'cedar-wasm statefulIsAuthorized', batch: 1,
    decide: (i) => {
      const answer = cedar.statefulIsAuthorized(calls[i] as cedar.StatefulAuthorizationCall);
      return answer.type === 'success' && answer.response.decision === 'allow';
    },
  });
}

await runAlone(import.meta.url, prepareCedar);
