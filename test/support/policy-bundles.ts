/**
 * Signed policy bundles for tests: a signing key pair on disk (the public key is what a config's
 * `policy.publicKeys` names), and helpers that compile policy text or a folder and sign it the
 * way `portcullis compile` and `portcullis sign` do.
 */
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { compilePolicy, readPolicyDir, signBundle } from '../../src/policy/index.js';

/** A bundle and its detached JWS. */
export interface SignedBundle {
  readonly bytes: Uint8Array;
  readonly signature: string;
}

/** A signer with its key files in a temporary folder (removed at exit). */
export interface BundleSigner {
  readonly dir: string;
  readonly publicKeyFile: string;
  /** Compiles `text` (one policy file) and signs it. */
  signText(text: string): Promise<SignedBundle>;
  /** Compiles the policy folder `dir` and signs it. */
  signDir(dir: string): Promise<SignedBundle>;
  /** Writes `bundle` to `file` and its signature to `file.jws`. */
  write(file: string, bundle: SignedBundle): void;
}

export function createBundleSigner(): BundleSigner {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-bundles-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const publicKeyFile = path.join(dir, 'bundle-signer.pub.pem');
  writeFileSync(publicKeyFile, publicKey.export({ type: 'spki', format: 'pem' }));
  const pem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
  const sign = async (bytes: Uint8Array): Promise<SignedBundle> =>
    ({ bytes, signature: await signBundle(bytes, pem) });
  return {
    dir, publicKeyFile,
    signText: (text) => sign(compilePolicy([{ name: 'policy.yaml', text }], { createdAtMs: 0 }).bytes),
    signDir: async (policyDir) => sign(compilePolicy(await readPolicyDir(policyDir), { createdAtMs: 0 }).bytes),
    write: (file, b) => {
      writeFileSync(file, b.bytes);
      writeFileSync(`${file}.jws`, b.signature);
    },
  };
}
