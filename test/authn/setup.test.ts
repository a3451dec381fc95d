/**
 * Where the authentication stage verifies signatures: with every algorithm inline (the default)
 * it starts no pool and still verifies and refuses as before; with an algorithm left to the
 * pool, the pool starts and takes it.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { before, describe, test } from 'node:test';
import { isPoolNeeded, startAuthnStage } from '../../src/authn/index.js';
import { loadConfigText } from '../../src/config/index.js';
import { silentLogger } from '../../src/telemetry/index.js';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';

const kService = `services:
  - name: api
    pathPrefix: /
    access: authenticated
    upstream: { addresses: ['127.0.0.1:9'] }
`;

let issuer: LocalIssuer;

before(async () => {
  issuer = await startLocalIssuer();
});

async function authnConfig(poolYaml: string) {
  const yaml = `${kService}authn:\n${poolYaml}  issuers:\n${localIssuerYaml(issuer)}`;
  return (await loadConfigText(yaml, 'setup.yaml', tmpdir(), {})).authn;
}

describe('authn/setup where signatures are checked', () => {
  test('isPoolNeeded: only when some algorithm is left off inlineAlgorithms', async () => {
    assert.equal(isPoolNeeded((await authnConfig('')).pool), false, 'the default is all inline');
    assert.equal(isPoolNeeded((await authnConfig('  pool: { inlineAlgorithms: [] }\n')).pool),
      true);
    assert.equal(isPoolNeeded(
      (await authnConfig('  pool: { inlineAlgorithms: [ES256, RS256] }\n')).pool), true);
  });

  test('by default no pool starts, tokens verify inline, a forged one is refused', async () => {
    const stage = await startAuthnStage(await authnConfig(''), silentLogger());
    try {
      assert.equal(stage.pool, undefined);
      assert.equal(stage.poolStats(), undefined);
      const token = await issuer.sign({ sub: 'alice' });
      const ok = await stage.authenticator!.authenticate(`Bearer ${token}`);
      assert.equal(ok.ok && ok.principal.subject, 'alice');
      const forged = `${token.slice(0, -6)}AAAAAA`;
      assert.deepEqual(await stage.authenticator!.authenticate(`Bearer ${forged}`),
        { ok: false, code: 'IAM_AUTHN_SIGNATURE_INVALID' });
      const hs = `${Buffer.from('{"alg":"HS256"}').toString('base64url')}.${
        Buffer.from(JSON.stringify({ iss: issuer.issuer })).toString('base64url')}.c2ln`;
      assert.deepEqual(await stage.authenticator!.authenticate(`Bearer ${hs}`),
        { ok: false, code: 'IAM_AUTHN_ALG_NOT_ALLOWED' }, 'HMAC is refused without a pool too');
    } finally {
      await stage.stop();
    }
  });

  test('with ES256 left to the pool, the pool starts and verifies it', async () => {
    const stage = await startAuthnStage(
      await authnConfig('  pool: { inlineAlgorithms: [RS256], threads: 1 }\n'), silentLogger());
    try {
      assert.notEqual(stage.pool, undefined);
      const result = await stage.authenticator!.authenticate(
        `Bearer ${await issuer.sign({ sub: 'bob' })}`);
      assert.equal(result.ok && result.principal.subject, 'bob');
      assert.ok((stage.poolStats()?.tasks ?? 0) >= 1, 'the ES256 token went through the pool');
    } finally {
      await stage.stop();
    }
  });
});
