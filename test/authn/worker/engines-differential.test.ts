/**
 * Differential property test of the two signature engines (src/authn/worker/engine.ts): random
 * genuine tokens for every algorithm family, put through random mutations (bit flips in any
 * segment, truncation, header swaps, alg and kid swaps, signature re-encodings), must get the same
 * accept/reject answer from `node` and `jose`, and the same claims when accepted. Each case runs
 * the real pipeline order: the main thread's shape check, then the verifier.
 *
 * At least 2,000 cases per run. The seed is new each run (so runs explore different tokens) unless
 * PORTCULLIS_FC_SEED is set; a failure prints the seed and the shrunk case to replay it.
 */
import assert from 'node:assert/strict';
import { type KeyObject, constants, generateKeyPairSync, sign } from 'node:crypto';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import type { JWK } from 'jose';
import { InlineVerifier, VerifierPool, inspectToken } from '../../../src/authn/index.js';
import { kIssuer, segment } from '../support-keys.js';

const kRuns = 2000;
const kLimits = { maxTokenBytes: 16384, maxHeaderBytes: 1024 };
const kAllowed = ['RS256', 'RS384', 'PS256', 'ES256', 'ES384', 'EdDSA'];

/** A signing key, its kid and the algorithms it signs. */
interface Signer {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: JWK;
}

/** How each algorithm under test is signed with node:crypto. */
const kSigning: Readonly<Record<string, { readonly signer: string; readonly hash: string | null;
  readonly options: Record<string, unknown> }>> = {
  RS256: { signer: 'rsa', hash: 'sha256', options: { padding: constants.RSA_PKCS1_PADDING } },
  RS384: { signer: 'rsa', hash: 'sha384', options: { padding: constants.RSA_PKCS1_PADDING } },
  PS256: { signer: 'rsa', hash: 'sha256',
    options: { padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 32 } },
  ES256: { signer: 'p256', hash: 'sha256', options: { dsaEncoding: 'ieee-p1363' } },
  ES384: { signer: 'p384', hash: 'sha384', options: { dsaEncoding: 'ieee-p1363' } },
  EdDSA: { signer: 'ed25519', hash: null, options: {} },
};

const signers = new Map<string, Signer>();
let nodeInline: InlineVerifier;
let joseInline: InlineVerifier;
let nodePool: VerifierPool;
let josePool: VerifierPool;

function makeSigner(kid: string, make: () => { privateKey: KeyObject; publicKey: KeyObject }):
  Signer {
  const { privateKey, publicKey } = make();
  return { kid, privateKey, jwk: { ...(publicKey.export({ format: 'jwk' }) as JWK), kid } };
}

