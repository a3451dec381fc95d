/**
 * The `login` block: browser login through one OIDC issuer (the authorization code flow with
 * PKCE, the proxy as a confidential client) and the server-side sessions it creates. Services
 * opt in with `services[].login: true`. Behaviour: src/login/README.md.
 *
 * Rules that span blocks are checked here too (`checkLoginBlock`), because they decide whether
 * the session cookie can be `Secure` at all: the proxy listener has TLS, or a TLS-terminating
 * front proxy is named in `routing.trustedProxies`; the issuer is configured with discovery;
 * with shared state in Redis the cookie key is shared as well.
 */
import { z } from 'zod';
import { parseAllowedOrigin, RedirectTargets } from '../login/redirect-target.js';
import {
  type SchemaContext, boolField, customIssue, enumField, intField, mapping, secret,
} from './schema-fields.js';
import { isIssuerUrl, pathPrefixProblem } from './syntax.js';

const kIssuer = 'expected the issuer URL of one of authn.issuers (with discovery: true)';
const kCookieName = 'expected 1 to 32 letters, digits, "_" or "-"';
const kOrigin = 'expected an origin written exactly as browsers serialise it: ' +
  '"https://host" or "https://host:port" in lower case, ASCII (xn-- for IDN), no path or "/"';
const kScope = 'expected a list of scopes that includes "openid"';
/** Shortest cookie key accepted: 32 characters keep HKDF's input at 192 bits or more. */
export const kMinCookieKeyLength = 32;

/** A reserved endpoint path: a plain absolute path other than "/" (pathPrefix rules). */
function endpointPath(fallback: string) {
  return z.string({ error: 'expected a path starting with "/"' }).superRefine((path, ctx) => {
    const problem = path === '/' ? 'expected a path other than "/"' : pathPrefixProblem(path);
    if (problem !== undefined) ctx.addIssue(customIssue(problem.replace('path prefix', 'path')));
  }).default(fallback);
}

/** Builds the `login` block. */
export function loginSchema(ctx: SchemaContext) {
  const sessions = mapping({
    maxEntries: intField(1, 10_000_000, 'expected an integer from 1 to 10000000').default(10000),
    idleTimeoutSec: intField(1, 31_536_000, 'expected seconds from 1 to 31536000')
      .default(1800),
    absoluteTimeoutSec: intField(1, 31_536_000, 'expected seconds from 1 to 31536000')
      .default(43200),
  });

  return mapping({
    issuer: z.string({ error: kIssuer }).refine(isIssuerUrl, { error: kIssuer }),
    clientId: z.string({ error: 'expected the client id registered at the IdP' })
      .min(1, { error: 'expected the client id registered at the IdP' }),
    clientSecret: secret(ctx),
    scopes: z.array(z.string({ error: kScope }).regex(/^[\x21\x23-\x5b\x5d-\x7e]+$/,
      { error: 'expected a scope token (printable ASCII, no space, quote or backslash)' }),
    { error: kScope }).refine((s) => s.includes('openid'), { error: kScope })
      .default(() => ['openid', 'email', 'profile']),
    transport: enumField(['tls', 'trusted-proxy']).default('tls'),
    callbackPath: endpointPath('/.portcullis/callback'),
    loginPath: endpointPath('/.portcullis/login'),
    logoutPath: endpointPath('/.portcullis/logout'),
    cookieName: z.string({ error: kCookieName }).regex(/^[A-Za-z0-9_-]{1,32}$/,
      { error: kCookieName }).default('portcullis'),
    cookieKey: secret(ctx).refine((key) => key.reveal().length >= kMinCookieKeyLength,
      { error: `expected a secret of at least ${kMinCookieKeyLength} characters` }).optional(),
    loginTtlSec: intField(30, 3600, 'expected seconds from 30 to 3600').default(600),
    allowedRedirectOrigins: z.array(z.string({ error: kOrigin })
      .refine((o) => parseAllowedOrigin(o) !== undefined, { error: kOrigin }),
    { error: 'expected a list of origins' }).default(() => []),
    postLogoutRedirect: z.string({ error: 'expected a path or an allowed absolute URL' })
      .default('/'),
    idpLogout: boolField().default(false),
    sessions: sessions.prefault({}),
  });
}

