/**
 * The decision record: one per request, filled in by the stages as the request moves along and
 * emitted exactly once when it ends (see audit-log.ts). The schema is documented field by field
 * in src/audit/README.md; `recordLine` (record-line.ts) writes it as one JSON line.
 *
 * A record holds references, never copies: the principal is the frozen, shared one the
 * authenticator built, and it carries no token, key, signature or claim set.
 */
import type { Principal } from '../authn/index.js';
import { type ErrorCode, errorSpec } from '../errors/index.js';

/** The access decision a request reached, if any. */
export type AuditDecision =
  /** Allowed: the request was (or was being) forwarded. */
  | 'allow'
  /** Denied because of who is calling: no or bad credential, revoked, policy (401/403). */
  | 'deny'
  /** Rejected before identity mattered: malformed, unroutable, over a limit (other 4xx). */
  | 'reject'
  /** The proxy could not decide (keys, verifier, overload, draining: 5xx): fail closed. */
  | 'error';

/** What finally happened to the request. */
export type AuditOutcome =
  /** The upstream's response was relayed to the end. */
  | 'forwarded'
  /** The proxy answered itself with a redirect (browser login: to the IdP, back, logout). */
  | 'redirected'
  /** The decision listener answered an ingress's check with allow (nothing forwarded). */
  | 'answered'
  /** The proxy answered itself with an error code. */
  | 'refused'
  /** The connection was closed without an answer (framing in doubt). */
  | 'dropped'
  /** The client went away first. */
  | 'aborted'
  /** Forwarded, but the upstream failed (connect, timeout, reset, malformed). */
  | 'upstream_error';

/** Which listener took the request (`decision`: an ingress's check, see src/server/). */
export type AuditListener = 'proxy' | 'mtls' | 'decision';

/**
 * One request's record. Created by `AuditLog.open` at the start of the handler; stages set the
 * fields they know; `AuditLog.emit` stamps the total latency and hands it on. After `emit` the
 * record belongs to the audit log and must not be changed. Fields a stage never reached stay
 * `null`.
 */
export class AuditRecord {
  /** Wall-clock start, ms since the epoch. */
  readonly timeMs: number;
  /** `performance.now()` at the start; the latencies are measured from it. */
  readonly startMs: number;
  // requestId, sourceAddress, host, service, bundleVersion and bundleDigest are written into
  // the record line without escaping: each must be JSON-safe by construction (a settled request
  // id, an IP address, a validated host, a configured service name, a number, a hex digest).
  readonly requestId: string;
  readonly listener: AuditListener;
  readonly sourceAddress: string;
  readonly method: string;
  /** Host from the Host header, lower-cased, without the port. */
  host: string | null = null;
  /** The canonical path (never the query: it may carry credentials). */
  path: string | null = null;
  service: string | null = null;
  /** The verified principal; undefined until authentication succeeded. */
  principal: Principal | undefined = undefined;
  decision: AuditDecision | null = null;
  /** The error code the request ended with, if it ended with one. */
  code: ErrorCode | null = null;
  /**
   * Policy: the deciding rule id, the bundle's version and digest, set by the authorization
   * step; null when the request ended before it ran.
   */
  rule: string | null = null;
  bundleVersion: string | null = null;
  bundleDigest: string | null = null;
  /** Whether the verified-token cache answered; null when no token was checked. */
  cacheHit: boolean | null = null;
  /** Status sent to the client; 0 when none was sent (dropped, aborted before an answer). */
  status = 0;
  /** Status the upstream answered with; null when nothing came back. */
  upstreamStatus: number | null = null;
  /** Microseconds spent authenticating / authorizing; null when the step did not run. */
  authnUs: number | null = null;
  authzUs: number | null = null;
  /** Microseconds from the start to the end; set by `AuditLog.emit`. */
  totalUs = 0;
  outcome: AuditOutcome = 'refused';

  constructor(listener: AuditListener, requestId: string, sourceAddress: string, method: string,
    timeMs: number, startMs: number) {
    this.listener = listener;
    this.requestId = requestId;
    this.sourceAddress = sourceAddress;
    this.method = method;
    this.timeMs = timeMs;
    this.startMs = startMs;
  }

  /**
   * Marks the request as ended by `code`. A refusal or a drop also sets the status it stands
   * for and, when no decision was reached yet, the decision; an abort or an upstream failure
   * keeps the decision already made (none, or allow).
   */
  refuse(code: ErrorCode, outcome: AuditOutcome = 'refused'): void {
    this.code = code;
    this.outcome = outcome;
    if (outcome !== 'refused' && outcome !== 'dropped') return;
    const status = errorSpec(code).status;
    if (outcome === 'refused') this.status = status;
    this.decision ??= decisionOf(status);
  }

  /** Marks a check on the decision listener as answered with allow and `status` (200). */
  answer(status: number): void {
    this.decision = 'allow';
    this.status = status;
    this.outcome = 'answered';
  }

  /**
   * Marks the request as answered by the proxy with a 302 (browser login): `deny` with
   * IAM_AUTHN_REQUIRED when the browser was sent to log in, `allow` and no code when a login or
   * logout completed.
   */
  redirect(decision: AuditDecision, code: ErrorCode | null): void {
    this.decision = decision;
    this.code = code;
    this.status = 302;
    this.outcome = 'redirected';
  }

  /**
   * Ends a forwarded exchange's record: `code` null means the upstream's response (`status`)
   * was relayed in full; otherwise `status` is what had been relayed before `code` ended it (0
   * when nothing had), and `isClientGone` tells that the client had already left.
   */
  endExchange(status: number, code: ErrorCode | null, isClientGone: boolean): void {
    if (status > 0) this.upstreamStatus = status;
    if (code === null) {
      this.status = status;
      this.outcome = 'forwarded';
      return;
    }
    this.code = code;
    if (isClientGone || code === 'IAM_REQUEST_CLIENT_ABORTED') {
      this.status = status;
      this.outcome = 'aborted';
      return;
    }
    this.outcome = code.startsWith('IAM_UPSTREAM_') ? 'upstream_error' : 'refused';
    this.status = status > 0 ? status : errorSpec(code).status;
  }
}

/** The decision an error status stands for (401/403 deny, other 4xx reject, 5xx error). */
export function decisionOf(status: number): AuditDecision {
  if (status === 401 || status === 403) return 'deny';
  return status >= 500 ? 'error' : 'reject';
}
