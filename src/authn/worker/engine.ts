/**
 * The interface between the verify task and a signature engine, the code that does the JWS
 * signature arithmetic (RFC 7515 5.2 step 8). Two engines implement it, chosen by
 * `authn.pool.engine`:
 *
 * - `node` (engine-node.ts, the default): node:crypto's synchronous `verify` with KeyObjects
 *   prepared once per key-set version. About 30 µs of CPU per RS256 token on one core here.
 * - `jose` (engine-jose.ts): jose's `compactVerify`, which goes through WebCrypto. About 84 µs
 *   per RS256 token, most of it WebCrypto's per-call overhead (README "Performance").
 *
 * Everything around the arithmetic is the verify task's and shared: the header parse, the
 * algorithm allow-list, which keys are tried, the payload parse. A differential property test
 * (test/authn/worker/engines-differential.test.ts) holds the two engines to the same verdicts.
 */
import type { JWK } from 'jose';
import type { IssuerKeySet } from '../key-set.js';
import type { AlgorithmSpec } from './algorithms.js';

/** The engine names `authn.pool.engine` accepts; the first is the default. */
export const kEngineNames = ['node', 'jose'] as const;

/** One signature engine's name. */
export type EngineName = typeof kEngineNames[number];

/** One token, already split (RFC 7515 7.1: exactly two dots), and what its header chose. */
export interface SignedToken {
  readonly token: string;
  readonly dot1: number;
  readonly dot2: number;
  readonly alg: string;
  readonly spec: AlgorithmSpec;
}

/** The signature verified with `kid`'s key: the payload bytes, not yet decoded as text. */
export interface EngineOk {
  readonly ok: true;
  readonly kid: string | undefined;
  readonly payload: Uint8Array;
}

/** No candidate verified it: a registry code (IAM_AUTHN_*). */
export interface EngineFailed {
  readonly ok: false;
  readonly code: string;
}

/** One engine's answer for one token. */
export type EngineResult = EngineOk | EngineFailed;

/** Does the signature step of the verify task. Never throws for a bad token. */
export interface SignatureEngine {
  readonly name: EngineName;
  /**
   * Tries `candidates` in order (each fits the algorithm, see algorithms.ts) and answers with the
   * first that verifies. A key that cannot be used stops the search with IAM_AUTHN_KEY_UNKNOWN;
   * a signature that does not verify with any of them is IAM_AUTHN_SIGNATURE_INVALID.
   */
  verify(ks: IssuerKeySet, candidates: readonly JWK[], signed: SignedToken):
    EngineResult | Promise<EngineResult>;
}
