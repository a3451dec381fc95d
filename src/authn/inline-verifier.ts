/**
 * Signature verification on the main thread, for the algorithms listed in
 * `authn.pool.inlineAlgorithms`. It runs the very checks the pool's threads run (the verify task
 * module, loaded here as well) with the same engine, so the two modes differ only in where the
 * work happens:
 *
 * - the pool costs the main thread a share of one message per batch (and the structured clone of
 *   the token and its claims) and runs the verification on another thread;
 * - inline with the `node` engine runs node:crypto's synchronous verification on the event loop
 *   (about 22 µs for RS256 on one core here): no message, but the loop is busy meanwhile; with
 *   `jose`, WebCrypto runs it on libuv's thread pool.
 *
 * Per turn. Tokens asked for during one event-loop turn are verified together at its end
 * (`setImmediate`), at most `kMaxPerTurn` at a time, so the requests they unblock then go on
 * together: their upstream writes leave in one burst instead of one every verification. Measured
 * end to end with a new RS256 token per request on one core: verifying each token at once
 * served 6.3k-6.7k req/s, the pool 7.8k-8.6k, verifying per turn 9.7k-11.1k (the upstream
 * stays awake through a burst rather than being woken for every request).
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
/** Most tokens verified in one go: bounds how long the event loop is held (64 RS256: ~1.4 ms). */
const kMaxPerTurn = 64;

/** A token waiting for the end of the turn. */
interface Queued {
  readonly token: string;
  readonly issuer: string;
  readonly algorithms: readonly string[];
  readonly resolve: (result: VerifyResult) => void;
}

/** The task's answer as a `VerifyResult`: `needKeys` cannot happen here, so it fails closed. */
function toResult(result: VerifyItemResult): VerifyResult {
  if (result.ok) return result;
  return Object.hasOwn(kErrorCodes, result.code)
    ? { ok: false, code: result.code as ErrorCode } : kFailed;
}

/**
 * Verifies JWS signatures on the calling thread, the tokens of one event-loop turn together at
 * its end. Same contract as `VerifierPool.verify`. The key sets live in the verify task module's
 * state, so one instance per process. At most `maxInFlight` tokens are queued or started and not
 * answered (past it: IAM_AUTHN_VERIFIER_OVERLOADED).
 */
export class InlineVerifier {
  readonly #versions = new Map<string, number>();
  readonly #engine: EngineName;
  readonly #maxInFlight: number;
  #inFlight = 0;
  readonly #queue: Queued[] = [];
  #isScheduled = false;

  constructor(engine: EngineName = 'node', maxInFlight = 4096) {
    this.#engine = engine;
    this.#maxInFlight = maxInFlight;
  }

  /** Tokens queued for the end of the turn or started, and not yet answered. */
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
    if (!this.#versions.has(issuer)) return Promise.resolve(kUnavailable);
    if (this.#inFlight >= this.#maxInFlight) return Promise.resolve(kOverloaded);
    this.#inFlight++;
    return new Promise<VerifyResult>((resolve) => {
      this.#queue.push({ token, issuer, algorithms, resolve });
      this.#schedule();
    });
  }

  #schedule(): void {
    if (this.#isScheduled) return;
    this.#isScheduled = true;
    setImmediate(this.#runTurn);
  }

  /** Verifies up to `kMaxPerTurn` queued tokens; the rest wait for the next turn. */
  readonly #runTurn = (): void => {
    this.#isScheduled = false;
    const now = this.#queue.splice(0, kMaxPerTurn);
    if (this.#queue.length > 0) this.#schedule();
    for (const job of now) this.#verifyNow(job);
  };

  /** One token, with its issuer's current version (a rotation since `verify` is honoured). */
  #verifyNow(job: Queued): void {
    const done = (result: VerifyResult): void => {
      this.#inFlight--;
      job.resolve(result);
    };
    // Present: `verify` checked it, and versions are never removed.
    const version = this.#versions.get(job.issuer) as number;
    let answer: VerifyItemResult | Promise<VerifyItemResult>;
    try {
      answer = verifyOne({ token: job.token, issuer: job.issuer, version,
        algorithms: job.algorithms }, this.#engine);
    } catch {
      return done(kFailed);
    }
    if (answer instanceof Promise) void answer.then(toResult, () => kFailed).then(done);
    else done(toResult(answer));
  }
}