type Ctx = { addIssue(issue: ReturnType<typeof customIssue>): void };
type Rec = Record<string, unknown> | undefined;

/** Rules between `login` and the rest of the config (see the file comment). */
export function checkLoginBlock(config: unknown, ctx: Ctx): void {
  const root = config as Rec;
  const login = root?.['login'] as Rec;
  const services = Array.isArray(root?.['services']) ? root!['services'] as unknown[] : [];
  if (login === undefined) {
    services.forEach((svc, i) => {
      if ((svc as Rec)?.['login'] === true) {
        ctx.addIssue(customIssue('expected a top-level login block for login: true',
          ['services', i, 'login']));
      }
    });
    return;
  }
  const at = (...path: PropertyKey[]) => ['login', ...path];

  // 1. The issuer is a configured one, found through discovery (the endpoints come from it).
  const issuers = (root?.['authn'] as Rec)?.['issuers'];
  const issuer = Array.isArray(issuers)
    ? issuers.find((i) => (i as Rec)?.['issuer'] === login['issuer']) as Rec : undefined;
  if (typeof login['issuer'] === 'string' && issuer === undefined) {
    ctx.addIssue(customIssue('expected the issuer of an authn.issuers entry', at('issuer')));
  } else if (issuer !== undefined && issuer['discovery'] !== true) {
    ctx.addIssue(customIssue('expected an issuer with discovery: true (its endpoints come from ' +
      'the discovery document)', at('issuer')));
  }

  // 2. Secure cookies need HTTPS as far as the browser is concerned.
  const listeners = root?.['listeners'] as Rec;
  const hasTLS = (listeners?.['proxy'] as Rec)?.['tls'] !== undefined;
  const trusted = (root?.['routing'] as Rec)?.['trustedProxies'];
  if (login['transport'] === 'tls' && !hasTLS) {
    ctx.addIssue(customIssue('transport "tls" needs listeners.proxy.tls; behind a TLS-' +
      'terminating front proxy use transport: trusted-proxy', at('transport')));
  }
  if (login['transport'] === 'trusted-proxy' && (!Array.isArray(trusted) || trusted.length === 0)) {
    ctx.addIssue(customIssue('transport "trusted-proxy" needs the front proxy\'s address in ' +
      'routing.trustedProxies', at('transport')));
  }

  // 3. Three distinct endpoints; timeouts in order; the post-logout target is allowed.
  const paths = ['callbackPath', 'loginPath', 'logoutPath'].map((k) => login[k]);
  if (new Set(paths).size !== paths.length) {
    ctx.addIssue(customIssue('expected callbackPath, loginPath and logoutPath to differ', at()));
  }
  const sessions = login['sessions'] as Rec;
  if (typeof sessions?.['idleTimeoutSec'] === 'number'
    && typeof sessions['absoluteTimeoutSec'] === 'number'
    && sessions['idleTimeoutSec'] > sessions['absoluteTimeoutSec']) {
    ctx.addIssue(customIssue('idleTimeoutSec is greater than absoluteTimeoutSec',
      at('sessions', 'idleTimeoutSec')));
  }
  const origins = Array.isArray(login['allowedRedirectOrigins'])
    ? login['allowedRedirectOrigins'] as string[] : [];
  const after = login['postLogoutRedirect'];
  if (typeof after === 'string' && new RedirectTargets(origins.filter(
    (o) => parseAllowedOrigin(o) !== undefined)).resolve(after, 'https://proxy.invalid') ===
    undefined) {
    ctx.addIssue(customIssue('expected a path ("/" or "/signed-out") or an absolute URL on ' +
      'allowedRedirectOrigins', at('postLogoutRedirect')));
  }

  // 4. Several instances (state in Redis) must open each other's pre-login cookies.
  if ((root?.['revocation'] as Rec)?.['store'] === 'redis' && login['cookieKey'] === undefined) {
    ctx.addIssue(customIssue('expected a cookieKey secret: with revocation.store redis several ' +
      'instances share sessions, and each must open the login cookies the others set',
    at('cookieKey')));
  }
}
