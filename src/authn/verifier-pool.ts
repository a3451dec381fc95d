/**
 * The main-thread side of signature verification: a Piscina pool running worker/verify-task.js,
 * fed in batches so that one message carries several tokens.
 *
 * Batching. A verify joins the open batch, which is sent when it holds `batchMaxItems` tokens; or
 * at the next event-loop turn when a thread is free (so the tokens of one turn travel together
 * and a lone token never waits); or, while every thread is busy, when a thread frees up or
 * `batchMaxWaitUs` has passed since its first token. Holding tokens back while the threads are
 * busy costs them nothing (they would queue in Piscina) and lets the batch grow with the load:
 * a task's messaging costs the main thread more than an RS256 verification, so under load the
 * cost per token falls as batches fill. The open batch is polled with setImmediate.
 *
 * Key sets. Items are stamped with their issuer's current key-set version and sent without keys.
 * A thread lacking that version answers `needKeys`; those items alone are sent once more with
 * their issuers' current key sets attached (and restamped). Each thread therefore receives a
 * version once, on first need, and the pool keeps no per-thread state. A second `needKeys` for
 * the same item is a bug and fails it with IAM_AUTHN_VERIFIER_FAILED.
 */
import { fileURLToPath } from 'node:url';
import { Piscina } from 'piscina';
import { type ErrorCode, kErrorCodes } from '../errors/index.js';
import { workerExecArgv } from '../structures/index.js';
import type { IssuerKeySet } from './key-set.js';
import type { EngineName } from './worker/engine.js';
import type { VerifyBatch, VerifyItem, VerifyItemResult } from './worker/protocol.js';

const kWorkerFile = fileURLToPath(new URL('./worker/verify-task.js', import.meta.url));

/**
 * Piscina loads a task file with require() first and import() only if that throws. On Node
 * 20.19+ require() of an ES module goes through a path that sometimes aborts the whole process
 * (`Assertion failed: facade->InstantiateModule(...)` in ModuleWrap::CreateRequiredModuleFacade,
 * seen in CI here on Node 20.20.2). Turning require(esm) off in the workers only makes that
 * require() throw, so Piscina takes its import() path.
 */
const kWorkerExecArgv = workerExecArgv(process.execArgv,
  process.allowedNodeEnvironmentFlags.has('--experimental-require-module')
    ? ['--no-experimental-require-module'] : []);

/** Sizing of a `VerifierPool`. Validated once, in the constructor. */
export interface VerifierPoolOptions {
  /** Worker threads, started eagerly and kept. */
  readonly threads: number;
  /** Most tokens accepted but not yet answered; past it, verify answers OVERLOADED. */
  readonly maxQueue: number;
  /** Most tokens in one task. */
  readonly batchMaxItems: number;
  /**
   * Longest a token waits in the open batch while every thread is busy, in microseconds (0: the
   * next event-loop turn). With a thread free, the batch goes at the next turn.
   */
  readonly batchMaxWaitUs: number;
  /** The signature engine the threads use (worker/engine.ts); `node` when absent. */
  readonly engine?: EngineName;
  /** Worker module to run instead of verify-task.js; for tests only. */
  readonly workerFile?: string;
}

/** One verify's outcome: the key id and algorithm used and the (unchecked) claims, or a code. */
export type VerifyResult =
  | {
    readonly ok: true;
    readonly kid: string | undefined;
    readonly alg: string;
    readonly claims: Record<string, unknown>;
  }
  | { readonly ok: false; readonly code: ErrorCode };

/** Pool counters: tokens accepted and not answered, thread utilization (0..1), tasks sent. */
export interface VerifierPoolStats {
  readonly queued: number;
  readonly utilization: number;
  readonly tasks: number;
}

interface Pending {
  item: VerifyItem;
  resolve: (result: VerifyResult) => void;
}

function failed(code: ErrorCode): VerifyResult {
  return { ok: false, code };
}

/** A worker's code, if it is a registry code; anything else means the worker misbehaved. */
function toCode(code: string): ErrorCode {
  return Object.hasOwn(kErrorCodes, code) ? code as ErrorCode : 'IAM_AUTHN_VERIFIER_FAILED';
}

/**
 * Verifies JWS signatures in a Piscina pool, batching tokens into tasks. Claims are not checked
 * here (see claims-check.ts). Never rejects: every outcome is a `VerifyResult`.
 */
export class VerifierPool {
  readonly #piscina: Piscina<VerifyBatch, VerifyItemResult[]>;
  readonly #maxQueue: number;
  readonly #batchMaxItems: number;
  readonly #batchMaxWaitMs: number;
  readonly #threads: number;
  readonly #engine: EngineName;
  readonly #keySets = new Map<string, IssuerKeySet>();
  readonly #inFlight = new Set<Promise<void>>();
  #batch: Pending[] = [];
  #batchStartMs = 0;
  #timerArmed = false;
  #queued = 0;
  #tasks = 0;
  /** Tasks given to Piscina and not yet answered (resends included). */
  #running = 0;
  #closed = false;

