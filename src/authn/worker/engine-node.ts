/**
 * The `node` signature engine: node:crypto's synchronous `verify` with KeyObjects prepared once
 * per key-set version (the default; engine.ts says why). The JWS signature step per RFC 7515 5.2
 * and RFC 7518 section 3, over the ASCII signing input `header.payload`:
 *
 * - RS256/384/512: RSASSA-PKCS1-v1_5 with SHA-2, the signature exactly the modulus length;
 * - PS256/384/512: RSASSA-PSS, MGF1 with the same hash, salt length = hash length (3.5);
 * - ES256/384/512: ECDSA on P-256/384/521, the signature `r || s` (IEEE P1363) of exactly
 *   64/96/132 bytes, so a DER signature fails; OpenSSL refuses r or s outside [1, n-1], and a
 *   high s is accepted, as 3.4 allows;
 * - EdDSA: Ed25519 (RFC 8037), a 64-byte signature.
 * RSA keys must have a 2048-8192-bit modulus (the bound jwks-filter.ts applies, checked again here
 * because it sets the CPU cost of a verification). Inside a worker a verification blocks only that
 * thread; inline (inline-verifier.ts) it blocks the event loop for its duration.
 */
import { type JsonWebKey, type KeyObject, constants, createPublicKey, verify } from 'node:crypto';
import type { JWK } from 'jose';
import type { IssuerKeySet } from '../key-set.js';
import type { AlgorithmSpec } from './algorithms.js';
import type { EngineResult, SignatureEngine, SignedToken } from './engine.js';
import { PreparedKeys } from './prepared-keys.js';

const kMinRsaBits = 2048;
const kMaxRsaBits = 8192;

/** Signature bytes per curve: `r || s` for ECDSA (RFC 7518 3.4), RFC 8032's size for Ed25519. */
const kCurveSignatureBytes: ReadonlyMap<string, number> = new Map([
  ['P-256', 64], ['P-384', 96], ['P-521', 132], ['Ed25519', 64],
]);

/** A key ready to verify one algorithm: the KeyObject and the exact signature length. */
interface NodeKey {
  readonly key: KeyObject;
  readonly signatureBytes: number;
}

const prepared = new PreparedKeys<NodeKey>();

function makeKey(jwk: JWK): NodeKey | null {
  let key: KeyObject;
  try {
    // node reads kty with n/e or crv/x(/y) and ignores other members; an EC point off its curve
    // is refused here.
    key = createPublicKey({ key: jwk as JsonWebKey, format: 'jwk' });
  } catch {
    return null;
  }
  if (jwk.kty === 'RSA') {
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (key.asymmetricKeyType !== 'rsa' || bits < kMinRsaBits || bits > kMaxRsaBits) return null;
    return { key, signatureBytes: Math.ceil(bits / 8) };
  }
  const signatureBytes = kCurveSignatureBytes.get(jwk.crv as string);
  return signatureBytes === undefined ? null : { key, signatureBytes };
}

/**
 * Decodes one base64url segment. Node's decoder skips characters outside the alphabet, so a
 * decoded length short of the encoded one means the segment was not clean base64url (the main
 * thread's shape check refuses those already; this keeps the engine safe on its own).
 */
export function decodeSegment(segment: string): Buffer | undefined {
  const bytes = Buffer.from(segment, 'base64url');
  return bytes.length === Math.floor((segment.length * 3) / 4) ? bytes : undefined;
}

/** Whether `signature` is `key`'s signature over `data` with `spec`'s algorithm. */
function isSignatureValid(spec: AlgorithmSpec, key: NodeKey, data: Buffer,
  signature: Buffer): boolean {
  if (signature.length !== key.signatureBytes) return false;
  try {
    if (spec.kty === 'RSA') {
      const padding = spec.saltLength === undefined ? constants.RSA_PKCS1_PADDING
        : constants.RSA_PKCS1_PSS_PADDING;
      return verify(spec.hash, data, { key: key.key, padding,
        ...(spec.saltLength === undefined ? {} : { saltLength: spec.saltLength }) }, signature);
    }
    if (spec.kty === 'EC') {
      return verify(spec.hash, data, { key: key.key, dsaEncoding: 'ieee-p1363' }, signature);
    }
    return verify(null, data, key.key, signature);
  } catch {
    return false;
  }
}

function verifyNode(ks: IssuerKeySet, candidates: readonly JWK[], signed: SignedToken):
  EngineResult {
  const { token, dot1, dot2, alg, spec } = signed;
  const signature = decodeSegment(token.slice(dot2 + 1));
  if (signature === undefined) return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };
  const data = Buffer.from(token.slice(0, dot2), 'utf8');

  for (const jwk of candidates) {
    const key = prepared.get(ks, jwk, alg, makeKey);
    if (key === null) return { ok: false, code: 'IAM_AUTHN_KEY_UNKNOWN' };
    if (!isSignatureValid(spec, key, data, signature)) continue;
    const payload = decodeSegment(token.slice(dot1 + 1, dot2));
    if (payload === undefined) return { ok: false, code: 'IAM_AUTHN_TOKEN_MALFORMED' };
    return { ok: true, kid: jwk.kid, payload };
  }
  return { ok: false, code: 'IAM_AUTHN_SIGNATURE_INVALID' };
}

/** The node:crypto engine. */
export const kNodeEngine: SignatureEngine = { name: 'node', verify: verifyNode };
