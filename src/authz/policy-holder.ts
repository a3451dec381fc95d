/**
 * Holds the active policy engine and swaps it atomically. A decision is made synchronously by one
 * engine and carries that engine's bundle version and digest, so a request that was decided
 * before a swap finishes on the old bundle and no request is decided by a mix of two. Until a
 * bundle is active, every decision is a refusal with `IAM_AUTHZ_NO_POLICY` (fail closed).
 */
import type { PolicyEngine } from './engine.js';
import type { AuthzRequest, Decision } from './request.js';

const kNoPolicy: Decision = Object.freeze({
  allow: false, ruleIndex: -1, ruleId: 'no-policy', obligations: Object.freeze([]) as readonly string[],
  bundleVersion: 0, bundleDigest: '', code: 'IAM_AUTHZ_NO_POLICY', credentialsMayHelp: false,
});

/** Facts about the active bundle, for /readyz and metrics. */
export interface PolicyStatus {
  readonly active: { readonly version: number; readonly digest: string;
    readonly createdAtMs: number; readonly activatedAtMs: number; readonly source: string } | undefined;
  readonly swaps: number;
}

/** The active engine. One per process; shared by every listener. */
export class PolicyHolder {
  #engine: PolicyEngine | undefined;
  #activatedAtMs = 0;
  #source = '';
  #swaps = 0;

  /** The active engine, if any. */
  get engine(): PolicyEngine | undefined {
    return this.#engine;
  }

  /** Makes `engine` the active one; returns the engine it replaced. */
  swap(engine: PolicyEngine, source: string, nowMs = Date.now()): PolicyEngine | undefined {
    const previous = this.#engine;
    this.#engine = engine;
    this.#activatedAtMs = nowMs;
    this.#source = source;
    this.#swaps++;
    return previous;
  }

  /** Decides with the active engine; refuses with IAM_AUTHZ_NO_POLICY when there is none. */
  decide(req: AuthzRequest): Decision {
    const engine = this.#engine;
    return engine === undefined ? kNoPolicy : engine.decide(req);
  }

  status(): PolicyStatus {
    const e = this.#engine;
    return {
      active: e === undefined ? undefined : {
        version: e.version, digest: e.digest, createdAtMs: e.bundle.meta.createdAtMs,
        activatedAtMs: this.#activatedAtMs, source: this.#source,
      },
      swaps: this.#swaps,
    };
  }
}
