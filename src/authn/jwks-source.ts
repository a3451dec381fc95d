/**
 * One issuer's signing keys, kept current: loaded from a static file, a JWKS URL or OpenID
 * discovery, refreshed in the background on the server's Cache-Control hint, refetched at most
 * once per interval when a token names an unknown `kid`. A failed load never replaces the last
 * good key set. Every URL comes from configuration or from the configured issuer's discovery
 * document; nothing a token carries (`jku`, `x5u`, `kid`) ever selects where we fetch from.
 */
import type { JWK } from 'jose';
import { PortcullisError } from '../errors/index.js';
import type { IssuerKeySet } from './key-set.js';
import { filterJwks, kDefaultMaxKeys, keySetDigest } from './jwks-filter.js';
import { type KeyLoad, type KeyLoaderConfig, createKeyLoader } from './jwks-loader.js';
import { RefreshSchedule, type RefreshTimingOptions } from './jwks-schedule.js';

/** Where the keys come from: exactly one of `jwksFile`, `jwksUrl` or `discovery`. */
export type JwksSourceLocation = KeyLoaderConfig;

/** Configuration of one `JwksSource`. Times in milliseconds, sizes in bytes. */
export type JwksSourceOptions = JwksSourceLocation & RefreshTimingOptions & {
  /** The issuer exactly as tokens carry it in `iss` and discovery carries it in `issuer`. */
  readonly issuer: string;
  /** Minimum time between two refetches triggered by unknown `kid`s. Default 30 s. */
  readonly minRefetchIntervalMs?: number;
  /** Deadline of one fetch. Default 5 s. */
  readonly fetchTimeoutMs?: number;
  /** Largest accepted document. Default 512 KiB. */
  readonly maxBytes?: number;
  /** Most keys kept from one JWKS. Default 100. */
  readonly maxKeys?: number;
};

/** Health of a source, for the admin API and the degraded-state warning. */
export interface JwksSourceStatus {
  /** Wall-clock time (epoch ms) of the last successful load, if any. */
  readonly lastSuccessMs: number | undefined;
  /** Failure kind of the latest load if it failed (e.g. `timeout`, `status`), else undefined. */
  readonly lastError: string | undefined;
  readonly consecutiveFailures: number;
  /** Failed loads since the source started (a counter, for metrics). */
  readonly totalFailures: number;
  /** Time since the current key set was last confirmed by a successful load, if any. */
  readonly keySetAgeMs: number | undefined;
  /** Version of the current key set; 0 before the first load. */
  readonly version: number;
}

const kDefaultMinRefetchIntervalMs = 30_000;
const kDefaultFetchTimeoutMs = 5_000;
const kDefaultMaxBytes = 512 * 1024;

/**
 * Keeps one issuer's `IssuerKeySet` current. Call `start()` once, then read `current()`; call
 * `stop()` to cancel every timer and in-flight fetch. Listener callbacks run synchronously after
 * a version change; a throwing listener does not affect the source or the other listeners.
 */
export class JwksSource {
  readonly #issuer: string;
  readonly #load: KeyLoad;
  readonly #schedule: RefreshSchedule;
  readonly #minRefetchIntervalMs: number;
  readonly #maxKeys: number;
  readonly #listeners = new Set<(ks: IssuerKeySet) => void>();
  readonly #abort = new AbortController();
  #current: IssuerKeySet | undefined;
  #kids = new Set<string>();
  #digest = '';
  #inFlight: Promise<void> | undefined;
  #lastKidRefetchMs = Number.NEGATIVE_INFINITY;
  #lastSuccessMs: number | undefined;
  #lastError: string | undefined;
  #failures = 0;
  #totalFailures = 0;

