/**
 * Builds the authentication stage from the `authn` configuration: one key source per issuer,
 * the verifier pool, the verified-token cache, and the Authenticator that ties them together.
 *
 * Key-set changes flow one way: a source's new version goes to the pool (workers fetch it on
 * first need) and flushes that issuer's cache entries.
 */
import { type AuthnConfig, kJwsAlgorithms } from '../config/index.js';
import type { Logger } from '../telemetry/index.js';
import {
  Authenticator, type CachedDerivation, type IssuerRuntime, type KeySetView,
  type OpaqueTokenIssuer, type SignatureVerifier,
} from './authenticator.js';
import { Introspector } from './introspection.js';
import { JwksSource, type JwksSourceStatus } from './jwks-source.js';
import { VerifiedTokenCache } from './token-cache.js';
import { InlineVerifier } from './inline-verifier.js';
import { VerifierPool, type VerifierPoolStats } from './verifier-pool.js';
import type { TokenLimits } from './token-shape.js';

/** The running authentication stage. */
export interface AuthnStage {
  /** Undefined when no issuer is configured: protected routes then answer 401. */
  readonly authenticator: Authenticator | undefined;
  /** Per-issuer key-source health, for readiness and the admin API. */
  status(): Record<string, JwksSourceStatus>;
  /** Verifier pool counters (metrics); undefined when there is no pool. */
  poolStats(): VerifierPoolStats | undefined;
  /** Each issuer's key source (serving threads get their key sets from these). */
  readonly sources: ReadonlyMap<string, JwksSource>;
  /**
   * The pool; undefined when no issuer is configured or every algorithm verifies inline
   * (`isPoolNeeded`). Serving threads' tokens for the other algorithms go to it too.
   */
  readonly pool: VerifierPool | undefined;
  /** Stops key refreshes and the worker threads. */
  stop(): Promise<void>;
}

/** Whether any algorithm goes to the pool (not every one is in `inlineAlgorithms`). */
export function isPoolNeeded(pool: AuthnConfig['pool']): boolean {
  const inline = new Set<string>(pool.inlineAlgorithms);
  return !kJwsAlgorithms.every((alg) => inline.has(alg));
}

/** Where a thread's signature checks go: `pool` takes what `inline` does not list. */
export interface SignatureRouting<P extends SignatureVerifier> {
  /** The pool (or a relay to it); undefined when every algorithm is inline. */
  readonly pool: P | undefined;
  readonly inline: { readonly verifier: InlineVerifier; readonly algorithms: ReadonlySet<string> }
    | undefined;
  /** What the Authenticator sends non-inline algorithms to: the pool, or else the inline one. */
  readonly fallback: SignatureVerifier;
}

/**
 * Builds one thread's verifiers from `authn.pool`; `makePool` runs only when some algorithm
 * needs the pool. With every algorithm inline (the default) the inline verifier also takes what
 * the pool would have refused: an algorithm off the allow-list gets the same code from either.
 */
export function signatureRouting<P extends SignatureVerifier>(config: AuthnConfig['pool'],
  makePool: () => P): SignatureRouting<P> {
  const algorithms = new Set<string>(config.inlineAlgorithms);
  const inline = algorithms.size === 0 ? undefined
    : { verifier: new InlineVerifier(config.engine, config.maxQueue), algorithms };
  if (isPoolNeeded(config)) {
    const pool = makePool();
    return { pool, inline, fallback: pool };
  }
  // Not needed means every algorithm is listed, so `inline` exists.
  return { pool: undefined, inline, fallback: (inline as NonNullable<typeof inline>).verifier };
}

/**
 * Loads every issuer's keys (rejects with IAM_AUTHN_KEYS_UNAVAILABLE, naming the issuer, if one
 * cannot be loaded: an issuer without keys would refuse every token, so the proxy refuses to
 * start instead) and starts the pool. With no issuers, starts nothing.
 */
