/**
 * The routing stage: request framing checks, the canonical request target, host parsing and the
 * service registry. Other stages import only from this file. Rules: ./README.md.
 */
export {
  type FramingResult,
  type HeaderLimits,
  type RequestFraming,
  checkRequestHeaders,
} from './headers-check.js';
export { type HostPort, parseHost } from './host.js';
export type { Rejection } from './rejection.js';
export {
  type CanonicalTarget,
  type TargetOptions,
  type TargetResult,
  canonicalizeTarget,
} from './request-target.js';
export { type RouteMatch, type RouteSpec, ServiceRegistry } from './service-registry.js';
