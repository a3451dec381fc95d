/**
 * The token request of the authorization code flow (RFC 6749 section 4.1.3, RFC 7636 section
 * 4.5), made by the proxy as a confidential client with `client_secret_basic` (section 2.3.1:
 * id and secret are form-encoded before they are joined, then base64).
 *
 * Bounded like every other outbound call: one deadline for the whole exchange, no redirects
 * followed, at most `kMaxResponseBytes` read. Only the ID token is taken from the answer; the
 * access and refresh tokens are not kept anywhere. What the IdP said goes to the result as its
 * OAuth `error` code (a short token), never as its text.
 */
import type { ErrorCode } from '../errors/index.js';

/** Inputs of one token request. */
export interface CodeExchange {
  readonly tokenEndpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly code: string;
  readonly redirectUri: string;
  readonly codeVerifier: string;
  readonly timeoutMs: number;
}

/** The ID token, or the code that ended the exchange and a detail safe to log. */
export type CodeExchangeResult =
  | { readonly ok: true; readonly idToken: string }
  | { readonly ok: false; readonly code: ErrorCode; readonly detail: string };

const kMaxResponseBytes = 64 * 1024;

/**
 * Exchanges the authorization code. Codes: IAM_LOGIN_CLIENT_AUTH_FAILED (`invalid_client`, or a
 * 401: the proxy's own credentials are wrong), IAM_LOGIN_CODE_REFUSED (`invalid_grant`: a used,
 * expired or foreign code, or a PKCE verifier that does not match), IAM_LOGIN_IDP_UNAVAILABLE
 * (anything else: unreachable, timeout, other errors, no ID token). Never rejects.
 */
export async function exchangeCode(x: CodeExchange): Promise<CodeExchangeResult> {
  const basic = Buffer.from(`${formEncode(x.clientId)}:${formEncode(x.clientSecret)}`)
    .toString('base64');
  const body = new URLSearchParams({ grant_type: 'authorization_code', code: x.code,
    redirect_uri: x.redirectUri, code_verifier: x.codeVerifier });

  // 1. The request, within one deadline.
  let status: number;
  let text: string;
  try {
    const res = await fetch(x.tokenEndpoint, {
      method: 'POST',
      redirect: 'manual',
      signal: AbortSignal.timeout(x.timeoutMs),
      headers: { authorization: `Basic ${basic}`, accept: 'application/json',
        'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    status = res.status;
    text = await readBounded(res);
  } catch (err) {
    const kind = (err as Error).name === 'TimeoutError' ? 'timeout' : 'network';
    return { ok: false, code: 'IAM_LOGIN_IDP_UNAVAILABLE', detail: kind };
  }

  // 2. The answer: JSON either way (section 5.1 and 5.2).
  const json = parseObject(text);
  if (status === 200) {
    const idToken = json?.id_token;
    if (typeof idToken === 'string' && idToken !== '') return { ok: true, idToken };
    return { ok: false, code: 'IAM_LOGIN_IDP_UNAVAILABLE', detail: 'no id_token in the answer' };
  }
  const error = typeof json?.error === 'string' && /^[\x20-\x7e]{1,64}$/.test(json.error)
    ? json.error : `HTTP ${status}`;
  if (error === 'invalid_client' || status === 401) {
    return { ok: false, code: 'IAM_LOGIN_CLIENT_AUTH_FAILED', detail: error };
  }
  if (error === 'invalid_grant') {
    return { ok: false, code: 'IAM_LOGIN_CODE_REFUSED', detail: error };
  }
  return { ok: false, code: 'IAM_LOGIN_IDP_UNAVAILABLE', detail: error };
}

/** application/x-www-form-urlencoded of one value (RFC 6749 appendix B). */
function formEncode(value: string): string {
  return new URLSearchParams({ v: value }).toString().slice(2);
}

async function readBounded(res: Response): Promise<string> {
  const reader = res.body?.getReader();
  if (reader === undefined) return '';
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > kMaxResponseBytes) {
      await reader.cancel();
      throw new Error('token response too large');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? value as Record<string, unknown> : undefined;
  } catch {
    return undefined;
  }
}
