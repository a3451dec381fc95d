/**
 * UpstreamGroup: policies over real loopback servers and the passive health check.
 */
import assert from 'node:assert/strict';
import { createServer, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import { PortcullisError } from '../../src/errors/index.js';
import { UpstreamGroup, type UpstreamAddress } from '../../src/upstream/index.js';
import {
  delay, fetchOnce, getHead, kTestPool, RecordingSink, startHttpServer, type TestServer,
} from './harness.js';

async function startNamed(name: string, delayMs = 0): Promise<TestServer> {
  return startHttpServer((_req, res) => setTimeout(() => res.end(name), delayMs));
}

async function deadAddress(): Promise<UpstreamAddress> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return { host: '127.0.0.1', port };
}

test('upstream/balancer round-robin', { timeout: 5000 }, async () => {
  const a = await startNamed('a');
  const b = await startNamed('b');
  const group = new UpstreamGroup({
    addresses: [a.address, b.address],
    policy: 'round-robin',
    failureCooldownMs: 1000,
    pool: kTestPool,
  });
  const seen: string[] = [];
  for (let i = 0; i < 6; i++) seen.push((await fetchOnce(group)).body.toString());
  assert.deepEqual(seen, ['a', 'b', 'a', 'b', 'a', 'b'], 'addresses take turns');
  await group.close();
  await a.close();
  await b.close();
});

test('upstream/balancer least-pending', { timeout: 5000 }, async () => {
  const slow = await startNamed('slow', 200);
  const fast = await startNamed('fast');
  const group = new UpstreamGroup({
    addresses: [slow.address, fast.address],
    policy: 'least-pending',
    failureCooldownMs: 1000,
    pool: kTestPool,
  });
  const held = new RecordingSink();
  group.request(getHead(), held);
  const seen: string[] = [];
  for (let i = 0; i < 4; i++) seen.push((await fetchOnce(group)).body.toString());
  assert.deepEqual(
    seen,
    ['fast', 'fast', 'fast', 'fast'],
    'the busy address is avoided while it has a request pending',
  );
  await held.done;
  assert.equal(held.body.toString(), 'slow');
  await group.close();
  await slow.close();
  await fast.close();
});

test('upstream/balancer failure-cooldown', { timeout: 5000 }, async () => {
  const dead = await deadAddress();
  const live = await startNamed('live');
  const group = new UpstreamGroup({
    addresses: [dead, live.address], policy: 'round-robin', failureCooldownMs: 300, pool: kTestPool,
  });
  const first = await fetchOnce(group);
  assert.equal(
    first.error,
    'IAM_UPSTREAM_CONNECT_FAILED',
    'the first pick is the dead address; it is not re-sent',
  );
  const next: string[] = [];
  for (let i = 0; i < 4; i++) next.push((await fetchOnce(group)).body.toString());
  assert.deepEqual(next, ['live', 'live', 'live', 'live'], 'the dead address cools down');
  await delay(350);
  const afterCooldown = [await fetchOnce(group), await fetchOnce(group)].map(
    (s) => s.error ?? s.body.toString(),
  );
  assert.ok(
    afterCooldown.includes('IAM_UPSTREAM_CONNECT_FAILED'),
    'after the cooldown the address is tried again',
  );
  await group.close();
  await live.close();
});

test('upstream/balancer all-cooling-still-tries', { timeout: 5000 }, async () => {
  const group = new UpstreamGroup({
    addresses: [await deadAddress(), await deadAddress()],
    policy: 'least-pending',
    failureCooldownMs: 10_000,
    pool: kTestPool,
  });
  for (let i = 0; i < 4; i++) {
    const sink = await fetchOnce(group);
    assert.equal(
      sink.error,
      'IAM_UPSTREAM_CONNECT_FAILED',
      'with every address cooling, requests are still attempted',
    );
  }
  await group.close();
});

test('upstream/balancer invalid-options', () => {
  const cases = [
    { addresses: [], why: 'No address to send to.' },
    { addresses: [{ host: '127.0.0.1', port: 0 }], why: 'Port 0 is not an upstream port.' },
  ];
  for (const c of cases) {
    assert.throws(
      () => new UpstreamGroup(
        { addresses: c.addresses, policy: 'round-robin', failureCooldownMs: 1, pool: kTestPool },
      ),
      (err: unknown) => err instanceof PortcullisError && err.code === 'IAM_CONFIG_INVALID',
      c.why,
    );
  }
});
