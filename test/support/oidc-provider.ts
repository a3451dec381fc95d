/**
 * A real OpenID provider (`oidc-provider`, panva, v9) on 127.0.0.1 for tests that need genuine
 * JWT access tokens: the client_credentials grant with a resource indicator (RFC 8707), signing
 * keys generated in-process, and key rotation; and for browser login, an authorization-code
 * client with test accounts and interactions a test completes headlessly
 * (oidc-provider-login.ts). The package ships no type declarations, so it is imported through a
 * variable specifier and described by the few members used here.
 */
import { randomUUID } from 'node:crypto';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { type JWK, exportJWK, generateKeyPair } from 'jose';
import {
  completeInteraction, type InteractingProvider, kLoginClientId, kLoginClientSecret,
  type LoginClientOptions, loginProviderConfig,
} from './oidc-provider-login.js';

const kProviderModule = 'oidc-provider';
const kAudience = 'https://api.portcullis.test';
const kScopes = 'read write';
const kTokenPath = '/token';
const kJwksPath = '/jwks';
/** Test-only credentials of the two confidential clients; they guard nothing real. */
const kClientSecrets: Readonly<Record<string, string>> = {
  'svc-a': 'svc-a-test-secret-3f9c1d7e',
  'svc-b': 'svc-b-test-secret-8a2b6e04',
};

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
type Alg = 'RS256' | 'ES256' | 'EdDSA';

interface ProviderModule {
  default: new (issuer: string, config: Record<string, unknown>) =>
    InteractingProvider & { callback(): Handler };
  errors: { InvalidTarget: new (detail?: string) => Error };
}

/** A running provider. Tokens and keys live only as long as the process. */
export interface TestIdp {
  /** `http://127.0.0.1:<port>`, no trailing slash; also the `iss` claim of every token. */
  readonly issuer: string;
  readonly jwksUri: string;
  /** The resource indicator every token is issued for; also its `aud` claim. */
  readonly audience: string;
  /**
   * A JWT access token from the client_credentials grant for `clientId` (default 'svc-a',
   * also 'svc-b'), authenticated with client_secret_basic, sending `resource=<audience>` and
   * `scope` (default 'read write'). Rejects with an Error naming the HTTP status and the OAuth
   * `error` code when the provider refuses, or when the answer is not a three-segment JWT.
   */
  clientCredentialsToken(opts?: { scope?: string; clientId?: string }): Promise<string>;
  /** An opaque access token for `clientId` (no resource indicator), to be introspected. */
  opaqueToken(clientId?: string): Promise<string>;
  /** The RFC 7662 introspection endpoint. */
  readonly introspectionEndpoint: string;
  /** The secret of a test client, for configuring the proxy as an introspecting client. */
  clientSecret(clientId: string): string;
  /**
   * Key rotation: a new RSA key with a new kid becomes the signing key. With `keepPrevious` the
   * keys in use so far stay published after it (tokens they signed keep verifying); without it
   * the new key is the only one. The provider is rebuilt behind the same listener (same port,
   * same issuer), because oidc-provider reads its JWKS once at construction; provider state
   * other than keys (none matters for JWTs) is lost.
   */
  rotateKeys(opts?: { keepPrevious?: boolean }): Promise<void>;
  /**
   * Registers (or replaces) the confidential authorization-code client `loginClientId`, with
   * these redirect URIs; the provider is rebuilt behind the same listener, keys kept.
   */
  setLoginClient(opts: LoginClientOptions): Promise<void>;
  /** The login client's id and secret (client_secret_basic). */
  readonly loginClientId: string;
  readonly loginClientSecret: string;
  /**
   * Every answer of the token endpoint so far, with the request's Authorization header (tests
   * check the client authenticated, and scan everything else for the tokens issued here).
   */
  readonly tokenExchanges: ReadonlyArray<TokenExchange>;
  /** Closes the listener and every open connection; safe to call twice. */
  stop(): Promise<void>;
}

/** One request to the token endpoint as the provider saw and answered it. */
export interface TokenExchange {
  readonly authorization: string | undefined;
  readonly status: number;
  /** The JSON body answered (holds the tokens issued). */
  readonly body: string;
}

/** Options for `startTestIdp`. */
export interface TestIdpOptions {
  /** Signing algorithm of the first key (default RS256); keys from `rotateKeys` are RS256. */
  alg?: Alg;
  /** Access token lifetime in seconds (default 300). */
  accessTokenTtlSec?: number;
}

