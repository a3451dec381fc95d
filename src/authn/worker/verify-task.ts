/**
 * The verify task: the only code that runs inside the Piscina threads. It checks JWS signatures
 * with jose and nothing else; claims are checked on the main thread (claims-check.ts).
 *
 * Keys. Each thread holds, per issuer, the newest key-set version it was sent, and imports keys
 * lazily into a bounded map keyed by (issuer, version, kid, alg). An item naming a version this
 * thread does not hold is answered `needKeys`; the pool resends it with the key sets attached.
 *
 * Algorithms. The algorithm is the token's `alg` only after it is found on the issuer's allow-list
 * and matches the key (the key's own `alg`, or else its type and curve). HMAC is never accepted:
 * every key here is a public key, and using one as an HMAC secret is the classic confusion attack.
 *
 * The same module also runs on the main thread for algorithms configured to verify inline
 * (inline-verifier.ts): one implementation of the checks, two places to run it.
 */
import { type JWK, compactVerify, importJWK } from 'jose';
import type { IssuerKeySet } from '../key-set.js';
import type { NeedKeysCode, VerifyBatch, VerifyItem, VerifyItemResult } from './protocol.js';

type KeyObjectLike = Awaited<ReturnType<typeof importJWK>>;

const kNeedKeys: NeedKeysCode = 'needKeys';
const kFailed: VerifyItemResult = { ok: false, code: 'IAM_AUTHN_VERIFIER_FAILED' };
/** Issuers whose key sets one thread keeps; the least recently installed is dropped first. */
const kMaxIssuers = 256;
/** Imported keys one thread keeps; the least recently used is dropped first. */
const kMaxImportedKeys = 1024;
/** Keys tried for a token without `kid`; bounds the work an unlabelled token can cause. */
const kMaxKeylessTries = 3;
/** JWK members that only private or symmetric keys carry. */
const kPrivateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const keySets = new Map<string, IssuerKeySet>();
const imported = new Map<string, KeyObjectLike>();
const decoder = new TextDecoder('utf-8', { fatal: true });

/**
 * Installs `ks` as its issuer's key set in this thread (a version not newer than the held one is
 * ignored). Exported for the inline verifier, which runs this module on the main thread.
 */
export function installKeySet(ks: IssuerKeySet): void {
  const held = keySets.get(ks.issuer);
  if (held !== undefined && held.version >= ks.version) return;
  keySets.delete(ks.issuer);
  keySets.set(ks.issuer, ks);
  if (keySets.size > kMaxIssuers) keySets.delete(keySets.keys().next().value as string);
}

/** Whether the key can verify `alg`: public, for signing, and of the matching type and curve. */
function keyFits(jwk: JWK, alg: string): boolean {
  if (jwk.use !== undefined && jwk.use !== 'sig') return false;
  if (jwk.key_ops !== undefined && !jwk.key_ops.includes('verify')) return false;
  if (kPrivateMembers.some((member) => (jwk as Record<string, unknown>)[member] !== undefined)) {
    return false;
  }
  if (jwk.alg !== undefined) return jwk.alg === alg;
  if (/^(RS|PS)(256|384|512)$/.test(alg)) return jwk.kty === 'RSA';
  if (alg === 'ES256') return jwk.kty === 'EC' && jwk.crv === 'P-256';
  if (alg === 'ES384') return jwk.kty === 'EC' && jwk.crv === 'P-384';
  if (alg === 'ES512') return jwk.kty === 'EC' && jwk.crv === 'P-521';
  if (alg === 'EdDSA' || alg === 'Ed25519') return jwk.kty === 'OKP' && jwk.crv === 'Ed25519';
  return false;
}

async function importKey(ks: IssuerKeySet, jwk: JWK, alg: string): Promise<KeyObjectLike> {
  const id = `${ks.issuer}\u0000${ks.version}\u0000${jwk.kid ?? ''}\u0000${alg}`;
  const cached = imported.get(id);
  if (cached !== undefined) {
    imported.delete(id);
    imported.set(id, cached);
    return cached;
  }
  const key = await importJWK({ ...jwk, ext: false }, alg);
  imported.set(id, key);
  if (imported.size > kMaxImportedKeys) imported.delete(imported.keys().next().value as string);
  return key;
}

