/**
 * Turns a fetched JWKS document into the public signature-verification keys we are willing to
 * use, and computes the digest that decides whether a key set changed.
 *
 * Policy (threats.md, JWT rows): a JWKS never supplies an HMAC secret, so `oct` keys are
 * dropped; `use: enc` keys, keys whose `key_ops` lack `verify` and keys whose `alg` is not an
 * asymmetric signature algorithm (HS*, none, key-wrapping) never verify; a key that
 * carries any private member is rejected outright rather than stripped, because an issuer that
 * publishes private material is misconfigured and its key must be treated as compromised.
 *
 * RSA sizes (threats.md, "JOSE resource exhaustion"): the modulus must have 2048 to 8192 bits
 * (shorter is breakable; longer makes each verification cost up to 16 times a 2048-bit one) and
 * the public exponent must be odd, at least 3 and at most 32 bits (a huge exponent makes a
 * verification as slow as a signature). The key set is the only input to a verification's cost
 * besides the token, whose size is capped before parsing, so this bounds CPU per request.
 */
import { createHash } from 'node:crypto';
import type { JWK } from 'jose';

/** Why a key was left out of the usable set. */
export type JwkDropReason =
  | 'not_object'
  | 'no_kty'
  | 'kty_unsupported'
  | 'symmetric'
  | 'use_enc'
  | 'not_for_verify'
  | 'alg_unusable'
  | 'private_member'
  | 'bad_kid'
  | 'duplicate_kid'
  | 'rsa_size'
  | 'over_limit';

/** One key left out, with its `kid` if it had a string one (safe to log: never key material). */
export interface DroppedJwk {
  readonly index: number;
  readonly kid: string | undefined;
  readonly reason: JwkDropReason;
}

/** The outcome of filtering: usable keys (deep-frozen, copies of the input) and what was left. */
export type JwksFilterResult =
  | { readonly ok: true; readonly keys: readonly JWK[]; readonly dropped: readonly DroppedJwk[] }
  | { readonly ok: false; readonly reason: 'invalid_jwks' };

/** Default bound on the number of keys kept from one JWKS. */
export const kDefaultMaxKeys = 100;

const kAsymmetricKty = new Set(['RSA', 'EC', 'OKP']);
const kSignatureAlg = /^(?:(?:RS|PS|ES)(?:256|384|512)|ES256K|EdDSA|Ed25519|Ed448)$/;
const kPrivateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'] as const;

/**
 * Validate the shape `{ keys: [...] }` and keep each key only if it passes the policy above.
 * Duplicate `kid`s keep the first occurrence. At most `maxKeys` keys are kept; later candidates
 * are reported as `over_limit`. Returns `{ ok: false }` when the document is not a JWKS.
 */
export function filterJwks(body: unknown, maxKeys: number = kDefaultMaxKeys): JwksFilterResult {
  if (!isRecord(body) || !Array.isArray(body['keys'])) return { ok: false, reason: 'invalid_jwks' };

  const keys: JWK[] = [];
  const dropped: DroppedJwk[] = [];
  const seenKids = new Set<string>();
  body['keys'].forEach((candidate: unknown, index) => {
    const kid = isRecord(candidate) && typeof candidate['kid'] === 'string'
      ? candidate['kid']
      : undefined;
    const overLimit = keys.length >= maxKeys ? 'over_limit' : undefined;
    const reason = dropReason(candidate, seenKids) ?? overLimit;
    if (reason !== undefined) {
      dropped.push({ index, kid, reason });
      return;
    }
    if (kid !== undefined) seenKids.add(kid);
    keys.push(deepFreeze(structuredClone(candidate)) as JWK);
  });
  return { ok: true, keys: Object.freeze(keys), dropped };
}

function dropReason(candidate: unknown, seenKids: ReadonlySet<string>): JwkDropReason | undefined {
  if (!isRecord(candidate)) return 'not_object';

  // Type and purpose: only asymmetric signature keys.
  const kty = candidate['kty'];
  if (typeof kty !== 'string' || kty === '') return 'no_kty';
  if (kty === 'oct') return 'symmetric';
  if (!kAsymmetricKty.has(kty)) return 'kty_unsupported';
  if (candidate['use'] === 'enc') return 'use_enc';
  const ops = candidate['key_ops'];
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return 'not_for_verify';
  const alg = candidate['alg'];
  if (alg !== undefined && !(typeof alg === 'string' && kSignatureAlg.test(alg))) {
    return 'alg_unusable';
  }

  // Private material means the key is leaked; refuse it (see the file header).
  if (kPrivateMembers.some((member) => Object.hasOwn(candidate, member))) return 'private_member';
  if (kty === 'RSA' && !isBoundedRsa(candidate['n'], candidate['e'])) return 'rsa_size';

  // Identity: a kid, if present, is a non-empty string and unique within the set.
  const kid = candidate['kid'];
  if (kid !== undefined && (typeof kid !== 'string' || kid === '')) return 'bad_kid';
  if (typeof kid === 'string' && seenKids.has(kid)) return 'duplicate_kid';
  return undefined;
}

const kMinRsaBits = 2048;
const kMaxRsaBits = 8192;

/** Bits of a big-endian unsigned integer, leading zero bytes ignored. */
function bitLength(bytes: Buffer): number {
  let i = 0;
  while (i < bytes.length && bytes[i] === 0) i++;
  if (i === bytes.length) return 0;
  return (bytes.length - i - 1) * 8 + (32 - Math.clz32(bytes[i] as number));
}

/** Whether `n` and `e` are base64url integers within the bounds in the file header. */
function isBoundedRsa(n: unknown, e: unknown): boolean {
  if (typeof n !== 'string' || typeof e !== 'string') return false;
  const nBits = bitLength(Buffer.from(n, 'base64url'));
  const eBytes = Buffer.from(e, 'base64url');
  const eBits = bitLength(eBytes);
  const isOdd = eBytes.length > 0 && ((eBytes[eBytes.length - 1] as number) & 1) === 1;
  return nBits >= kMinRsaBits && nBits <= kMaxRsaBits && eBits >= 2 && eBits <= 32 && isOdd;
}

/**
 * SHA-256 over a canonical JSON form of the keys (object members sorted, keys sorted by their
 * canonical text), so a reordered or reformatted but otherwise identical JWKS yields the same
 * digest and does not bump the key-set version.
 */
export function keySetDigest(keys: readonly JWK[]): string {
  const canonical = keys.map((key) => canonicalJson(key)).sort();
  return createHash('sha256').update(`[${canonical.join(',')}]`).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (!isRecord(value)) return JSON.stringify(value) ?? 'null';
  const members = Object.keys(value)
    .sort()
    .map((name) => `${JSON.stringify(name)}:${canonicalJson(value[name])}`);
  return `{${members.join(',')}}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