/** Starts the provider on an ephemeral port of 127.0.0.1; `stop()` it when done. */
export async function startTestIdp(opts: TestIdpOptions = {}): Promise<TestIdp> {
  const module = (await import(kProviderModule)) as ProviderModule;
  const idp = new OidcTestIdp(module, opts.accessTokenTtlSec ?? 300);
  await idp.listen();
  try {
    await idp.installKey(opts.alg ?? 'RS256');
  } catch (err) {
    await idp.stop();
    throw err;
  }
  return idp;
}

/** An in-memory storage adapter; supplying one keeps the provider from warning about its own. */
class MapAdapter {
  static readonly #rows = new Map<string, Record<string, unknown>>();
  readonly #name: string;

  constructor(name: string) {
    this.#name = name;
  }

  #key(id: string): string {
    return `${this.#name}:${id}`;
  }

  async upsert(id: string, payload: Record<string, unknown>): Promise<void> {
    MapAdapter.#rows.set(this.#key(id), payload);
  }

  async find(id: string): Promise<Record<string, unknown> | undefined> {
    return MapAdapter.#rows.get(this.#key(id));
  }

  async findByUid(uid: string): Promise<Record<string, unknown> | undefined> {
    for (const row of MapAdapter.#rows.values()) if (row['uid'] === uid) return row;
    return undefined;
  }

  async findByUserCode(code: string): Promise<Record<string, unknown> | undefined> {
    for (const row of MapAdapter.#rows.values()) if (row['userCode'] === code) return row;
    return undefined;
  }

  async consume(id: string): Promise<void> {
    const row = MapAdapter.#rows.get(this.#key(id));
    if (row !== undefined) row['consumed'] = Math.floor(Date.now() / 1000);
  }

  async destroy(id: string): Promise<void> {
    MapAdapter.#rows.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    for (const [key, row] of MapAdapter.#rows) {
      if (row['grantId'] === grantId) MapAdapter.#rows.delete(key);
    }
  }
}

class OidcTestIdp implements TestIdp {
  readonly audience = kAudience;
  readonly loginClientId = kLoginClientId;
  readonly loginClientSecret = kLoginClientSecret;
  readonly tokenExchanges: TokenExchange[] = [];
  readonly #module: ProviderModule;
  readonly #ttlSec: number;
  readonly #server: Server;
  #handler: Handler | undefined;
  #provider: InteractingProvider | undefined;
  #loginClient: LoginClientOptions | undefined;
  readonly #cookieKeys = [randomUUID()];
  /** The published private JWKs, the signing key first. */
  #keys: JWK[] = [];
  #issuer = '';
  #stopped: Promise<void> | undefined;

