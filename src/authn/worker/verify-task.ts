/**
 * The verify task: the only code that runs inside the Piscina threads. It checks JWS signatures
 * and nothing else; claims are checked on the main thread (claims-check.ts).
 *
 * Keys. Each thread holds, per issuer, the newest key-set version it was sent; the engines
 * prepare keys lazily, once per (issuer, version, kid, alg) (prepared-keys.ts). An item naming a
 * version this thread does not hold is answered `needKeys`; the pool resends it with the key
 * sets attached.
 *
 * Algorithms. The algorithm is the token's `alg` only after it is found on the issuer's allow-list
 * and in algorithms.ts, and matches the key (the key's own `alg` if it has one, and always its type
 * and curve). HMAC is never accepted: every key here is a public key, and using one as an HMAC
 * secret is the classic confusion attack.
 *
 * Signatures. The arithmetic is the batch's engine's (engine.ts): `node` (node:crypto, the
 * default, synchronous) or `jose` (compactVerify through WebCrypto, asynchronous). Everything
 * else in this file is shared by both.
 *
 * The same module also runs on the main thread for algorithms configured to verify inline
 * (inline-verifier.ts): one implementation of the checks, two places to run it.
 */
import type { IssuerKeySet } from '../key-set.js';
import { kAlgorithms, keyFits } from './algorithms.js';
import type { EngineName, EngineResult, SignatureEngine } from './engine.js';
import { kJoseEngine } from './engine-jose.js';
import { decodeSegment, kNodeEngine } from './engine-node.js';
import type { NeedKeysCode, VerifyBatch, VerifyItem, VerifyItemResult } from './protocol.js';

const kNeedKeys: NeedKeysCode = 'needKeys';
const kFailed: VerifyItemResult = { ok: false, code: 'IAM_AUTHN_VERIFIER_FAILED' };
/** Issuers whose key sets one thread keeps; the least recently installed is dropped first. */
const kMaxIssuers = 256;
/** Keys tried for a token without `kid`; bounds the work an unlabelled token can cause. */
const kMaxKeylessTries = 3;
const kEngines: Readonly<Record<EngineName, SignatureEngine>> = {
  node: kNodeEngine, jose: kJoseEngine,
};

const keySets = new Map<string, IssuerKeySet>();
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

/** A JSON object from strict UTF-8 bytes, or undefined. */
function parseObject(bytes: Uint8Array): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(decoder.decode(bytes));
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
    return value as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

/** The claims of a verified token: strict UTF-8, a JSON object (RFC 7519 7.2, steps 9-10). */
function toItemResult(result: EngineResult, alg: string): VerifyItemResult {
  if (!result.ok) return result;
  const claims = parseObject(result.payload);
  if (claims === undefined) return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };
  return { ok: true, kid: result.kid, alg, claims };
}

/**
 * Verifies one item's signature with the key set this thread holds for its issuer, using
 * `engine` (synchronous for `node`, a promise for `jose`). Never throws or rejects for a bad
 * token; answers `needKeys` when the item's version is not the one held. Exported for the inline
 * verifier.
 */
export function verifyOne(item: VerifyItem, engine: EngineName):
  VerifyItemResult | Promise<VerifyItemResult> {
  // 1. The key set this item was stamped with must be here; otherwise ask for it.
  const ks = keySets.get(item.issuer);
  if (ks === undefined || ks.version !== item.version) return { ok: false, code: kNeedKeys };

  // 2. Three segments (RFC 7515 7.1), the header a JSON object.
  const token = item.token;
  const dot1 = token.indexOf('.');
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
  if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) {
    return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };
  }
  const headerBytes = decodeSegment(token.slice(0, dot1));
  const header = headerBytes === undefined ? undefined : parseObject(headerBytes);
  if (header === undefined) return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };

  // 3. The algorithm: named by the token, on the allow-list, implemented here, and never HMAC.
  const { alg, kid } = header;
  if (typeof alg !== 'string' || alg.startsWith('HS') || !item.algorithms.includes(alg)) {
    return { ok: false, code: 'IAM_AUTHN_ALG_NOT_ALLOWED' };
  }
  const spec = kAlgorithms.get(alg);
  if (spec === undefined) return { ok: false, code: 'IAM_AUTHN_ALG_NOT_ALLOWED' };
  if (kid !== undefined && typeof kid !== 'string') {
    return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };
  }

  // 4. Candidate keys: by kid when present, else the first few that fit the algorithm.
  const candidates = ks.keys.filter((jwk) => (kid === undefined || jwk.kid === kid)
    && keyFits(jwk, alg, spec)).slice(0, kid === undefined ? kMaxKeylessTries : 1);
  if (candidates.length === 0) return { ok: false, code: 'IAM_AUTHN_KEY_UNKNOWN' };

  // 5. The signature, by the engine, with the one algorithm chosen above; then the claims.
  const result = kEngines[engine].verify(ks, candidates, { token, dot1, dot2, alg, spec });
  return result instanceof Promise ? result.then((r) => toItemResult(r, alg), () => kFailed)
    : toItemResult(result, alg);
}

function settle(item: VerifyItem, engine: EngineName): VerifyItemResult |
  Promise<VerifyItemResult> {
  try {
    return verifyOne(item, engine);
  } catch {
    return kFailed;
  }
}

/**
 * Verifies a batch of tokens' signatures with the batch's engine (`node` when absent). Installs
 * any key sets the batch carries first (a newer version replaces the held one). Returns one
 * plain-data result per item, in order; never throws. Failure codes: IAM_AUTHN_ALG_NOT_ALLOWED,
 * IAM_AUTHN_KEY_UNKNOWN, IAM_AUTHN_SIGNATURE_INVALID, IAM_AUTHN_TOKEN_MALFORMED,
 * IAM_AUTHN_VERIFIER_FAILED, and `needKeys` (see protocol.ts).
 */
export default function verifyBatch(batch: VerifyBatch):
  VerifyItemResult[] | Promise<VerifyItemResult[]> {
  if (batch.keySets !== undefined) for (const ks of batch.keySets) installKeySet(ks);
  const engine = batch.engine ?? 'node';
  if (engine !== 'node' && engine !== 'jose') return batch.items.map(() => kFailed);
  const results = batch.items.map((item) => settle(item, engine));
  // jose's WebCrypto calls complete asynchronously, so all items of a batch overlap.
  return engine === 'node' ? results as VerifyItemResult[] : Promise.all(results);
}
