/**
 * Bundle signatures: a detached JWS (RFC 7515 appendix F, compact form `header..signature`) over
 * the exact bundle bytes, made and checked with jose. Algorithms: EdDSA (Ed25519) and ES256
 * (P-256), chosen by the key, never by the signature's header on verification: the header's `alg`
 * must equal the algorithm of the key that verifies it.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { FlattenedSign, flattenedVerify, base64url } from 'jose';
import { PortcullisError } from '../errors/index.js';

/** The algorithms a bundle may be signed with. */
export type BundleAlgorithm = 'EdDSA' | 'ES256';

/** A public key that may sign bundles, with its algorithm fixed by its type. */
export interface BundleVerifyKey {
  readonly key: KeyObject;
  readonly algorithm: BundleAlgorithm;
  /** Optional key id; when both the key and the signature name one, they must agree. */
  readonly kid: string | undefined;
}

function algorithmOf(key: KeyObject): BundleAlgorithm {
  if (key.asymmetricKeyType === 'ed25519') return 'EdDSA';
  if (key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1') {
    return 'ES256';
  }
  throw new PortcullisError('IAM_BUNDLE_SIGNATURE_INVALID',
    `unsupported key type ${key.asymmetricKeyType ?? 'unknown'}: use Ed25519 (EdDSA) or P-256 (ES256)`);
}

/** Reads a PEM public key (SPKI) or a private key (its public half is used) for verification. */
export function bundleVerifyKey(pem: string, kid?: string): BundleVerifyKey {
  const key = createPublicKey(pem);
  return { key, algorithm: algorithmOf(key), kid };
}

/**
 * Signs `bundle` with a PKCS#8 PEM private key (Ed25519 or P-256). Returns the detached compact
 * JWS: `<protected header>..<signature>`.
 */
export async function signBundle(bundle: Uint8Array, privateKeyPem: string, kid?: string):
  Promise<string> {
  const key = createPrivateKey(privateKeyPem);
  const alg = algorithmOf(key);
  const jws = await new FlattenedSign(bundle)
    .setProtectedHeader(kid === undefined ? { alg } : { alg, kid })
    .sign(key);
  return `${jws.protected}..${jws.signature}`;
}

/**
 * Verifies the detached JWS `signature` over `bundle` with any of `keys`. Throws
 * `IAM_BUNDLE_SIGNATURE_MISSING` when there is no signature and `IAM_BUNDLE_SIGNATURE_INVALID`
 * when no key verifies it (a changed byte, a wrong key, a bad header). Resolves the kid of the
 * key that verified.
 */
export async function verifyBundleSignature(bundle: Uint8Array, signature: string | undefined,
  keys: readonly BundleVerifyKey[]): Promise<string | undefined> {
  const text = signature?.trim() ?? '';
  if (text === '') throw new PortcullisError('IAM_BUNDLE_SIGNATURE_MISSING');
  const parts = text.split('.');
  if (parts.length !== 3 || parts[1] !== '' || parts[0] === '' || parts[2] === '') {
    throw new PortcullisError('IAM_BUNDLE_SIGNATURE_INVALID', 'not a detached compact JWS');
  }
  let header: { alg?: unknown; kid?: unknown; b64?: unknown; crit?: unknown };
  try {
    header = JSON.parse(new TextDecoder().decode(base64url.decode(parts[0]!))) as typeof header;
  } catch {
    throw new PortcullisError('IAM_BUNDLE_SIGNATURE_INVALID', 'unreadable JWS header');
  }
  const payload = base64url.encode(bundle);
  for (const k of keys) {
    if (header.alg !== k.algorithm) continue;
    if (k.kid !== undefined && header.kid !== undefined && header.kid !== k.kid) continue;
    try {
      await flattenedVerify({ protected: parts[0]!, payload, signature: parts[2]! }, k.key,
        { algorithms: [k.algorithm] });
      return k.kid ?? (typeof header.kid === 'string' ? header.kid : undefined);
    } catch {
      // Try the next key; a bundle signed by none of them is refused below.
    }
  }
  throw new PortcullisError('IAM_BUNDLE_SIGNATURE_INVALID',
    `no configured key verifies it (alg ${String(header.alg)})`);
}
