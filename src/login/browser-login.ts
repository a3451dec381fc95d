/**
 * Browser login for services in login mode (`services[].login: true`): what the request path
 * asks of it.
 *
 * - `ownsPath`/`serve`: the reserved endpoints on the proxy listener, on every host and never
 *   routed: `loginPath` (start a login, `?rd=` where to return), `callbackPath` (callback.ts)
 *   and `logoutPath` (end the session, `?rd=` where to go after).
 * - `sessionOf`: the session the request's cookie names, if it is live.
 * - `redirectToLogin`: for an anonymous top-level navigation (navigation.ts) that a credential
 *   would help, the 302 to the IdP's authorization endpoint (code flow, PKCE S256, state and
 *   nonce bound to the browser by the sealed pre-login cookie).
 * - `upstreamHeaders`: the request's headers without the proxy's cookies.
 *
 * No IdP token (code, access, ID, refresh) is ever put in a redirect URL, a response body, the
 * session, a log line or an audit record; the authorization URL carries only the client id,
 * redirect URI, scopes, state, nonce and the code challenge.
 */
import type { Principal } from '../authn/index.js';
import { type LoginAnswer, type LoginRedirect, type LoginRequest, refusal } from './answer.js';
import { finishLogin } from './callback.js';
import type { LoginContext } from './context.js';
import { clearCookie, cookieValue, setCookie, withoutProxyCookies } from './cookies.js';
import { codeChallenge, newLoginState, sealLoginState } from './login-state.js';
import { isBrowserNavigation } from './navigation.js';
import { kMaxSealedLength } from './sealed-cookie.js';
import { isSessionId, type Session } from './session-store.js';

/** The browser login of one proxy listener. */
export class BrowserLogin {
  readonly #ctx: LoginContext;

  constructor(ctx: LoginContext) {
    this.#ctx = ctx;
  }

  /** The shared state (tests and the admin API read the store through it). */
  get context(): LoginContext {
    return this.#ctx;
  }

  /** Whether `path` (canonical) is one of the reserved login endpoints. */
  ownsPath(path: string): boolean {
    const { paths } = this.#ctx;
    return path === paths.callback || path === paths.login || path === paths.logout;
  }