  /** @throws PortcullisError `IAM_CONFIG_INVALID` if the options name no or several sources. */
  constructor(options: JwksSourceOptions) {
    if (typeof options.issuer !== 'string' || options.issuer === '') {
      throw new PortcullisError('IAM_CONFIG_INVALID', 'A JWKS source needs a non-empty issuer.');
    }
    this.#issuer = options.issuer;
    this.#minRefetchIntervalMs = options.minRefetchIntervalMs ?? kDefaultMinRefetchIntervalMs;
    this.#maxKeys = options.maxKeys ?? kDefaultMaxKeys;
    this.#load = createKeyLoader(options, options.issuer, {
      timeoutMs: options.fetchTimeoutMs ?? kDefaultFetchTimeoutMs,
      maxBytes: options.maxBytes ?? kDefaultMaxBytes,
      signal: this.#abort.signal,
    });
    const isStatic = 'jwksFile' in options && options.jwksFile !== undefined;
    this.#schedule = new RefreshSchedule(options, isStatic, () => void this.#refresh());
  }

  /** The issuer this source serves. */
  get issuer(): string {
    return this.#issuer;
  }

  /**
   * First load, then background refresh. Resolves once a usable key set is held.
   * @throws PortcullisError `IAM_AUTHN_KEYS_UNAVAILABLE` naming the issuer if nothing loads.
   */
  async start(): Promise<void> {
    await this.#refresh();
    if (this.#current === undefined) {
      this.stop();
      const detail = `issuer ${this.#issuer}: ${this.#lastError ?? 'stopped'}`;
      throw new PortcullisError('IAM_AUTHN_KEYS_UNAVAILABLE', detail);
    }
  }

  /** The last good key set, or undefined before the first successful load. Frozen; keep it. */
  current(): IssuerKeySet | undefined {
    return this.#current;
  }

  /** Call `cb` with each new key set version. Returns a function that unsubscribes. */
  onChange(cb: (ks: IssuerKeySet) => void): () => void {
    this.#listeners.add(cb);
    return () => this.#listeners.delete(cb);
  }

  /**
   * A token named `kid`, unknown to the current set. Refetches at most once per
   * `minRefetchIntervalMs`; concurrent callers share one fetch. Resolves whether `kid` is known
   * afterwards. Never rejects.
   */
  async refreshForUnknownKid(kid: string): Promise<boolean> {
    if (this.#kids.has(kid)) return true;
    if (this.#inFlight === undefined) {
      const now = performance.now();
      if (now - this.#lastKidRefetchMs < this.#minRefetchIntervalMs) return false;
      this.#lastKidRefetchMs = now;
    }
    await this.#refresh();
    return this.#kids.has(kid);
  }

  /** Load now (a static file is re-read), sharing any load already running. Never rejects. */
  reload(): Promise<void> {
    return this.#refresh();
  }

  /** Cancel the refresh timer and any fetch in flight. The last key set stays readable. */
  stop(): void {
    this.#schedule.stop();
    this.#abort.abort();
  }

  /** A snapshot of the source's health. */
  status(): JwksSourceStatus {
    return {
      lastSuccessMs: this.#lastSuccessMs,
      lastError: this.#lastError,
      consecutiveFailures: this.#failures,
      totalFailures: this.#totalFailures,
      keySetAgeMs: this.#lastSuccessMs === undefined ? undefined : Date.now() - this.#lastSuccessMs,
      version: this.#current?.version ?? 0,
    };
  }

  #refresh(): Promise<void> {
    if (this.#abort.signal.aborted) return Promise.resolve();
    this.#inFlight ??= this.#loadOnce().finally(() => {
      this.#inFlight = undefined;
    });
    return this.#inFlight;
  }

  async #loadOnce(): Promise<void> {
    // 1. Fetch (or read) and filter; any failure keeps the last good set.
    const outcome = await this.#load();
    if (this.#abort.signal.aborted) return;
    const filtered = outcome.ok ? filterJwks(outcome.body, this.#maxKeys) : undefined;
    const keys = filtered?.ok === true ? filtered.keys : undefined;
    if (keys === undefined || keys.length === 0) {
      this.#failures++;
      this.#totalFailures++;
      this.#lastError = outcome.ok ? (keys === undefined ? 'invalid_jwks' : 'no_usable_keys')
        : outcome.kind;
      this.#schedule.afterFailure(this.#failures);
      return;
    }

    // 2. Record success and plan the next refresh from the server's freshness hint.
    this.#failures = 0;
    this.#lastError = undefined;
    this.#lastSuccessMs = Date.now();
    this.#schedule.afterSuccess(outcome.ok ? outcome.maxAgeSec : undefined);

    // 3. Publish a new version only if the filtered keys actually differ.
    const digest = keySetDigest(keys);
    if (digest === this.#digest) return;
    this.#publish(keys, digest);
  }

  #publish(keys: readonly JWK[], digest: string): void {
    const version = (this.#current?.version ?? 0) + 1;
    this.#current = Object.freeze({ issuer: this.#issuer, version, keys });
    this.#digest = digest;
    this.#kids = new Set(keys.flatMap((key) => (key.kid === undefined ? [] : [key.kid])));
    for (const listener of this.#listeners) {
      try {
        listener(this.#current);
      } catch {
        // A listener's failure is its own; the source and other listeners carry on.
      }
    }
  }
}
