export { registerAdminRoutes, type AdminState } from './admin-api.js';
export { type AdminAudit, type ThreadAudit } from './admin-audit.js';
export { BundleActivator, type ActivationResult, type ActivationStats } from './bundle-activator.js';
export { startFileSource, kMaxBundleBytes, type BundleSource } from './bundle-source-file.js';
export { startHttpSource, type HttpSourceStats } from './bundle-source-http.js';
export { startPolicyStage, accessPolicySource, type PolicyStage } from './policy-stage.js';