  /** Answers a request to a reserved endpoint. Never rejects. */
  serve(req: LoginRequest): LoginAnswer | Promise<LoginAnswer> {
    const origin = originOf(req.hostText);
    const { paths } = this.#ctx;
    if (req.path === paths.callback) return finishLogin(this.#ctx, req, origin);
    if (req.path === paths.logout) return this.#logout(req, origin);
    return this.#startFromLink(req, origin);
  }

  /**
   * The live session the request's session cookie names, or undefined (no cookie, not a
   * session id, unknown, idle or expired, or not over HTTPS). A promise only when a shared store
   * must be asked; it rejects when that store cannot be reached.
   */
  sessionOf(headers: readonly string[], remoteAddress: string, nowMs: number):
    Session | undefined | Promise<Session | undefined> {
    const id = cookieValue(headers, this.#ctx.cookies.session);
    if (id === undefined || !isSessionId(id) || !this.#ctx.isSecure(remoteAddress)) {
      return undefined;
    }
    return this.#ctx.store.find(id, nowMs);
  }

  /** Ends `session` (a revoked principal); failures are left to the idle timeout. */
  end(session: Session): void {
    this.#ctx.store.remove(session.id).catch(() => undefined);
  }

  /**
   * The login redirect for an anonymous request that credentials would help, or undefined when
   * the request is not a top-level browser navigation over HTTPS (it then keeps its 401).
   * `pathAndQuery` is the canonical path plus `?query` when there is one.
   */
  redirectToLogin(req: Omit<LoginRequest, 'path' | 'query'>, pathAndQuery: string):
    LoginRedirect | undefined {
    if (!isBrowserNavigation(req.method, req.headers) || !this.#ctx.isSecure(req.remoteAddress)) {
      return undefined;
    }
    const origin = originOf(req.hostText);
    return this.#start(origin, `${origin}${pathAndQuery}`);
  }

  /** `headers` without the proxy's cookies (the same array when it carries none). */
  upstreamHeaders(headers: readonly string[]): readonly string[] {
    return withoutProxyCookies(headers, this.#ctx.cookiePrefix);
  }

  /** `GET loginPath?rd=...`: a login started by a link (a single page app's "sign in"). */
  #startFromLink(req: LoginRequest, origin: string): LoginAnswer {
    if (req.method !== 'GET') return refusal('IAM_ROUTING_METHOD_UNSUPPORTED');
    if (!this.#ctx.isSecure(req.remoteAddress)) return refusal('IAM_LOGIN_INSECURE_TRANSPORT');
    const rd = single(req.query, 'rd');
    if (rd === null) return refusal('IAM_LOGIN_REDIRECT_REFUSED');
    const returnTo = this.#ctx.targets.resolve(rd ?? '/', origin);
    if (returnTo === undefined) return refusal('IAM_LOGIN_REDIRECT_REFUSED');
    return this.#start(origin, returnTo);
  }

  /** The 302 to the authorization endpoint, and the sealed pre-login cookie. */
  #start(origin: string, returnTo: string): LoginRedirect {
    const ctx = this.#ctx;
    const redirectUri = `${origin}${ctx.paths.callback}`;
    const expiresAtSec = Math.floor(Date.now() / 1000) + ctx.loginTtlSec;
    let state = newLoginState(redirectUri, returnTo);
    let sealed = sealLoginState(ctx.sealer, state, expiresAtSec);
    if (sealed.length > kMaxSealedLength) {
      // A very long return URL would not fit in a cookie: return to the origin instead.
      state = newLoginState(redirectUri, `${origin}/`);
      sealed = sealLoginState(ctx.sealer, state, expiresAtSec);
    }

    const url = new URL(ctx.metadata.authorizationEndpoint);
    url.searchParams.set('response_type', 'code');
    url.searchParams.set('client_id', ctx.clientId);
    url.searchParams.set('redirect_uri', redirectUri);
    url.searchParams.set('scope', ctx.scopes.join(' '));
    url.searchParams.set('state', state.state);
    url.searchParams.set('nonce', state.nonce);
    url.searchParams.set('code_challenge', codeChallenge(state.verifier));
    url.searchParams.set('code_challenge_method', 'S256');
    return { kind: 'redirect', location: url.href, decision: 'deny', code: 'IAM_AUTHN_REQUIRED',
      principal: undefined, cookies: [setCookie(ctx.cookies.login, sealed, ctx.loginTtlSec)] };
  }

  /**
   * Logout (GET or POST): the session ends here and its cookie is cleared, then the browser goes
   * to `rd` (checked like a return URL) or `postLogoutRedirect`, through the IdP's
   * end_session_endpoint when `idpLogout` is on (with `client_id` and
   * `post_logout_redirect_uri`, never `id_token_hint`: no token goes in a URL).
   */
  async #logout(req: LoginRequest, origin: string): Promise<LoginAnswer> {
    const ctx = this.#ctx;
    if (req.method !== 'GET' && req.method !== 'POST') {
      return refusal('IAM_ROUTING_METHOD_UNSUPPORTED');
    }
    if (!ctx.isSecure(req.remoteAddress)) return refusal('IAM_LOGIN_INSECURE_TRANSPORT');
    const cleared = [clearCookie(ctx.cookies.session), clearCookie(ctx.cookies.login)];

    // 1. End the session the cookie names, if it is live.
    let principal: Principal | undefined;
    const id = cookieValue(req.headers, ctx.cookies.session);
    if (id !== undefined && isSessionId(id)) {
      try {
        principal = (await ctx.store.find(id, Date.now()))?.principal;
        await ctx.store.remove(id);
      } catch {
        return refusal('IAM_LOGIN_SESSION_STORE_UNAVAILABLE', cleared);
      }
    }

    // 2. Where to go next.
    const rd = single(req.query, 'rd');
    const target = rd === null ? undefined
      : ctx.targets.resolve(rd ?? ctx.postLogoutRedirect, origin);
    if (target === undefined) return refusal('IAM_LOGIN_REDIRECT_REFUSED', cleared, principal);
    let location = target;
    const endSession = ctx.metadata.endSessionEndpoint;
    if (ctx.idpLogout && endSession !== undefined) {
      const url = new URL(endSession);
      url.searchParams.set('client_id', ctx.clientId);
      url.searchParams.set('post_logout_redirect_uri', target);
      location = url.href;
    }
    return { kind: 'redirect', location, cookies: cleared, decision: 'allow', code: null,
      principal };
  }
}

/** `https://host[:port]`, the default port left out: browser login is HTTPS only. */
function originOf(hostText: string): string {
  return new URL(`https://${hostText}`).origin;
}

/** The one value of `name` in `query`; undefined when absent, null when repeated. */
function single(query: string, name: string): string | undefined | null {
  const values = new URLSearchParams(query).getAll(name);
  return values.length === 0 ? undefined : values.length === 1 ? values[0] as string : null;
}