before(() => {
  const all = [
    makeSigner('rsa', () => generateKeyPairSync('rsa', { modulusLength: 2048 })),
    makeSigner('rsa-2', () => generateKeyPairSync('rsa', { modulusLength: 2048 })),
    makeSigner('p256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })),
    makeSigner('p384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })),
    makeSigner('ed25519', () => generateKeyPairSync('ed25519')),
  ];
  for (const s of all) signers.set(s.kid, s);
  const keySet = { issuer: kIssuer, version: 1, keys: all.map((s) => s.jwk) };
  nodeInline = new InlineVerifier('node');
  joseInline = new InlineVerifier('jose');
  const sizing = { threads: 1, maxQueue: 1000, batchMaxItems: 16, batchMaxWaitUs: 0 };
  nodePool = new VerifierPool({ ...sizing, engine: 'node' });
  josePool = new VerifierPool({ ...sizing, engine: 'jose' });
  for (const v of [nodeInline, joseInline, nodePool, josePool]) v.setKeySet(keySet);
});

after(async () => {
  await nodePool?.close();
  await josePool?.close();
});

/** A genuine token as the generator describes it. */
interface Genuine {
  readonly alg: string;
  readonly withKid: boolean;
  readonly claims: Record<string, unknown>;
}

function signGenuine(g: Genuine): string {
  const how = kSigning[g.alg]!;
  const signer = signers.get(how.signer)!;
  const header = { alg: g.alg, typ: 'JWT', ...(g.withKid ? { kid: signer.kid } : {}) };
  const input = `${segment(header)}.${segment({ iss: kIssuer, ...g.claims })}`;
  const signature = sign(how.hash, Buffer.from(input), { key: signer.privateKey, ...how.options });
  return `${input}.${signature.toString('base64url')}`;
}

/** One way to damage (or keep) a token; each carries its own random choices. */
type Mutation =
  | { readonly kind: 'none' }
  | { readonly kind: 'flip'; readonly part: 0 | 1 | 2; readonly at: number; readonly bit: number }
  | { readonly kind: 'truncate'; readonly part: 0 | 1 | 2; readonly cut: number }
  | { readonly kind: 'header'; readonly other: Genuine }
  | { readonly kind: 'alg'; readonly alg: string }
  | { readonly kind: 'kid'; readonly kid: string | undefined }
  | { readonly kind: 'encoding'; readonly how: 'der' | 'base64' | 'padded' | 'zero' | 'swap' };

const kClaims = fc.dictionary(fc.constantFrom('sub', 'aud', 'scope', 'n', 'x', 'é', 'nested'),
  fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean(),
    fc.array(fc.string({ maxLength: 4 }), { maxLength: 3 })), { maxKeys: 4 });

const kGenuine: fc.Arbitrary<Genuine> = fc.record({
  alg: fc.constantFrom(...Object.keys(kSigning)),
  withKid: fc.boolean(),
  claims: kClaims,
});

const kPart = fc.constantFrom(0 as const, 1 as const, 2 as const);

const kMutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.constant({ kind: 'none' as const }),
  fc.record({ kind: fc.constant('flip' as const), part: kPart, at: fc.nat(), bit: fc.nat(7) }),
  fc.record({ kind: fc.constant('truncate' as const), part: kPart, cut: fc.integer({ min: 1,
    max: 8 }) }),
  fc.record({ kind: fc.constant('header' as const), other: kGenuine }),
  fc.record({ kind: fc.constant('alg' as const), alg: fc.constantFrom('RS256', 'RS384', 'RS512',
    'PS256', 'PS384', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519', 'HS256', 'none', 'rs256') }),
  fc.record({ kind: fc.constant('kid' as const), kid: fc.constantFrom(undefined, 'rsa', 'rsa-2',
    'p256', 'p384', 'ed25519', 'nope') }),
  fc.record({ kind: fc.constant('encoding' as const), how: fc.constantFrom('der' as const,
    'base64' as const, 'padded' as const, 'zero' as const, 'swap' as const) }),
);

/** A P1363 `r || s` signature as DER (what an ECDSA library emits by default). */
function toDer(p1363: Buffer): Buffer {
  const half = p1363.length / 2;
  const integer = (bytes: Buffer): Buffer => {
    let start = 0;
    while (start < bytes.length - 1 && bytes[start] === 0) start++;
    const trimmed = bytes.subarray(start);
    const body = trimmed[0]! >= 0x80 ? Buffer.concat([Buffer.alloc(1), trimmed]) : trimmed;
    return Buffer.concat([Buffer.from([0x02, body.length]), body]);
  };
  const seq = Buffer.concat([integer(p1363.subarray(0, half)), integer(p1363.subarray(half))]);
  return Buffer.concat([Buffer.from([0x30, seq.length]), seq]);
}

function withHeader(parts: string[], edit: (h: Record<string, unknown>) => void): void {
  const header = JSON.parse(Buffer.from(parts[0]!, 'base64url').toString('utf8')) as
    Record<string, unknown>;
  edit(header);
  parts[0] = segment(header);
}

function mutate(token: string, m: Mutation): string {
  const parts = token.split('.');
  switch (m.kind) {
    case 'none': break;
    case 'flip': {
      const bytes = Buffer.from(parts[m.part]!, 'base64url');
      if (bytes.length > 0) bytes[m.at % bytes.length]! ^= 1 << m.bit;
      parts[m.part] = bytes.toString('base64url');
      break;
    }
    case 'truncate': {
      const bytes = Buffer.from(parts[m.part]!, 'base64url');
      parts[m.part] = bytes.subarray(0, Math.max(0, bytes.length - m.cut)).toString('base64url');
      break;
    }
    case 'header': parts[0] = signGenuine(m.other).split('.')[0]!; break;
    case 'alg': withHeader(parts, (h) => { h.alg = m.alg; }); break;
    case 'kid': withHeader(parts, (h) => {
      if (m.kid === undefined) delete h.kid;
      else h.kid = m.kid;
    }); break;
    case 'encoding': {
      const signature = Buffer.from(parts[2]!, 'base64url');
      if (m.how === 'der') parts[2] = toDer(signature).toString('base64url');
      if (m.how === 'base64') parts[2] = signature.toString('base64');
      if (m.how === 'padded') parts[2] = `${parts[2]!}==`;
      if (m.how === 'zero') parts[2] = Buffer.concat([Buffer.alloc(1), signature])
        .toString('base64url');
      if (m.how === 'swap') {
        const half = signature.length >> 1;
        parts[2] = Buffer.concat([signature.subarray(half), signature.subarray(0, half)])
          .toString('base64url');
      }
      break;
    }
  }
  return parts.join('.');
}

/** The pipeline's answer: the shape check's code, or the verifier's outcome. */
async function answer(token: string, verifier: InlineVerifier | VerifierPool):
  Promise<{ accepted: boolean; detail: unknown }> {
  const shape = inspectToken(token, kLimits);
  if (!shape.ok) return { accepted: false, detail: shape.code };
  const result = await verifier.verify(token, kIssuer, kAllowed);
  return result.ok ? { accepted: true, detail: [result.kid, result.alg, result.claims] }
    : { accepted: false, detail: result.code };
}

const seed = Number(process.env.PORTCULLIS_FC_SEED ?? (Date.now() % 0x7fffffff));

for (const where of ['inline', 'pool'] as const) {
  const runs = where === 'inline' ? kRuns : kRuns / 4;
  test(`authn/engines node and jose agree on ${runs} random and mutated tokens (${where}, `
    + `seed ${seed})`, async () => {
    let accepted = 0;
    await fc.assert(fc.asyncProperty(kGenuine, kMutation, async (genuine, mutation) => {
      const token = mutate(signGenuine(genuine), mutation);
      const [viaNode, viaJose] = where === 'inline'
        ? [await answer(token, nodeInline), await answer(token, joseInline)]
        : await Promise.all([answer(token, nodePool), answer(token, josePool)]);
      assert.equal(viaNode.accepted, viaJose.accepted,
        `node ${String(viaNode.detail)} vs jose ${String(viaJose.detail)}`);
      if (viaNode.accepted) {
        assert.deepEqual(viaNode.detail, viaJose.detail);
        accepted++;
      }
    }), { numRuns: runs, seed });
    // Both outcomes must be well represented, or the property says little: the unmutated share
    // of cases (about 1 in 7) must verify, and most mutations must be refused.
    assert.ok(accepted >= runs / 20, `only ${accepted} of ${runs} tokens were accepted`);
    assert.ok(accepted <= runs / 2, `${accepted} of ${runs} tokens were accepted`);
  });
}
