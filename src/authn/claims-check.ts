/**
 * The registered-claim checks (RFC 7519 4.1) run on the main thread for every request, whether the
 * signature was just verified or came from the verified-token cache. Pure: the clock is a
 * parameter, so a cached entry is re-checked against the current time on each use.
 */
import type { ErrorCode } from '../errors/index.js';

/** One issuer's claim rules. Times are in seconds. */
export interface ClaimRules {
  /** The exact `iss` value required (compared code point for code point). */
  readonly issuer: string;
  /** Accepted audiences; when non-empty, `aud` must name at least one of them. */
  readonly audiences: readonly string[];
  /** Claims that must be present (any value but null). */
  readonly requiredClaims: readonly string[];
  /** Tolerance applied to `exp`, `nbf` and `iat`, in seconds. */
  readonly clockSkewSec: number;
  /** When set, tokens whose `iat` is older than this many seconds are refused. */
  readonly maxTokenAgeSec?: number;
  /** Whether `exp` must be present (the default configuration requires it). */
  readonly requireExp: boolean;
  /** When set, the `typ` header must name this media type (e.g. `at+jwt`). */
  readonly typ?: string;
}

/** The result of `checkClaims`: success, or the first failing check's code. */
export type ClaimsResult = { readonly ok: true } | { readonly ok: false; readonly code: ErrorCode };

const kOk: ClaimsResult = Object.freeze({ ok: true });

function fail(code: ErrorCode): ClaimsResult {
  return { ok: false, code };
}

/** A NumericDate (RFC 7519 2): a finite JSON number of seconds, fractions allowed. */
function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

/**
 * Normalizes a media type for comparison per RFC 7515 4.1.9: case-insensitive, and `application/`
 * may be omitted, so it is dropped from both sides before comparing (`JWT` = `application/jwt`).
 */
function mediaType(value: string): string {
  const lower = value.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

function audienceMatches(aud: unknown, audiences: readonly string[]): boolean | undefined {
  if (typeof aud === 'string') return audiences.includes(aud);
  if (!Array.isArray(aud)) return undefined;
  let matched = false;
  for (const entry of aud) {
    if (typeof entry !== 'string') return undefined;
    if (audiences.includes(entry)) matched = true;
  }
  return matched;
}

/**
 * Checks a verified token's claims and `typ` header against an issuer's rules at `nowSec`
 * (seconds since the epoch). Reads its arguments only. Codes, in the order checked:
 * IAM_AUTHN_TYPE_MISMATCH, IAM_AUTHN_CLAIM_INVALID (wrong `iss` or a mistyped or missing claim),
 * IAM_AUTHN_TOKEN_EXPIRED, IAM_AUTHN_TOKEN_NOT_YET_VALID, IAM_AUTHN_TOKEN_TOO_OLD,
 * IAM_AUTHN_AUDIENCE_MISMATCH.
 */
export function checkClaims(
  claims: Readonly<Record<string, unknown>>,
  rules: ClaimRules,
  header: { readonly typ?: string },
  nowSec: number,
): ClaimsResult {
  // 1. typ (RFC 7515 4.1.9, RFC 8725 3.11): explicit typing when the issuer asks for it.
  if (rules.typ !== undefined) {
    if (header.typ === undefined || mediaType(header.typ) !== mediaType(rules.typ)) {
      return fail('IAM_AUTHN_TYPE_MISMATCH');
    }
  }

  // 2. iss: exact match with the issuer whose keys verified the signature.
  if (claims.iss !== rules.issuer) return fail('IAM_AUTHN_CLAIM_INVALID');

  // 3. exp (RFC 7519 4.1.4): the token is invalid on and after exp, plus skew.
  const { exp, nbf, iat } = claims;
  if (exp === undefined) {
    if (rules.requireExp) return fail('IAM_AUTHN_CLAIM_INVALID');
  } else {
    if (!isNumericDate(exp)) return fail('IAM_AUTHN_CLAIM_INVALID');
    if (nowSec >= exp + rules.clockSkewSec) return fail('IAM_AUTHN_TOKEN_EXPIRED');
  }

  // 4. nbf (RFC 7519 4.1.5): not accepted before nbf, minus skew.
  if (nbf !== undefined) {
    if (!isNumericDate(nbf)) return fail('IAM_AUTHN_CLAIM_INVALID');
    if (nowSec < nbf - rules.clockSkewSec) return fail('IAM_AUTHN_TOKEN_NOT_YET_VALID');
  }

  // 5. iat (RFC 7519 4.1.6): numeric when present; required and bounded when a max age is set.
  if (iat !== undefined && !isNumericDate(iat)) return fail('IAM_AUTHN_CLAIM_INVALID');
  if (rules.maxTokenAgeSec !== undefined) {
    if (iat === undefined) return fail('IAM_AUTHN_CLAIM_INVALID');
    if (iat > nowSec + rules.clockSkewSec) return fail('IAM_AUTHN_TOKEN_NOT_YET_VALID');
    if (nowSec - iat > rules.maxTokenAgeSec + rules.clockSkewSec) {
      return fail('IAM_AUTHN_TOKEN_TOO_OLD');
    }
  }

  // 6. aud (RFC 7519 4.1.3): a string or an array of strings naming one of our audiences.
  if (rules.audiences.length > 0) {
    const matched = audienceMatches(claims.aud, rules.audiences);
    if (matched === undefined && claims.aud !== undefined) return fail('IAM_AUTHN_CLAIM_INVALID');
    if (matched !== true) return fail('IAM_AUTHN_AUDIENCE_MISMATCH');
  }

  // 7. Required claims: present and not null.
  for (const name of rules.requiredClaims) {
    if (claims[name] === undefined || claims[name] === null) return fail('IAM_AUTHN_CLAIM_INVALID');
  }
  return kOk;
}
