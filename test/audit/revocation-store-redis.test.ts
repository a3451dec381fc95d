/**
 * Revocations shared through a real redis-server (started here on a free port with its own
 * directory): fan-out to another store within a second, a store started later loads what was
 * revoked before, expiry in Redis, a Redis restart (reconnect, resync, unshared revocations
 * written again), lifting a revocation, and refusing to start when Redis is unreachable.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { principalFromClaims } from '../../src/authn/index.js';
import { RedisRevocationStore, type Revocation } from '../../src/audit/index.js';
import { silentLogger } from '../../src/telemetry/index.js';
import { freePort } from '../support/free-port.js';
import { type RedisInstance, startRedis } from '../support/redis.js';

let redis: RedisInstance;
const stores: RedisRevocationStore[] = [];

function store(url = redis.url, prefix = 'test:'): RedisRevocationStore {
  const s = new RedisRevocationStore({ url, password: undefined, keyPrefix: prefix,
    connectTimeoutMs: 1_000, resyncIntervalMs: 60_000, logger: silentLogger() });
  stores.push(s);
  return s;
}

function revocation(kind: Revocation['kind'], value: string, ttlSec = 600): Revocation {
  return { kind, value, issuer: null, expiresAtSec: Math.floor(Date.now() / 1000) + ttlSec,
    revokedAtMs: Date.now(), reason: 'test' };
}

const alice = principalFromClaims('https://idp.test', { sub: 'alice', sid: 's1', jti: 't1' }, 'k');

async function waitFor(check: () => boolean, timeoutMs: number): Promise<number> {
  const start = performance.now();
  while (!check()) {
    if (performance.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(2);
  }
  return performance.now() - start;
}

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.allSettled(stores.map((s) => s.stop()));
  await redis?.stop();
});

describe('audit/revocation-store-redis', () => {
  test('a revocation made on one store reaches another within one second', async () => {
    const a = store(redis.url, 'fanout:');
    const b = store(redis.url, 'fanout:');
    await Promise.all([a.start(), b.start()]);
    assert.equal(b.set.match(alice), undefined);
    const result = await a.revoke(revocation('session', 's1'));
    assert.equal(result.isShared, true);
    assert.ok(a.set.match(alice), 'applied locally at once');
    const elapsedMs = await waitFor(() => b.set.match(alice) !== undefined, 1_000);
    assert.ok(elapsedMs < 1_000);
  });

  test('a store started afterwards (a restarted instance) knows earlier revocations', async () => {
    const a = store(redis.url, 'restart:');
    await a.start();
    await a.revoke(revocation('token', 't1'));
    const late = store(redis.url, 'restart:');
    await late.start();
    assert.equal(late.set.match(alice)?.kind, 'token');
    assert.equal(late.status().isConnected, true);
    assert.notEqual(late.status().lastSync, null);
  });

  test('expired revocations leave Redis at the next sync and never apply', async () => {
    const a = store(redis.url, 'expiry:');
    await a.start();
    await a.revoke(revocation('subject', 'alice', 1));
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      assert.equal(await client.zCard('expiry:revocations'), 1);
      await sleep(1_100);
      assert.equal(a.set.match(alice), undefined);
      const later = store(redis.url, 'expiry:');
      await later.start();
      assert.equal(await client.zCard('expiry:revocations'), 0);
      assert.equal(later.set.size, 0);
    } finally {
      await client.close();
    }
  });

  test('lifting a revocation reaches the other stores and leaves Redis', async () => {
    const a = store(redis.url, 'lift:');
    const b = store(redis.url, 'lift:');
    await Promise.all([a.start(), b.start()]);
    await a.revoke(revocation('client', 'web'));
    await waitFor(() => b.set.size === 1, 1_000);
    const lifted = await b.unrevoke('client', null, 'web');
    assert.deepEqual(lifted, { isRemoved: true, isShared: true });
    await waitFor(() => a.set.size === 0, 1_000);
    const fresh = store(redis.url, 'lift:');
    await fresh.start();
    assert.equal(fresh.set.size, 0);
  });

  test('survives a Redis restart: reconnects, resyncs, and shares what it could not', async () => {
    const own = await startRedis();
    try {
      const a = store(own.url, 'outage:');
      const b = store(own.url, 'outage:');
      await Promise.all([a.start(), b.start()]);
      await own.stop({ keepData: true });

      // While Redis is down: in force here at once, shared later.
      const during = await a.revoke(revocation('subject', 'alice'));
      assert.equal(during.isShared, false);
      assert.ok(a.set.match(alice));
      assert.equal(a.status().unshared, 1);

      const back = await startRedis({ dir: own.dir, port: own.port });
      try {
        await waitFor(() => a.status().isConnected && b.status().isConnected, 10_000);
        // The reconnect sync of `a` writes the unshared revocation; `b` hears it, possibly
        // before `a` has read Redis's reply and counted it as shared: wait for both.
        await waitFor(() => b.set.match(alice) !== undefined, 10_000);
        await waitFor(() => a.status().unshared === 0, 10_000);
        assert.equal(a.status().unshared, 0);
      } finally {
        await back.stop();
      }
    } finally {
      await own.stop();
    }
  });

  test('start rejects when Redis cannot be reached (the proxy then refuses to start)', async () => {
    const nobody = await freePort();
    const s = store(`redis://127.0.0.1:${nobody}`, 'down:');
    await assert.rejects(s.start());
  });
});
