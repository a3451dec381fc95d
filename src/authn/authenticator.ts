/**
 * Turns an `Authorization` header into a principal, or a code.
 *
 * Steps, in order (the first failing one decides the code):
 * 1. extract the bearer token (RFC 6750 section 2.1);
 * 2. inspect its shape and size before any crypto (token-shape.ts);
 * 3. pick the issuer configuration by the unverified `iss`;
 * 4. the pool verifies the signature (concurrent requests with the same token share one
 *    verification), and an unknown `kid` triggers at most one rate-limited key refetch;
 * 5. claim checks (iss, aud, exp, nbf, iat, typ, required claims) on every request, hit or miss.
 * Between 1 and 2, the verified-token cache (keyed by the whole token, bound to the issuer's
 * key-set version) lets a token seen before skip steps 2-4.
 *
 * A cache hit answers synchronously; only a miss returns a promise. Never throws for bad input.
 */
import type { ErrorCode } from '../errors/index.js';
import { checkClaims, type ClaimRules } from './claims-check.js';
import type { IssuerKeySet } from './key-set.js';
import { principalFromClaims, type Principal, type PrincipalRules } from './principal.js';
import type { VerifiedTokenCache } from './token-cache.js';
import { inspectToken, type TokenHeader, type TokenLimits } from './token-shape.js';
import type { InlineVerifier } from './inline-verifier.js';
import type { VerifyResult } from './verifier-pool.js';
import type { IntrospectionResult, Introspector } from './introspection.js';

/**
 * An issuer's keys as the authenticator sees them: the current key set and a way to ask for a
 * rate-limited refetch. A `JwksSource` on the main thread; in a serving thread, a replica that
 * the main thread keeps up to date (src/threads/).
 */
export interface KeySetView {
  /** The key set in force, or undefined before the first load. */
  current(): IssuerKeySet | undefined;
  /** Asks for one rate-limited refetch because `kid` is unknown; resolves whether it is now. */
  refreshForUnknownKid(kid: string): Promise<boolean>;
}

/**
 * Where signatures are checked: the Piscina pool on the main thread, or, in a serving thread, a
 * relay to that pool. Same contract as `VerifierPool.verify`: never rejects.
 */
export interface SignatureVerifier {
  verify(token: string, issuer: string, algorithms: readonly string[]): Promise<VerifyResult>;
}

/** One configured issuer as the authenticator uses it. */
export interface IssuerRuntime {
  readonly rules: ClaimRules;
  readonly algorithms: readonly string[];
  /** How its claims become groups and attributes. */
  readonly principal: PrincipalRules;
  /** Undefined for an issuer whose tokens are only introspected. */
  readonly source: KeySetView | undefined;
}

/** The one issuer asked about opaque tokens (they name no issuer themselves). */
export interface OpaqueTokenIssuer {
  readonly issuer: string;
  readonly introspector: Introspector;
}

/** The cache version of introspected entries: they depend on no key set. */
const kIntrospected = -1;

/** The outcome: a principal (with whether the cache answered), or the code that refused. */
export type AuthnResult =
  | { readonly ok: true; readonly principal: Principal; readonly isCacheHit: boolean }
  | { readonly ok: false; readonly code: ErrorCode };

/** The outcome of `verifySigned`: verified claims and header, or the code that refused. */
export type SignedResult =
  | { readonly ok: true; readonly claims: Record<string, unknown>; readonly header: TokenHeader;
    readonly kid: string | undefined }
  | { readonly ok: false; readonly code: ErrorCode };

/** What a cache entry keeps besides the verification: derived once per token. */
export interface CachedDerivation {
  readonly header: TokenHeader;
  readonly principal: Principal;
}

/** Dependencies of an Authenticator; `nowSec` is injectable for tests with a frozen clock. */
export interface AuthenticatorOptions {
  readonly issuers: ReadonlyMap<string, IssuerRuntime>;
  readonly pool: SignatureVerifier;
  /** Verifies the algorithms in `inlineAlgorithms` on the main thread instead of the pool. */
  readonly inline?: { readonly verifier: InlineVerifier; readonly algorithms: ReadonlySet<string> };
  readonly cache: VerifiedTokenCache<CachedDerivation>;
  readonly limits: TokenLimits;
  readonly opaque?: OpaqueTokenIssuer;
  readonly nowSec?: () => number;
}

// RFC 6750 section 2.1: b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="
const kBearer = /^[Bb][Ee][Aa][Rr][Ee][Rr] +([A-Za-z0-9\-._~+/]+=*) *$/;
const kRequired: AuthnResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_REQUIRED' });
const kBearerScheme = /^bearer\b/i;

/** Whether an `Authorization` value uses the Bearer scheme (RFC 6750), well-formed or not. */
export function isBearerCredential(authorization: string): boolean {
  return kBearerScheme.test(authorization);
}

