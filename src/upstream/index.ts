/**
 * Upstream stage: the proxy's own HTTP/1.1 client (keep-alive pools, strict response parsing,
 * backpressure both ways) and the balancer over a service's addresses. See README.md for the
 * connection state machine and the reuse rules.
 */
export { UpstreamPool } from './pool.js';
export { UpstreamGroup } from './balancer.js';
export type {
  BalancerOptions,
  BodyFraming,
  PoolOptions,
  PoolStats,
  ResponseBodyKind,
  ResponseSink,
  UpstreamAddress,
  UpstreamExchange,
  UpstreamRequestHead,
} from './types.js';
/** The response parser on its own, for differential and fuzz testing against other parsers. */
export {
  ResponseParser,
  kParseComplete,
  kParseMalformed,
  kParseNeedMore,
  kParsePaused,
  kParseTruncated,
  type ResponseEvents,
} from './response-parser.js';
export type { ParsedHead } from './response-head.js';
// Glue written by the lead in this folder (forwarded headers, relay to uWS).
export {
  TrustedProxies,
  buildUpstreamHeaders,
  isReservedIdentityHeader,
  type ForwardInput,
} from './forward-headers.js';
export { ResponseRelay, type RelayOwner } from './response-relay.js';
export {
  type IdentityField, type IdentityHeaderPlan, identityHeaderPlan, identityHeaders,
  kDefaultIdentityPlan, kIdentityHeaderNames,
} from './identity-headers.js';
export { InternalJwtSigner, type PublicJwk } from './internal-jwt.js';
