/**
 * The registry of JWKS sources, one per configured issuer. Lookup is by the exact issuer string
 * (no normalization: `https://idp/` and `https://idp` are different issuers, as in OpenID Connect
 * Core section 2), so a token's `iss` can only ever reach a source that configuration created.
 */
import { PortcullisError } from '../errors/index.js';
import type { IssuerKeySet } from './key-set.js';
import { JwksSource, type JwksSourceOptions, type JwksSourceStatus } from './jwks-source.js';

/**
 * Owns one `JwksSource` per issuer. Build it from configuration, `startAll()` before serving,
 * `stopAll()` on shutdown.
 */
export class JwksSources {
  readonly #byIssuer = new Map<string, JwksSource>();

  /**
   * Create a source for each entry.
   * @throws PortcullisError `IAM_CONFIG_INVALID` on a repeated issuer or an invalid entry.
   */
  constructor(configs: readonly JwksSourceOptions[]) {
    for (const config of configs) {
      if (this.#byIssuer.has(config.issuer)) {
        throw new PortcullisError('IAM_CONFIG_INVALID', `issuer ${config.issuer} is listed twice.`);
      }
      this.#byIssuer.set(config.issuer, new JwksSource(config));
    }
  }

  /**
   * Start every source in parallel. If any fails, all are stopped and the first failure is
   * raised.
   * @throws PortcullisError `IAM_AUTHN_KEYS_UNAVAILABLE` naming the first issuer that failed.
   */
  async startAll(): Promise<void> {
    const results = await Promise.allSettled([...this.#byIssuer.values()].map((s) => s.start()));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed === undefined) return;
    this.stopAll();
    throw failed.reason;
  }

  /** The source for exactly this issuer string, or undefined if it is not configured. */
  get(issuer: string): JwksSource | undefined {
    return this.#byIssuer.get(issuer);
  }

  /** The current key set of `issuer`, or undefined if unknown or not loaded. */
  current(issuer: string): IssuerKeySet | undefined {
    return this.#byIssuer.get(issuer)?.current();
  }

  /** The configured issuers, in configuration order. */
  issuers(): string[] {
    return [...this.#byIssuer.keys()];
  }

  /** Health of every source, keyed by issuer. */
  status(): Record<string, JwksSourceStatus> {
    const out: Record<string, JwksSourceStatus> = {};
    for (const [issuer, source] of this.#byIssuer) out[issuer] = source.status();
    return out;
  }

  /** Stop every source's timers and fetches. */
  stopAll(): void {
    for (const source of this.#byIssuer.values()) source.stop();
  }
}
