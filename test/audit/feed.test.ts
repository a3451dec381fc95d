/**
 * The live feed's rules, driven through its socket interface with a socket that records what
 * it is sent and reports a chosen backlog: filters, the per-tick cap with a skipped count, one
 * formatting per record for all subscribers, slow subscribers skipped and then closed with 1013.
 * (The real WebSocket path is covered by test/control/admin-audit.e2e.test.ts.)
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuditRecord, type FeedSocket, LiveFeed, parseFeedFilter } from '../../src/audit/index.js';

class Socket implements FeedSocket {
  readonly sent: Array<{ records: Array<{ id: string }>; skipped: number }> = [];
  buffered = 0;
  closed: number | undefined;
  send(message: string): number {
    this.sent.push(JSON.parse(message) as { records: Array<{ id: string }>; skipped: number });
    return 1;
  }
  getBufferedAmount(): number {
    return this.buffered;
  }
  end(code: number): void {
    this.closed = code;
  }
}

function rec(id: string, service: string, decision: 'allow' | 'deny'): AuditRecord {
  const r = new AuditRecord('proxy', id, '127.0.0.1', 'GET', 0, 0);
  r.service = service;
  r.decision = decision;
  return r;
}

function feed(now = { ms: 0 }, formats: string[] = []): LiveFeed {
  return new LiveFeed({ format: (r) => { formats.push(r.requestId); return `{"id":"${r.requestId}"}`; },
    tickMs: 60_000, maxRecordsPerTick: 3, maxBufferedBytes: 1_000, slowCloseAfterMs: 5_000,
    maxSubscribers: 2, nowMs: () => now.ms });
}

describe('audit/feed', () => {
  test('without subscribers nothing is formatted or kept', () => {
    const formats: string[] = [];
    const f = feed({ ms: 0 }, formats);
    f.offer(rec('a', 'x', 'allow'));
    assert.deepEqual(formats, []);
  });

  test('each subscriber gets what its filter matches; a record is formatted once', () => {
    const formats: string[] = [];
    const f = feed({ ms: 0 }, formats);
    const all = new Socket();
    const denies = new Socket();
    f.add(all, {});
    f.add(denies, { decision: 'deny' });
    f.offer(rec('a', 'x', 'allow'));
    f.offer(rec('b', 'x', 'deny'));
    f.tick();
    assert.deepEqual(all.sent.map((m) => m.records.map((r) => r.id)), [['a', 'b']]);
    assert.deepEqual(denies.sent.map((m) => m.records.map((r) => r.id)), [['b']]);
    assert.deepEqual(formats, ['a', 'b']);
    f.tick();
    assert.equal(all.sent.length, 1, 'an empty tick sends nothing');
  });

  test('past maxRecordsPerTick records are counted as skipped, then reported', () => {
    const f = feed();
    const s = new Socket();
    f.add(s, {});
    for (const id of ['1', '2', '3', '4', '5']) f.offer(rec(id, 'x', 'allow'));
    f.tick();
    assert.deepEqual(s.sent[0], { type: 'records', records: [{ id: '1' }, { id: '2' }, { id: '3' }],
      skipped: 2 });
    assert.equal(f.stats.skipped, 2);
  });

  test('a backlogged subscriber is skipped until it drains, and closed if it stays slow', () => {
    const now = { ms: 0 };
    const formats: string[] = [];
    const f = feed(now, formats);
    const slow = new Socket();
    f.add(slow, {});
    f.offer(rec('a', 'x', 'allow'));
    slow.buffered = 5_000;
    f.tick();
    assert.equal(slow.sent.length, 0);
    formats.length = 0;
    f.offer(rec('b', 'x', 'allow'));
    assert.deepEqual(formats, [], 'a slow subscriber costs no formatting');
    now.ms = 4_000;
    slow.buffered = 0;
    f.tick();
    assert.deepEqual(slow.sent[0], { type: 'records', records: [], skipped: 2 },
      'once drained it learns what it missed');
    slow.buffered = 5_000;
    now.ms = 10_000;
    f.tick();
    now.ms = 15_000;
    f.tick();
    assert.equal(slow.closed, 1013);
    assert.equal(f.subscribers, 0);
    assert.equal(f.stats.closedSlow, 1);
  });

  test('filters from the query: known keys only, empty and over-long values ignored', () => {
    const query = new URLSearchParams(`service=orders&decision=&rule=${'r'.repeat(300)}&x=1`);
    assert.deepEqual(parseFeedFilter((k) => query.get(k) ?? undefined), { service: 'orders' });
  });

  test('isFull at maxSubscribers', () => {
    const f = feed();
    f.add(new Socket(), {});
    assert.equal(f.isFull, false);
    f.add(new Socket(), {});
    assert.equal(f.isFull, true);
  });

  test('records formatted by a serving thread pass the same filters and per-tick cap', () => {
    const f = feed();
    const socket = new Socket();
    f.add(socket, { service: 'orders' });
    const item = (id: string, service: string) => ({ line: `{"id":"${id}"}`, service,
      decision: 'allow', subject: null, rule: null });
    for (const [id, svc] of [['a', 'orders'], ['b', 'billing'], ['c', 'orders'], ['d', 'orders'],
      ['e', 'orders']] as const) f.offerItem(item(id, svc));
    f.noteSkipped(5);
    f.tick();
    assert.deepEqual(socket.sent[0]?.records.map((r) => r.id), ['a', 'c', 'd']);
    assert.equal(socket.sent[0]?.skipped, 1, 'the fourth match went over the cap');
    assert.equal(f.stats.skipped, 6, 'with the 5 the thread could not relay');
  });

  test('the first subscriber and the last one leaving are announced (threads relay meanwhile)', () => {
    const f = feed();
    const changes: boolean[] = [];
    f.onActiveChange((isActive) => changes.push(isActive));
    const a = new Socket();
    const b = new Socket();
    f.add(a, {});
    f.add(b, {});
    f.remove(a);
    f.remove(b);
    assert.deepEqual(changes, [true, false]);
  });
});
