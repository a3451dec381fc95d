/**
 * The steps that decide whether a routed request may pass: who is calling (client certificate,
 * bearer token, revocation), then what the active policy says. The proxy handler forwards what
 * they allow; the decision handler answers an ingress with it. Both call these functions, so a
 * request is decided the same way whichever listener took it.
 *
 * Nothing here writes a response: the outcome goes to the caller's `allow` or `refuse`, and the
 * audit record gets the principal, the cache state, the timings and the deciding rule.
 */
import type { AuditRecord, RevocationSet } from '../audit/index.js';
import {
  type Authenticator, type AuthnResult, type CertificateIdentity, type ForwardedCertificates,
  isBearerCredential, kAnonymous, type Principal, withCertificate,
} from '../authn/index.js';
import type { PolicyHolder } from '../authz/index.js';
import type { ErrorCode } from '../errors/index.js';
import type { BrowserLogin, Session } from '../login/index.js';
import { type InternalJwtSigner, identityHeaders, type TrustedProxies } from '../upstream/index.js';
import type { PeerCertificate } from './front-end.js';
import { joinedValue, singleHeaderValue } from './header-values.js';
import type { ServiceRuntime } from './proxy-handler.js';

/** What deciding needs; built once at start-up and shared by every listener. */
export interface AccessDeps {
  /** Verifies bearer tokens; undefined when no issuer is configured. */
  readonly authenticator: Authenticator | undefined;
  /** Revoked subjects, sessions, tokens and clients (a Map lookup, no I/O). */
  readonly revocations: RevocationSet;
  /** The active policy bundle. */
  readonly policy: PolicyHolder;
  /** Browser login (src/login/): sessions as credentials; undefined when off. */
  readonly login?: BrowserLogin | undefined;
}

/** A client certificate that names the caller, with the principal built from it. */
export interface CertifiedCaller {
  readonly certificate: CertificateIdentity;
  readonly principal: Principal;
}

/**
 * Methods never allowed through: CONNECT would turn the proxy into a tunnel, and TRACE echoes
 * the request headers (credentials included) back to the caller.
 */
export const kRefusedMethods: ReadonlySet<string> = new Set(['CONNECT', 'TRACE']);

/** The header carrying the proxy-signed internal JWT (in the proxy's reserved namespace). */
const kInternalJwtHeader = 'x-portcullis-jwt';

/**
 * The client certificate that names the caller: the mTLS connection's, or, from a peer in
 * `forwardedCertProxies`, the one its X-Forwarded-Client-Cert describes (on the mTLS listener
 * it replaces the connection's own, which is that proxy's). From any other peer the header is
 * ignored. Returns the code that refuses the request when the connection's certificate cannot
 * be used or the header cannot be read: IAM_AUTHN_CERTIFICATE_INVALID,
 * IAM_AUTHN_CERTIFICATE_AMBIGUOUS, IAM_AUTHN_CERTIFICATE_EXPIRED, IAM_AUTHN_FORWARDED_CERT_INVALID.
 */
export function certifiedCaller(peer: PeerCertificate | undefined, remoteAddress: string,
  headers: readonly string[], forwardedCertProxies: TrustedProxies,
  forwardedCerts: ForwardedCertificates): CertifiedCaller | undefined | ErrorCode {
  if (peer !== undefined && !peer.ok) return peer.code;
  let certified: CertifiedCaller | undefined = peer?.ok === true ? peer : undefined;
  if (forwardedCertProxies.has(remoteAddress)) {
    const xfcc = joinedValue(headers, 'x-forwarded-client-cert');
    if (xfcc !== undefined) {
      const forwarded = forwardedCerts.read(xfcc);
      if (!forwarded.ok) return forwarded.code;
      certified = forwarded;
    }
  }
  return certified;
}

/**
 * One routed request on its way to a decision, and where the outcome goes. Exactly one of
 * `allow` and `refuse` is called, once: at once, or after the verifier pool answered (then
 * only while `isLive()` holds, and outside the listener's handler: writes must be corked).
 */
export interface AccessCheck {
  readonly service: ServiceRuntime;
  /** Upper-case method. */
  readonly method: string;
  /** The path policy matches: the route's upstream path (after `stripPrefix`), no query. */
  readonly path: string;
  /** The request's headers, flat, names lower-case (policy and the credential read them). */
  readonly headers: readonly string[];
  /**
   * The client's address as policy `source` conditions see it (on the proxy listener the peer,
   * which is also what a browser session's transport check reads).
   */
  readonly sourceAddress: string;
  readonly certified: CertifiedCaller | undefined;
  /** Gets the principal, cache state, authn/authz timings, rule and bundle. */
  readonly record: AuditRecord;
  /** Allowed: `principal` undefined for an anonymous caller; the policy's obligation headers. */
  allow(principal: Principal | undefined, obligations: readonly string[]): void;
  /** Refused with `code` (401 codes: the caller adds its challenge). */
  refuse(code: ErrorCode): void;
  /** False once the request has ended or the client left: a late answer is dropped. */
  isLive(): boolean;
}

/**
 * Authenticates and authorizes `check`. A bearer token names the principal, with the client
 * certificate (if any) filled in so that policy can require both; without a token the
 * certificate is the credential, and a token that cannot be verified never falls back to it;
 * without either, a service in login mode takes the browser session. A revoked credential is
 * refused, cached or not (a revoked session is also ended). The policy then decides: an anonymous caller
 * whom credentials might let in is asked for them (IAM_AUTHN_REQUIRED), anyone else is refused
 * with the policy's code. Never throws; a failed verification refuses with IAM_SERVER_INTERNAL.
 */
