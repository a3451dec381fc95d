/**
 * Signature verification on the main thread, for the algorithms listed in
 * `authn.pool.inlineAlgorithms`. It runs the very checks the pool's threads run (the verify task
 * module, loaded here as well) with the same engine, so the two modes differ only in where the
 * work happens:
 *
 * - the pool costs the main thread a share of one message per batch (and the structured clone of
 *   the token and its claims) and runs the verification on another thread;
 * - inline with the `node` engine runs node:crypto's synchronous verification on the event loop:
 *   no message, no batching delay, but the loop is blocked for the verification (about 30 µs for
 *   RS256 on one core here); with `jose`, WebCrypto runs it on libuv's thread pool.
 *
 * Which is faster depends on the algorithm and the machine; bench/e2e/authn-edge.ts measures both
 * under load, and README.md gives the figures behind the default of `inlineAlgorithms`.
 */
import { type ErrorCode, kErrorCodes } from '../errors/index.js';
import type { IssuerKeySet } from './key-set.js';
import type { VerifyResult } from './verifier-pool.js';
import type { EngineName } from './worker/engine.js';
import type { VerifyItemResult } from './worker/protocol.js';
import { installKeySet, verifyOne } from './worker/verify-task.js';

const kFailed: VerifyResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_VERIFIER_FAILED' });
const kUnavailable: VerifyResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_KEYS_UNAVAILABLE' });
const kOverloaded: VerifyResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_VERIFIER_OVERLOADED' });

/** The task's answer as a `VerifyResult`: `needKeys` cannot happen here, so it fails closed. */
function toResult(result: VerifyItemResult): VerifyResult {
  if (result.ok) return result;
  return Object.hasOwn(kErrorCodes, result.code)
    ? { ok: false, code: result.code as ErrorCode } : kFailed;
}

/**
 * Verifies JWS signatures on the calling thread. Same contract as `VerifierPool.verify`. The key
 * sets live in the verify task module's state, so one instance per process. With the `node`
 * engine each verification completes before `verify` returns; with `jose` at most
 * `maxInFlight` are started and not answered (past it: IAM_AUTHN_VERIFIER_OVERLOADED).
 */
export class InlineVerifier {
  readonly #versions = new Map<string, number>();
  readonly #engine: EngineName;
  readonly #maxInFlight: number;
  #inFlight = 0;

  constructor(engine: EngineName = 'node', maxInFlight = 4096) {
    this.#engine = engine;
    this.#maxInFlight = maxInFlight;
  }

  /** Verifications started and not yet answered (always 0 with the `node` engine). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Makes `ks` the issuer's current key set; a version not newer than the held one is ignored. */
  setKeySet(ks: IssuerKeySet): void {
    const held = this.#versions.get(ks.issuer);
    if (held !== undefined && held >= ks.version) return;
    this.#versions.set(ks.issuer, ks.version);
    installKeySet(ks);
  }

  /**
   * Verifies `token`'s signature with `issuer`'s current keys, allowing only `algorithms`. The
   * token must already have passed `inspectToken`. Never rejects; the failure codes are those of
   * `VerifierPool.verify`.
   */
  verify(token: string, issuer: string, algorithms: readonly string[]): Promise<VerifyResult> {
    const version = this.#versions.get(issuer);
    if (version === undefined) return Promise.resolve(kUnavailable);
    if (this.#inFlight >= this.#maxInFlight) return Promise.resolve(kOverloaded);
    let answer: VerifyItemResult | Promise<VerifyItemResult>;
    try {
      answer = verifyOne({ token, issuer, version, algorithms }, this.#engine);
    } catch {
      return Promise.resolve(kFailed);
    }
    if (!(answer instanceof Promise)) return Promise.resolve(toResult(answer));
    this.#inFlight++;
    return answer.then(toResult, () => kFailed).finally(() => {
      this.#inFlight--;
    });
  }
}
