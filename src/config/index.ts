/**
 * Configuration: the schema, loading with positioned diagnostics, secret references, the
 * embedded default and the redacted description. Other stages import only from here.
 * Field reference: src/config/README.md.
 */
export {
  type Config, type ConfigInput, type ServiceConfig, type UpstreamConfig, type ListenerConfig,
  type MtlsListenerConfig, type AuthnConfig, type IssuerConfig, type AuditConfig,
  type RevocationConfig, type LoginConfig, type DecisionListenerConfig,
} from './schema.js';
export { type DecisionFlavor, kDecisionFlavors } from './decision-schema.js';
export { type JwsAlgorithm, kJwsAlgorithms, kMaxClaimPathDepth } from './authn-schema.js';
export {
  type ConfigDiagnostic, type ConfigErrorCode, ConfigLoadError, formatDiagnostic,
} from './diagnostics.js';
export { loadConfigFile, loadConfigText } from './load.js';
export {
  type EmbeddedDefaultOverrides, embeddedDefaultConfig, embeddedDefaultInput, kEmbeddedDefaultLabel,
} from './defaults.js';
export { describeConfig } from './describe.js';
export { SecretValue } from './secret-value.js';
export { type UpstreamAddress, parseUpstreamAddress } from './syntax.js';