/** Authenticates bearer JWTs against the configured issuers. One per proxy. */
export class Authenticator {
  readonly #opts: AuthenticatorOptions;
  readonly #nowSec: () => number;
  readonly #inFlight = new Map<string, Promise<VerifyResult>>();
  readonly #introspecting = new Map<string, Promise<IntrospectionResult>>();

  constructor(opts: AuthenticatorOptions) {
    this.#opts = opts;
    this.#nowSec = opts.nowSec ?? (() => Math.floor(Date.now() / 1000));
  }

  /**
   * `authorization` is the raw header value (undefined when absent). Returns a result at once
   * for refusals and cache hits, a promise otherwise.
   */
  authenticate(authorization: string | undefined): AuthnResult | Promise<AuthnResult> {
    if (authorization === undefined) return kRequired;
    const now = this.#nowSec();

    // Fast path: "Bearer <token>" whose exact token was verified before, under the issuer's
    // current keys, skips syntax, shape and signature work (the cached string passed them);
    // its claims are still checked on every request.
    const plain = authorization.startsWith('Bearer ') ? authorization.slice(7) : undefined;
    if (plain !== undefined) {
      const hit = this.#fromCache(plain, now);
      if (hit !== undefined) return hit;
    }

    // Step 1: the bearer token; other schemes are no credential for this proxy.
    const match = kBearer.exec(authorization);
    if (match === null) {
      return isBearerCredential(authorization) ? fail('IAM_AUTHN_TOKEN_MALFORMED') : kRequired;
    }
    const token = match[1] as string;
    if (token !== plain) {
      // An unusual spelling ("bearer", extra spaces) of a token that may still be cached.
      const hit = this.#fromCache(token, now);
      if (hit !== undefined) return hit;
    }

    // Step 2': an opaque token (no JWS dots) goes to the introspecting issuer, if there is one.
    const opaque = this.#opts.opaque;
    if (opaque !== undefined && !token.includes('.')) {
      if (token.length > this.#opts.limits.maxTokenBytes) return fail('IAM_AUTHN_TOKEN_TOO_LARGE');
      if (opaque.introspector.isKnownInactive(token, Date.now())) {
        return fail('IAM_AUTHN_TOKEN_INACTIVE');
      }
      return this.#introspect(token, opaque);
    }

    // Step 2: shape and size before any crypto.
    const shape = inspectToken(token, this.#opts.limits);
    if (!shape.ok) return fail(shape.code);

    // Step 3: the issuer, chosen by the unverified iss.
    const issuerName = shape.issuer;
    const issuer = issuerName === undefined ? undefined : this.#opts.issuers.get(issuerName);
    if (issuer === undefined || issuerName === undefined) return fail('IAM_AUTHN_ISSUER_UNKNOWN');
    const source = issuer.source;
    const keySet = source?.current();
    if (source === undefined || keySet === undefined) return fail('IAM_AUTHN_KEYS_UNAVAILABLE');

    // Step 4: the pool (shared by concurrent requests with this token), then the cache.
    return this.#verify(token, issuerName, issuer, shape.header).then((result) => {
      if (!result.ok) return fail(result.code);
      const at = this.#nowSec();
      const version = source.current()?.version ?? keySet.version;
      const accepted = this.#accept(issuerName, issuer, shape.header, result.claims, result.kid,
        at);
      if (accepted.ok) {
        this.#opts.cache.set(token, issuerName, version, result.kid, result.claims,
          { header: shape.header, principal: accepted.principal }, at);
      }
      return accepted;
    }, () => fail('IAM_AUTHN_VERIFIER_FAILED'));
  }

  /**
   * Verifies the signature of a JWS that `issuer` signed and that no request presents as a
   * bearer token (an ID token from a browser login, src/login/): the same shape checks, keys
   * and pool as `authenticate`, one unknown-kid refetch, but no cache and no claim checks (the
   * caller checks claims with its own rules). Resolves the claims and header, or the code of the
   * first failing step (shape, `IAM_AUTHN_ISSUER_UNKNOWN` when the token names another issuer,
   * keys, signature). Never rejects.
   */
  async verifySigned(token: string, issuer: string): Promise<SignedResult> {
    const shape = inspectToken(token, this.#opts.limits);
    if (!shape.ok) return { ok: false, code: shape.code };
    const runtime = this.#opts.issuers.get(issuer);
    if (shape.issuer !== issuer || runtime === undefined) {
      return { ok: false, code: 'IAM_AUTHN_ISSUER_UNKNOWN' };
    }
    if (runtime.source?.current() === undefined) {
      return { ok: false, code: 'IAM_AUTHN_KEYS_UNAVAILABLE' };
    }
    try {
      const result = await this.#verifyOnce(token, issuer, runtime, shape.header);
      if (!result.ok) return { ok: false, code: result.code };
      return { ok: true, claims: result.claims, header: shape.header, kid: result.kid };
    } catch {
      return { ok: false, code: 'IAM_AUTHN_VERIFIER_FAILED' };
    }
  }

  /**
   * The cached answer for `token`, or undefined on a miss (unknown, expired, or verified under
   * keys the issuer no longer uses). Claims are checked here, on every hit.
   */
  #fromCache(token: string, now: number): AuthnResult | undefined {
    const cached = this.#opts.cache.peek(token, now);
    if (cached === undefined) return undefined;
    const known = this.#opts.issuers.get(cached.issuer);
    const current = cached.version === kIntrospected ? kIntrospected
      : known?.source?.current()?.version;
    if (known === undefined || current !== cached.version) return undefined;
    const rules = cached.version === kIntrospected ? opaqueRules(known.rules, cached.claims)
      : known.rules;
    const checked = checkClaims(cached.claims, rules, cached.extra.header, now);
    if (!checked.ok) return fail(checked.code);
    return { ok: true, principal: cached.extra.principal, isCacheHit: true };
  }

  /** Signature check, shared by concurrent requests with the same token. */
  #verify(token: string, issuerName: string, issuer: IssuerRuntime, header: TokenHeader):
    Promise<VerifyResult> {
    let pending = this.#inFlight.get(token);
    if (pending === undefined) {
      pending = this.#verifyOnce(token, issuerName, issuer, header).finally(() => {
        this.#inFlight.delete(token);
      });
      this.#inFlight.set(token, pending);
    }
    return pending;
  }

  async #verifyOnce(token: string, issuerName: string, issuer: IssuerRuntime,
    header: TokenHeader): Promise<VerifyResult> {
    const inline = this.#opts.inline;
    const verifier = inline !== undefined && inline.algorithms.has(header.alg)
      ? inline.verifier : this.#opts.pool;
    const first = await verifier.verify(token, issuerName, issuer.algorithms);
    if (first.ok || first.code !== 'IAM_AUTHN_KEY_UNKNOWN' || header.kid === undefined) {
      return first;
    }
    // An unknown kid may be a fresh rotation: one rate-limited refetch, then one more try.
    const isKnownNow = await issuer.source?.refreshForUnknownKid(header.kid) ?? false;
    if (!isKnownNow) return first;
    return verifier.verify(token, issuerName, issuer.algorithms);
  }

  /** RFC 7662 path: ask (shared by concurrent requests), check claims, cache an active answer. */
  async #introspect(token: string, opaque: OpaqueTokenIssuer): Promise<AuthnResult> {
    let pending = this.#introspecting.get(token);
    if (pending === undefined) {
      pending = opaque.introspector.introspect(token).finally(() => {
        this.#introspecting.delete(token);
      });
      this.#introspecting.set(token, pending);
    }
    const result = await pending;
    if (!result.ok) return fail(result.code);
    if (!result.active) return fail('IAM_AUTHN_TOKEN_INACTIVE');

    const issuer = this.#opts.issuers.get(opaque.issuer);
    if (issuer === undefined) return fail('IAM_AUTHN_ISSUER_UNKNOWN');
    // `iss` is optional in an introspection answer: the endpoint we asked vouches for it.
    const claims = { iss: opaque.issuer, ...result.claims };
    const at = this.#nowSec();
    const checked = checkClaims(claims, opaqueRules(issuer.rules, claims), kOpaqueHeader, at);
    if (!checked.ok) return fail(checked.code);
    const principal = principalFromClaims(opaque.issuer, claims, undefined, 'opaque',
      issuer.principal);
    this.#opts.cache.set(token, opaque.issuer, kIntrospected, undefined, claims,
      { header: kOpaqueHeader, principal }, at);
    return { ok: true, principal, isCacheHit: false };
  }

  #accept(issuerName: string, issuer: IssuerRuntime, header: TokenHeader,
    claims: Record<string, unknown>, kid: string | undefined, nowSec: number):
    { readonly ok: true; readonly principal: Principal; readonly isCacheHit: false }
    | { readonly ok: false; readonly code: ErrorCode } {
    // Step 5: claims, on every request.
    const checked = checkClaims(claims, issuer.rules, header, nowSec);
    if (!checked.ok) return { ok: false, code: checked.code };
    const principal = principalFromClaims(issuerName, claims, kid, 'jwt', issuer.principal);
    return { ok: true, principal, isCacheHit: false };
  }
}

function fail(code: ErrorCode): AuthnResult {
  return { ok: false, code };
}

/** The header stand-in of an opaque token (no JOSE header exists). */
const kOpaqueHeader: TokenHeader = Object.freeze({ alg: 'introspected' });

/**
 * Claim rules for an introspection answer: no `typ` (there is no JOSE header), and the audience
 * check only when the answer carries `aud` (RFC 7662 makes it optional; README limitation).
 */
function opaqueRules(rules: ClaimRules, claims: Record<string, unknown>): ClaimRules {
  const { typ: _typ, ...rest } = rules;
  return claims.aud === undefined ? { ...rest, audiences: [] } : rest;
}