  constructor(module: ProviderModule, ttlSec: number) {
    this.#module = module;
    this.#ttlSec = ttlSec;
    // The handler is looked up per request so rotateKeys can swap providers under one listener.
    this.#server = createServer((req, res) => {
      const provider = this.#provider;
      if (provider !== undefined && req.method === 'GET' && req.url?.startsWith('/interaction/')) {
        completeInteraction(provider, req, res).catch(() => {
          if (!res.headersSent) res.writeHead(500);
          res.end();
        });
        return;
      }
      if (req.method === 'POST' && req.url === kTokenPath) this.#recordTokenAnswer(req, res);
      if (this.#handler !== undefined) return this.#handler(req, res);
      res.writeHead(503).end();
    });
  }

  get issuer(): string {
    return this.#issuer;
  }

  get introspectionEndpoint(): string {
    return `${this.#issuer}${kTokenPath}/introspection`;
  }

  clientSecret(clientId: string): string {
    const secret = kClientSecrets[clientId];
    if (secret === undefined) throw new Error(`unknown test client ${clientId}`);
    return secret;
  }

  get jwksUri(): string {
    return `${this.#issuer}${kJwksPath}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(0, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#issuer = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  async installKey(alg: Alg, keepPrevious = false): Promise<void> {
    const { privateKey } = await generateKeyPair(alg, { extractable: true });
    const jwk: JWK = { ...(await exportJWK(privateKey)), kid: randomUUID(), alg, use: 'sig' };
    // oidc-provider signs with the first key of the wanted algorithm: the new key goes first.
    this.#keys = keepPrevious ? [jwk, ...this.#keys] : [jwk];
    this.#build();
  }

  /** Keeps a copy of what the token endpoint answers `req`. */
  #recordTokenAnswer(req: IncomingMessage, res: ServerResponse): void {
    const chunks: Buffer[] = [];
    const write = res.write.bind(res) as (chunk: unknown, ...rest: unknown[]) => boolean;
    const end = res.end.bind(res) as (...args: unknown[]) => ServerResponse;
    res.write = ((chunk: unknown, ...rest: unknown[]) => {
      if (chunk !== undefined && chunk !== null) chunks.push(Buffer.from(chunk as string));
      return write(chunk, ...rest);
    }) as typeof res.write;
    res.end = ((chunk?: unknown, ...rest: unknown[]) => {
      if (chunk !== undefined && chunk !== null && typeof chunk !== 'function') {
        chunks.push(Buffer.from(chunk as string));
      }
      this.tokenExchanges.push({ authorization: req.headers.authorization,
        status: res.statusCode, body: Buffer.concat(chunks).toString('utf8') });
      return end(chunk, ...rest);
    }) as typeof res.end;
  }

  async setLoginClient(opts: LoginClientOptions): Promise<void> {
    this.#loginClient = opts;
    this.#build();
  }

  /** A provider with the current keys and clients, behind the same listener. */
  #build(): void {
    const signing = this.#keys[0];
    if (signing === undefined) throw new Error('no signing key installed');
    const provider = new this.#module.default(this.#issuer, this.#config(signing));
    this.#provider = provider;
    this.#handler = provider.callback();
  }

  /** An opaque access token (no resource indicator), for introspection tests. */
  async opaqueToken(clientId = 'svc-a'): Promise<string> {
    return this.clientCredentialsToken({ clientId, opaque: true });
  }

  async clientCredentialsToken(opts: { scope?: string; clientId?: string; opaque?: boolean } = {}):
    Promise<string> {
    const clientId = opts.clientId ?? 'svc-a';
    const secret = kClientSecrets[clientId];
    if (secret === undefined) throw new Error(`unknown test client ${clientId}`);

    // RFC 6749 section 2.3.1: form-encode id and secret before joining them for Basic.
    const basic = Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(secret)}`);
    const body = new URLSearchParams({ grant_type: 'client_credentials' });
    if (opts.opaque !== true) body.set('resource', kAudience);
    body.set('scope', opts.scope ?? kScopes);
    const res = await fetch(`${this.#issuer}${kTokenPath}`, {
      method: 'POST',
      headers: { authorization: `Basic ${basic.toString('base64')}` },
      body,
    });

    const json = (await res.json()) as { access_token?: unknown; error?: unknown };
    if (res.status !== 200) {
      throw new Error(`token endpoint answered ${res.status} ${String(json.error)}`);
    }
    const token = json.access_token;
    const isJwt = typeof token === 'string' && token.split('.').length === 3;
    if (typeof token !== 'string' || isJwt === (opts.opaque === true)) {
      throw new Error(`token endpoint answered 200 without the ${opts.opaque === true ? 'opaque' : 'JWT'} access token asked for`);
    }
    return token;
  }

  async rotateKeys(opts: { keepPrevious?: boolean } = {}): Promise<void> {
    await this.installKey('RS256', opts.keepPrevious === true);
  }

  async stop(): Promise<void> {
    this.#stopped ??= new Promise<void>((resolve) => {
      this.#handler = undefined;
      this.#provider = undefined;
      this.#server.close(() => resolve());
      this.#server.closeAllConnections();
    });
    return this.#stopped;
  }

  #config(jwk: JWK): Record<string, unknown> {
    const alg = jwk.alg ?? 'RS256';
    const { InvalidTarget } = this.#module.errors;
    const { loginClient, ...login } = loginProviderConfig(alg, this.#loginClient);
    return {
      ...login,
      adapter: MapAdapter,
      jwks: { keys: this.#keys },
      routes: { token: kTokenPath, jwks: kJwksPath },
      cookies: { keys: this.#cookieKeys },
      scopes: [...kScopes.split(' '), 'openid', 'email', 'profile', 'groups'],
      clients: [...(loginClient === undefined ? [] : [loginClient]),
        ...Object.entries(kClientSecrets).map(([clientId, clientSecret]) => ({
        client_id: clientId,
        client_secret: clientSecret,
        grant_types: ['client_credentials'],
        response_types: [],
        redirect_uris: [],
        token_endpoint_auth_method: 'client_secret_basic',
        // The RS256 default would make the client invalid when the only key is ES256 or EdDSA.
        id_token_signed_response_alg: alg,
        scope: kScopes,
      }))],
      ttl: { ClientCredentials: this.#ttlSec, AccessToken: this.#ttlSec, IdToken: 300,
        AuthorizationCode: 60, Interaction: 600, Session: 3600, Grant: 3600 },
      features: {
        devInteractions: { enabled: false },
        introspection: { enabled: true },
        clientCredentials: { enabled: true },
        resourceIndicators: {
          enabled: true,
          getResourceServerInfo: async (_ctx: unknown, resource: string) => {
            if (resource !== kAudience) throw new InvalidTarget();
            return {
              scope: kScopes,
              audience: kAudience,
              accessTokenTTL: this.#ttlSec,
              accessTokenFormat: 'jwt',
              jwt: { sign: { alg } },
            };
          },
        },
      },
    };
  }
}
