/**
 * What the login endpoints answer, as data: the front end writes it (src/server/login-exchange.ts)
 * and the audit record takes its decision, code and principal. Keeping the answer plain keeps
 * this folder free of listener details, and lets tests read every answer the same way.
 */
import type { Principal } from '../authn/index.js';
import type { ErrorCode } from '../errors/index.js';

/** A 302 to `location`, setting `cookies` (Set-Cookie values). */
export interface LoginRedirect {
  readonly kind: 'redirect';
  readonly location: string;
  readonly cookies: readonly string[];
  /** `deny`: sent to log in (with `code`); `allow`: logged in or out. */
  readonly decision: 'allow' | 'deny';
  readonly code: ErrorCode | null;
  /** The principal the request ended with (a new or an ended session), for the record. */
  readonly principal: Principal | undefined;
}

/** An error answer with `code`, still setting `cookies` (a one-time login cookie is cleared). */
export interface LoginRefusal {
  readonly kind: 'refuse';
  readonly code: ErrorCode;
  readonly cookies: readonly string[];
  readonly principal: Principal | undefined;
}

/** One login endpoint's answer. */
export type LoginAnswer = LoginRedirect | LoginRefusal;

/** The request as the login endpoints see it; copied by the front end, valid after awaits. */
export interface LoginRequest {
  /** Upper-case method. */
  readonly method: string;
  /** The canonical path. */
  readonly path: string;
  /** The raw query, without `?` (empty when none). */
  readonly query: string;
  /** Flat lower-case header list. */
  readonly headers: readonly string[];
  /** The Host header as normalised by routing: host[:port]. */
  readonly hostText: string;
  readonly remoteAddress: string;
}

/** A refusal that clears `cookies`. */
export function refusal(code: ErrorCode, cookies: readonly string[] = [],
  principal?: Principal): LoginRefusal {
  return { kind: 'refuse', code, cookies, principal };
}
