/**
 * Bundle signatures and admission: a bundle is activated only when a configured key verifies its
 * detached JWS over the exact bytes, its schema version is known and its policy version follows
 * the active one's. Every refusal carries its own code.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import {
  admitBundle, bundleVerifyKey, compilePolicy, decodeBundle, signBundle, verifyBundleSignature,
} from '../../src/policy/index.js';

const kPolicy = (version: number, path = '/a'): string =>
  `version: ${version}\nrules:\n  - { id: r, effect: allow, who: anyone, paths: ['${path}'] }\n`;
const bundleOf = (version: number, path?: string): Uint8Array =>
  compilePolicy([{ name: 'p.yaml', text: kPolicy(version, path) }], { createdAtMs: 0 }).bytes;

function keyPair(kind: 'ed25519' | 'p256' | 'rsa'): { privatePem: string; publicPem: string } {
  const pair = kind === 'ed25519' ? generateKeyPairSync('ed25519')
    : kind === 'p256' ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return {
    privatePem: pair.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

async function rejects(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: { code?: string }) => err.code === code);
}

describe('policy/signature', () => {
  const ed = keyPair('ed25519');
  const ec = keyPair('p256');
  const keys = [bundleVerifyKey(ed.publicPem), bundleVerifyKey(ec.publicPem)];

  test('EdDSA and ES256 signatures verify with the matching public key', async () => {
    const bytes = bundleOf(1);
    for (const k of [ed, ec]) {
      const jws = await signBundle(bytes, k.privatePem, 'k1');
      assert.match(jws, /^[\w-]+\.\.[\w-]+$/, 'detached compact form');
      assert.equal(await verifyBundleSignature(bytes, jws, [bundleVerifyKey(k.publicPem)]), 'k1');
    }
  });

  test('one changed byte anywhere in the bundle fails verification', async () => {
    const bytes = bundleOf(1);
    const jws = await signBundle(bytes, ed.privatePem);
    for (const at of [0, Math.floor(bytes.length / 2), bytes.length - 1]) {
      const tampered = Uint8Array.from(bytes);
      tampered[at] = tampered[at]! ^ 1;
      await rejects(verifyBundleSignature(tampered, jws, keys), 'IAM_BUNDLE_SIGNATURE_INVALID');
    }
  });

  test('a key that is not configured does not verify', async () => {
    const other = keyPair('ed25519');
    const bytes = bundleOf(1);
    await rejects(verifyBundleSignature(bytes, await signBundle(bytes, other.privatePem), keys),
      'IAM_BUNDLE_SIGNATURE_INVALID');
  });

  test('a missing or empty signature is its own refusal', async () => {
    await rejects(verifyBundleSignature(bundleOf(1), undefined, keys), 'IAM_BUNDLE_SIGNATURE_MISSING');
    await rejects(verifyBundleSignature(bundleOf(1), ' \n', keys), 'IAM_BUNDLE_SIGNATURE_MISSING');
  });

  test('a non-detached, alg:none or garbage signature is refused', async () => {
    const bytes = bundleOf(1);
    const none = `${Buffer.from('{"alg":"none"}').toString('base64url')}..`;
    for (const bad of ['abc', 'a.b.c', none, `${none}x`]) {
      await rejects(verifyBundleSignature(bytes, bad, keys), 'IAM_BUNDLE_SIGNATURE_INVALID');
    }
  });

  test('RSA keys are refused for signing (only EdDSA and ES256)', async () => {
    await rejects(signBundle(bundleOf(1), keyPair('rsa').privatePem), 'IAM_BUNDLE_SIGNATURE_INVALID');
  });

  test('admission: newer is new, the same is unchanged, older or same-version-different is refused', async () => {
    const v2 = bundleOf(2);
    const active = decodeBundle(v2).meta;
    const sign = (b: Uint8Array): Promise<string> => signBundle(b, ed.privatePem);
    assert.equal((await admitBundle(v2, await sign(v2), keys, undefined)).kind, 'new');
    assert.equal((await admitBundle(v2, await sign(v2), keys, active)).kind, 'unchanged');
    const v3 = bundleOf(3);
    assert.equal((await admitBundle(v3, await sign(v3), keys, active)).kind, 'new');
    const v1 = bundleOf(1);
    await rejects(admitBundle(v1, await sign(v1), keys, active), 'IAM_BUNDLE_VERSION_OLDER');
    const v2b = bundleOf(2, '/b');
    await rejects(admitBundle(v2b, await sign(v2b), keys, active), 'IAM_BUNDLE_VERSION_OLDER');
  });

  test('admission: a signed bundle with an unknown schema version is refused', async () => {
    const root = protobuf.loadSync(fileURLToPath(new URL('../../../proto/bundle.proto', import.meta.url)));
    const type = root.lookupType('portcullis.policy.v1.Bundle');
    const raw = type.toObject(type.decode(bundleOf(5)));
    const future = type.encode(type.fromObject({ ...raw, schemaVersion: 99 })).finish();
    await rejects(admitBundle(future, await signBundle(future, ed.privatePem), keys, undefined),
      'IAM_BUNDLE_VERSION_UNSUPPORTED');
    const garbage = Uint8Array.from([0xff, 0xff, 0xff]);
    await rejects(admitBundle(garbage, await signBundle(garbage, ed.privatePem), keys, undefined),
      'IAM_BUNDLE_MALFORMED');
  });
});
