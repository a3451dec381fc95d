export { loadEvaluator, kEvaluatorAbiVersion, PolicyEngine, type EvaluatorModule } from './engine.js';
export type { AuthzPrincipal, AuthzRequest, Decision } from './request.js';
export {
  referenceDecide, whyNot, principalRoles, pathSegments, type ReferenceDecision,
} from './reference-evaluator.js';
export { PolicyHolder, type PolicyStatus } from './policy-holder.js';
export { TreeWalker } from './tree-walker.js';
