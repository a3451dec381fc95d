/**
 * Signature verification on the main thread, for the algorithms an operator configures with
 * `authn.pool.inlineAlgorithms`. It runs the very checks the pool's threads run (the verify task
 * module, loaded here as well), so the two modes differ only in where the work happens:
 *
 * - the pool costs the main thread a share of one message per batch and runs jose elsewhere;
 * - inline costs the main thread jose's own overhead and hands the arithmetic to WebCrypto, which
 *   Node runs on libuv's thread pool. No structured clone, no batching delay.
 *
 * Which is faster depends on the algorithm and the machine; bench/e2e/authn-edge.ts measures both
 * under load, and README.md gives the figures behind the default (every algorithm in the pool).
 */
import { type ErrorCode, kErrorCodes } from '../errors/index.js';
import type { IssuerKeySet } from './key-set.js';
import type { VerifyResult } from './verifier-pool.js';
import { installKeySet, verifyOne } from './worker/verify-task.js';

const kFailed: VerifyResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_VERIFIER_FAILED' });
const kUnavailable: VerifyResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
const kOverloaded: VerifyResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_VERIFIER_OVERLOADED' });

/**
 * Verifies JWS signatures on the calling thread. Same contract as `VerifierPool.verify`. The key
 * sets live in the verify task module's state, so one instance per process.
 */
export class InlineVerifier {
  readonly #versions = new Map<string, number>();
  readonly #maxInFlight: number;
  #inFlight = 0;

  /** `maxInFlight` bounds verifications started and not answered (the pool's `maxQueue`). */
  constructor(maxInFlight: number) {
    this.#maxInFlight = maxInFlight;
  }

  /** Verifications started and not yet answered. */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Makes `ks` the issuer's current key set; a version not newer than the held one is ignored. */
  setKeySet(ks: IssuerKeySet): void {
    const held = this.#versions.get(ks.issuer);
    if (held !== undefined && held >= ks.version) return;
    installKeySet(ks);
    this.#versions.set(ks.issuer, ks.version);
  }

  /**
   * Verifies `token`'s signature with `issuer`'s current keys, allowing only `algorithms`. The
   * token must already have passed `inspectToken`. Never rejects; the failure codes are those of
   * `VerifierPool.verify`.
   */
  async verify(token: string, issuer: string, algorithms: readonly string[]):
    Promise<VerifyResult> {
    const version = this.#versions.get(issuer);
    if (version === undefined) return kUnavailable;
    if (this.#inFlight >= this.#maxInFlight) return kOverloaded;
    this.#inFlight++;
    try {
      const result = await verifyOne({ token, issuer, version, algorithms });
      if (result.ok) return result;
      // `needKeys` cannot happen here (the version installed is the version asked for); a
      // registry code is passed on, anything else is a bug and fails closed.
      return Object.hasOwn(kErrorCodes, result.code)
        ? { ok: false, code: result.code as ErrorCode } : kFailed;
    } catch {
      return kFailed;
    } finally {
      this.#inFlight--;
    }
  }
}
