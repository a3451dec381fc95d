/**
 * The main-thread cost of authenticating a request whose token is already in the
 * verified-token cache: bearer extraction, cache lookup, key-set version check and every claim
 * check (issue 3 target: at most 3 µs median). The cache is filled by a real verification in the
 * worker pool first, with keys from a JWKS file. Run after a build with:
 *
 *   node dist/bench/micro/authn/cached-path.bench.js
 *   node dist/bench/micro/authn/cached-path.bench.js --json   (one JSON line, for authn-edge.ts)
 *
 * Each sample is the mean of a batch of calls (a single call is below the timer's resolution).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { Bench } from 'tinybench';
import {
  Authenticator, type CachedDerivation, JwksSource, kNoPrincipalRules, VerifiedTokenCache,
  VerifierPool,
} from '../../../src/authn/index.js';

const kBatch = 1024;
const kIssuer = 'https://idp.bench.test';

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

// Step 3: the cached path, batched.
let sink = 0;
const bench = new Bench({ name: 'authn', time: 1000, warmupTime: 300 });
bench.add('authn/authenticate path=cached alg=RS256', () => {
  const start = bench.now();
  for (let i = 0; i < kBatch; i++) {
    const result = authenticator.authenticate(headers[i & 3] as string);
    if (result instanceof Promise) throw new Error('cache miss in the cached-path bench');
    if (result.ok) sink++;
  }
  const elapsed = bench.now() - start;
  return { overriddenDuration: elapsed / kBatch, overriddenIterationCost: elapsed };
});
await bench.run();

if (process.argv.includes('--json')) {
  const task = bench.tasks[0];
  const result = task?.result;
  if (result === undefined || !('latency' in result)) throw new Error('the bench did not complete');
  const { latency } = result;
  console.log(JSON.stringify({
    name: task?.name, medianUs: latency.p50 * 1e3, meanUs: latency.mean * 1e3,
    p99Us: latency.p99 * 1e3, rmePct: latency.rme, samples: latency.samplesCount,
    callsPerSample: kBatch, tokenBytes: tokens[0]?.length, sink,
  }));
} else {
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
  console.log(`batch of ${kBatch} calls per sample, 4 tokens of ${tokens[0]?.length} bytes, `
    + `sink ${sink}`);
  console.table(bench.table());
}

source.stop();
await pool.close();
rmSync(dir, { recursive: true, force: true });
