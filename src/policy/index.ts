export type {
  AttributeRef, Assignment, Condition, CredentialKind, PathPattern, PatternSegment, Policy, Role,
  Rule, SourcePos, SubjectMatcher, TimeWindow,
} from './model.js';
export {
  type Diagnostic, type DiagnosticCode, kDiagnosticCodes, formatDiagnostic, PolicyCompileError,
} from './diagnostics.js';
export { parsePolicy, parsePathPattern, type PolicyFile } from './parse.js';
export { checkPolicy, type CheckedPolicy } from './check.js';
export { lowerPolicy, type LoweredPolicy, type AttributeSlot } from './lower.js';
export {
  decodeBundle, encodeBundle, sourceDigest, kBundleSchemaVersion, type BundleMeta, type DecodedBundle,
} from './bundle.js';
export { compilePolicy, readPolicyDir, type CompileOptions, type CompiledPolicy } from './compile.js';
export {
  signBundle, verifyBundleSignature, bundleVerifyKey, type BundleAlgorithm, type BundleVerifyKey,
} from './signature.js';
export { admitBundle, type Admission } from './admission.js';
