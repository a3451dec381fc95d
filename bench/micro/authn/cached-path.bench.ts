/**
 * The main-thread cost of authenticating a request whose token is already in the
 * verified-token cache: bearer extraction, cache lookup, key-set version check and every claim
 * check (issue 3 target: at most 3 µs median). The cache is filled by a real verification in the
 * worker pool first, with keys from a JWKS file (cached-fixture.ts). Run after a build with:
 *
 *   node dist/bench/micro/authn/cached-path.bench.js
 *   node dist/bench/micro/authn/cached-path.bench.js --json   (one JSON line, for authn-edge.ts)
 *
 * Each sample is the mean of a batch of calls (a single call is below the timer's resolution).
 */
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import { prepareCachedFixture } from './cached-fixture.js';

const kBatch = 1024;

// Step 1: the warmed stage (every later call a cache hit).
const fixture = await prepareCachedFixture();
const headers = fixture.headers;

// Step 2: the cached path, batched.
let sink = 0;
const bench = new Bench({ name: 'authn', time: 1000, warmupTime: 300 });
bench.add('authn/authenticate path=cached alg=RS256', () => {
  const start = bench.now();
  for (let i = 0; i < kBatch; i++) {
    const result = fixture.authenticate(headers[i & 3] as string);
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
    callsPerSample: kBatch, tokenBytes: fixture.tokenBytes, sink,
  }));
} else {
  console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
  console.log(`batch of ${kBatch} calls per sample, 4 tokens of ${fixture.tokenBytes} bytes, `
    + `sink ${sink}`);
  console.table(bench.table());
}

await fixture.close();
