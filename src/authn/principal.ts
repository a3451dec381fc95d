/**
 * The principal: who is calling, in one shape for every kind of credential.
 *
 * Built once per request from verified claims (or anonymous when the route needs no credential).
 * Holds no token, key or signature, and only the claims later stages need, so it can be logged
 * and passed on without redaction.
 */

/** Who a request is from. Immutable; safe to share between requests with the same token. */
export interface Principal {
  /** Kind of credential: `jwt` bearer token, `opaque` (introspected) token, or `anonymous`. */
  readonly kind: 'jwt' | 'opaque' | 'anonymous';
  /** `sub` claim, when the token carries one. */
  readonly subject: string | undefined;
  /** The configured issuer that vouched for the token. */
  readonly issuer: string | undefined;
  /** OAuth client: `client_id`, else `azp`. */
  readonly clientId: string | undefined;
  /** Scopes from `scope` (space-separated, RFC 8693 / RFC 9068) or an `scp` array. */
  readonly scopes: readonly string[];
  /** `exp` in seconds since the epoch, when present. */
  readonly expiresAtSec: number | undefined;
  /** Key id that verified the token (for the audit record; never the key itself). */
  readonly keyId: string | undefined;
}

/** The principal of a request that presented no credential. */
export const kAnonymous: Principal = Object.freeze({
  kind: 'anonymous',
  subject: undefined,
  issuer: undefined,
  clientId: undefined,
  scopes: Object.freeze([]) as readonly string[],
  expiresAtSec: undefined,
  keyId: undefined,
});

function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' ? value : undefined;
}

function scopesOf(claims: Record<string, unknown>): readonly string[] {
  const scope = claims.scope;
  if (typeof scope === 'string') return Object.freeze(scope.split(' ').filter((s) => s !== ''));
  const scp = claims.scp;
  if (Array.isArray(scp)) return Object.freeze(scp.filter((s): s is string => typeof s === 'string'));
  return kAnonymous.scopes;
}

/** The principal of a verified JWT. `claims` must already have passed `checkClaims`. */
export function principalFromClaims(issuer: string, claims: Record<string, unknown>,
  keyId: string | undefined, kind: 'jwt' | 'opaque' = 'jwt'): Principal {
  const exp = claims.exp;
  return Object.freeze({
    kind,
    subject: stringClaim(claims, 'sub'),
    issuer,
    clientId: stringClaim(claims, 'client_id') ?? stringClaim(claims, 'azp'),
    scopes: scopesOf(claims),
    expiresAtSec: typeof exp === 'number' ? exp : undefined,
    keyId,
  });
}
