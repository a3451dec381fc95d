/**
 * The internal-JWT signer: both key types sign tokens jose verifies against the published JWKS,
 * the kid is the key's RFC 7638 thumbprint, and other key types refuse at start-up.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { calculateJwkThumbprint, createLocalJWKSet, jwtVerify } from 'jose';
import { principalFromClaims } from '../../src/authn/principal.js';
import { InternalJwtSigner } from '../../src/upstream/internal-jwt.js';

const principal = principalFromClaims('https://idp', { sub: 'bob', scope: 'a b' }, 'k');
const pem = (pair: ReturnType<typeof generateKeyPairSync>): string =>
  pair.privateKey.export({ format: 'pem', type: 'pkcs8' }) as string;

describe('upstream/internal-jwt', () => {
  const kKeys: ReadonlyArray<readonly [string, () => string, string]> = [
    ['EC P-256 signs ES256 (IEEE P1363 signatures)',
      () => pem(generateKeyPairSync('ec', { namedCurve: 'P-256' })), 'ES256'],
    ['Ed25519 signs EdDSA', () => pem(generateKeyPairSync('ed25519')), 'EdDSA'],
  ];
  for (const [why, makeKey, alg] of kKeys) {
    test(why, async () => {
      const signer = new InternalJwtSigner('https://proxy', makeKey(), 60);
      const now = Math.floor(Date.now() / 1000);
      const jwt = signer.sign(principal, 'svc', 'req-1', now);
      const jwks = signer.jwks() as unknown as Parameters<typeof createLocalJWKSet>[0];
      const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks),
        { issuer: 'https://proxy', audience: 'svc', algorithms: [alg] });
      assert.equal(payload.sub, 'bob');
      assert.equal(payload.request_id, 'req-1');
      assert.equal(protectedHeader.kid, await calculateJwkThumbprint(jwks.keys[0]!));
    });
  }

  const kRefused: ReadonlyArray<readonly [string, () => string]> = [
    ['an RSA key is not one of the two supported types',
      () => pem(generateKeyPairSync('rsa', { modulusLength: 2048 }))],
    ['an EC key on P-384 is not P-256', () => pem(generateKeyPairSync('ec', { namedCurve: 'P-384' }))],
  ];
  for (const [why, makeKey] of kRefused) {
    test(`refused at start-up: ${why}`, () => {
      assert.throws(() => new InternalJwtSigner('https://proxy', makeKey(), 60), /P-256 or Ed25519/);
    });
  }
});
