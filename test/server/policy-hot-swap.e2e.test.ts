/**
 * Hot swap under load: while a bounded load generator keeps requests in flight, a new bundle
 * is pushed every 100 ms. Every request must succeed, and every request must be decided by one
 * bundle: each bundle adds two obligation headers carrying its version, so the upstream would
 * see two different versions if a decision ever mixed two bundles.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { createBundleSigner, type BundleSigner } from '../support/policy-bundles.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

const kAdminToken = 'hot-swap-admin-token';
process.env.HOT_SWAP_ADMIN = kAdminToken;
/**
 * The run: kSwaps bundles, one every kSwapEveryMs, while the load runs; the load goes on until
 * the swaps are done and at least kMinRequests were sent (counts, so a slow machine still gets
 * a full run), bounded by kMaxRequests and kMaxLoadMs.
 */
const kSwaps = 20;
const kSwapEveryMs = 100;
const kMinRequests = 500;
const kMaxRequests = 20_000;
const kMaxLoadMs = 20_000;
const kConcurrency = 8;

let upstream: http.Server;
let proxy: TestProxy;
let signer: BundleSigner;

const policyText = (version: number): string => `version: ${version}
rules:
  - id: allow-v${version}
    effect: allow
    who: anyone
    paths: ['/**']
    obligations: { headers: { x-policy-a: 'v${version}', x-policy-b: 'v${version}' } }
`;

async function push(version: number): Promise<number> {
  const b = await signer.signText(policyText(version));
  const res = await fetch(`http://127.0.0.1:${proxy.adminPort}/policy/bundle`, {
    method: 'PUT', body: b.bytes,
    headers: { authorization: `Bearer ${kAdminToken}`, 'x-portcullis-signature': b.signature },
  });
  await res.arrayBuffer();
  return res.status;
}

before(async () => {
  // The upstream answers with the two obligation headers it received.
  upstream = http.createServer((req, res) => {
    res.end(`${String(req.headers['x-policy-a'])} ${String(req.headers['x-policy-b'])}`);
  });
  await new Promise<void>((done) => upstream.listen(0, '127.0.0.1', done));
  signer = createBundleSigner();
  proxy = await startTestProxy(`admin: { token: { env: HOT_SWAP_ADMIN } }
policy:
  publicKeys: ['${signer.publicKeyFile}']
  allowPush: true
services:
  - name: app
    upstream: { addresses: ['127.0.0.1:${(upstream.address() as AddressInfo).port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await new Promise((done) => upstream?.close(done));
});

describe('server/policy hot swap', () => {
  test('before any bundle, requests are refused with IAM_AUTHZ_NO_POLICY and /readyz is 503', async () => {
    const res = await fetch(`http://127.0.0.1:${proxy.port}/x`);
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('x-portcullis-error'), 'IAM_AUTHZ_NO_POLICY');
    await res.arrayBuffer();
    assert.equal((await fetch(`http://127.0.0.1:${proxy.adminPort}/readyz`)).status, 503);
  });

  test('bundles swapped every 100 ms under load: no failed request, never a mix', async () => {
    assert.equal(await push(1), 200);
    const pushed = new Set(['v1']);
    const deadline = Date.now() + kMaxLoadMs;
    let isSwapping = true;
    let sent = 0;
    const failures: string[] = [];
    const seen = new Map<string, number>();

    // The load: kConcurrency loops on keep-alive connections, bounded in count and time.
    const loop = async (): Promise<void> => {
      const isDone = (): boolean => !isSwapping && sent >= kMinRequests;
      while (!isDone() && Date.now() < deadline && sent < kMaxRequests) {
        sent++;
        const res = await fetch(`http://127.0.0.1:${proxy.port}/item/${sent}`);
        const body = await res.text();
        const [a, b] = body.split(' ');
        if (res.status !== 200 || a !== b || !pushed.has(a!)) {
          failures.push(`${res.status} ${body}`);
          continue;
        }
        seen.set(a!, (seen.get(a!) ?? 0) + 1);
      }
    };
    // The swaps: a newer bundle every 100 ms while the load runs.
    const swaps = (async (): Promise<number[]> => {
      const statuses: number[] = [];
      for (let v = 2; v < 2 + kSwaps && Date.now() < deadline; v++) {
        await new Promise((done) => setTimeout(done, kSwapEveryMs));
        pushed.add(`v${v}`);
        statuses.push(await push(v));
      }
      isSwapping = false;
      return statuses;
    })();
    await Promise.all(Array.from({ length: kConcurrency }, loop));
    const statuses = await swaps;

    assert.deepEqual(failures.slice(0, 5), [], `${failures.length} failed of ${sent}`);
    assert.ok(statuses.length === kSwaps && statuses.every((s) => s === 200),
      `swaps: ${statuses.join(',')}`);
    assert.ok(seen.size >= 5,
      `requests were decided by ${seen.size} bundles: ${[...seen.keys()].join(',')}`);
    assert.ok(sent >= kMinRequests, `only ${sent} requests ran`);

    // Every swap is counted where operators look.
    const metrics = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/metrics`,
      { headers: { authorization: `Bearer ${kAdminToken}` } })).text();
    const activated = /^portcullis_policy_activations_total\{result="activated"\} (\d+)$/m
      .exec(metrics);
    assert.equal(Number(activated?.[1]), statuses.length + 1, 'v1 and every swap');
    assert.match(metrics,
      new RegExp(`^portcullis_policy_bundle_info\\{version="${statuses.length + 1}",`, 'm'));
  });
});
