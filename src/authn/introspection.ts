/**
 * OAuth 2.0 token introspection (RFC 7662) for opaque access tokens.
 *
 * The proxy authenticates to the endpoint as a confidential client (client_secret_basic,
 * RFC 6749 section 2.3.1), sends the token in a form body (never in a URL), and bounds the
 * exchange in time and size. Answers are cached: an active token until its `exp` (and at most
 * five minutes, through the verified-token cache the caller owns), an inactive one for
 * `kInactiveTtlMs` so that a flood of bad tokens costs the issuer one request each at most.
 */
import type { ErrorCode } from '../errors/index.js';

/** What the endpoint said: active with its claims, inactive, or failure to ask. */
export type IntrospectionResult =
  | { readonly ok: true; readonly active: true; readonly claims: Record<string, unknown> }
  | { readonly ok: true; readonly active: false }
  | { readonly ok: false; readonly code: ErrorCode };

/** Where and how to ask. */
export interface IntrospectorOptions {
  readonly endpoint: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly timeoutMs?: number;
}

const kInactiveTtlMs = 10_000;
const kMaxInactive = 10_000;
const kMaxBodyBytes = 64 * 1024;
const kFailed: IntrospectionResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_INTROSPECTION_FAILED' });
const kInactive: IntrospectionResult = Object.freeze({ ok: true, active: false });

/** Asks one introspection endpoint; remembers inactive answers briefly. */
export class Introspector {
  readonly #endpoint: string;
  readonly #authorization: string;
  readonly #timeoutMs: number;
  readonly #inactiveUntil = new Map<string, number>();

  constructor(opts: IntrospectorOptions) {
    this.#endpoint = opts.endpoint;
    const pair = `${encodeURIComponent(opts.clientId)}:${encodeURIComponent(opts.clientSecret)}`;
    this.#authorization = `Basic ${Buffer.from(pair).toString('base64')}`;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
  }

  /** Whether `token` was found inactive in the last few seconds (no request is made). */
  isKnownInactive(token: string, nowMs: number): boolean {
    const until = this.#inactiveUntil.get(token);
    if (until === undefined) return false;
    if (until > nowMs) return true;
    this.#inactiveUntil.delete(token);
    return false;
  }

  /** Asks the endpoint about `token`. Never throws. */
  async introspect(token: string): Promise<IntrospectionResult> {
    let body: unknown;
    try {
      const res = await fetch(this.#endpoint, {
        method: 'POST',
        redirect: 'error',
        headers: {
          authorization: this.#authorization,
          'content-type': 'application/x-www-form-urlencoded',
          accept: 'application/json',
        },
        body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
        signal: AbortSignal.timeout(this.#timeoutMs),
      });
      const text = await res.text();
      if (res.status !== 200 || text.length > kMaxBodyBytes) return kFailed;
      body = JSON.parse(text);
    } catch {
      return kFailed;
    }

    // RFC 7662 section 2.2: `active` is the one required member.
    if (typeof body !== 'object' || body === null || Array.isArray(body)) return kFailed;
    const claims = body as Record<string, unknown>;
    if (claims.active !== true) {
      if (this.#inactiveUntil.size >= kMaxInactive) this.#inactiveUntil.clear();
      this.#inactiveUntil.set(token, Date.now() + kInactiveTtlMs);
      return kInactive;
    }
    return { ok: true, active: true, claims };
  }
}
