/**
 * Admission of a bundle from outside: signature first, then schema, then version. Nothing of a
 * bundle is decoded before its signature verifies. A bundle is admitted when its policy version
 * is higher than the active one's; the same version with the same source digest is "unchanged";
 * anything else is refused, and the caller keeps the active bundle (fail closed, last good kept).
 */
import { PortcullisError } from '../errors/index.js';
import { type BundleMeta, type DecodedBundle, decodeBundle } from './bundle.js';
import { type BundleVerifyKey, verifyBundleSignature } from './signature.js';

/** An admitted bundle, or the note that it equals the active one. */
export type Admission =
  | { readonly kind: 'new'; readonly bundle: DecodedBundle; readonly keyId: string | undefined }
  | { readonly kind: 'unchanged' };

/**
 * Verifies and decodes `bytes`. Throws `IAM_BUNDLE_SIGNATURE_MISSING`,
 * `IAM_BUNDLE_SIGNATURE_INVALID`, `IAM_BUNDLE_MALFORMED`, `IAM_BUNDLE_VERSION_UNSUPPORTED` or
 * `IAM_BUNDLE_VERSION_OLDER`.
 */
export async function admitBundle(bytes: Uint8Array, signature: string | undefined,
  keys: readonly BundleVerifyKey[], active: BundleMeta | undefined): Promise<Admission> {
  const keyId = await verifyBundleSignature(bytes, signature, keys);
  const bundle = decodeBundle(bytes);
  if (active !== undefined) {
    const { policyVersion, sourceDigest } = bundle.meta;
    if (policyVersion === active.policyVersion && sourceDigest === active.sourceDigest) {
      return { kind: 'unchanged' };
    }
    if (policyVersion <= active.policyVersion) {
      throw new PortcullisError('IAM_BUNDLE_VERSION_OLDER',
        `version ${policyVersion} (digest ${sourceDigest.slice(0, 12)}) does not follow the active ` +
        `version ${active.policyVersion}`);
    }
  }
  return { kind: 'new', bundle, keyId };
}
