/**
 * Micro-benchmark of JWT signature verification: the Piscina pool with batched tasks against jose
 * run inline on the main thread, for RS256, ES256 and EdDSA. Run after a build with:
 *
 *   node dist/bench/micro/authn/verify.bench.js
 *
 * Each sample submits `kBatch` distinct tokens at once and awaits them together, as concurrent
 * requests would, and reports the per-token mean
 * (`overriddenDuration`). Keys are generated at start; tokens are fixed for the run.
 */
import { cpus } from 'node:os';
import { type CryptoKey, type JWK, SignJWT, compactVerify, exportJWK, generateKeyPair } from 'jose';
import { Bench } from 'tinybench';
import { VerifierPool } from '../../../src/authn/index.js';

const kBatch = 64;
const kIssuer = 'https://issuer.bench';
const kAlgs = ['RS256', 'ES256', 'EdDSA'] as const;
const kThreads = Math.max(1, cpus().length);

interface Fixture {
  readonly alg: string;
  readonly publicKey: CryptoKey;
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
  return { alg, publicKey, jwk, tokens };
}

const fixtures = await Promise.all(kAlgs.map(fixture));
const pool = new VerifierPool({
  threads: kThreads, maxQueue: 4096, batchMaxItems: 16, batchMaxWaitUs: 100,
});
pool.setKeySet({ issuer: kIssuer, version: 1, keys: fixtures.map((f) => f.jwk) });

let sink = 0; // consumed after the run so no call can be optimized away

const bench = new Bench({ name: 'authn/verify', time: 1000, warmupTime: 300 });

type Mode = (f: Fixture) => Promise<void>;

const kModes: Readonly<Record<string, Mode>> = {
  'pool-batched': async (f) => {
    const results = await Promise.all(f.tokens.map((t) => pool.verify(t, kIssuer, [f.alg])));
    for (const r of results) if (r.ok) sink++;
  },
  inline: async (f) => {
    const results = await Promise.all(f.tokens.map((t) =>
      compactVerify(t, f.publicKey, { algorithms: [f.alg] })));
    for (const r of results) sink += r.payload.length > 0 ? 1 : 0;
  },
};

/**
 * Main-thread busy time per token: event-loop active time (ELU) over `kEluRounds` samples. This is
 * what a proxy's request thread pays, which latency alone hides (WebCrypto runs jose's inline
 * verifications on libuv's thread pool, so `inline` is not all main-thread work either).
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
    bench.add(`authn/verify alg=${f.alg} mode=${name}`, async () => {
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
    busy[`authn/verify alg=${f.alg} mode=${name}`] = us.toFixed(1);
  }
}
const tasks = pool.stats.tasks;
await pool.close();
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
console.log(`pool threads ${kThreads}, batchMaxItems 16; ${kBatch} tokens per sample; ` +
  `pool tasks ${tasks}; sink ${sink}`);
console.table(bench.table());
console.log('main-thread event-loop active time per token (µs):');
console.table(busy);
