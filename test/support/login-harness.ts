/**
 * Everything a browser-login test needs, all real and on 127.0.0.1: the test OpenID provider
 * with its authorization-code client, a recording upstream, a TLS certificate from the test PKI,
 * and a Portcullis whose proxy listener serves TLS on a port the OS picks. The IdP's login
 * client is registered once the port is known (the proxy needs only the discovery document to
 * start), so nothing races other test files for a port.
 */
import { tmpdir } from 'node:os';
import { loadConfigText } from '../../src/config/index.js';
import { startPortcullis, type RunningProxy } from '../../src/main.js';
import { silentLogger, type Logger } from '../../src/telemetry/index.js';
import { startTestIdp, type TestIdp } from './oidc-provider.js';
import { startRecordingUpstream, type RecordingUpstream } from './recording-upstream.js';
import { createTestPki, type TestPki } from './test-pki.js';
import { TestBrowser } from './test-browser.js';

/** The cookie key the harness configures, so tests can seal (forge) login cookies themselves. */
export const kTestCookieKey = 'login-harness-cookie-key-0123456789abcdef';
const kSecretEnv = 'PORTCULLIS_TEST_LOGIN_CLIENT_SECRET';
const kCookieKeyEnv = 'PORTCULLIS_TEST_LOGIN_COOKIE_KEY';

/** A running login setup. */
export interface LoginHarness {
  readonly idp: TestIdp;
  readonly upstream: RecordingUpstream;
  readonly proxy: RunningProxy;
  /** `https://127.0.0.1:<port>`: the proxy's origin as the browser sees it. */
  readonly origin: string;
  readonly caFile: string;
  /** A fresh browser that trusts the test CA. */
  browser(): TestBrowser;
  /**
   * Opens `path` on the proxy and completes the login as `account` at the IdP, following every
   * redirect; resolves the final response's status and URL.
   */
  login(browser: TestBrowser, path: string, account?: string):
    Promise<{ status: number; url: string; body: string }>;
  stop(): Promise<void>;
}

/** Options: extra YAML for the `login` block and the services, and the client secret to use. */
export interface LoginHarnessOptions {
  /** Lines added inside `login:` (two-space indented), e.g. `  idpLogout: true`. */
  readonly loginYaml?: string;
  /** Extra top-level YAML (services beyond the default two, revocation, audit). */
  readonly extraYaml?: string;
  /** The secret the proxy presents (default: the right one). */
  readonly clientSecret?: string;
  /**
   * A signed policy bundle instead of `access` (services then carry no `access`): the public
   * key file and the bundle file (its signature next to it as `.jws`).
   */
  readonly policy?: { readonly publicKeyFile: string; readonly file: string };
  /**
   * Plain HTTP on the proxy listener, as behind a TLS-terminating front proxy at these
   * addresses (`login.transport: trusted-proxy`); `origin` is then http://.
   */
  readonly frontProxies?: readonly string[];
  /**
   * An IdP to share with other harnesses (several instances); by default one of its own. A
   * shared IdP's login client is left to the caller (`registerLoginClient` with every origin).
   */
  readonly idp?: TestIdp;
  /** The test PKI whose CA browsers trust (share one between instances); default: a new one. */
  readonly pki?: TestPki;
  /** Adds a decision listener (flavor nginx, port 0) answering these ingress addresses. */
  readonly decisionIngress?: readonly string[];
  readonly logger?: Logger;
}

