/**
 * The browser-login half of the test OpenID provider (oidc-provider.ts): test accounts, the
 * confidential authorization-code client the proxy logs in with, and an interaction handler a
 * test completes headlessly. The provider redirects the browser to `/interaction/<uid>`; a GET
 * there (with the provider's cookies) finishes the step at once: the login prompt with the
 * account named by `?account=` (default `alice`), the consent prompt by granting what was asked.
 * `?deny=1` ends the interaction with `access_denied` instead.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Test accounts and the claims the provider releases for them (test data, no real person). */
export const kTestAccounts: Readonly<Record<string, Readonly<Record<string, unknown>>>> = {
  alice: { email: 'alice@example.com', email_verified: true, name: 'Alice', groups: ['staff'] },
  bob: { email: 'bob@example.com', email_verified: false, name: 'Bob', groups: ['staff'] },
  mallory: { email: 'mallory@evil.test@example.com', email_verified: true, name: 'Mallory',
    groups: ['staff'] },
  ines: { email: 'ines@b\u00fccher.example', email_verified: true, name: 'Ines', groups: [] },
};

/** The login client's id and its test-only secret (guards nothing real). */
export const kLoginClientId = 'portcullis-web';
export const kLoginClientSecret = 'portcullis-web-test-secret-5d8e2a91c04b7f36';

/** Where the login client may be sent back to; set by the test once the proxy's port is known. */
export interface LoginClientOptions {
  readonly redirectUris: readonly string[];
  readonly postLogoutRedirectUris?: readonly string[];
}

/** The members of an oidc-provider instance the interaction handler uses. */
export interface InteractingProvider {
  interactionDetails(req: IncomingMessage, res: ServerResponse): Promise<{
    prompt: { name: string; details: Record<string, unknown> };
    params: Record<string, unknown>;
    session?: { accountId?: string };
    grantId?: string;
  }>;
  interactionFinished(req: IncomingMessage, res: ServerResponse, result: Record<string, unknown>,
    opts?: { mergeWithLastSubmission?: boolean }): Promise<void>;
  Grant: GrantClass;
}

interface GrantInstance {
  addOIDCScope(scope: string): void;
  addOIDCClaims(claims: string[]): void;
  addResourceScope(indicator: string, scope: string): void;
  save(): Promise<string>;
}

interface GrantClass {
  new(opts: { accountId: string; clientId: string }): GrantInstance;
  find(id: string): Promise<GrantInstance | undefined>;
}

/** The provider configuration the login flow adds (merged into the provider's own). */
export function loginProviderConfig(alg: string, client: LoginClientOptions | undefined):
  Record<string, unknown> {
  return {
    findAccount: async (_ctx: unknown, sub: string) => {
      const claims = kTestAccounts[sub];
      if (claims === undefined) return undefined;
      return { accountId: sub, claims: async () => ({ sub, ...claims }) };
    },
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'],
      groups: ['groups'] },
    // ID tokens carry the released claims (the proxy reads no userinfo).
    conformIdTokenClaims: false,
    pkce: { required: () => true },
    loginClient: client === undefined ? undefined : {
      client_id: kLoginClientId,
      client_secret: kLoginClientSecret,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      redirect_uris: [...client.redirectUris],
      post_logout_redirect_uris: [...(client.postLogoutRedirectUris ?? [])],
      token_endpoint_auth_method: 'client_secret_basic',
      id_token_signed_response_alg: alg,
      scope: 'openid email profile groups',
    },
  };
}

/** Answers GET /interaction/<uid> (see the file comment). */
export async function completeInteraction(provider: InteractingProvider, req: IncomingMessage,
  res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://idp');
  const details = await provider.interactionDetails(req, res);
  if (url.searchParams.get('deny') === '1') {
    return provider.interactionFinished(req, res, { error: 'access_denied',
      error_description: 'the test denied the login' }, { mergeWithLastSubmission: false });
  }

  if (details.prompt.name === 'login') {
    const account = url.searchParams.get('account') ?? 'alice';
    if (kTestAccounts[account] === undefined) {
      res.writeHead(400).end('unknown test account');
      return;
    }
    return provider.interactionFinished(req, res, { login: { accountId: account } },
      { mergeWithLastSubmission: false });
  }

  // Consent: grant exactly what the provider says is missing.
  const accountId = details.session?.accountId ?? '';
  const clientId = String(details.params['client_id']);
  const grant = (details.grantId === undefined ? undefined
    : await provider.Grant.find(details.grantId)) ?? new provider.Grant({ accountId, clientId });
  const missing = details.prompt.details as {
    missingOIDCScope?: string[]; missingOIDCClaims?: string[];
    missingResourceScopes?: Record<string, string[]>;
  };
  if (missing.missingOIDCScope !== undefined) {
    grant.addOIDCScope(missing.missingOIDCScope.join(' '));
  }
  if (missing.missingOIDCClaims !== undefined) grant.addOIDCClaims(missing.missingOIDCClaims);
  for (const [indicator, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
    grant.addResourceScope(indicator, scopes.join(' '));
  }
  const grantId = await grant.save();
  return provider.interactionFinished(req, res, { consent: { grantId } },
    { mergeWithLastSubmission: true });
}
