/**
 * Browser login: the OIDC authorization code flow with PKCE, server-side sessions, redirect
 * checks and logout (src/login/README.md). The request path uses `BrowserLogin`; main.ts starts
 * it with `startLoginStage`.
 */
export {
  type LoginAnswer, type LoginRedirect, type LoginRefusal, type LoginRequest,
} from './answer.js';
export { BrowserLogin } from './browser-login.js';
export { type LoginContext, type LoginPaths } from './context.js';
export { type CookieNames, cookieNames, cookieValue, withoutProxyCookies } from './cookies.js';
export { isBrowserNavigation } from './navigation.js';
export {
  kMaxRedirectTargetLength, parseAllowedOrigin, RedirectTargets,
} from './redirect-target.js';
export { CookieSealer } from './sealed-cookie.js';
export {
  isSessionId, isSessionOver, MemorySessionStore, newSessionId, type Session, sessionHandle,
  type SessionStore,
} from './session-store.js';
export {
  kMaxUnconfirmedMs, RedisSessionStore, type RedisSessionStoreOptions,
} from './session-store-redis.js';
export {
  type LoginDependencies, type LoginShared, type LoginStage, startLoginStage,
} from './setup.js';
export type { ProviderMetadata } from './provider-metadata.js';
