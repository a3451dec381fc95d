/**
 * Micro-benchmarks of the routing stage's per-request work: request-target canonicalization,
 * the service-registry lookup and the header/framing check (with and without a 640-byte bearer
 * token, the difference being the price of carrying one). Run after a build with:
 *
 *   node dist/bench/micro/routing/canonicalize.bench.js
 *
 * Each task runs a batch of calls over fixed inputs and reports the per-call mean of the batch
 * (`overriddenDuration`), because a single call is shorter than the timer's own overhead.
 */
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import {
  type RouteSpec,
  ServiceRegistry,
  type TargetOptions,
  canonicalizeTarget,
  checkRequestHeaders,
} from '../../../src/routing/index.js';

const kBatch = 1024;
const kOptions: TargetOptions = { slashes: 'merge', maxUrlBytes: 8192 };

const kTargets: Readonly<Record<string, readonly string[]>> = {
  'already-canonical': [
    '/api/v1/users/12345/orders?limit=20&offset=40',
    '/static/js/app.3f9a1c.js',
    '/health',
    '/api/v1/users/12345',
  ],
  'dot-segments': [
    '/api/v1/../v2/./users/%2e%2e/orders?limit=20',
    '/static/./js/../css/site.css',
    '/a/b/c/../../d/./e',
    '/api//v1///users/.',
  ],
  escapes: [
    '/files/caf%c3%a9/%7euser/report%20final.pdf',
    '/search/%E2%82%AC/%41%42%43?q=%20x',
    '/u/%6a%6f%68%6e/profile',
    '/docs/a%2bb%40c/%F0%9F%98%80',
  ],
  'rejected': [
    '/api/v1/users%2F..%2Fadmin',
    '/admin;jsessionid=1',
    '/a/../../etc/passwd',
    '/public#/admin',
  ],
};

/** 50 services: 25 exact hosts, 20 path prefixes on one host, 4 wildcards and one '*'. */
function buildRoutes(): RouteSpec<string>[] {
  const routes: RouteSpec<string>[] = [];
  const add = (host: string, pathPrefix: string, stripPrefix: boolean, service: string): void => {
    routes.push({ hosts: [host], pathPrefix, stripPrefix, service });
  };
  for (let i = 0; i < 25; i++) add(`svc${i}.example.com`, '/', false, `h${i}`);
  for (let i = 0; i < 20; i++) add('api.example.com', `/svc${i}/v1`, true, `p${i}`);
  for (let i = 0; i < 4; i++) add(`*.tenant${i}.example.net`, '/', false, `w${i}`);
  add('*', '/health', false, 'health');
  return routes;
}

const kRegistry = new ServiceRegistry(buildRoutes());
const kMatches: readonly (readonly [string, string])[] = [
  ['api.example.com', '/svc17/v1/items/42'],
  ['svc3.example.com', '/x/y/z'],
  ['a.tenant2.example.net', '/orders/7'],
  ['unknown.test', '/health'],
];

let sink = 0; // consumed after the run so no call can be optimized away

const bench = new Bench({ name: 'routing', time: 500, warmupTime: 200 });

function batched(call: (i: number) => boolean): () => object {
  return () => {
    const start = bench.now();
    for (let i = 0; i < kBatch; i++) if (call(i)) sink++;
    const elapsed = bench.now() - start;
    return { overriddenDuration: elapsed / kBatch, overriddenIterationCost: elapsed };
  };
}

for (const [name, targets] of Object.entries(kTargets)) {
  bench.add(`routing/canonicalize case=${name}`, batched((i) => {
    return canonicalizeTarget(targets[i & 3] as string, 'example.com', kOptions).ok;
  }));
}
bench.add('routing/registry-match services=50', batched((i) => {
  const [host, path] = kMatches[i & 3] as readonly [string, string];
  return kRegistry.match(host, path) !== undefined;
}));

/** A wrk-like head, and the same with a bearer token the size of the benches' RS256 tokens. */
const kHeads = [0, 1, 2, 3].map((i) => ['host', '127.0.0.1:8080', 'user-agent', `wrk/${i}`]);
const kToken = `Bearer ${'eyJhbGciOiJSUzI1NiIsImtpZCI6ImJlbmNoIn0'.repeat(16).slice(0, 633)}`;
const kHeadsWithToken = kHeads.map((h, i) => [...h, 'authorization', `${kToken.slice(0, -1)}${i}`]);
const kLimits = { maxHeaderCount: 100, maxHeaderBytes: 16384 };
bench.add('routing/headers-check token=none', batched((i) =>
  checkRequestHeaders(kHeads[i & 3] as string[], kLimits).ok));
bench.add('routing/headers-check token=640B', batched((i) =>
  checkRequestHeaders(kHeadsWithToken[i & 3] as string[], kLimits).ok));

await bench.run();
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
console.log(`batch of ${kBatch} calls per sample, 4 inputs per case, sink ${sink}`);
console.table(bench.table());
