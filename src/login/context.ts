/**
 * Everything the login endpoints share, built once at start-up (setup.ts). Plain data plus the
 * few live objects (store, verifier, revocations, logger); nothing here changes per request.
 */
import type { RevocationSet } from '../audit/index.js';
import type { Authenticator, PrincipalRules } from '../authn/index.js';
import type { Logger } from '../telemetry/index.js';
import type { CookieNames } from './cookies.js';
import type { ProviderMetadata } from './provider-metadata.js';
import type { RedirectTargets } from './redirect-target.js';
import type { CookieSealer } from './sealed-cookie.js';
import type { SessionStore } from './session-store.js';

/** The reserved paths on the proxy listener (config `login.*Path`). */
export interface LoginPaths {
  readonly callback: string;
  readonly login: string;
  readonly logout: string;
}

/** The login runtime's shared state. */
export interface LoginContext {
  readonly metadata: ProviderMetadata;
  readonly clientId: string;
  /** The client secret, revealed once at start-up; only the token request uses it. */
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly paths: LoginPaths;
  readonly cookies: CookieNames;
  /** What every proxy cookie name starts with (`__Host-<cookieName>-`): stripped upstream. */
  readonly cookiePrefix: string;
  readonly sealer: CookieSealer;
  /** Lifetime of the pre-login cookie, seconds. */
  readonly loginTtlSec: number;
  readonly targets: RedirectTargets;
  /** `login.postLogoutRedirect`: a path on the request's origin or an allowed absolute URL. */
  readonly postLogoutRedirect: string;
  /** RP-initiated logout at the IdP after the proxy's own. */
  readonly idpLogout: boolean;
  readonly idleTimeoutMs: number;
  readonly absoluteTimeoutMs: number;
  readonly store: SessionStore;
  readonly verifier: Authenticator;
  readonly principalRules: PrincipalRules;
  readonly clockSkewSec: number;
  /** Deadline of the token request. */
  readonly fetchTimeoutMs: number;
  readonly revocations: RevocationSet;
  readonly logger: Logger;
  /**
   * Whether the browser reached the proxy over HTTPS: always on a TLS listener; behind a
   * TLS-terminating front proxy, only for requests from its configured addresses.
   */
  isSecure(remoteAddress: string): boolean;
}