export function decideAccess(deps: AccessDeps, check: AccessCheck): void {
  const { authenticator, revocations, policy, login } = deps;
  const { service, record, certified } = check;

  // Step 2: authorize. The deciding rule and bundle go into the audit record.
  const authorize = (principal: Principal): void => {
    const authzStartMs = performance.now();
    const decision = policy.decide({
      service: service.name, method: check.method, path: check.path, headers: check.headers,
      sourceAddress: check.sourceAddress, nowMs: Date.now(), principal,
    });
    record.authzUs = Math.round((performance.now() - authzStartMs) * 1000);
    record.rule = decision.ruleId;
    record.bundleVersion = decision.bundleVersion === 0 ? null : String(decision.bundleVersion);
    record.bundleDigest = decision.bundleDigest === '' ? null : decision.bundleDigest;
    if (decision.allow) {
      return check.allow(principal.kind === 'anonymous' ? undefined : principal,
        decision.obligations);
    }
    if (principal.kind === 'anonymous' && decision.credentialsMayHelp) {
      return check.refuse('IAM_AUTHN_REQUIRED');
    }
    check.refuse(decision.code ?? 'IAM_AUTHZ_DENIED');
  };
  if (service.access === 'public') return authorize(kAnonymous);

  // Step 1: authenticate. A cache hit answers at once; a miss waits for the verifier pool.
  const authorization = singleHeaderValue(check.headers, 'authorization');
  if (authorization === null) return check.refuse('IAM_AUTHN_TOKEN_MALFORMED');
  const accept = (principal: Principal): void => {
    record.principal = principal;
    if (revocations.match(principal) !== undefined) return check.refuse('IAM_AUTHN_REVOKED');
    authorize(principal);
  };
  if (certified !== undefined && (authorization === undefined || authenticator === undefined)) {
    if (authorization !== undefined && isBearerCredential(authorization)) {
      return check.refuse('IAM_AUTHN_ISSUER_UNKNOWN');
    }
    return accept(certified.principal);
  }
  // Step 1a: without a token, a service in login mode takes the browser session, if live.
  if (authorization === undefined && service.login && login !== undefined) {
    const sessionStartMs = performance.now();
    const fromSession = (session: Session | undefined): void => {
      record.authnUs = Math.round((performance.now() - sessionStartMs) * 1000);
      if (session === undefined) {
        return service.access === 'authenticated' ? check.refuse('IAM_AUTHN_REQUIRED')
          : authorize(kAnonymous);
      }
      if (revocations.match(session.principal) !== undefined) login.end(session);
      accept(session.principal);
    };
    const found = login.sessionOf(check.headers, check.sourceAddress, Date.now());
    if (!(found instanceof Promise)) return fromSession(found);
    return void found.then((session) => {
      if (check.isLive()) fromSession(session);
    }, () => check.refuse('IAM_LOGIN_SESSION_STORE_UNAVAILABLE'));
  }
  // Policy mode: no credential means anonymous; a credential nobody can verify is refused.
  if (service.access === undefined && authorization === undefined) return authorize(kAnonymous);
  if (authenticator === undefined) return check.refuse('IAM_AUTHN_REQUIRED');
  const authnStartMs = performance.now();
  const authenticated = (result: AuthnResult, isSync: boolean): void => {
    record.authnUs = Math.round((performance.now() - authnStartMs) * 1000);
    if (!result.ok) {
      // Another scheme (Basic, ...) is no credential to the proxy: the certificate still is.
      if (result.code === 'IAM_AUTHN_REQUIRED' && certified !== undefined) {
        return accept(certified.principal);
      }
      record.cacheHit = isSync ? null : false;
      return check.refuse(result.code);
    }
    record.cacheHit = result.isCacheHit;
    accept(withCertificate(result.principal, certified?.certificate));
  };
  const outcome = authenticator.authenticate(authorization);
  if (!(outcome instanceof Promise)) return authenticated(outcome, true);
  outcome.then((result) => {
    if (check.isLive()) authenticated(result, false);
  }, () => check.refuse('IAM_SERVER_INTERNAL'));
}

/**
 * What an allowed request tells its service about the caller, as a flat `[name, value, ...]`
 * list: the principal's identity headers (per the service's `identity` plan), the proxy-signed
 * internal JWT, then the policy's obligation headers. Undefined when there is nothing to send;
 * null when a claim value cannot be sent safely (refuse with IAM_AUTHN_CLAIM_INVALID). The
 * array may be shared between requests (identity-headers.ts): read it, never change it.
 */
export function callerHeaders(service: ServiceRuntime, principal: Principal | undefined,
  obligations: readonly string[], internalJwt: InternalJwtSigner | undefined,
  requestId: string): readonly string[] | undefined | null {
  let identity: readonly string[] | undefined;
  if (principal !== undefined && service.identity.headers) {
    identity = identityHeaders(principal, service.identity.plan);
    if (identity === undefined) return null;
  }
  if (principal !== undefined && service.identity.internalJwt && internalJwt !== undefined) {
    const jwt = internalJwt.sign(principal, service.name, requestId,
      Math.floor(Date.now() / 1000));
    identity = [...(identity ?? []), kInternalJwtHeader, jwt];
  }
  if (obligations.length > 0) identity = [...(identity ?? []), ...obligations];
  return identity;
}