export async function startAuthnStage(config: AuthnConfig, logger: Logger): Promise<AuthnStage> {
  if (config.issuers.length === 0) {
    return { authenticator: undefined, status: () => ({}), poolStats: () => undefined,
      sources: new Map(), pool: undefined, stop: async () => {} };
  }

  // Step 1: the verifiers and the cache.
  const { inlineAlgorithms: _inline, ...poolSizing } = config.pool;
  const { pool, inline, fallback } = signatureRouting(config.pool,
    () => new VerifierPool(poolSizing));
  const cache = new VerifiedTokenCache<CachedDerivation>(config.cache.maxEntries,
    config.cache.maxBytes);

  // Step 2: one key source per issuer; every new key-set version reaches the pool and the cache.
  const sources = new Map<string, JwksSource>();
  for (const issuer of config.issuers) {
    const source = keySourceFor(issuer);
    if (source === undefined) continue;
    source.onChange((keySet) => {
      pool?.setKeySet(keySet);
      inline?.verifier.setKeySet(keySet);
      cache.flushIssuer(keySet.issuer);
      logger.info('issuer keys loaded', { issuer: keySet.issuer, version: keySet.version,
        kids: keySet.keys.map((k) => k.kid) });
    });
    sources.set(issuer.issuer, source);
  }
  const { issuers, opaque } = issuerRuntimes(config, (name) => sources.get(name));

  // Step 3: first load of every issuer's keys; any failure stops everything started so far.
  const stop = async (): Promise<void> => {
    for (const source of sources.values()) source.stop();
    await pool?.close();
  };
  try {
    await Promise.all([...sources.values()].map((s) => s.start()));
  } catch (err) {
    await stop();
    throw err;
  }

  const authenticator = new Authenticator({
    issuers,
    pool: fallback,
    ...(inline === undefined ? {} : { inline }),
    cache,
    limits: tokenLimits(config),
    ...(opaque === undefined ? {} : { opaque }),
  });
  const status = (): Record<string, JwksSourceStatus> =>
    Object.fromEntries([...sources].map(([name, source]) => [name, source.status()]));
  return { authenticator, status, poolStats: () => pool?.stats, sources, pool, stop };
}

/** The size limits checked before any parsing of a token. */
export function tokenLimits(config: AuthnConfig): TokenLimits {
  return { maxTokenBytes: config.maxTokenBytes, maxHeaderBytes: config.maxTokenHeaderBytes };
}

/** The key source an issuer's configuration names, or undefined for introspection only. */
function keySourceFor(issuer: AuthnConfig['issuers'][number]): JwksSource | undefined {
  const hasKeySource = issuer.jwksFile !== undefined || issuer.jwksUrl !== undefined
    || issuer.discovery === true;
  if (!hasKeySource) return undefined;
  const location = issuer.jwksFile !== undefined ? { jwksFile: issuer.jwksFile }
    : issuer.jwksUrl !== undefined ? { jwksUrl: issuer.jwksUrl }
      : { discovery: issuer.issuer };
  return new JwksSource({
    issuer: issuer.issuer,
    ...location,
    minRefreshMs: issuer.refresh.minMs,
    maxRefreshMs: issuer.refresh.maxMs,
    minRefetchIntervalMs: issuer.refresh.unknownKidIntervalMs,
    fetchTimeoutMs: issuer.refresh.fetchTimeoutMs,
  });
}

/**
 * The issuers as the authenticator uses them, with their keys from `keysOf` (the main thread's
 * sources, or a serving thread's replicas), and the introspecting issuer if one is configured.
 * Every thread builds its own (each has its own introspection cache).
 */
export function issuerRuntimes(config: AuthnConfig,
  keysOf: (issuer: string) => KeySetView | undefined):
  { issuers: Map<string, IssuerRuntime>; opaque: OpaqueTokenIssuer | undefined } {
  const issuers = new Map<string, IssuerRuntime>();
  let opaque: OpaqueTokenIssuer | undefined;
  for (const issuer of config.issuers) {
    if (issuer.introspection !== undefined) {
      opaque = { issuer: issuer.issuer, introspector: new Introspector({
        endpoint: issuer.introspection.endpoint,
        clientId: issuer.introspection.clientId,
        clientSecret: issuer.introspection.clientSecret.reveal(),
        timeoutMs: issuer.refresh.fetchTimeoutMs,
      }) };
    }
    issuers.set(issuer.issuer, {
      source: keysOf(issuer.issuer),
      algorithms: issuer.algorithms,
      principal: { groupsClaims: issuer.groupsClaims, attributeClaims: issuer.attributeClaims },
      rules: {
        issuer: issuer.issuer,
        audiences: issuer.audiences,
        requiredClaims: issuer.requiredClaims,
        clockSkewSec: issuer.clockSkewSec,
        requireExp: issuer.requireExp,
        ...(issuer.maxTokenAgeSec === undefined ? {} : { maxTokenAgeSec: issuer.maxTokenAgeSec }),
        ...(issuer.typ === undefined ? {} : { typ: issuer.typ }),
      },
    });
  }
  return { issuers, opaque };
}
