/**
 * The hot function: casbin `enforceSync` on an RBAC model with `keyMatch2` paths and a tenant
 * check. Run alone: node dist/bench/micro/authz/casbin-enforce.bench.js
 */
import { newEnforcer, newModelFromString } from 'casbin';
import type { GeneratedPolicy } from './policy-gen.js';
import { runAlone, type EngineTask } from './task.js';

export async function prepareCasbin(g: GeneratedPolicy): Promise<EngineTask> {
  const enforcer = await newEnforcer(newModelFromString(g.casbinModel));
  await enforcer.addPolicies(g.casbinPolicies.map((p) => [...p]));
  await enforcer.addGroupingPolicies(g.casbinGroupings.map((p) => [...p]));
  const requests = g.requests.map((r) => r.casbin);
  return { name: 'casbin enforceSync', batch: 1,
    decide: (i) => enforcer.enforceSync(...requests[i]!) };
}

await runAlone(import.meta.url, prepareCasbin);
