// Decision-tree evaluator: exports only. The host (src/authz/) copies a bundle's tree image to
// TREE, writes one request's attributes into the request block, calls `evaluate`, and maps the
// returned code to a decision. Layout: assembly/README.md and layout.ts.
import { evaluateRequest } from './eval';

/** Version of the memory layout shared with src/authz/. Bumped on any incompatible change. */
export const ABI_VERSION: u32 = 2;

/** The ABI version, as a function so hosts without global exports can read it. */
export function abiVersion(): u32 {
  return ABI_VERSION;
}

/**
 * Evaluates the request in the request block: 0 default deny, ((rule + 1) << 1) a deny by rule,
 * ((rule + 1) << 1) | 1 an allow by rule.
 */
export function evaluate(): i32 {
  return evaluateRequest();
}
