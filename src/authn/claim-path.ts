/**
 * Claim paths: how configuration names a claim that may be nested (`realm_access.roles`).
 *
 * Rule: a path is first looked up as one top-level claim name, so namespaced claims that contain
 * dots (`https://example.com/roles`, common with Auth0) work as written; only when no such claim
 * exists is it split at dots and walked through nested JSON objects. Only own properties of
 * plain objects are followed, so `__proto__` or `constructor` never reach a prototype. Paths
 * longer than `kMaxClaimPathDepth` names find nothing (the config refuses them).
 */

import { kMaxClaimPathDepth } from '../config/index.js';

function ownValue(container: unknown, name: string): unknown {
  if (typeof container !== 'object' || container === null || Array.isArray(container)) {
    return undefined;
  }
  return Object.hasOwn(container, name) ? (container as Record<string, unknown>)[name] : undefined;
}

/** The value at `path` in `claims`, or undefined when any step is missing or not an object. */
export function claimAt(claims: Record<string, unknown>, path: string): unknown {
  const whole = ownValue(claims, path);
  if (whole !== undefined || !path.includes('.')) return whole;
  const steps = path.split('.');
  if (steps.length > kMaxClaimPathDepth) return undefined;
  let value: unknown = claims;
  for (const step of steps) {
    value = ownValue(value, step);
    if (value === undefined) return undefined;
  }
  return value;
}
