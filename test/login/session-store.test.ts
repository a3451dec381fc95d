/**
 * The in-process session store: sessions end at their idle or absolute timeout, the least
 * recently used one makes room when the store is full, and ids are random and checked.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { kAnonymous } from '../../src/authn/index.js';
import {
  isSessionId, MemorySessionStore, newSessionId, type Session, sessionHandle,
} from '../../src/login/index.js';

function session(nowMs: number, absoluteMs = 10_000): Session {
  const id = newSessionId();
  return { id, handle: sessionHandle(id), principal: kAnonymous, createdAtMs: nowMs,
    expiresAtMs: nowMs + absoluteMs, lastSeenMs: nowMs };
}

describe('login/session-store', () => {
  test('login/session-store ids: 256 random bits, and only that shape is looked up', () => {
    const a = newSessionId();
    assert.ok(isSessionId(a));
    assert.notEqual(a, newSessionId());
    assert.equal(isSessionId(`${a}x`), false);
    assert.equal(isSessionId('short'), false);
    assert.notEqual(sessionHandle(a), a, 'the public handle is not the cookie value');
    assert.match(sessionHandle(a), /^[A-Za-z0-9_-]{22}$/);
  });

  test('login/session-store idle: a session unused for the idle timeout is over', async () => {
    const store = new MemorySessionStore(10, 1000);
    const s = session(0);
    await store.save(s);
    assert.equal(store.find(s.id, 999), s, 'used within the idle time');
    assert.equal(store.find(s.id, 1998), s, 'each use restarts the idle clock');
    assert.equal(store.find(s.id, 2998), undefined, 'unused for 1000 ms');
    assert.equal(store.size, 0, 'and gone from the store');
  });

  test('login/session-store absolute: a session in constant use still ends on time', async () => {
    const store = new MemorySessionStore(10, 1000);
    const s = session(0, 2500);
    await store.save(s);
    for (const at of [500, 1000, 1500, 2000]) assert.equal(store.find(s.id, at), s);
    assert.equal(store.find(s.id, 2500), undefined);
  });

  test('login/session-store bounded: the least recently used session makes room', async () => {
    const store = new MemorySessionStore(2, 60_000);
    const a = session(0);
    const b = session(0);
    await store.save(a);
    await store.save(b);
    store.find(a.id, 5000);
    const c = session(5000);
    await store.save(c);
    assert.equal(store.size, 2);
    assert.equal(store.find(b.id, 5001), undefined, 'b was used least recently');
    assert.ok(store.find(a.id, 5001) !== undefined && store.find(c.id, 5001) !== undefined);
  });

  test('login/session-store remove and sweep', async () => {
    const store = new MemorySessionStore(10, 1000);
    const a = session(0);
    const b = session(0);
    await store.save(a);
    await store.save(b);
    await store.remove(a.id);
    assert.equal(store.find(a.id, 1), undefined);
    store.sweep(5000);
    assert.equal(store.size, 0);
  });
});
