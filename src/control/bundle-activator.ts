/**
 * Activation of offered bundles, whatever their source (file, HTTP, admin push): verify the
 * signature, decode, check the version against the active bundle, instantiate a new evaluator,
 * then swap. Offers are handled one at a time in arrival order, so two sources can never race a
 * check against a swap. Any failure keeps the active bundle (last good) and is counted by code.
 */
import { type EvaluatorModule, PolicyEngine, type PolicyHolder } from '../authz/index.js';
import { type ErrorCode, PortcullisError } from '../errors/index.js';
import { admitBundle, type BundleVerifyKey } from '../policy/index.js';
import type { Logger } from '../telemetry/index.js';

/** What happened to one offer. */
export type ActivationResult =
  | { readonly ok: true; readonly kind: 'activated' | 'unchanged'; readonly version: number;
    readonly digest: string }
  | { readonly ok: false; readonly code: ErrorCode; readonly detail: string };

/** Counters, for /readyz and metrics. */
export interface ActivationStats {
  readonly activated: number;
  readonly unchanged: number;
  readonly rejected: Readonly<Record<string, number>>;
  readonly lastError: { readonly code: ErrorCode; readonly source: string; readonly atMs: number }
    | undefined;
}

/** Verifies and activates bundles into one holder. */
export class BundleActivator {
  readonly #holder: PolicyHolder;
  readonly #module: EvaluatorModule;
  readonly #keys: readonly BundleVerifyKey[];
  readonly #logger: Logger | undefined;
  #chain: Promise<unknown> = Promise.resolve();
  #activated = 0;
  #unchanged = 0;
  readonly #rejected: Record<string, number> = {};
  #lastError: ActivationStats['lastError'];

  readonly #onActivated: ((bytes: Uint8Array, source: string) => void) | undefined;

  /**
   * `onActivated` hears of every bundle activated, after the swap, with its verified bytes (the
   * serving threads instantiate the same bundle: src/threads/).
   */
  constructor(holder: PolicyHolder, module: EvaluatorModule, keys: readonly BundleVerifyKey[],
    logger?: Logger, onActivated?: (bytes: Uint8Array, source: string) => void) {
    this.#holder = holder;
    this.#module = module;
    this.#keys = keys;
    this.#logger = logger;
    this.#onActivated = onActivated;
  }

  /** Offers a bundle and its detached JWS from `source` (a label such as `file:/x`). */
  offer(bytes: Uint8Array, signature: string | undefined, source: string): Promise<ActivationResult> {
    const next = this.#chain.then(() => this.#activate(bytes, signature, source));
    this.#chain = next.catch(() => undefined);
    return next;
  }

  async #activate(bytes: Uint8Array, signature: string | undefined, source: string):
    Promise<ActivationResult> {
    try {
      const active = this.#holder.engine?.bundle.meta;
      const admission = await admitBundle(bytes, signature, this.#keys, active);
      if (admission.kind === 'unchanged') {
        this.#unchanged++;
        return { ok: true, kind: 'unchanged', version: active!.policyVersion, digest: active!.sourceDigest };
      }
      const engine = new PolicyEngine(this.#module, admission.bundle);
      this.#holder.swap(engine, source);
      this.#activated++;
      this.#onActivated?.(bytes, source);
      const { policyVersion: version, sourceDigest: digest } = admission.bundle.meta;
      this.#logger?.info('policy bundle activated', { source, version, digest,
        rules: admission.bundle.policy.rules.length, keyId: admission.keyId });
      return { ok: true, kind: 'activated', version, digest };
    } catch (err) {
      const code: ErrorCode = err instanceof PortcullisError ? err.code : 'IAM_BUNDLE_MALFORMED';
      const detail = err instanceof PortcullisError ? err.detail ?? '' : (err as Error).message;
      this.#rejected[code] = (this.#rejected[code] ?? 0) + 1;
      this.#lastError = { code, source, atMs: Date.now() };
      this.#logger?.warn('policy bundle refused; the active bundle stays', { source, code, detail });
      return { ok: false, code, detail };
    }
  }

  stats(): ActivationStats {
    return { activated: this.#activated, unchanged: this.#unchanged, rejected: { ...this.#rejected },
      lastError: this.#lastError };
  }
}
