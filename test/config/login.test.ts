/**
 * The `login` block: defaults, and every misconfiguration refused at load time with the field
 * that is wrong, above all those that would leave the session cookie without HTTPS or the login
 * cookies unreadable on another instance. Each case is one sentence saying why.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigLoadError, loadConfigText } from '../../src/config/index.js';

const kEnv = { ...process.env, LOGIN_SECRET: 'client-secret', COOKIE_KEY: 'k'.repeat(32),
  SHORT_KEY: 'short' };

/** A valid config: TLS listener (the test's own files stand in), one issuer, login, one service. */
function yaml(opts: { login?: string; top?: string; tls?: boolean; service?: string } = {}): string {
  const tls = opts.tls === false ? ''
    : `  proxy: { tls: { certFile: '${import.meta.filename}', keyFile: '${import.meta.filename}' } }\n`;
  return `listeners:
${tls}  admin: { port: 0 }
authn:
  issuers:
    - { issuer: 'https://idp.example', discovery: true }
    - { issuer: 'https://keys.example', jwksUrl: 'https://keys.example/jwks' }
login:
  issuer: 'https://idp.example'
  clientId: web
  clientSecret: { env: LOGIN_SECRET }
${opts.login ?? ''}
services:
  - name: app
    access: authenticated
    ${opts.service ?? 'login: true'}
    upstream: { addresses: ['127.0.0.1:1'] }
${opts.top ?? ''}`;
}

async function fields(text: string): Promise<string[]> {
  try {
    await loadConfigText(text, 'login.yaml', tmpdir(), kEnv);
  } catch (err) {
    assert.ok(err instanceof ConfigLoadError, String(err));
    return err.diagnostics.map((d) => d.field);
  }
  return [];
}

describe('config/login', () => {
  test('config/login a minimal block loads with its documented defaults', async () => {
    const config = await loadConfigText(yaml(), 'login.yaml', tmpdir(), kEnv);
    const login = config.login!;
    assert.deepEqual([...login.scopes], ['openid', 'email', 'profile']);
    assert.equal(login.transport, 'tls');
    assert.equal(login.callbackPath, '/.portcullis/callback');
    assert.equal(login.cookieName, 'portcullis');
    assert.equal(login.cookieKey, undefined);
    assert.equal(login.sessions.idleTimeoutSec, 1800);
    assert.equal(login.sessions.absoluteTimeoutSec, 43200);
    assert.equal(String(login.clientSecret), '[redacted]');
    assert.equal(config.services[0]!.login, true);
  });

  const kRefused: ReadonlyArray<readonly [string, string, string]> = [
    ['a Secure cookie needs HTTPS: transport tls without a TLS listener is refused',
      yaml({ tls: false }), 'login.transport'],
    ['behind a front proxy, the proxy must be named, or any client could claim HTTPS',
      yaml({ tls: false, login: '  transport: trusted-proxy' }), 'login.transport'],
    ['the login issuer must be one whose tokens the proxy verifies',
      yaml({ login: "  scopes: [openid]\n" }).replace("issuer: 'https://idp.example'\n  clientId",
        "issuer: 'https://other.example'\n  clientId"), 'login.issuer'],
    ['the endpoints come from discovery, so a JWKS-only issuer cannot log users in',
      yaml().replace("issuer: 'https://idp.example'\n  clientId",
        "issuer: 'https://keys.example'\n  clientId"), 'login.issuer'],
    ['login: true on a service needs the login block', yaml().replace(/login:\n  issuer[^]*?\n\n/,
      '\n'), 'services[0].login'],
    ['with shared state in Redis, instances must share the cookie key',
      yaml({ top: "revocation: { store: redis, redis: { url: 'redis://127.0.0.1:6379' } }" }),
      'login.cookieKey'],
    ['a cookie key shorter than 32 characters is too weak', yaml({ login:
      '  cookieKey: { env: SHORT_KEY }' }), 'login.cookieKey'],
    ['the idle timeout cannot exceed the absolute one', yaml({ login:
      '  sessions: { idleTimeoutSec: 100, absoluteTimeoutSec: 50 }' }),
    'login.sessions.idleTimeoutSec'],
    ['an allow-list entry must be an exact origin, not a URL with a path', yaml({ login:
      "  allowedRedirectOrigins: ['https://docs.example/']" }), 'login.allowedRedirectOrigins[0]'],
    ['the post-logout target follows the redirect rule: no protocol-relative paths',
      yaml({ login: "  postLogoutRedirect: '//evil.example'" }), 'login.postLogoutRedirect'],
    ['a post-logout URL must be on the allow-list', yaml({ login:
      "  postLogoutRedirect: 'https://bye.example/'" }), 'login.postLogoutRedirect'],
    ['the three endpoints must be distinct paths', yaml({ login:
      '  loginPath: /.portcullis/callback' }), 'login'],
    ['an endpoint path follows the pathPrefix rules (no dot segments)', yaml({ login:
      '  logoutPath: /a/../logout' }), 'login.logoutPath'],
    ['"/" cannot be reserved: it would take every request', yaml({ login:
      '  callbackPath: /' }), 'login.callbackPath'],
    ['an OIDC login needs the openid scope', yaml({ login: '  scopes: [email]' }),
      'login.scopes'],
    ['the cookie name becomes part of __Host-<name>-session: a token only',
      yaml({ login: "  cookieName: 'a;b'" }), 'login.cookieName'],
    ['the client secret is a secret reference, never inline',
      yaml().replace('{ env: LOGIN_SECRET }', 'inline-secret'), 'login.clientSecret'],
  ];
  for (const [why, text, field] of kRefused) {
    test(`config/login refuses: ${why}`, async () => {
      assert.ok((await fields(text)).includes(field), `${field} in ${(await fields(text)).join(', ')}`);
    });
  }

  test('config/login allowed: a post-logout URL on the allow-list, a trusted front proxy', async () => {
    assert.deepEqual(await fields(yaml({ login: "  allowedRedirectOrigins: ['https://bye.example']\n" +
      "  postLogoutRedirect: 'https://bye.example/done'" })), []);
    assert.deepEqual(await fields(yaml({ tls: false, login: '  transport: trusted-proxy',
      top: "routing: { trustedProxies: ['10.0.0.1'] }" })), []);
  });
});
