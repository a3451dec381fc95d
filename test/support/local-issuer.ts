/**
 * A token issuer whose ES256 key the test holds: its public key in a JWKS file (config
 * `jwksFile`), tokens signed with chosen claims. For tests that need sid/jti/sub under their
 * control; the real IdP (oidc-provider.ts) covers discovery and rotation.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, exportPKCS8, generateKeyPair, SignJWT } from 'jose';

/** A local issuer. */
export interface LocalIssuer {
  readonly issuer: string;
  readonly jwksFile: string;
  readonly kid: string;
  /** PKCS#8 PEM of the signing key (so tests can check it never leaks). */
  readonly privateKeyPem: string;
  /** A token with `claims` (iss, aud=`local`, exp in 10 min unless given). */
  sign(claims: Record<string, unknown>): Promise<string>;
}

/** Makes a key pair and writes the JWKS file (removed at process exit). */
export async function startLocalIssuer(issuer = 'https://local-issuer.test'): Promise<LocalIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-local-issuer-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const jwksFile = path.join(dir, 'jwks.json');
  const kid = `local-${Date.now()}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return {
    issuer, jwksFile, kid,
    privateKeyPem: await exportPKCS8(privateKey),
    sign: (claims) => {
      const jwt = new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid }).setIssuer(issuer)
        .setAudience('local');
      if (claims.exp === undefined) jwt.setExpirationTime('10m');
      return jwt.sign(privateKey);
    },
  };
}

/** The `authn.issuers` entry for `issuer`. */
export function localIssuerYaml(issuer: LocalIssuer): string {
  return `    - issuer: '${issuer.issuer}'
      jwksFile: '${issuer.jwksFile}'
      audiences: [local]
`;
}
