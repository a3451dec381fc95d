/**
 * Micro-benchmark of JWT signature verification for RS256, ES256 and EdDSA, with both signature
 * engines (`authn.pool.engine`: node:crypto with prepared KeyObjects, or jose's `compactVerify`
 * through WebCrypto), each in the Piscina pool with batched tasks and inline on the main thread.
 * Run after a build with:
 *
 *   node dist/bench/micro/authn/verify.bench.js
 *
 * Each sample submits `kBatch` distinct tokens at once and awaits them together, as concurrent
 * requests would, and reports the per-token mean
 * (`overriddenDuration`). Keys are generated at start; tokens are fixed for the run.
 */
import { cpus } from 'node:os';
import { type JWK, SignJWT, exportJWK, generateKeyPair } from 'jose';
import { Bench } from 'tinybench';
import { InlineVerifier, VerifierPool } from '../../../src/authn/index.js';

const kBatch = 64;
const kIssuer = 'https://issuer.bench';
const kAlgs = ['RS256', 'ES256', 'EdDSA'] as const;
const kThreads = Math.max(1, cpus().length);

interface Fixture {
  readonly alg: string;
  readonly jwk: JWK;
  readonly tokens: readonly string[];
}

async function fixture(alg: string): Promise<Fixture> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: `${alg}-1`, alg, use: 'sig' };
  const tokens = await Promise.all(Array.from({ length: kBatch }, (_, i) =>
    new SignJWT({ sub: `user-${i}`, scope: 'orders:read' })
      .setProtectedHeader({ alg, kid: jwk.kid as string, typ: 'at+jwt' })
      .setIssuer(kIssuer).setAudience('api://orders').setIssuedAt().setExpirationTime('1h')
      .sign(privateKey)));
  return { alg, jwk, tokens };
}

const fixtures = await Promise.all(kAlgs.map(fixture));
const kSizing = { threads: kThreads, maxQueue: 4096, batchMaxItems: 16, batchMaxWaitUs: 100 };
const keySet = { issuer: kIssuer, version: 1, keys: fixtures.map((f) => f.jwk) };
const pools = { node: new VerifierPool({ ...kSizing, engine: 'node' }),
  jose: new VerifierPool({ ...kSizing, engine: 'jose' }) };
const inlines = { node: new InlineVerifier('node'), jose: new InlineVerifier('jose') };
for (const v of [...Object.values(pools), ...Object.values(inlines)]) v.setKeySet(keySet);

let sink = 0; // consumed after the run so no call can be optimized away

const bench = new Bench({ name: 'authn/verify', time: 1000, warmupTime: 300 });

type Mode = (f: Fixture) => Promise<void>;

/** Submits all of a fixture's tokens at once and counts the verified ones. */
function through(verifier: VerifierPool | InlineVerifier): Mode {
  return async (f) => {
    const results = await Promise.all(f.tokens.map((t) => verifier.verify(t, kIssuer, [f.alg])));
    for (const r of results) if (r.ok) sink++;
  };
}

const kModes: Readonly<Record<string, Mode>> = {
  'pool engine=node': through(pools.node),
  'pool engine=jose': through(pools.jose),
  'inline engine=node': through(inlines.node),
  'inline engine=jose': through(inlines.jose),
};

/**
 * Main-thread busy time per token: event-loop active time (ELU) over `kEluRounds` samples. This is
 * what a proxy's request thread pays, which latency alone hides (WebCrypto runs jose's
 * verifications on libuv's thread pool, so `inline engine=jose` is not all main-thread work; add
 * `taskset -c 0` to make every thread share one core, as the e2e bench does).
 */
async function mainThreadUsPerToken(f: Fixture, mode: Mode): Promise<number> {
  const kEluRounds = 30;
  const start = performance.eventLoopUtilization();
  for (let i = 0; i < kEluRounds; i++) await mode(f);
  const delta = performance.eventLoopUtilization(start);
  return (delta.active * 1000) / (kEluRounds * kBatch);
}

for (const f of fixtures) {
  for (const [name, mode] of Object.entries(kModes)) {
    bench.add(`authn/verify alg=${f.alg} ${name}`, async () => {
      const begin = bench.now();
      await mode(f);
      const elapsed = bench.now() - begin;
      return { overriddenDuration: elapsed / kBatch, overriddenIterationCost: elapsed };
    });
  }
}

await bench.run();
const busy: Record<string, string> = {};
for (const f of fixtures) {
  for (const [name, mode] of Object.entries(kModes)) {
    const us = await mainThreadUsPerToken(f, mode);
    busy[`authn/verify alg=${f.alg} ${name}`] = us.toFixed(1);
  }
}
const tasks = pools.node.stats.tasks + pools.jose.stats.tasks;
await Promise.all(Object.values(pools).map((p) => p.close()));
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
console.log(`pool threads ${kThreads}, batchMaxItems 16; ${kBatch} tokens per sample; ` +
  `pool tasks ${tasks}; sink ${sink}`);
console.table(bench.table());
console.log('main-thread event-loop active time per token (µs):');
console.table(busy);
