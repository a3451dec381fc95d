/**
 * Test keys and token builders shared by the authn pool tests: fresh key pairs per run (RS256,
 * ES256, EdDSA) and signers for valid and hand-crafted malicious tokens.
 */
import { type CryptoKey, type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';

/** A key pair with its public JWK (carrying `kid`) as a key set would hold it. */
export interface TestKey {
  readonly alg: string;
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicKey: CryptoKey;
  readonly jwk: JWK;
}

/** The issuer every test token names. */
export const kIssuer = 'https://issuer.test';

/** Generates an extractable key pair and its public JWK; `withAlg` puts `alg` on the JWK. */
export async function makeKey(alg: string, kid: string, withAlg = true): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid, use: 'sig' };
  if (withAlg) jwk.alg = alg;
  return { alg, kid, privateKey, publicKey, jwk };
}

/** Signs a valid token for `kIssuer` with `key`; `header` adds or overrides header members. */
export async function signToken(
  key: TestKey,
  header: Record<string, unknown> = {},
  claims: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT({ sub: 'alice', ...claims })
    .setProtectedHeader({ alg: key.alg, kid: key.kid, ...header })
    .setIssuer(kIssuer)
    .setExpirationTime('10m')
    .sign(key.privateKey);
}

/** Encodes a JSON value (or a raw string) as one base64url segment. */
export function segment(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return Buffer.from(text).toString('base64url');
}
