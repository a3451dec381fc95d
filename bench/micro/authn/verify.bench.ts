/**
 * Micro-benchmark of JWT signature verification, pool against inline: RS256, ES256 and EdDSA
 * with both signature engines (`authn.pool.engine`: node:crypto with prepared KeyObjects, or
 * jose's `compactVerify` through WebCrypto), each in the Piscina pool with batched tasks and
 * inline on the main thread; and HS256, which Portcullis refuses by design, priced the same
 * ways with bench-only code (hmac-verify.ts: inline node:crypto, a Piscina pool of batches of
 * 16, inline jose). Run after a build with:
 *
 *   node dist/bench/micro/authn/verify.bench.js
 *   node dist/bench/micro/authn/verify.bench.js --json   (one JSON line, for the suite)
 *
 * Each sample submits `kBatch` distinct tokens at once and awaits them together, as concurrent
 * requests would, and reports the per-token mean (`overriddenDuration`). Keys are generated at
 * start; tokens are fixed for the run.
 */
import { randomBytes } from 'node:crypto';
import { cpus } from 'node:os';
import { type JWK, SignJWT, compactVerify, exportJWK, generateKeyPair } from 'jose';
import { Piscina } from 'piscina';
import { Bench } from 'tinybench';
import { InlineVerifier, VerifierPool } from '../../../src/authn/index.js';
import { verifyHs256 } from './hmac-verify.js';

const kBatch = 64;
const kHmacTaskItems = 16;
const kIssuer = 'https://issuer.bench';
const kAlgs = ['RS256', 'ES256', 'EdDSA'] as const;
const kThreads = Math.max(1, cpus().length);
const kIsJson = process.argv.includes('--json');

interface Fixture {
  readonly alg: string;
  readonly jwk: JWK;
  readonly tokens: readonly string[];
}

function sign(alg: string, kid: string, key: Parameters<SignJWT['sign']>[0], i: number) {
  return new SignJWT({ sub: `user-${i}`, scope: 'orders:read' })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .setIssuer(kIssuer).setAudience('api://orders').setIssuedAt().setExpirationTime('1h')
    .sign(key);
}

async function fixture(alg: string): Promise<Fixture> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const jwk: JWK = { ...(await exportJWK(publicKey)), kid: `${alg}-1`, alg, use: 'sig' };
  const tokens = await Promise.all(Array.from({ length: kBatch },
    (_, i) => sign(alg, jwk.kid as string, privateKey, i)));
  return { alg, jwk, tokens };
}

const fixtures = await Promise.all(kAlgs.map(fixture));
const kSizing = { threads: kThreads, maxQueue: 4096, batchMaxItems: 16, batchMaxWaitUs: 100 };
const keySet = { issuer: kIssuer, version: 1, keys: fixtures.map((f) => f.jwk) };
const pools = { node: new VerifierPool({ ...kSizing, engine: 'node' }),
  jose: new VerifierPool({ ...kSizing, engine: 'jose' }) };
const inlines = { node: new InlineVerifier('node'), jose: new InlineVerifier('jose') };
for (const v of [...Object.values(pools), ...Object.values(inlines)]) v.setKeySet(keySet);

// HS256: one secret, its tokens, and a plain Piscina pool running the bench-only verifier.
const secret = new Uint8Array(randomBytes(32));
const hmacTokens = await Promise.all(Array.from({ length: kBatch },
  (_, i) => sign('HS256', 'hs-1', secret, i)));
const hmacPool = new Piscina({ filename: new URL('./hmac-verify-worker.js', import.meta.url).href,
  minThreads: kThreads, maxThreads: kThreads });

let sink = 0; // consumed after the run so no call can be optimized away

type Mode = () => Promise<void>;

/** Submits all of a fixture's tokens at once and counts the verified ones. */
function through(verifier: VerifierPool | InlineVerifier, f: Fixture): Mode {
  return async () => {
    const results = await Promise.all(f.tokens.map((t) => verifier.verify(t, kIssuer, [f.alg])));
    for (const r of results) if (r.ok) sink++;
  };
}

const kModes = new Map<string, Mode>();
for (const f of fixtures) {
  kModes.set(`authn/verify alg=${f.alg} pool engine=node`, through(pools.node, f));
  kModes.set(`authn/verify alg=${f.alg} pool engine=jose`, through(pools.jose, f));
  kModes.set(`authn/verify alg=${f.alg} inline engine=node`, through(inlines.node, f));
  kModes.set(`authn/verify alg=${f.alg} inline engine=jose`, through(inlines.jose, f));
}
kModes.set('authn/verify alg=HS256 pool engine=node', async () => {
  const tasks = [];
  for (let i = 0; i < kBatch; i += kHmacTaskItems) {
    tasks.push(hmacPool.run({ tokens: hmacTokens.slice(i, i + kHmacTaskItems), key: secret }));
  }
  for (const ok of await Promise.all(tasks) as number[]) sink += ok;
});
kModes.set('authn/verify alg=HS256 inline engine=node', async () => {
  for (const t of hmacTokens) if (verifyHs256(t, secret)) sink++;
});
kModes.set('authn/verify alg=HS256 inline engine=jose', async () => {
  const results = await Promise.all(hmacTokens.map((t) => compactVerify(t, secret)));
  sink += results.length;
});

/**
 * Main-thread busy time per token: event-loop active time (ELU) over `kEluRounds` samples. This
 * is what a proxy's request thread pays, which latency alone hides (WebCrypto runs jose's
 * verifications on libuv's thread pool, so `inline engine=jose` is not all main-thread work; add
 * `taskset -c 0` to make every thread share one core, as the e2e bench does).
 */
async function mainThreadUsPerToken(mode: Mode): Promise<number> {
  const kEluRounds = 30;
  const start = performance.eventLoopUtilization();
  for (let i = 0; i < kEluRounds; i++) await mode();
  const delta = performance.eventLoopUtilization(start);
  return (delta.active * 1000) / (kEluRounds * kBatch);
}

const bench = new Bench({ name: 'authn/verify', time: 1000, warmupTime: 300 });
for (const [name, mode] of kModes) {
  bench.add(name, async () => {
    const begin = bench.now();
    await mode();
    const elapsed = bench.now() - begin;
    return { overriddenDuration: elapsed / kBatch, overriddenIterationCost: elapsed };
  });
}
await bench.run();

const busy = new Map<string, number>();
for (const [name, mode] of kModes) busy.set(name, await mainThreadUsPerToken(mode));
const tasks = pools.node.stats.tasks + pools.jose.stats.tasks;
await Promise.all([...Object.values(pools).map((p) => p.close()), hmacPool.destroy()]);

if (kIsJson) {
  const rows = bench.tasks.map((task) => {
    const result = task.result;
    const latency = result !== undefined && 'latency' in result ? result.latency : undefined;
    return { name: task.name, medianUs: (latency?.p50 ?? Number.NaN) * 1e3,
      p99Us: (latency?.p99 ?? Number.NaN) * 1e3, rmePct: latency?.rme ?? Number.NaN,
      samples: latency?.samplesCount ?? 0, mainThreadUs: busy.get(task.name) ?? Number.NaN };
  });
  console.log(JSON.stringify({ batch: kBatch, poolThreads: kThreads, rows, sink }));
} else {
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
  console.log(`pool threads ${kThreads}, batchMaxItems 16; ${kBatch} tokens per sample; `
    + `pool tasks ${tasks}; sink ${sink}`);
  console.table(bench.table());
  console.log('main-thread event-loop active time per token (µs):');
  console.table(Object.fromEntries([...busy].map(([k, v]) => [k, v.toFixed(1)])));
}
