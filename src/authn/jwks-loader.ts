/**
 * The three ways a JWKS source gets its document: a static file, a JWKS URL, or OpenID Connect
 * discovery (OpenID Connect Discovery 1.0, section 4). Each returns the raw JSON body or a failure
 * kind; filtering is the caller's job. For discovery, the document's `issuer` must equal the
 * configured issuer exactly (section 4.3) and `jwks_uri` must be an http(s) URL; the URI is
 * remembered and rediscovered only after a JWKS fetch fails.
 */
import { readFile, stat } from 'node:fs/promises';
import { PortcullisError } from '../errors/index.js';
import { JwksFetchError, fetchJson } from './jwks-fetch.js';

/** Exactly one location for an issuer's keys. */
export type KeyLoaderConfig =
  | { readonly jwksFile: string; readonly jwksUrl?: undefined; readonly discovery?: undefined }
  | { readonly jwksUrl: string; readonly jwksFile?: undefined; readonly discovery?: undefined }
  | { readonly discovery: string; readonly jwksFile?: undefined; readonly jwksUrl?: undefined };

/** Limits applied to every read or fetch a loader makes. */
export interface KeyLoaderLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly signal: AbortSignal;
}

/**
 * The outcome of one load. `kind` on failure is a stable word for status and logs:
 * a `JwksFetchError` kind, or `file_unreadable`, `issuer_mismatch`, `discovery_invalid`.
 */
export type KeyLoadOutcome =
  | { readonly ok: true; readonly body: unknown; readonly maxAgeSec: number | undefined }
  | { readonly ok: false; readonly kind: string };

/** Loads the document once per call; never rejects. */
export type KeyLoad = () => Promise<KeyLoadOutcome>;

const kWellKnownPath = '/.well-known/openid-configuration';

/**
 * Build the loader for `config`, validating it first.
 * @throws PortcullisError `IAM_CONFIG_INVALID` unless exactly one location is set and any URL is
 *   an absolute http(s) URL.
 */
export function createKeyLoader(
  config: KeyLoaderConfig,
  issuer: string,
  limits: KeyLoaderLimits,
): KeyLoad {
  const set = [config.jwksFile, config.jwksUrl, config.discovery].filter((v) => v !== undefined);
  if (set.length !== 1) {
    const detail = `issuer ${issuer}: set exactly one of jwksFile, jwksUrl, discovery.`;
    throw new PortcullisError('IAM_CONFIG_INVALID', detail);
  }

  if (config.jwksFile !== undefined) return () => loadFile(config.jwksFile, limits);
  if (config.jwksUrl !== undefined) {
    const url = requireHttpUrl(config.jwksUrl, issuer);
    return () => loadUrl(url, limits);
  }
  const discoveryUrl = requireHttpUrl(`${config.discovery.replace(/\/$/, '')}${kWellKnownPath}`,
    issuer);
  let jwksUri: string | undefined;
  return async () => {
    // 1. Discover the jwks_uri if we do not hold one yet.
    if (jwksUri === undefined) {
      const discovered = await discover(discoveryUrl, issuer, limits);
      if (!discovered.ok) return discovered;
      jwksUri = discovered.jwksUri;
    }

    // 2. Fetch the key set; on failure forget the URI so the next attempt rediscovers.
    const outcome = await loadUrl(jwksUri, limits);
    if (!outcome.ok) jwksUri = undefined;
    return outcome;
  };
}

async function discover(
  url: string,
  issuer: string,
  limits: KeyLoaderLimits,
): Promise<{ ok: true; jwksUri: string } | { ok: false; kind: string }> {
  const outcome = await loadUrl(url, limits);
  if (!outcome.ok) return outcome;
  const doc = outcome.body;
  if (typeof doc !== 'object' || doc === null) return { ok: false, kind: 'discovery_invalid' };

  const record = doc as Record<string, unknown>;
  if (record['issuer'] !== issuer) return { ok: false, kind: 'issuer_mismatch' };
  const jwksUri = record['jwks_uri'];
  if (typeof jwksUri !== 'string' || !isHttpUrl(jwksUri)) {
    return { ok: false, kind: 'discovery_invalid' };
  }
  return { ok: true, jwksUri };
}

async function loadUrl(url: string, limits: KeyLoaderLimits): Promise<KeyLoadOutcome> {
  try {
    const { body, maxAgeSec } = await fetchJson(url, limits);
    return { ok: true, body, maxAgeSec };
  } catch (err) {
    return { ok: false, kind: err instanceof JwksFetchError ? err.kind : 'network' };
  }
}

async function loadFile(path: string, limits: KeyLoaderLimits): Promise<KeyLoadOutcome> {
  let text: string;
  try {
    if ((await stat(path)).size > limits.maxBytes) return { ok: false, kind: 'too_large' };
    text = await readFile(path, { encoding: 'utf8', signal: limits.signal });
  } catch {
    return { ok: false, kind: 'file_unreadable' };
  }
  // The file may have grown between stat and read; the bound holds on what was read.
  if (Buffer.byteLength(text) > limits.maxBytes) return { ok: false, kind: 'too_large' };
  try {
    return { ok: true, body: JSON.parse(text) as unknown, maxAgeSec: undefined };
  } catch {
    return { ok: false, kind: 'invalid_json' };
  }
}

function requireHttpUrl(url: string, issuer: string): string {
  if (isHttpUrl(url)) return url;
  throw new PortcullisError('IAM_CONFIG_INVALID', `issuer ${issuer}: key URL must be http(s).`);
}

function isHttpUrl(value: string): boolean {
  try {
    const { protocol } = new URL(value);
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}
