/**
 * The audit queue: batches reach the sink in order, nothing is lost across a failing sink, the
 * bound holds (drops counted, shedding signalled at 90%), and close writes what is queued.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { AuditQueue, AuditRecord, type AuditSink } from '../../src/audit/index.js';

/** A sink that keeps what it is given, and can be made to fail or to stall. */
class MemorySink implements AuditSink {
  readonly writes: string[] = [];
  failuresLeft = 0;
  gate: Promise<void> | undefined;
  isClosed = false;

  async write(data: Buffer): Promise<void> {
    if (this.gate !== undefined) await this.gate;
    if (this.failuresLeft > 0) {
      this.failuresLeft--;
      throw new Error('disk full');
    }
    this.writes.push(data.toString('utf8'));
  }

  async close(): Promise<void> {
    this.isClosed = true;
  }

  lines(): string[] {
    return this.writes.join('').split('\n').filter((l) => l !== '');
  }
}

function rec(n: number): AuditRecord {
  return new AuditRecord('proxy', `r${n}`, '127.0.0.1', 'GET', 0, 0);
}

function queue(sink: AuditSink, overrides: Partial<ConstructorParameters<typeof AuditQueue>[0]> = {}) {
  return new AuditQueue({ sink, format: (r) => `${r.requestId}\n`, maxRecords: 100,
    batchMaxRecords: 10, flushIntervalMs: 5, overload: 'drop', ...overrides });
}

describe('audit/audit-queue', () => {
  test('records reach the sink in order, in batches of at most batchMaxRecords', async () => {
    const sink = new MemorySink();
    const q = queue(sink);
    for (let i = 0; i < 35; i++) assert.ok(q.push(rec(i)));
    await q.flush();
    assert.deepEqual(sink.lines(), Array.from({ length: 35 }, (_, i) => `r${i}`));
    assert.ok(sink.writes.every((w) => w.split('\n').length - 1 <= 10));
    assert.equal(q.stats.written, 35);
    assert.equal(q.stats.depth, 0);
  });

  test('a lone record is written after flushIntervalMs without any flush call', async () => {
    const sink = new MemorySink();
    const q = queue(sink, { flushIntervalMs: 20 });
    q.push(rec(1));
    assert.equal(sink.writes.length, 0, 'nothing is written synchronously by push');
    await new Promise((resolve) => setImmediate(resolve));
    assert.equal(sink.writes.length, 0, 'nor on the next turn: it waits for its batch');
    await sleep(100);
    assert.deepEqual(sink.lines(), ['r1']);
  });

  test('under a steady trickle, writes carry what a flush interval gathers, not a record each',
    async () => {
      const sink = new MemorySink();
      const slowWrite = sink.write.bind(sink);
      sink.write = async (data) => {
        await sleep(2);
        return slowWrite(data);
      };
      const q = queue(sink, { flushIntervalMs: 50, batchMaxRecords: 10_000, maxRecords: 10_000 });
      for (let i = 0; i < 300; i++) {
        q.push(rec(i));
        await sleep(1);
      }
      await q.flush();
      assert.equal(sink.lines().length, 300);
      assert.ok(sink.writes.length <= 20, `${sink.writes.length} writes for 300 records`);
    });

  test('a failing sink loses nothing: the batch is retried until it is accepted', async () => {
    const sink = new MemorySink();
    sink.failuresLeft = 3;
    const errors: unknown[] = [];
    const q = queue(sink, { onWriteError: (e) => errors.push(e) });
    for (let i = 0; i < 25; i++) q.push(rec(i));
    await q.flush();
    assert.deepEqual(sink.lines(), Array.from({ length: 25 }, (_, i) => `r${i}`));
    assert.equal(q.stats.writeErrors, 3);
    assert.equal(errors.length, 3);
  });

  test('the bound holds: pushes past maxRecords are refused and counted, never silent', async () => {
    const sink = new MemorySink();
    let open!: () => void;
    sink.gate = new Promise((resolve) => { open = resolve; });
    const q = queue(sink, { maxRecords: 20 });
    let accepted = 0;
    for (let i = 0; i < 50; i++) if (q.push(rec(i))) accepted++;
    assert.equal(accepted, 20);
    assert.equal(q.stats.dropped, 30);
    open();
    await q.flush();
    assert.equal(sink.lines().length, 20);
  });

  test('shed mode signals shedding from 90% of maxRecords, requests in flight counted; drop mode never', async () => {
    for (const overload of ['shed', 'drop'] as const) {
      const sink = new MemorySink();
      let open!: () => void;
      sink.gate = new Promise((resolve) => { open = resolve; });
      const q = queue(sink, { maxRecords: 20, overload });
      for (let i = 0; i < 17; i++) q.push(rec(i));
      assert.equal(q.isSheddingWith(0), false, `${overload}: 17 of 20 is below the mark`);
      assert.equal(q.isSheddingWith(1), overload === 'shed',
        `${overload}: 17 queued and one request in flight reach the mark`);
      q.push(rec(17));
      assert.equal(q.isSheddingWith(0), overload === 'shed', `${overload}: 18 of 20 is the mark`);
      open();
      await q.flush();
      assert.equal(q.isSheddingWith(0), false);
    }
  });

  test('close writes everything queued, then closes the sink; later pushes are dropped', async () => {
    const sink = new MemorySink();
    const q = queue(sink, { flushIntervalMs: 10_000 });
    for (let i = 0; i < 15; i++) q.push(rec(i));
    assert.equal(await q.close(2_000), 0);
    assert.equal(sink.lines().length, 15);
    assert.ok(sink.isClosed);
    assert.equal(q.push(rec(99)), false);
    assert.equal(q.stats.dropped, 1);
  });

  test('lines longer than a chunk arrive whole, in order', async () => {
    const sink = new MemorySink();
    const q = new AuditQueue({ sink, format: (r) => `${r.requestId}\n`, maxRecords: 100,
      batchMaxRecords: 100, flushIntervalMs: 5, overload: 'drop' });
    const long = 'x'.repeat(300 * 1024);
    const ids = ['a', long, 'b', long.slice(0, 200 * 1024), 'z'];
    for (const id of ids) q.push(new AuditRecord('proxy', id, '127.0.0.1', 'GET', 0, 0));
    await q.flush();
    assert.deepEqual(sink.lines(), ids);
  });

  test('close reports how many records it could not write before its deadline', async () => {
    const sink = new MemorySink();
    sink.failuresLeft = Number.MAX_SAFE_INTEGER;
    const q = queue(sink);
    for (let i = 0; i < 5; i++) q.push(rec(i));
    assert.equal(await q.close(150), 5);
  });
});
