/**
 * The principal: who is calling, in one shape for every kind of credential.
 *
 * Built once per credential from verified data (token claims, an introspection answer, a client
 * certificate), or anonymous when the request carries none. Holds no token, key or signature,
 * and only the claims later stages need: policy reads `groups` and `attributes`, audit reads the
 * ids. Every array and record is frozen, so one principal can serve every request that
 * presents the same credential.
 */
import { claimAt } from './claim-path.js';
import { verifiedEmail } from './email-address.js';

/**
 * What a client certificate says about its holder: one the mTLS listener verified, or one a
 * trusted front proxy described in X-Forwarded-Client-Cert (`isForwarded`).
 */
export interface CertificateIdentity {
  /**
   * Subject distinguished name: RFC 4514 string form from the mTLS listener; as the proxy wrote
   * it (Envoy: RFC 2253) when forwarded. '' when the certificate has none or it was not sent.
   */
  readonly subject: string;
  /** Issuer distinguished name, RFC 4514 string form; '' when unknown (forwarded). */
  readonly issuer: string;
  /** Subject alternative names by kind. */
  readonly dns: readonly string[];
  readonly uris: readonly string[];
  readonly emails: readonly string[];
  /** The one `spiffe://` URI SAN, when the certificate carries exactly one. */
  readonly spiffeId: string | undefined;
  /** SHA-256 of the DER certificate, lower-case hex without separators. */
  readonly fingerprint256: string;
  /** `notAfter` in seconds since the epoch; undefined when forwarded (XFCC does not carry it). */
  readonly notAfterSec: number | undefined;
  /** Whether a trusted front proxy checked the certificate (X-Forwarded-Client-Cert), not us. */
  readonly isForwarded: boolean;
}

/** Kinds of credential a principal can come from. */
export type CredentialKind = 'jwt' | 'opaque' | 'mtls' | 'session' | 'anonymous';

/** Who a request is from. Immutable; safe to share between requests with the same credential. */
export interface Principal {
  /**
   * Kind of credential: bearer JWT, `opaque` (introspected) token, client certificate, a
   * browser `session` from an OIDC login (src/login/), none.
   */
  readonly kind: CredentialKind;
  /** `sub` claim; for a certificate, its SPIFFE ID, else its subject DN. */
  readonly subject: string | undefined;
  /** The configured issuer that vouched for the credential (a certificate: its issuer DN). */
  readonly issuer: string | undefined;
  /** OAuth client: `client_id`, else `azp`. */
  readonly clientId: string | undefined;
  /** Scopes from `scope` (space-separated, RFC 8693 / RFC 9068) or an `scp` array. */
  readonly scopes: readonly string[];
  /** Group and role names from the issuer's `groupsClaims` paths, deduplicated, in order. */
  readonly groups: readonly string[];
  /**
   * Selected claims as strings: the token's top-level string, number and boolean claims (at
   * most `kMaxAttributes`, values up to `kMaxAttributeLength`), then the issuer's configured
   * `attributeClaims`, which win on a name clash. Policy `claims.<name>` reads these. `email`
   * is the strictly parsed address (email-address.ts) and `email_domain` its ASCII domain,
   * both only when `email_verified` is true; an unverified or ambiguous `email` is left out.
   */
  readonly attributes: Readonly<Record<string, string>>;
  /** `sid`: the session the token belongs to (OIDC front-/back-channel logout), if any. */
  readonly sessionId: string | undefined;
  /** `jti`: the token's own id, if any. */
  readonly tokenId: string | undefined;
  /** `exp` in seconds since the epoch, when present (a certificate: its `notAfter`). */
  readonly expiresAtSec: number | undefined;
  /** Key id that verified the token (for the audit record; never the key itself). */
  readonly keyId: string | undefined;
  /** The client certificate, for `mtls` principals only. */
  readonly certificate: CertificateIdentity | undefined;
}

/** How an issuer's claims become groups and attributes (config `authn.issuers[]`). */
export interface PrincipalRules {
  /** Claim paths holding group or role names: a string array or one space-separated string. */
  readonly groupsClaims: readonly string[];
  /** Attribute name -> claim path, for claims that are nested or named unlike the attribute. */
  readonly attributeClaims: Readonly<Record<string, string>>;
}

/** Rules with no groups claims and no mapped attributes (top-level scalars still count). */
export const kNoPrincipalRules: PrincipalRules = Object.freeze({
  groupsClaims: Object.freeze([]) as readonly string[],
  attributeClaims: Object.freeze({}),
});

/** Most attributes taken from top-level claims; the rest are left out (configured ones count). */
export const kMaxAttributes = 32;
/** Longest attribute value kept; a longer claim is left out, never cut (a cut id is another). */
export const kMaxAttributeLength = 256;
/** Most group names kept from all groups claims together. */
export const kMaxGroups = 256;

const kEmpty = Object.freeze([]) as readonly string[];

/** The principal of a request that presented no credential. */
export const kAnonymous: Principal = Object.freeze({
  kind: 'anonymous',
  subject: undefined,
  issuer: undefined,
  clientId: undefined,
  scopes: kEmpty,
  groups: kEmpty,
  attributes: Object.freeze({}),
  sessionId: undefined,
  tokenId: undefined,
  expiresAtSec: undefined,
  keyId: undefined,
  certificate: undefined,
});

