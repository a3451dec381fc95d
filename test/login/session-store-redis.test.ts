/**
 * Browser sessions shared through a real redis-server (started here): a session saved by one
 * store is found by another, an end on one reaches the other's cache at once, Redis holds no
 * usable cookie, the idle clock is Redis's key expiry and use on any instance keeps it running,
 * and a store that cannot ask Redis refuses rather than guesses.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createClient } from '@redis/client';
import { principalFromClaims } from '../../src/authn/index.js';
import {
  newSessionId, RedisSessionStore, type Session, sessionHandle,
} from '../../src/login/index.js';
import { silentLogger } from '../../src/telemetry/index.js';
import { freePort } from '../support/free-port.js';
import { type RedisInstance, startRedis } from '../support/redis.js';

let redis: RedisInstance;
const stores: RedisSessionStore[] = [];

function store(prefix: string, idleTimeoutMs = 60_000, url = redis.url): RedisSessionStore {
  const s = new RedisSessionStore({ url, password: undefined, keyPrefix: prefix,
    connectTimeoutMs: 1_000, maxEntries: 100, idleTimeoutMs, logger: silentLogger() });
  stores.push(s);
  return s;
}

function session(absoluteMs = 60_000): Session {
  const id = newSessionId();
  const now = Date.now();
  const principal = Object.freeze({ ...principalFromClaims('https://idp.test', { sub: 'alice',
    email: 'alice@example.com', email_verified: true, groups: ['staff'] }, 'k1', 'session',
  { groupsClaims: ['groups'], attributeClaims: {} }), tokenId: sessionHandle(id) });
  return { id, handle: sessionHandle(id), principal, createdAtMs: now, expiresAtMs: now + absoluteMs,
    lastSeenMs: now };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!(await check())) {
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms`);
    await sleep(10);
  }
}

before(async () => {
  redis = await startRedis();
});
after(async () => {
  await Promise.allSettled(stores.map((s) => s.stop()));
  await redis?.stop();
});

describe('login/session-store-redis', () => {
  test('login/session-store-redis a session saved on one instance is found on another', async () => {
    const a = store('share:');
    const b = store('share:');
    await Promise.all([a.start(), b.start()]);
    const s = session();
    await a.save(s);
    assert.equal(a.find(s.id, Date.now()), s, 'the saving instance answers from memory');
    const found = await b.find(s.id, Date.now());
    assert.equal(found?.principal.subject, 'alice');
    assert.equal(found?.principal.kind, 'session');
    assert.deepEqual([...found!.principal.groups], ['staff']);
    assert.equal(found?.principal.attributes.email_domain, 'example.com');
    assert.equal(found?.principal.tokenId, s.handle);
    assert.ok(Object.isFrozen(found?.principal));
    assert.equal(b.find(s.id, Date.now()), found, 'then from its own cache, without I/O');
  });

  test('login/session-store-redis an end on one instance reaches the other\'s cache at once', async () => {
    const a = store('end:');
    const b = store('end:');
    await Promise.all([a.start(), b.start()]);
    const s = session();
    await a.save(s);
    assert.ok(await b.find(s.id, Date.now()));
    await a.remove(s.id);
    await waitFor(async () => (await b.find(s.id, Date.now())) === undefined, 1_000);
    assert.equal(await a.find(s.id, Date.now()), undefined);
  });

  test('login/session-store-redis Redis holds no session id, only its digest and the principal', async () => {
    const a = store('dump:');
    await a.start();
    const s = session();
    await a.save(s);
    const client = createClient({ url: redis.url });
    await client.connect();
    try {
      const keys = await client.keys('dump:*');
      assert.equal(keys.length, 1);
      const value = await client.get(keys[0]!);
      assert.ok(!keys[0]!.includes(s.id) && !value!.includes(s.id), 'the cookie value is nowhere');
      assert.ok(value!.includes('alice'));
      const ttl = await client.pTTL(keys[0]!);
      assert.ok(ttl > 0 && ttl <= 60_000, `the key expires with the idle timeout (${ttl} ms)`);
    } finally {
      await client.close();
    }
  });

  test('login/session-store-redis idle: the key expires; use on another instance keeps it alive', async () => {
    const a = store('idle:', 400);
    const b = store('idle:', 400);
    await Promise.all([a.start(), b.start()]);
    const kept = session();
    const left = session();
    await a.save(kept);
    await a.save(left);
    const started = Date.now();
    while (Date.now() - started < 900) {
      assert.ok(await a.find(kept.id, Date.now()), 'in use on a');
      await sleep(50);
    }
    assert.equal((await b.find(kept.id, Date.now()))?.principal.subject, 'alice',
      'a kept the key alive for b');
    assert.equal(await b.find(left.id, Date.now()), undefined, 'the unused one expired in Redis');
  });

  test('login/session-store-redis an absolute end is kept in Redis too', async () => {
    const a = store('absolute:');
    const b = store('absolute:');
    await Promise.all([a.start(), b.start()]);
    const s = session(300);
    await a.save(s);
    await sleep(400);
    assert.equal(await b.find(s.id, Date.now()), undefined);
    assert.equal(await a.find(s.id, Date.now()), undefined);
  });

  test('login/session-store-redis unreachable: start fails, and an uncached lookup refuses', async () => {
    const nowhere = `redis://127.0.0.1:${await freePort()}`;
    await assert.rejects(store('x:', 60_000, nowhere).start());

    const own = await startRedis();
    const a = store('down:', 60_000, own.url);
    await a.start();
    await own.stop();
    const lookup = a.find(newSessionId(), Date.now());
    assert.ok(lookup instanceof Promise);
    await assert.rejects(lookup, 'no answer is no session: the request is refused (503)');
  });
});
