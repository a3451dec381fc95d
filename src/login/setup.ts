/**
 * Builds browser login from the `login` config: the login issuer's endpoints (discovery, read
 * before the proxy listens), the cookie sealer, the redirect rule and the session store. The
 * proxy refuses to start when the issuer's discovery document cannot be used, when `idpLogout`
 * is on and the issuer offers no end_session_endpoint, or when sessions are shared
 * (`revocation.store: redis`, the same Redis) and Redis cannot be reached.
 */
import { randomBytes } from 'node:crypto';
import type { RevocationSet } from '../audit/index.js';
import type { Authenticator } from '../authn/index.js';
import type { Config } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { TrustedProxies } from '../upstream/index.js';
import { BrowserLogin } from './browser-login.js';
import { cookieNames } from './cookies.js';
import { loadProviderMetadata, type ProviderMetadata } from './provider-metadata.js';
import { RedirectTargets } from './redirect-target.js';
import { CookieSealer } from './sealed-cookie.js';
import { MemorySessionStore, type SessionStore } from './session-store.js';
import { RedisSessionStore } from './session-store-redis.js';

/** What every serving thread's login must share with the main thread's (src/threads/). */
export interface LoginShared {
  /** The cookie sealer's secret: `login.cookieKey`, or one made at start-up for this process. */
  readonly cookieSecret: string;
  readonly metadata: ProviderMetadata;
}

/** What login needs from the stages started before it. */
export interface LoginDependencies {
  /** Verifies ID tokens with the issuer's keys; undefined only when no issuer is configured. */
  readonly authenticator: Authenticator | undefined;
  readonly revocations: RevocationSet;
  readonly logger: Logger;
  /**
   * A serving thread passes what the main thread loaded and its store (the main thread's
   * sessions, asked across threads); the main thread passes neither.
   */
  readonly shared?: LoginShared;
  readonly store?: SessionStore;
  /** Told of every session ended here, before the ending completes (threads forget it). */
  readonly onRemove?: (id: string) => Promise<void>;
}

/** A running browser login. */
export interface LoginStage {
  readonly login: BrowserLogin;
  /** What serving threads need to seal, open and look up the same cookies. */
  readonly shared: LoginShared;
  /** The session store (the main thread's is what serving threads ask). */
  readonly store: SessionStore;
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
  const metadata = deps.shared?.metadata
    ?? await loadProviderMetadata(issuer.issuer, issuer.refresh.fetchTimeoutMs);
  if (login.idpLogout && metadata.endSessionEndpoint === undefined) {
    throw new PortcullisError('IAM_LOGIN_DISCOVERY_FAILED',
      `login issuer ${issuer.issuer}: idpLogout is on but discovery names no end_session_endpoint`);
  }

  // 2. Sessions, cookies, transport. Without a configured key, the cookie secret is made now
  // and lives as long as the process (its serving threads get it; other instances cannot).
  const opened = deps.store ?? openStore(config, deps.logger);
  const store = deps.onRemove === undefined ? opened : notifyingStore(opened, deps.onRemove);
  const cookieSecret = deps.shared?.cookieSecret ?? login.cookieKey?.reveal()
    ?? randomBytes(32).toString('base64url');
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
    sealer: new CookieSealer(cookieSecret),
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
  return { login: browserLogin, shared: { cookieSecret, metadata }, store,
    stop: () => store.stop() };
}

/** `store`, telling `onRemove` of every session it is asked to end. */
function notifyingStore(store: SessionStore, onRemove: (id: string) => Promise<void>):
  SessionStore {
  return {
    kind: store.kind,
    get size() {
      return store.size;
    },
    start: () => store.start(),
    find: (id, nowMs) => store.find(id, nowMs),
    save: (session) => store.save(session),
    remove: async (id) => {
      await store.remove(id);
      await onRemove(id);
    },
    stop: () => store.stop(),
  };
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
