/**
 * HS256 verification for the verify micro-benchmark only: Portcullis refuses HMAC tokens by
 * design (src/authn/worker/algorithms.ts), so this prices what verifying one would cost, done
 * as the node engine does an asymmetric token: parse the header, check the algorithm, compute
 * the MAC over the signing input, compare in constant time, parse the payload.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

/** True when `token` is a compact HS256 JWS whose MAC under `key` matches. Never throws. */
export function verifyHs256(token: string, key: Uint8Array): boolean {
  const firstDot = token.indexOf('.');
  const secondDot = token.indexOf('.', firstDot + 1);
  if (firstDot < 0 || secondDot < 0 || token.indexOf('.', secondDot + 1) >= 0) return false;
  try {
    // Step 1: the header names HS256.
    const header = JSON.parse(Buffer.from(token.slice(0, firstDot), 'base64url').toString()) as
      { alg?: unknown };
    if (header.alg !== 'HS256') return false;

    // Step 2: the MAC over the signing input, compared in constant time (RFC 7515 section 5.2).
    const expected = createHmac('sha256', key).update(token.slice(0, secondDot)).digest();
    const given = Buffer.from(token.slice(secondDot + 1), 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return false;

    // Step 3: the payload is a JSON object, as the claims checks need it.
    const payload: unknown = JSON.parse(
      Buffer.from(token.slice(firstDot + 1, secondDot), 'base64url').toString());
    return typeof payload === 'object' && payload !== null;
  } catch {
    return false;
  }
}
