/**
 * Bounded JSON fetch for key material (JWKS documents, OpenID discovery documents).
 *
 * Every limit is enforced here rather than trusted to the server: the scheme (http/https only,
 * on the first URL and on every redirect hop, no https-to-http downgrade), the redirect count,
 * one deadline covering connect, headers and body, and the body size (checked against
 * Content-Length first and again while streaming, so an unannounced large body is cut off).
 * Failures are `JwksFetchError`s with a `kind`; no library text reaches their message.
 */
import { PortcullisError } from '../errors/index.js';

/** What went wrong in a `fetchJson` call; stable, safe to log and to assert on. */
export type JwksFetchFailureKind =
  | 'scheme'
  | 'redirect'
  | 'status'
  | 'timeout'
  | 'too_large'
  | 'invalid_json'
  | 'network'
  | 'aborted';

/**
 * A failed key-material fetch. The code is always `IAM_AUTHN_KEYS_UNAVAILABLE`; `kind` says why
 * and `detail` names the URL (origin and path only, never userinfo or query) and, for `status`,
 * the HTTP status.
 */
export class JwksFetchError extends PortcullisError {
  readonly kind: JwksFetchFailureKind;

  constructor(kind: JwksFetchFailureKind, url: string, extra?: string) {
    const suffix = extra === undefined ? '' : ` (${extra})`;
    super('IAM_AUTHN_KEYS_UNAVAILABLE', `${kind} fetching ${safeUrl(url)}${suffix}`);
    this.name = 'JwksFetchError';
    this.kind = kind;
  }
}

/** Limits of one `fetchJson` call. */
export interface FetchJsonOptions {
  /** Deadline for the whole exchange, redirects and body included, in milliseconds. */
  readonly timeoutMs: number;
  /** Largest accepted body, in bytes; a larger body aborts the request. */
  readonly maxBytes: number;
  /** Redirect hops followed before failing with kind `redirect`. Default 3. */
  readonly maxRedirects?: number;
  /** Cancels the call (kind `aborted`), e.g. when the owning source stops. */
  readonly signal?: AbortSignal;
}

/** A parsed JSON document and the caching hints that came with it. */
export interface FetchJsonResult {
  /** The parsed body; the caller validates its shape. */
  readonly body: unknown;
  /** Freshness lifetime in seconds from Cache-Control (0 for no-store/no-cache), if given. */
  readonly maxAgeSec: number | undefined;
  readonly etag?: string;
}

const kDefaultMaxRedirects = 3;
const kRedirectStatuses = new Set([301, 302, 303, 307, 308]);

/**
 * GET `url` and parse its body as JSON, within `opts`' limits. Never follows a redirect to a
 * scheme other than http/https or from https down to http.
 *
 * @throws JwksFetchError (code `IAM_AUTHN_KEYS_UNAVAILABLE`) on any failure.
 */
export async function fetchJson(url: string, opts: FetchJsonOptions): Promise<FetchJsonResult> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), opts.timeoutMs);
  const onCancel = (): void => controller.abort();
  opts.signal?.addEventListener('abort', onCancel, { once: true });
  try {
    if (opts.signal?.aborted) throw new JwksFetchError('aborted', url);
    const response = await fetchFollowing(url, opts, controller.signal);
    const bytes = await readBounded(response, url, opts.maxBytes, controller);
    const etag = response.headers.get('etag') ?? undefined;
    return {
      body: parseJson(bytes, url),
      maxAgeSec: parseMaxAge(response.headers.get('cache-control'), response.headers.get('age')),
      ...(etag === undefined ? {} : { etag }),
    };
  } catch (err) {
    if (err instanceof JwksFetchError) throw err;
    if (opts.signal?.aborted) throw new JwksFetchError('aborted', url);
    if (controller.signal.aborted) throw new JwksFetchError('timeout', url);
    throw new JwksFetchError('network', url);
  } finally {
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onCancel);
  }
}

/** Follow up to `maxRedirects` hops by hand so that each target's scheme is checked. */
async function fetchFollowing(
  first: string,
  opts: FetchJsonOptions,
  signal: AbortSignal,
): Promise<Response> {
  let current = checkedUrl(first, undefined);
  const maxRedirects = opts.maxRedirects ?? kDefaultMaxRedirects;
  for (let hop = 0; ; hop++) {
    const response = await fetch(current, {
      redirect: 'manual',
      signal,
      headers: { accept: 'application/json' },
    });

    if (kRedirectStatuses.has(response.status)) {
      await response.body?.cancel();
      const location = response.headers.get('location');
      if (location === null || hop >= maxRedirects) throw new JwksFetchError('redirect', first);
      current = checkedUrl(new URL(location, current).href, current);
      continue;
    }

    if (response.status < 200 || response.status > 299) {
      await response.body?.cancel();
      throw new JwksFetchError('status', first, `HTTP ${response.status}`);
    }
    return response;
  }
}

/** Parse and vet one URL: http(s) only, and no step down from https. */
function checkedUrl(href: string, from: URL | undefined): URL {
  let parsed: URL;
  try {
    parsed = new URL(href);
  } catch {
    throw new JwksFetchError('scheme', from?.href ?? 'invalid-url');
  }
  const isHttp = parsed.protocol === 'http:' || parsed.protocol === 'https:';
  if (!isHttp) throw new JwksFetchError(from ? 'redirect' : 'scheme', from?.href ?? href);
  if (from?.protocol === 'https:' && parsed.protocol === 'http:') {
    throw new JwksFetchError('redirect', from.href);
  }
  return parsed;
}

/** Read the body, aborting the request as soon as it passes `maxBytes`. */
async function readBounded(
  response: Response,
  url: string,
  maxBytes: number,
  controller: AbortController,
): Promise<Uint8Array> {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await response.body?.cancel();
    throw new JwksFetchError('too_large', url);
  }

  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = response.body?.getReader();
  for (;;) {
    if (reader === undefined) break;
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      controller.abort();
      throw new JwksFetchError('too_large', url);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total);
}

function parseJson(bytes: Uint8Array, url: string): unknown {
  try {
    return JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as unknown;
  } catch {
    throw new JwksFetchError('invalid_json', url);
  }
}

/**
 * Freshness from Cache-Control (RFC 9111 section 5.2.2): `no-store` and `no-cache` give 0,
 * `max-age=N` gives N minus the `Age` header; anything else gives undefined.
 */
export function parseMaxAge(cacheControl: string | null, age?: string | null): number | undefined {
  if (cacheControl === null) return undefined;
  let maxAge: number | undefined;
  for (const part of cacheControl.split(',')) {
    const [rawName, rawValue] = part.split('=', 2);
    const name = rawName?.trim().toLowerCase();
    if (name === 'no-store' || name === 'no-cache') return 0;
    if (name !== 'max-age' || rawValue === undefined) continue;
    const value = rawValue.trim().replace(/^"(.*)"$/, '$1');
    if (/^\d{1,10}$/.test(value)) maxAge = Number(value);
  }
  if (maxAge === undefined) return undefined;
  const ageSec = age != null && /^\d{1,10}$/.test(age.trim()) ? Number(age.trim()) : 0;
  return Math.max(0, maxAge - ageSec);
}

function safeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'invalid-url';
  }
}