/** Starts the IdP, the upstream and the proxy. */
export async function startLoginHarness(opts: LoginHarnessOptions = {}): Promise<LoginHarness> {
  const pki = opts.pki ?? createTestPki();
  const leaf = pki.leaf('proxy', '127.0.0.1', 'IP:127.0.0.1,DNS:localhost', 'serverAuth');
  const idp = opts.idp ?? await startTestIdp();
  const upstream = await startRecordingUpstream();
  const tls = opts.frontProxies === undefined
    ? `, tls: { certFile: '${leaf.cert}', keyFile: '${leaf.key}' }` : '';
  const front = opts.frontProxies === undefined ? ''
    : `routing: { trustedProxies: [${opts.frontProxies.map((a) => `'${a}'`).join(', ')}] }\n`;

  const decision = opts.decisionIngress === undefined ? ''
    : `  decision: { host: 127.0.0.1, port: 0, flavor: nginx, trustedIngress: [${
      opts.decisionIngress.map((a) => `'${a}'`).join(', ')}] }\n`;
  const access = (kind: string): string => opts.policy === undefined ? `access: ${kind}` : '';
  const yaml = `listeners:
  proxy: { host: 127.0.0.1, port: 0${tls} }
  admin: { host: 127.0.0.1, port: 0 }
${decision}${front}${/^audit:/m.test(opts.extraYaml ?? '') ? '' : 'audit: { sink: none }\n'}authn:
  issuers:
    - issuer: '${idp.issuer}'
      discovery: true
      groupsClaims: [groups]
login:
  issuer: '${idp.issuer}'
  clientId: ${idp.loginClientId}
  clientSecret: { env: ${kSecretEnv} }
  cookieKey: { env: ${kCookieKeyEnv} }
  scopes: [openid, email, profile, groups]
${opts.frontProxies === undefined ? '' : '  transport: trusted-proxy\n'}${opts.loginYaml ?? ''}
${opts.policy === undefined ? ''
    : `policy: { publicKeys: ['${opts.policy.publicKeyFile}'], file: '${opts.policy.file}' }`}
services:
  - name: app
    pathPrefix: /app
    ${access('authenticated')}
    login: true
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: api
    pathPrefix: /api
    ${access('authenticated')}
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: open
    pathPrefix: /
    ${access('public')}
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
${opts.extraYaml ?? ''}
${/^threads:/m.test(opts.extraYaml ?? '') ? '' : 'threads: 1'}`;
  const env = { ...process.env, [kSecretEnv]: opts.clientSecret ?? idp.loginClientSecret,
    [kCookieKeyEnv]: kTestCookieKey };
  let proxy: RunningProxy;
  try {
    const config = await loadConfigText(yaml, 'login-test.yaml', tmpdir(), env);
    proxy = await startPortcullis(config, opts.logger ?? silentLogger());
  } catch (err) {
    if (opts.idp === undefined) await idp.stop();
    await upstream.close();
    throw err;
  }

  const port = proxy.proxy.port;
  const origin = `${opts.frontProxies === undefined ? 'https' : 'http'}://127.0.0.1:${port}`;
  if (opts.idp === undefined) await registerLoginClient(idp, [`https://127.0.0.1:${port}`]);
  const browsers: TestBrowser[] = [];
  return {
    idp, upstream, proxy, origin, caFile: pki.caCert,
    browser() {
      const b = new TestBrowser(pki.caCert);
      browsers.push(b);
      return b;
    },
    async login(browser, path, account = 'alice') {
      const { res, url } = await browser.navigate(`${origin}${path}`, {
        rewrite: (u) => {
          if (!u.pathname.startsWith('/interaction/')) return u.href;
          u.searchParams.set('account', account);
          return u.href;
        },
      });
      return { status: res?.status ?? 0, url, body: browser.seen.at(-1) ?? '' };
    },
    async stop() {
      // Browsers first: a serving thread ends only once its keep-alive connections are closed.
      await Promise.all(browsers.map((b) => b.close()));
      await proxy.stop(1000);
      if (opts.idp === undefined) await idp.stop();
      await upstream.close();
    },
  };
}

/** Registers the IdP's login client for these proxy origins (callback and post-logout URLs). */
export async function registerLoginClient(idp: TestIdp, origins: readonly string[]):
  Promise<void> {
  await idp.setLoginClient({ redirectUris: origins.map((o) => `${o}/.portcullis/callback`),
    postLogoutRedirectUris: origins.flatMap((o) => [`${o}/`, `${o}/signed-out`]) });
}
