/**
 * The login issuer's endpoints, from OpenID Connect discovery (Discovery 1.0 section 4): read
 * once at start-up, so every request builds its redirect without I/O. The proxy refuses to start
 * when the document is unreachable, names another issuer (section 4.3), lacks the endpoints the
 * authorization code flow needs, or says it cannot do what the proxy insists on (PKCE with S256,
 * client_secret_basic, the `code` response type).
 */
import { fetchJson } from '../authn/index.js';
import { PortcullisError } from '../errors/index.js';

/** What the login flow uses from the discovery document. */
export interface ProviderMetadata {
  readonly issuer: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  /** RP-Initiated Logout 1.0; undefined when the provider offers none. */
  readonly endSessionEndpoint: string | undefined;
  /** RFC 9207: the provider names itself in every authorization response (`iss`). */
  readonly sendsIssuerInResponse: boolean;
}

const kWellKnown = '/.well-known/openid-configuration';
const kMaxDocumentBytes = 256 * 1024;

/**
 * Fetches and checks `issuer`'s discovery document within `timeoutMs`.
 * @throws PortcullisError IAM_LOGIN_DISCOVERY_FAILED naming the issuer and what was wrong.
 */
export async function loadProviderMetadata(issuer: string, timeoutMs: number):
  Promise<ProviderMetadata> {
  let body: unknown;
  try {
    body = (await fetchJson(`${issuer.replace(/\/$/, '')}${kWellKnown}`,
      { timeoutMs, maxBytes: kMaxDocumentBytes })).body;
  } catch (err) {
    throw failure(issuer, `discovery document not loaded (${(err as Error).message})`);
  }
  return parseProviderMetadata(issuer, body);
}

/**
 * Checks a discovery document (see the file comment).
 * @throws PortcullisError IAM_LOGIN_DISCOVERY_FAILED.
 */
export function parseProviderMetadata(issuer: string, body: unknown): ProviderMetadata {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw failure(issuer, 'discovery document is not a JSON object');
  }
  const doc = body as Record<string, unknown>;

  // 1. The document speaks for the configured issuer, exactly.
  if (doc.issuer !== issuer) throw failure(issuer, 'discovery document names another issuer');

  // 2. The endpoints of the authorization code flow (and logout, when offered).
  const authorizationEndpoint = endpoint(issuer, doc, 'authorization_endpoint');
  const tokenEndpoint = endpoint(issuer, doc, 'token_endpoint');
  const endSessionEndpoint = doc.end_session_endpoint === undefined ? undefined
    : endpoint(issuer, doc, 'end_session_endpoint');

  // 3. What the proxy insists on, where the provider says what it supports.
  requireListed(issuer, doc, 'response_types_supported', 'code');
  requireListed(issuer, doc, 'code_challenge_methods_supported', 'S256');
  requireListed(issuer, doc, 'token_endpoint_auth_methods_supported', 'client_secret_basic');

  return Object.freeze({
    issuer,
    authorizationEndpoint,
    tokenEndpoint,
    endSessionEndpoint,
    sendsIssuerInResponse: doc.authorization_response_iss_parameter_supported === true,
  });
}

function endpoint(issuer: string, doc: Record<string, unknown>, name: string): string {
  const value = doc[name];
  if (typeof value !== 'string') throw failure(issuer, `discovery document has no ${name}`);
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw failure(issuer, `${name} is not a URL`);
  }
  const isHttp = url.protocol === 'https:' || url.protocol === 'http:';
  if (!isHttp || url.username !== '' || url.password !== '' || url.hash !== '') {
    throw failure(issuer, `${name} is not an http(s) URL without user info or fragment`);
  }
  return url.href;
}

/**
 * A capability the provider must list when it lists that kind at all. An absent list passes:
 * for auth methods the default is client_secret_basic (Discovery 1.0 section 3); providers that
 * omit `code_challenge_methods_supported` are taken to check PKCE (README known limitation).
 */
function requireListed(issuer: string, doc: Record<string, unknown>, name: string,
  wanted: string): void {
  const list = doc[name];
  if (list === undefined) return;
  if (!Array.isArray(list) || !list.includes(wanted)) {
    throw failure(issuer, `${name} does not list ${wanted}`);
  }
}

function failure(issuer: string, what: string): PortcullisError {
  return new PortcullisError('IAM_LOGIN_DISCOVERY_FAILED', `login issuer ${issuer}: ${what}`);
}
