/**
 * The first look at a bearer token, on the main thread and before any cryptography: size caps,
 * compact-JWS shape, a bounded parse of the protected header, and the unverified `iss` used only to
 * pick which issuer's keys and rules apply. Nothing read here is trusted: the signature is checked
 * later in the worker pool, and the claims after that by claims-check.ts.
 */
import type { ErrorCode } from '../errors/index.js';

/** Size caps applied before any parsing. Both are in bytes of the compact serialization. */
export interface TokenLimits {
  /** Largest accepted token, all three segments and dots. */
  readonly maxTokenBytes: number;
  /** Largest accepted protected header after base64url decoding. */
  readonly maxHeaderBytes: number;
}

/** The protected-header members later steps need; all other members are ignored. */
export interface TokenHeader {
  readonly alg: string;
  readonly kid?: string;
  readonly typ?: string;
  readonly crit?: string[];
}

/**
 * The outcome of `inspectToken`. On success, `issuer` is the payload's `iss` when it is a string,
 * read without verification and good only for choosing an issuer configuration.
 */
export type TokenShape =
  | { readonly ok: true; readonly header: TokenHeader; readonly issuer: string | undefined }
  | { readonly ok: false; readonly code: ErrorCode };

/**
 * Header parameters we understand when listed in `crit` (RFC 7515 4.1.11). None today, so any
 * `crit` rejects; `b64` (RFC 7797) is deliberately absent because unencoded payloads are refused.
 */
const kUnderstoodCrit: ReadonlySet<string> = new Set<string>();

// Base64url alphabet without padding (RFC 7515 2); a length of 4n+1 can never decode.
const kBase64Url = /^[A-Za-z0-9_-]*$/;

function isBase64Url(segment: string): boolean {
  return segment.length % 4 !== 1 && kBase64Url.test(segment);
}

function parseObject(segment: string): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  return value as Record<string, unknown>;
}

function checkCrit(crit: unknown): ErrorCode | undefined {
  // RFC 7515 4.1.11: when present, crit is a non-empty array of strings.
  if (!Array.isArray(crit) || crit.length === 0) return 'IAM_AUTHN_TOKEN_MALFORMED';
  for (const name of crit) {
    if (typeof name !== 'string' || name.length === 0) return 'IAM_AUTHN_TOKEN_MALFORMED';
    if (!kUnderstoodCrit.has(name)) return 'IAM_AUTHN_CRIT_UNSUPPORTED';
  }
  return undefined;
}

function fail(code: ErrorCode): TokenShape {
  return { ok: false, code };
}

/**
 * Checks a token's size and shape and reads its header and unverified issuer.
 * The token string is only read. Never throws; rejections are returned as codes:
 * IAM_AUTHN_TOKEN_TOO_LARGE (token or header over its cap), IAM_AUTHN_TOKEN_MALFORMED (not three
 * base64url segments, empty signature, JWE, header or payload not a JSON object, `enc`, `zip`,
 * unencoded payload, wrongly typed members), IAM_AUTHN_ALG_NOT_ALLOWED (`alg` missing or `none`),
 * IAM_AUTHN_CRIT_UNSUPPORTED (`crit` names anything). Headers `jku`, `x5u`, `jwk` and `x5c` are
 * ignored: keys come only from configured key sets.
 */
export function inspectToken(token: string, limits: TokenLimits): TokenShape {
  // 1. Size caps before anything else. Base64url is ASCII, so UTF-16 length equals byte length
  // for every token that can pass; longer non-ASCII input fails the alphabet check below.
  if (token.length > limits.maxTokenBytes) return fail('IAM_AUTHN_TOKEN_TOO_LARGE');

  // 2. Exactly three segments. Five is a JWE, which a bearer token must not be.
  const dot1 = token.indexOf('.');
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
  if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) return fail('IAM_AUTHN_TOKEN_MALFORMED');
  const headerPart = token.slice(0, dot1);
  const payloadPart = token.slice(dot1 + 1, dot2);
  const signaturePart = token.slice(dot2 + 1);

  // 3. Every segment non-empty base64url; an empty signature is an unsecured JWS.
  if (headerPart.length === 0 || payloadPart.length === 0 || signaturePart.length === 0) {
    return fail('IAM_AUTHN_TOKEN_MALFORMED');
  }
  if (!isBase64Url(headerPart) || !isBase64Url(payloadPart) || !isBase64Url(signaturePart)) {
    return fail('IAM_AUTHN_TOKEN_MALFORMED');
  }

  // 4. Bounded header parse: the decoded size is known from the encoded length.
  if (Math.floor((headerPart.length * 3) / 4) > limits.maxHeaderBytes) {
    return fail('IAM_AUTHN_TOKEN_TOO_LARGE');
  }
  const header = parseObject(headerPart);
  if (header === undefined) return fail('IAM_AUTHN_TOKEN_MALFORMED');

  // 5. The algorithm must be named, and never `none` (RFC 7518 3.6), in any spelling.
  const alg = header.alg;
  if (alg === undefined || alg === null) return fail('IAM_AUTHN_ALG_NOT_ALLOWED');
  if (typeof alg !== 'string') return fail('IAM_AUTHN_TOKEN_MALFORMED');
  if (alg.length === 0 || alg.toLowerCase() === 'none') return fail('IAM_AUTHN_ALG_NOT_ALLOWED');

  // 6. Critical extensions first: a crit we do not understand must reject (RFC 7515 4.1.11).
  if (header.crit !== undefined) {
    const critCode = checkCrit(header.crit);
    if (critCode !== undefined) return fail(critCode);
  }

  // 7. Encryption, compression and unencoded payloads (RFC 7797) are not bearer JWS features.
  if (header.enc !== undefined || header.zip !== undefined) {
    return fail('IAM_AUTHN_TOKEN_MALFORMED');
  }
  if (header.b64 !== undefined && header.b64 !== true) return fail('IAM_AUTHN_TOKEN_MALFORMED');

  // 8. Members later steps read must have the right type when present.
  const { kid, typ } = header;
  if (kid !== undefined && typeof kid !== 'string') return fail('IAM_AUTHN_TOKEN_MALFORMED');
  if (typ !== undefined && typeof typ !== 'string') return fail('IAM_AUTHN_TOKEN_MALFORMED');

  // 9. The payload must be a JSON object; `iss` is read only to choose the issuer.
  const payload = parseObject(payloadPart);
  if (payload === undefined) return fail('IAM_AUTHN_TOKEN_MALFORMED');
  const issuer = typeof payload.iss === 'string' ? payload.iss : undefined;

  const shaped: { alg: string; kid?: string; typ?: string } = { alg };
  if (kid !== undefined) shaped.kid = kid;
  if (typ !== undefined) shaped.typ = typ;
  return { ok: true, header: shaped, issuer };
}
