/**
 * The fixture of the cached-path measurements (cached-path.bench.ts and the CI gate's
 * micro-benchmark): a real Authenticator with keys from a JWKS file, a verifier pool, and four
 * RS256 tokens of a realistic size already verified once, so every later call is a cache hit.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import {
  Authenticator, type AuthnResult, type CachedDerivation, JwksSource, kNoPrincipalRules,
  VerifiedTokenCache, VerifierPool,
} from '../../../src/authn/index.js';

const kIssuer = 'https://idp.bench.test';

/** A warmed Authenticator and the `Authorization` header values it has cached. */
export interface CachedFixture {
  /** `Bearer <token>` for each of four tokens, each verified once already. */
  readonly headers: readonly string[];
  readonly tokenBytes: number;
  /** The stage under test; synchronous for these headers (a cache hit). */
  authenticate(header: string): AuthnResult | Promise<AuthnResult>;
  /** Stops the key source and the pool, removes the JWKS file. */
  close(): Promise<void>;
}

/** Builds the fixture; rejects when the warm-up verification of a token fails. */
export async function prepareCachedFixture(): Promise<CachedFixture> {
  // Step 1: a key, its JWKS file, and four tokens of a realistic size.
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-bench-authn-'));
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench-1', alg: 'RS256', use: 'sig' };
  writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
  const tokens = await Promise.all([0, 1, 2, 3].map((i) => new SignJWT({
    scope: 'orders:read orders:write', client_id: `client-${i}`, tenant: 'acme',
  }).setProtectedHeader({ alg: 'RS256', kid: 'bench-1', typ: 'at+jwt' }).setIssuer(kIssuer)
    .setSubject(`user-${i}`).setAudience('orders').setIssuedAt().setExpirationTime('1h')
    .sign(privateKey)));
  const headers = tokens.map((t) => `Bearer ${t}`);

  // Step 2: the real stage, and one verification per token to fill the cache.
  const source = new JwksSource({ issuer: kIssuer, jwksFile: path.join(dir, 'jwks.json') });
  const pool = new VerifierPool({ threads: 1, maxQueue: 64, batchMaxItems: 4, batchMaxWaitUs: 0 });
  const cache = new VerifiedTokenCache<CachedDerivation>(1000, 1 << 20);
  source.onChange((ks) => pool.setKeySet(ks));
  await source.start();
  const authenticator = new Authenticator({
    issuers: new Map([[kIssuer, {
      source, algorithms: ['RS256'], principal: kNoPrincipalRules, rules: {
        issuer: kIssuer, audiences: ['orders'], requiredClaims: ['sub'], clockSkewSec: 30,
        requireExp: true, typ: 'at+jwt',
      },
    }]]),
    pool,
    cache,
    limits: { maxTokenBytes: 8192, maxHeaderBytes: 2048 },
  });
  for (const h of headers) {
    const first = await authenticator.authenticate(h);
    if (!first.ok) throw new Error(`warm-up verification failed: ${first.code}`);
  }

  return {
    headers,
    tokenBytes: tokens[0]?.length ?? 0,
    authenticate: (header) => authenticator.authenticate(header),
    close: async () => {
      source.stop();
      await pool.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