/**
 * Claims that have a field of their own, or that only time checks use, and the e-mail claims
 * derived below: never attributes by default (an issuer can still map one explicitly).
 */
const kNotAttributes: ReadonlySet<string> = new Set([
  'iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti', 'sid', 'scope', 'scp', 'client_id', 'azp',
  'auth_time', 'nonce', 'at_hash', 'c_hash', 'cnf', 'active', 'token_type', 'email',
  'email_domain',
]);

function stringClaim(claims: Record<string, unknown>, name: string): string | undefined {
  const value = claims[name];
  return typeof value === 'string' ? value : undefined;
}

function scopesOf(claims: Record<string, unknown>): readonly string[] {
  const scope = claims.scope;
  if (typeof scope === 'string') return Object.freeze(scope.split(' ').filter((s) => s !== ''));
  const scp = claims.scp;
  if (!Array.isArray(scp)) return kEmpty;
  return Object.freeze(scp.filter((s): s is string => typeof s === 'string'));
}

function groupsOf(claims: Record<string, unknown>, paths: readonly string[]): readonly string[] {
  if (paths.length === 0) return kEmpty;
  const seen = new Set<string>();
  for (const path of paths) {
    const value = claimAt(claims, path);
    const names = typeof value === 'string' ? value.split(' ')
      : Array.isArray(value) ? value : kEmpty;
    for (const name of names) {
      if (seen.size >= kMaxGroups) break;
      if (typeof name === 'string' && name !== '') seen.add(name);
    }
  }
  return seen.size === 0 ? kEmpty : Object.freeze([...seen]);
}

function scalarText(value: unknown): string | undefined {
  const text = typeof value === 'string' ? value
    : typeof value === 'number' && Number.isFinite(value) ? String(value)
      : typeof value === 'boolean' ? String(value) : undefined;
  return text !== undefined && text.length <= kMaxAttributeLength ? text : undefined;
}

function attributesOf(claims: Record<string, unknown>,
  mapped: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  // A null prototype: a claim named `__proto__` or `constructor` is just a name here.
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  let count = 0;
  for (const name of Object.keys(claims)) {
    if (count >= kMaxAttributes) break;
    if (kNotAttributes.has(name)) continue;
    const text = scalarText(claims[name]);
    if (text === undefined) continue;
    out[name] = text;
    count++;
  }
  // Only a verified address that parses one way only can be compared (threats.md, "Claim
  // parsing tricks"): policy checks `email_domain` instead of reading a raw string.
  const email = verifiedEmail(claims);
  if (email !== undefined && email.address.length <= kMaxAttributeLength) {
    out.email = email.address;
    out.email_domain = email.domain;
  }
  for (const name of Object.keys(mapped)) {
    const text = scalarText(claimAt(claims, mapped[name] as string));
    if (text === undefined) delete out[name];
    else out[name] = text;
  }
  return Object.freeze(out);
}

/**
 * The principal of a verified token. `claims` must already have passed `checkClaims`; `rules`
 * are the issuer's. The result is frozen and shares nothing mutable with `claims`.
 */
export function principalFromClaims(issuer: string, claims: Record<string, unknown>,
  keyId: string | undefined, kind: 'jwt' | 'opaque' | 'session' = 'jwt',
  rules: PrincipalRules = kNoPrincipalRules): Principal {
  const exp = claims.exp;
  return Object.freeze({
    kind,
    subject: stringClaim(claims, 'sub'),
    issuer,
    clientId: stringClaim(claims, 'client_id') ?? stringClaim(claims, 'azp'),
    scopes: scopesOf(claims),
    groups: groupsOf(claims, rules.groupsClaims),
    attributes: attributesOf(claims, rules.attributeClaims),
    sessionId: stringClaim(claims, 'sid'),
    tokenId: stringClaim(claims, 'jti'),
    expiresAtSec: typeof exp === 'number' ? exp : undefined,
    keyId,
    certificate: undefined,
  });
}

/**
 * The principal of a client certificate alone (kind `mtls`): its SPIFFE ID as subject when it
 * has one, else its subject DN; its issuer DN; its `notAfter` as expiry. `certificate` must come
 * from `checkedIdentity` (certificate-identity.ts). Frozen; build it once per connection.
 */
export function principalFromCertificate(certificate: CertificateIdentity): Principal {
  return Object.freeze({
    kind: 'mtls',
    subject: certificate.spiffeId ?? (certificate.subject === '' ? undefined : certificate.subject),
    issuer: certificate.issuer === '' ? undefined : certificate.issuer,
    clientId: undefined,
    scopes: kEmpty,
    groups: kEmpty,
    attributes: Object.freeze({}),
    sessionId: undefined,
    tokenId: undefined,
    expiresAtSec: certificate.notAfterSec,
    keyId: undefined,
    certificate,
  });
}

/**
 * `principal` (from a bearer token) with the connection's client certificate filled in, so that
 * policy can require both. Returns `principal` itself when there is no certificate.
 */
export function withCertificate(principal: Principal,
  certificate: CertificateIdentity | undefined): Principal {
  if (certificate === undefined || principal.certificate === certificate) return principal;
  return Object.freeze({ ...principal, certificate });
}