  /** Starts `threads` workers. Throws RangeError on invalid sizing (a startup config bug). */
  constructor(opts: VerifierPoolOptions) {
    for (const [name, value] of Object.entries(opts)) {
      if (name !== 'workerFile' && name !== 'engine' && (!Number.isInteger(value) || (value as number) < 0)) {
        throw new RangeError(`VerifierPool option ${name} must be a non-negative integer`);
      }
    }
    if (opts.threads < 1 || opts.batchMaxItems < 1 || opts.maxQueue < 1) {
      throw new RangeError('VerifierPool needs threads, batchMaxItems and maxQueue of at least 1');
    }
    this.#maxQueue = opts.maxQueue;
    this.#batchMaxItems = opts.batchMaxItems;
    this.#batchMaxWaitMs = opts.batchMaxWaitUs / 1000;
    this.#threads = opts.threads;
    this.#engine = opts.engine ?? 'node';
    if (this.#engine !== 'node' && this.#engine !== 'jose') {
      throw new RangeError('VerifierPool engine must be node or jose');
    }
    this.#piscina = new Piscina({
      filename: opts.workerFile ?? kWorkerFile,
      minThreads: opts.threads,
      maxThreads: opts.threads,
      idleTimeout: Number.MAX_SAFE_INTEGER,
      execArgv: kWorkerExecArgv,
    });
  }

  /** Counters for metrics and tests; read-only snapshots. */
  get stats(): VerifierPoolStats {
    return { queued: this.#queued, utilization: this.#piscina.utilization, tasks: this.#tasks };
  }

  /**
   * Makes `ks` the issuer's current key set. Tokens verified from now on use it; threads fetch it
   * on first need. The object is kept by reference and must not be mutated afterwards. A version
   * not newer than the current one is ignored.
   */
  setKeySet(ks: IssuerKeySet): void {
    const held = this.#keySets.get(ks.issuer);
    if (held === undefined || ks.version > held.version) this.#keySets.set(ks.issuer, ks);
  }

  /**
   * Verifies `token`'s signature with `issuer`'s current keys, allowing only `algorithms`.
   * The token must already have passed `inspectToken`. Resolves with a failure code, never
   * rejects: IAM_AUTHN_KEYS_UNAVAILABLE (no key set for the issuer), IAM_AUTHN_VERIFIER_OVERLOADED
   * (queue full), IAM_AUTHN_VERIFIER_FAILED (pool closed or a worker died), or the worker's codes
   * (IAM_AUTHN_ALG_NOT_ALLOWED, _KEY_UNKNOWN, _SIGNATURE_INVALID, _TOKEN_MALFORMED).
   */
  verify(token: string, issuer: string, algorithms: readonly string[]): Promise<VerifyResult> {
    if (this.#closed) return Promise.resolve(failed('IAM_AUTHN_VERIFIER_FAILED'));
    const ks = this.#keySets.get(issuer);
    if (ks === undefined) return Promise.resolve(failed('IAM_AUTHN_KEYS_UNAVAILABLE'));
    if (this.#queued >= this.#maxQueue) {
      return Promise.resolve(failed('IAM_AUTHN_VERIFIER_OVERLOADED'));
    }

    this.#queued++;
    return new Promise<VerifyResult>((resolve) => {
      const item: VerifyItem = { token, issuer, version: ks.version, algorithms };
      if (this.#batch.length === 0) this.#batchStartMs = performance.now();
      this.#batch.push({ item, resolve });
      if (this.#batch.length >= this.#batchMaxItems) this.#flush();
      else this.#arm();
    });
  }

  /**
   * Sends the open batch, waits for every task in flight, then stops the threads. Verifies called
   * afterwards resolve with IAM_AUTHN_VERIFIER_FAILED.
   */
  async close(): Promise<void> {
    this.#closed = true;
    this.#flush();
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    await this.#piscina.destroy();
  }

  #arm(): void {
    if (this.#timerArmed) return;
    this.#timerArmed = true;
    setImmediate(this.#onTick);
  }

  readonly #onTick = (): void => {
    this.#timerArmed = false;
    if (this.#batch.length === 0) return;
    const isThreadFree = this.#running < this.#threads;
    if (isThreadFree || performance.now() - this.#batchStartMs >= this.#batchMaxWaitMs) {
      this.#flush();
    } else {
      this.#arm();
    }
  };

  #flush(): void {
    if (this.#batch.length === 0) return;
    const batch = this.#batch;
    this.#batch = [];
    this.#track(this.#send(batch, false));
  }

  #track(work: Promise<void>): void {
    this.#inFlight.add(work);
    void work.finally(() => this.#inFlight.delete(work));
  }

  async #send(batch: Pending[], withKeys: boolean): Promise<void> {
    // 1. On a resend, restamp each item with its issuer's current version and attach those sets.
    let keySets: IssuerKeySet[] | undefined;
    if (withKeys) {
      const needed = new Map<string, IssuerKeySet>();
      for (const pending of batch) {
        const ks = this.#keySets.get(pending.item.issuer);
        if (ks === undefined) continue;
        needed.set(ks.issuer, ks);
        pending.item = { ...pending.item, version: ks.version };
      }
      keySets = [...needed.values()];
    }

    // 2. Run the task; a crashed or destroyed worker fails every item of the batch.
    let results: VerifyItemResult[];
    this.#tasks++;
    this.#running++;
    try {
      const answer = await this.#piscina.run({
        keySets, items: batch.map((p) => p.item), engine: this.#engine,
      });
      results = Array.isArray(answer) ? answer : [];
    } catch {
      results = [];
    } finally {
      this.#running--;
    }

    // 3. Answer each item; items that asked for keys go out again, once.
    const retry: Pending[] = [];
    batch.forEach((pending, i) => {
      const result = results[i];
      if (result === undefined) return this.#answer(pending, failed('IAM_AUTHN_VERIFIER_FAILED'));
      if (result.ok) return this.#answer(pending, result);
      if (result.code !== 'needKeys') return this.#answer(pending, failed(toCode(result.code)));
      if (withKeys) return this.#answer(pending, failed('IAM_AUTHN_VERIFIER_FAILED'));
      retry.push(pending);
    });
    if (retry.length > 0) await this.#send(retry, true);
  }

  #answer(pending: Pending, result: VerifyResult): void {
    this.#queued--;
    pending.resolve(result);
  }
}
