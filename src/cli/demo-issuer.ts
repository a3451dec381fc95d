/**
 * The demo's token issuer: an ES256 key made at start-up, its public JWKS in a temp file the
 * embedded configuration points at, and one token minted for the curl lines the CLI prints.
 *
 * Only the embedded demo uses this. The private key lives in this process's memory and dies with
 * it; the token it mints is valid for one hour and only for the demo audience.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';

/** A running demo issuer. */
export interface DemoIssuer {
  readonly issuer: string;
  readonly audience: string;
  /** Public JWKS of the demo key, for `authn.issuers[].jwksFile`. */
  readonly jwksFile: string;
  /** A token for `subject` with `scope`, valid for an hour. */
  mint(subject: string, scope: string): Promise<string>;
  /** Removes the JWKS file. */
  dispose(): void;
}

const kIssuer = 'https://demo-issuer.portcullis.invalid';
const kAudience = 'portcullis-demo';

/** Makes the demo key pair and writes its public JWKS to a fresh temp directory. */
export async function createDemoIssuer(): Promise<DemoIssuer> {
  const { privateKey, publicKey } = await generateKeyPair('ES256');
  const kid = `demo-${Date.now().toString(36)}`;
  const jwk = { ...(await exportJWK(publicKey)), kid, alg: 'ES256', use: 'sig' };
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-demo-'));
  const jwksFile = path.join(dir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }));
  return {
    issuer: kIssuer,
    audience: kAudience,
    jwksFile,
    mint: (subject, scope) => new SignJWT({ scope })
      .setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' })
      .setIssuer(kIssuer)
      .setAudience(kAudience)
      .setSubject(subject)
      .setIssuedAt()
      .setExpirationTime('1h')
      .sign(privateKey),
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
