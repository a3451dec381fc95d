/**
 * Shared, frozen rejection results for the routing stage's hot paths.
 *
 * A request that fails a routing or framing check is an expected outcome, not an exception, so
 * the checks return `{ ok: false, code }` instead of throwing. One frozen object per code is built
 * at module load and handed out again on every rejection: a rejected request allocates nothing.
 */
import { type ErrorCode, kErrorCodes } from '../errors/index.js';

/** The failure arm of every routing result: an error code from the registry, nothing else. */
export interface Rejection {
  readonly ok: false;
  readonly code: ErrorCode;
}

const kRejections = buildRejections();

function buildRejections(): Readonly<Record<ErrorCode, Rejection>> {
  const table: Partial<Record<ErrorCode, Rejection>> = {};
  for (const code of Object.keys(kErrorCodes) as ErrorCode[]) {
    table[code] = Object.freeze({ ok: false, code });
  }
  return table as Record<ErrorCode, Rejection>;
}

/**
 * The shared rejection object for `code`. The object is frozen and shared between callers, so
 * it must never be mutated or used as an identity key for one request.
 */
export function reject(code: ErrorCode): Rejection {
  return kRejections[code];
}
