/**
 * The message shapes exchanged between the verifier pool (main thread) and the verify task (Piscina
 * threads). This file holds types only, so both sides can `import type` it without sharing any
 * runtime code: at run time each side loads nothing but its own module.
 *
 * Key-set delivery (see src/authn/README.md): every item names the key-set version it must be
 * checked with. A worker that does not hold that version answers `needKeys` for the item, and the
 * pool sends those items again with the key sets attached. The pool remembers nothing per worker.
 */
import type { IssuerKeySet } from '../key-set.js';
import type { EngineName } from './engine.js';

/** One token to check in a batch; it has already passed `inspectToken` on the main thread. */
export interface VerifyItem {
  /** The compact JWS, exactly as received. Copied into the task message. */
  readonly token: string;
  /** The configured issuer whose keys may verify this token. */
  readonly issuer: string;
  /** The issuer's key-set version this item must be checked with. */
  readonly version: number;
  /** The issuer's algorithm allow-list (JWA names). HS* entries are always refused. */
  readonly algorithms: readonly string[];
}

/**
 * One Piscina task: several tokens, and the key sets when the pool resends items a worker could
 * not check (`undefined` on the first attempt, which is the common case).
 */
export interface VerifyBatch {
  readonly keySets: IssuerKeySet[] | undefined;
  readonly items: VerifyItem[];
  /** The signature engine (`authn.pool.engine`); `node` when absent. */
  readonly engine?: EngineName;
}

/** The signature verified: the key id used, the algorithm, and the parsed claims set. */
export interface VerifyItemOk {
  readonly ok: true;
  readonly kid: string | undefined;
  readonly alg: string;
  readonly claims: Record<string, unknown>;
}

/**
 * The signature did not verify, or could not be checked. `code` is a registry code
 * (`IAM_AUTHN_*`), or `needKeys` when the worker lacks the item's key-set version; no library
 * message ever crosses the boundary.
 */
export interface VerifyItemFailed {
  readonly ok: false;
  readonly code: string;
}

/** The answer for one item, in the same position as the item in its batch. */
export type VerifyItemResult = VerifyItemOk | VerifyItemFailed;

/** The code a worker answers with when it lacks the key-set version an item names. */
export type NeedKeysCode = 'needKeys';
