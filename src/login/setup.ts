/**
 * Builds browser login from the `login` config: the login issuer's endpoints (discovery, read
 * before the proxy listens), the cookie sealer, the redirect rule and the session store. The
 * proxy refuses to start when the issuer's discovery document cannot be used, when `idpLogout`
 * is on and the issuer offers no end_session_endpoint, or when sessions are shared
 * (`revocation.store: redis`, the same Redis) and Redis cannot be reached.
 */
import type { RevocationSet } from '../audit/index.js';
import type { Authenticator } from '../authn/index.js';
import type { Config } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { TrustedProxies } from '../upstream/index.js';
import { BrowserLogin } from './browser-login.js';
import { cookieNames } from './cookies.js';
import { loadProviderMetadata } from './provider-metadata.js';
import { RedirectTargets } from './redirect-target.js';
import { CookieSealer } from './sealed-cookie.js';
import { MemorySessionStore, type SessionStore } from './session-store.js';
import { RedisSessionStore } from './session-store-redis.js';

/** What login needs from the stages started before it. */
export interface LoginDependencies {
  /** Verifies ID tokens with the issuer's keys; undefined only when no issuer is configured. */
  readonly authenticator: Authenticator | undefined;
  readonly revocations: RevocationSet;
  readonly logger: Logger;
}

/** A running browser login. */
export interface LoginStage {
  readonly login: BrowserLogin;
  stop(): Promise<void>;
}

/**
 * Starts browser login, or resolves undefined when `config.login` is absent.
 * @throws PortcullisError IAM_LOGIN_DISCOVERY_FAILED or IAM_LOGIN_SESSION_STORE_UNAVAILABLE
 *   (see the file comment).
 */
export async function startLoginStage(config: Config, deps: LoginDependencies):
  Promise<LoginStage | undefined> {
  const login = config.login;
  if (login === undefined) return undefined;
  const issuer = config.authn.issuers.find((i) => i.issuer === login.issuer);
  if (issuer === undefined || deps.authenticator === undefined) {
    throw new PortcullisError('IAM_CONFIG_INVALID', 'login.issuer is not a configured issuer');
  }

  // 1. The issuer's endpoints.
  const metadata = await loadProviderMetadata(issuer.issuer, issuer.refresh.fetchTimeoutMs);
  if (login.idpLogout && metadata.endSessionEndpoint === undefined) {
    throw new PortcullisError('IAM_LOGIN_DISCOVERY_FAILED',
      `login issuer ${issuer.issuer}: idpLogout is on but discovery names no end_session_endpoint`);
  }

  // 2. Sessions, cookies, transport.
  const store = openStore(config, deps.logger);
  try {
    await store.start();
  } catch (err) {
    await store.stop();
    throw new PortcullisError('IAM_LOGIN_SESSION_STORE_UNAVAILABLE',
      `session store: ${(err as Error).message}`, { cause: err });
  }
  const trusted = new TrustedProxies(config.routing.trustedProxies);
  const isTLS = login.transport === 'tls';
  const names = cookieNames(login.cookieName);
  const browserLogin = new BrowserLogin({
    metadata,
    clientId: login.clientId,
    clientSecret: login.clientSecret.reveal(),
    scopes: login.scopes,
    paths: { callback: login.callbackPath, login: login.loginPath, logout: login.logoutPath },
    cookies: names,
    cookiePrefix: `__Host-${login.cookieName}-`,
    sealer: new CookieSealer(login.cookieKey?.reveal()),
    loginTtlSec: login.loginTtlSec,
    targets: new RedirectTargets(login.allowedRedirectOrigins),
    postLogoutRedirect: login.postLogoutRedirect,
    idpLogout: login.idpLogout,
    idleTimeoutMs: login.sessions.idleTimeoutSec * 1000,
    absoluteTimeoutMs: login.sessions.absoluteTimeoutSec * 1000,
    store,
    verifier: deps.authenticator,
    principalRules: { groupsClaims: issuer.groupsClaims, attributeClaims: issuer.attributeClaims },
    clockSkewSec: issuer.clockSkewSec,
    fetchTimeoutMs: issuer.refresh.fetchTimeoutMs,
    revocations: deps.revocations,
    logger: deps.logger,
    isSecure: isTLS ? () => true : (address) => trusted.has(address),
  });
  deps.logger.info('browser login ready', { issuer: issuer.issuer, clientId: login.clientId,
    sessions: store.kind });
  return { login: browserLogin, stop: () => store.stop() };
}

/** Sessions in Redis when revocations are shared there (several instances), else in memory. */
function openStore(config: Config, logger: Logger): SessionStore {
  const login = config.login!;
  const redis = config.revocation.store === 'redis' ? config.revocation.redis : undefined;
  if (redis === undefined) {
    return new MemorySessionStore(login.sessions.maxEntries, login.sessions.idleTimeoutSec * 1000);
  }
  return new RedisSessionStore({
    url: redis.url, password: redis.password?.reveal(), keyPrefix: redis.keyPrefix,
    connectTimeoutMs: redis.connectTimeoutMs, maxEntries: login.sessions.maxEntries,
    idleTimeoutMs: login.sessions.idleTimeoutSec * 1000, logger,
  });
}
