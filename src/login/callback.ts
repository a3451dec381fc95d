/**
 * The login callback: where the IdP sends the browser back with `code` and `state`. The steps,
 * in order; the first that fails decides the answer, and every answer clears the one-time
 * pre-login cookie:
 *
 * 1. GET only, over HTTPS (the TLS listener or a trusted TLS-terminating front proxy);
 * 2. each parameter at most once;
 * 3. this browser's sealed pre-login cookie, unexpired (else IAM_LOGIN_STATE_MISSING: a code
 *    replayed from elsewhere never gets further);
 * 4. `state` equal to the cookie's, and the callback URL the cookie names (IAM_LOGIN_STATE_*);
 * 5. `iss` equal to the login issuer when sent, and sent when the IdP says it always is (RFC
 *    9207 mix-up defence); an `error` from the IdP ends here (IAM_LOGIN_IDP_REFUSED);
 * 6. the token request, authenticated as a confidential client, with the PKCE verifier;
 * 7. the ID token (id-token.ts: signature, iss, aud, azp, exp, iat, nonce);
 * 8. a revoked subject or session gets no session (IAM_AUTHN_REVOKED);
 * 9. a new session under a new random id (never one the browser brought: session fixation),
 *    and the session the browser had before, if any, ends;
 * 10. a redirect to where the login started, checked again.
 */
import { principalFromClaims, type Principal } from '../authn/index.js';
import { type LoginAnswer, type LoginRequest, refusal } from './answer.js';
import type { LoginContext } from './context.js';
import { clearCookie, cookieValue, setCookie } from './cookies.js';
import { validateIdToken } from './id-token.js';
import { isSameSecret, openLoginState } from './login-state.js';
import { isSessionId, newSessionId, type Session, sessionHandle } from './session-store.js';
import { exchangeCode } from './token-exchange.js';

/** Parameters of an authorization response that may appear at most once (RFC 6749 4.1.2). */
const kSingle = ['code', 'state', 'iss', 'error', 'error_description', 'error_uri'];
const kMaxCodeLength = 2048;

/** Handles one callback request (see the file comment). Never rejects. */
export async function finishLogin(ctx: LoginContext, req: LoginRequest,
  origin: string): Promise<LoginAnswer> {
  const clearLogin = [clearCookie(ctx.cookies.login)];

  // 1-2. Method, transport, parameters.
  if (req.method !== 'GET') return refusal('IAM_ROUTING_METHOD_UNSUPPORTED', clearLogin);
  if (!ctx.isSecure(req.remoteAddress)) return refusal('IAM_LOGIN_INSECURE_TRANSPORT', clearLogin);
  const params = new URLSearchParams(req.query);
  if (kSingle.some((name) => params.getAll(name).length > 1)) {
    return refusal('IAM_LOGIN_CALLBACK_INVALID', clearLogin);
  }

  // 3-4. This browser's login, and the state it sent.
  const sealed = cookieValue(req.headers, ctx.cookies.login);
  const login = sealed === undefined ? undefined
    : openLoginState(ctx.sealer, sealed, Math.floor(Date.now() / 1000));
  if (login === undefined) return refusal('IAM_LOGIN_STATE_MISSING', clearLogin);
  const state = params.get('state');
  if (state === null || !isSameSecret(state, login.state)) {
    return refusal('IAM_LOGIN_STATE_MISMATCH', clearLogin);
  }
  if (login.redirectUri !== `${origin}${ctx.paths.callback}`) {
    return refusal('IAM_LOGIN_CALLBACK_INVALID', clearLogin);
  }

  // 5. Who answered, and whether it logged the user in.
  const iss = params.get('iss');
  if ((iss !== null && iss !== ctx.metadata.issuer)
    || (iss === null && ctx.metadata.sendsIssuerInResponse)) {
    return refusal('IAM_LOGIN_CALLBACK_INVALID', clearLogin);
  }
  if (params.has('error')) return refusal('IAM_LOGIN_IDP_REFUSED', clearLogin);
  const code = params.get('code');
  if (code === null || code === '' || code.length > kMaxCodeLength) {
    return refusal('IAM_LOGIN_CALLBACK_INVALID', clearLogin);
  }

  // 6. The token request.
  const exchanged = await exchangeCode({
    tokenEndpoint: ctx.metadata.tokenEndpoint, clientId: ctx.clientId,
    clientSecret: ctx.clientSecret, code, redirectUri: login.redirectUri,
    codeVerifier: login.verifier, timeoutMs: ctx.fetchTimeoutMs,
  });
  if (!exchanged.ok) {
    if (exchanged.code !== 'IAM_LOGIN_CODE_REFUSED') {
      ctx.logger.warnRateLimited(`login-token-${exchanged.code}`, 10_000,
        'login: the token endpoint refused or failed', { code: exchanged.code,
          error: exchanged.detail, endpoint: ctx.metadata.tokenEndpoint });
    }
    return refusal(exchanged.code, clearLogin);
  }

  // 7. The ID token.
  const nowMs = Date.now();
  const checked = await validateIdToken(ctx.verifier, exchanged.idToken, {
    issuer: ctx.metadata.issuer, clientId: ctx.clientId, nonce: login.nonce,
    clockSkewSec: ctx.clockSkewSec, nowSec: Math.floor(nowMs / 1000),
  });
  if (!checked.ok) return refusal(checked.code, clearLogin);

  // 8-9. The new session, unless its subject or session is revoked.
  const id = newSessionId();
  const expiresAtMs = nowMs + ctx.absoluteTimeoutMs;
  const principal = sessionPrincipal(ctx, principalFromClaims(ctx.metadata.issuer, checked.claims,
    checked.kid, 'session', ctx.principalRules), sessionHandle(id), expiresAtMs);
  if (ctx.revocations.match(principal) !== undefined) {
    return refusal('IAM_AUTHN_REVOKED', clearLogin, principal);
  }
  const session: Session = { id, handle: sessionHandle(id), principal, createdAtMs: nowMs,
    expiresAtMs, lastSeenMs: nowMs };
  try {
    await ctx.store.save(session);
    const before = cookieValue(req.headers, ctx.cookies.session);
    if (before !== undefined && isSessionId(before)) await ctx.store.remove(before);
  } catch {
    return refusal('IAM_LOGIN_SESSION_STORE_UNAVAILABLE', clearLogin);
  }

  // 10. Back to where the login started.
  const location = ctx.targets.resolve(login.returnTo, origin) ?? `${origin}/`;
  return {
    kind: 'redirect', location, decision: 'allow', code: null, principal,
    cookies: [setCookie(ctx.cookies.session, id, ctx.absoluteTimeoutMs / 1000), ...clearLogin],
  };
}

/**
 * The session's principal: the ID token's, with the proxy's client, the session's public handle
 * as token id (and as session id when the IdP sent no `sid`), and the session's absolute end as
 * expiry (the ID token's own `exp` is minutes; the session outlives it by design).
 */
function sessionPrincipal(ctx: LoginContext, base: Principal, handle: string,
  expiresAtMs: number): Principal {
  return Object.freeze({ ...base, clientId: ctx.clientId, sessionId: base.sessionId ?? handle,
    tokenId: handle, expiresAtSec: Math.floor(expiresAtMs / 1000) });
}
