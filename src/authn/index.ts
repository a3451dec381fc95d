/**
 * The authentication stage's public API (main thread only). The worker module
 * (worker/verify-task.ts) is loaded by the pool by file path and is never exported here.
 */
export type { IssuerKeySet } from './key-set.js';
export {
  type TokenHeader,
  type TokenLimits,
  type TokenShape,
  inspectToken,
} from './token-shape.js';
export { type ClaimRules, type ClaimsResult, checkClaims } from './claims-check.js';
export {
  type VerifierPoolOptions,
  type VerifierPoolStats,
  type VerifyResult,
  VerifierPool,
} from './verifier-pool.js';
export { InlineVerifier } from './inline-verifier.js';
export {
  type JwksSourceLocation,
  type JwksSourceOptions,
  type JwksSourceStatus,
  JwksSource,
} from './jwks-source.js';
export { JwksSources } from './jwks-sources.js';
export { type FetchJsonOptions, type FetchJsonResult, fetchJson, JwksFetchError } from './jwks-fetch.js';
export {
  type CertificateIdentity, type CredentialKind, type Principal, type PrincipalRules, kAnonymous,
  kMaxAttributeLength, kMaxAttributes, kMaxGroups, kNoPrincipalRules, principalFromCertificate,
  principalFromClaims, withCertificate,
} from './principal.js';
export {
  type CertificateNames, type CertificateResult, certificateIdentity, checkedIdentity,
} from './certificate-identity.js';
export {
  ForwardedCertificates, type ForwardedPeer, forwardedCertificate,
} from './credential-xfcc.js';
export { claimAt } from './claim-path.js';
export { VerifiedTokenCache, type CachedVerification } from './token-cache.js';
export {
  Authenticator,
  type AuthenticatorOptions,
  type AuthnResult,
  type CachedDerivation,
  type IssuerRuntime,
  isBearerCredential,
  type KeySetView,
  type SignatureVerifier,
  type SignedResult,
} from './authenticator.js';
export { type EmailAddress, parseEmailAddress, verifiedEmail } from './email-address.js';
export {
  isPoolNeeded, issuerRuntimes, signatureRouting, startAuthnStage, tokenLimits, type AuthnStage,
  type SignatureRouting,
} from './setup.js';
