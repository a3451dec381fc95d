/**
 * The JWS algorithms the verify task implements (RFC 7518 section 3, RFC 8037) and which keys may
 * check each one. Both signature engines (engine-node.ts, engine-jose.ts) use this one table, so
 * they differ only in how the arithmetic is done, never in which key is tried for which token.
 */
import type { JWK } from 'jose';

/** How one JWS algorithm is checked, and which keys can check it. */
export interface AlgorithmSpec {
  readonly kty: 'RSA' | 'EC' | 'OKP';
  /** The curve a key must have (`crv`); undefined for RSA. */
  readonly curve?: string;
  /** node:crypto digest name; null for EdDSA, which hashes internally. */
  readonly hash: string | null;
  /** PSS salt length in bytes (the hash length, RFC 7518 3.5); undefined for PKCS#1 v1.5. */
  readonly saltLength?: number;
}

/** Every algorithm implemented; any other name is refused. HMAC is deliberately absent. */
export const kAlgorithms: ReadonlyMap<string, AlgorithmSpec> = new Map<string, AlgorithmSpec>([
  ['RS256', { kty: 'RSA', hash: 'sha256' }],
  ['RS384', { kty: 'RSA', hash: 'sha384' }],
  ['RS512', { kty: 'RSA', hash: 'sha512' }],
  ['PS256', { kty: 'RSA', hash: 'sha256', saltLength: 32 }],
  ['PS384', { kty: 'RSA', hash: 'sha384', saltLength: 48 }],
  ['PS512', { kty: 'RSA', hash: 'sha512', saltLength: 64 }],
  ['ES256', { kty: 'EC', curve: 'P-256', hash: 'sha256' }],
  ['ES384', { kty: 'EC', curve: 'P-384', hash: 'sha384' }],
  ['ES512', { kty: 'EC', curve: 'P-521', hash: 'sha512' }],
  // Ed25519 only: jose 6 implements no Ed448, and both engines must accept the same tokens.
  ['EdDSA', { kty: 'OKP', curve: 'Ed25519', hash: null }],
  ['Ed25519', { kty: 'OKP', curve: 'Ed25519', hash: null }],
]);

/** JWK members that only private or symmetric keys carry. */
const kPrivateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/**
 * Whether `jwk` may verify `alg`: public, for signing, its own `alg` (if any) equal to `alg`, and
 * always of the algorithm's key type and curve.
 */
export function keyFits(jwk: JWK, alg: string, spec: AlgorithmSpec): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return false;
  if (kPrivateMembers.some((member) => (jwk as Record<string, unknown>)[member] !== undefined)) {
    return false;
  }
  if (jwk.alg !== undefined && jwk.alg !== alg) return false;
  if (jwk.kty !== spec.kty) return false;
  return spec.curve === undefined || jwk.crv === spec.curve;
}
