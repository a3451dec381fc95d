/**
 * ID token validation (OIDC Core section 3.1.3.7), for the token the IdP returns at the end of
 * a browser login. The signature is checked with the issuer's configured keys through the same
 * verifier as bearer tokens (`Authenticator.verifySigned`: shape and size caps, algorithm
 * allow-list, no key from the token), then, in order:
 *
 * 1. `iss` equals the login issuer, `aud` names this proxy's client id, `exp` is in the future,
 *    `iat` is present and recent (`kMaxIdTokenAgeSec`), all with the issuer's clock skew;
 * 2. `azp`, when present, is this client, and it must be present when `aud` names others too;
 * 3. `sub` is a non-empty string of at most 255 characters (section 2);
 * 4. `nonce` equals the one sealed in this browser's login cookie (constant-time).
 *
 * The token itself is dropped once this returns: it is never stored, logged or forwarded.
 */
import { type Authenticator, checkClaims } from '../authn/index.js';
import type { ErrorCode } from '../errors/index.js';
import { isSameSecret } from './login-state.js';

/** Oldest `iat` accepted: the token was just issued for this login. */
export const kMaxIdTokenAgeSec = 600;

/** What a login expects of its ID token. */
export interface IdTokenExpectations {
  readonly issuer: string;
  readonly clientId: string;
  readonly nonce: string;
  readonly clockSkewSec: number;
  readonly nowSec: number;
}

/** Verified claims and the key id that verified them, or the code that refused. */
export type IdTokenResult =
  | { readonly ok: true; readonly claims: Record<string, unknown>;
    readonly kid: string | undefined }
  | { readonly ok: false; readonly code: ErrorCode };

const kInvalid: IdTokenResult = Object.freeze({ ok: false, code: 'IAM_LOGIN_ID_TOKEN_INVALID' });

/**
 * Validates `idToken` (see the file comment). Codes: IAM_LOGIN_ID_TOKEN_INVALID (signature,
 * claims, azp, sub), IAM_LOGIN_NONCE_MISMATCH, or IAM_AUTHN_KEYS_UNAVAILABLE /
 * IAM_AUTHN_VERIFIER_OVERLOADED / IAM_AUTHN_VERIFIER_FAILED when the proxy could not check it.
 * Never rejects.
 */
export async function validateIdToken(verifier: Authenticator, idToken: string,
  expect: IdTokenExpectations): Promise<IdTokenResult> {
  const verified = await verifier.verifySigned(idToken, expect.issuer);
  if (!verified.ok) return isCannotCheck(verified.code) ? verified : kInvalid;
  const { claims } = verified;

  // 1. The registered claims, with the client as the only audience.
  const checked = checkClaims(claims, {
    issuer: expect.issuer, audiences: [expect.clientId], requiredClaims: ['sub', 'iat'],
    clockSkewSec: expect.clockSkewSec, requireExp: true, maxTokenAgeSec: kMaxIdTokenAgeSec,
  }, verified.header, expect.nowSec);
  if (!checked.ok) return kInvalid;

  // 2. The authorized party (section 3.1.3.7 steps 4 and 5).
  const { aud, azp } = claims;
  const hasOtherAudiences = Array.isArray(aud) && aud.some((a) => a !== expect.clientId);
  if (azp !== undefined && azp !== expect.clientId) return kInvalid;
  if (azp === undefined && hasOtherAudiences) return kInvalid;

  // 3. The subject.
  const { sub } = claims;
  if (typeof sub !== 'string' || sub === '' || sub.length > 255) return kInvalid;

  // 4. The nonce this browser's login sent.
  const { nonce } = claims;
  if (typeof nonce !== 'string' || !isSameSecret(nonce, expect.nonce)) {
    return { ok: false, code: 'IAM_LOGIN_NONCE_MISMATCH' };
  }
  return { ok: true, claims, kid: verified.kid };
}

/** Codes that mean the proxy could not check the token, not that the token is bad. */
function isCannotCheck(code: ErrorCode): boolean {
  return code === 'IAM_AUTHN_KEYS_UNAVAILABLE' || code === 'IAM_AUTHN_VERIFIER_OVERLOADED'
    || code === 'IAM_AUTHN_VERIFIER_FAILED';
}
