/**
 * Piscina worker of the verify micro-benchmark's `HS256 pool` rows (bench-only, as
 * hmac-verify.ts is): verifies one batch of tokens and returns how many verified, the shape
 * of the proxy's own batched pool tasks.
 */
import { verifyHs256 } from './hmac-verify.js';

/** One task: the tokens of a batch and the shared key. */
export interface HmacTask {
  tokens: readonly string[];
  key: Uint8Array;
}

/** Verifies every token of `task`; the count of those that verified. */
export default function verifyBatch(task: HmacTask): number {
  let ok = 0;
  for (const token of task.tokens) if (verifyHs256(token, task.key)) ok++;
  return ok;
}
