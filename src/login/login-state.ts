/**
 * One login in progress: the values that bind the IdP's answer to the browser that asked.
 *
 * - `state` (RFC 6749 section 10.12): sent to the IdP and kept in the sealed pre-login cookie;
 *   the callback must bring the same value back in the same browser, so a code obtained
 *   elsewhere (a stolen code, a login CSRF) is refused.
 * - `nonce` (OIDC Core section 3.1.2.1): the ID token must carry it, so a token minted for
 *   another login cannot be replayed into this one.
 * - `verifier` (RFC 7636, S256): only its SHA-256 goes to the IdP; the token request proves the
 *   proxy holds the verifier, so an intercepted code is useless without this browser's cookie.
 *
 * All three are 32 random bytes in base64url. The cookie also holds the redirect URI used (the
 * token request must repeat it, RFC 6749 section 4.1.3) and where to send the browser after.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { CookieSealer } from './sealed-cookie.js';

/** The sealed content of the pre-login cookie. */
export interface LoginState {
  readonly state: string;
  readonly nonce: string;
  readonly verifier: string;
  /** The callback URL this login named at the IdP (absolute). */
  readonly redirectUri: string;
  /** Where the browser goes once logged in (absolute, already checked). */
  readonly returnTo: string;
}

/** The purpose the pre-login cookie is sealed for (sealed-cookie.ts). */
const kPurpose = 'login-state';
const kRandomBytes = 32;
const kToken = /^[A-Za-z0-9_-]{43}$/;

/** Fresh state, nonce and verifier for a login that returns to `returnTo`. */
export function newLoginState(redirectUri: string, returnTo: string): LoginState {
  const random = (): string => randomBytes(kRandomBytes).toString('base64url');
  return Object.freeze({ state: random(), nonce: random(), verifier: random(), redirectUri,
    returnTo });
}

/** The PKCE S256 code challenge of `verifier` (RFC 7636 section 4.2). */
export function codeChallenge(verifier: string): string {
  return createHash('sha256').update(verifier, 'ascii').digest('base64url');
}

/** `state` sealed into a cookie value that expires at `expiresAtSec`. */
export function sealLoginState(sealer: CookieSealer, state: LoginState,
  expiresAtSec: number): string {
  return sealer.seal(kPurpose, { s: state.state, n: state.nonce, v: state.verifier,
    u: state.redirectUri, r: state.returnTo }, expiresAtSec);
}

/** The login state in a cookie value, or undefined when it is not one of ours or expired. */
export function openLoginState(sealer: CookieSealer, value: string,
  nowSec: number): LoginState | undefined {
  const p = sealer.open(kPurpose, value, nowSec);
  if (p === undefined) return undefined;
  const { s, n, v, u, r } = p;
  if (typeof s !== 'string' || typeof n !== 'string' || typeof v !== 'string'
    || typeof u !== 'string' || typeof r !== 'string') {
    return undefined;
  }
  if (!kToken.test(s) || !kToken.test(n) || !kToken.test(v)) return undefined;
  return Object.freeze({ state: s, nonce: n, verifier: v, redirectUri: u, returnTo: r });
}

/** Constant-time equality of two ASCII values (a state or a nonce). */
export function isSameSecret(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}
