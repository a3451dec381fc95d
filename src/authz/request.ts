/**
 * What the evaluator decides on (`AuthzRequest`) and what it answers (`Decision`).
 *
 * `AuthzPrincipal` is the part of the proxy's `Principal` (src/authn/principal.ts) that policy
 * reads; a `Principal` is assignable to it. Everything here is plain, immutable data.
 */
import type { ErrorCode } from '../errors/index.js';

/** The principal fields policy reads. */
export interface AuthzPrincipal {
  readonly kind: 'jwt' | 'opaque' | 'mtls' | 'session' | 'anonymous';
  readonly subject: string | undefined;
  readonly clientId: string | undefined;
  readonly scopes: readonly string[];
  /** Groups from the configured claim paths. */
  readonly groups: readonly string[];
  /** Selected claims, stringified; policy `claims.X` reads `attributes[X]`. */
  readonly attributes: Readonly<Record<string, string>>;
  readonly certificate: undefined | { readonly spiffeId: string | undefined };
}

/** One request as policy sees it. Valid only for the duration of the `decide` call. */
export interface AuthzRequest {
  /** The registered service name the request was routed to. */
  readonly service: string;
  /** Upper-case method. */
  readonly method: string;
  /** The canonical path the upstream sees (no query). */
  readonly path: string;
  /** Flat lower-case name/value list as the proxy holds it: [name0, value0, name1, ...]. */
  readonly headers: readonly string[];
  /** Peer address as IP text (IPv4 dotted quad or IPv6). */
  readonly sourceAddress: string;
  /** The decision time, milliseconds since the epoch. */
  readonly nowMs: number;
  readonly principal: AuthzPrincipal;
}

/**
 * A decision. Frozen and shared: the engine hands out one precomputed object per (rule,
 * effect), so deciding allocates nothing. Never mutate one.
 */
export interface Decision {
  readonly allow: boolean;
  /** The rule that decided, -1 when none applied (default deny) or no decision was reached. */
  readonly ruleIndex: number;
  /** The rule's id, `default-deny`, or `request-limits` / `evaluator-failed` for refusals. */
  readonly ruleId: string;
  /** Headers to add upstream when allowed: flat [name, value, ...], lower-case names. */
  readonly obligations: readonly string[];
  /** The deciding bundle's policy version and source digest (hex). */
  readonly bundleVersion: number;
  readonly bundleDigest: string;
  /** undefined when allowed; else why: IAM_AUTHZ_DENIED, IAM_AUTHZ_REQUEST_LIMITS, ... */
  readonly code: ErrorCode | undefined;
  /** A deny an anonymous caller might turn into an allow by authenticating (answer 401). */
  readonly credentialsMayHelp: boolean;
}