function readHeader(token: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(
      decoder.decode(Buffer.from(token.slice(0, token.indexOf('.')), 'base64url')));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** Maps a jose (or WebCrypto) failure to a registry code; the library's message is dropped. */
function mapError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED': return 'IAM_AUTHN_SIGNATURE_INVALID';
    case 'ERR_JWS_INVALID': return 'IAM_AUTHN_TOKEN_MALFORMED';
    case 'ERR_JOSE_ALG_NOT_ALLOWED': return 'IAM_AUTHN_ALG_NOT_ALLOWED';
    case 'ERR_JOSE_NOT_SUPPORTED': return 'IAM_AUTHN_ALG_NOT_ALLOWED';
    case 'ERR_JWK_INVALID': return 'IAM_AUTHN_KEY_UNKNOWN';
    default:
      return error instanceof TypeError ? 'IAM_AUTHN_KEY_UNKNOWN' : 'IAM_AUTHN_VERIFIER_FAILED';
  }
}

/**
 * Verifies one item's signature with the key set this thread holds for its issuer. Never throws
 * for a bad token; answers `needKeys` when the item's version is not the one held. Exported for
 * the inline verifier.
 */
export async function verifyOne(item: VerifyItem): Promise<VerifyItemResult> {
  // 1. The key set this item was stamped with must be here; otherwise ask for it.
  const ks = keySets.get(item.issuer);
  if (ks === undefined || ks.version !== item.version) return { ok: false, code: kNeedKeys };

  // 2. The algorithm: named by the token, on the allow-list, and never HMAC.
  const header = readHeader(item.token);
  if (header === undefined) return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };
  const { alg, kid } = header;
  if (typeof alg !== 'string' || alg.startsWith('HS') || !item.algorithms.includes(alg)) {
    return { ok: false, code: 'IAM_AUTHN_ALG_NOT_ALLOWED' };
  }
  if (kid !== undefined && typeof kid !== 'string') {
    return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };
  }

  // 3. Candidate keys: by kid when present, else the first few that fit the algorithm.
  const candidates = ks.keys.filter((jwk) => (kid === undefined || jwk.kid === kid)
    && keyFits(jwk, alg)).slice(0, kid === undefined ? kMaxKeylessTries : 1);
  if (candidates.length === 0) return { ok: false, code: 'IAM_AUTHN_KEY_UNKNOWN' };

  // 4. Signature only, pinned to the one algorithm chosen above.
  // TODO(perf): jose's compactVerify goes through WebCrypto: about 84 µs of CPU per RS256 token
  // on one core here, against about 30 µs for node:crypto.verify with a prepared KeyObject, which
  // leaves unique-token throughput at a third to a half of HAProxy's (README, Performance).
  let code = 'IAM_AUTHN_SIGNATURE_INVALID';
  for (const jwk of candidates) {
    try {
      const key = await importKey(ks, jwk, alg);
      const { payload } = await compactVerify(item.token, key, { algorithms: [alg] });
      const claims: unknown = JSON.parse(decoder.decode(payload));
      if (typeof claims !== 'object' || claims === null || Array.isArray(claims)) {
        return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };
      }
      return { ok: true, kid: jwk.kid, alg, claims: claims as Record<string, unknown> };
    } catch (error) {
      code = error instanceof SyntaxError ? 'IAM_AUTHN_TOKEN_MALFORMED' : mapError(error);
      if (code !== 'IAM_AUTHN_SIGNATURE_INVALID') return { ok: false, code };
    }
  }
  return { ok: false, code };
}

/**
 * Verifies a batch of tokens' signatures. Installs any key sets the batch carries first (a newer
 * version replaces the held one). Returns one plain-data result per item, in order; never throws.
 * Failure codes: IAM_AUTHN_ALG_NOT_ALLOWED, IAM_AUTHN_KEY_UNKNOWN, IAM_AUTHN_SIGNATURE_INVALID,
 * IAM_AUTHN_TOKEN_MALFORMED, IAM_AUTHN_VERIFIER_FAILED, and `needKeys` (see protocol.ts).
 */
export default async function verifyBatch(batch: VerifyBatch): Promise<VerifyItemResult[]> {
  if (batch.keySets !== undefined) for (const ks of batch.keySets) installKeySet(ks);
  // All items at once: jose's WebCrypto calls complete asynchronously, so they overlap.
  return Promise.all(batch.items.map((item) => verifyOne(item).catch(() => kFailed)));
}
