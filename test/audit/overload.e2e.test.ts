/**
 * A sink that cannot keep up, for real: the audit "file" is a FIFO read by a `cat` whose output
 * this test stops reading, so the proxy's writes block once the pipes are full, as on a stalled
 * disk. `shed` answers new requests 503 IAM_AUDIT_OVERLOADED while every served request keeps
 * its record; `drop` keeps serving and counts the records it drops. Reading again lets the
 * proxy recover.
 */
import assert from 'node:assert/strict';
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-overload-'));
let upstream: RecordingUpstream;

before(async () => {
  upstream = await startRecordingUpstream();
});
after(async () => {
  await upstream?.close();
  rmSync(kDir, { recursive: true, force: true });
});

/** A FIFO with a `cat` reading it; `cat`'s output is collected only while `resume`d. */
function stalledReader(name: string): { fifo: string; cat: ChildProcess; lines: () => string[];
  ended: Promise<void> } {
  const fifo = path.join(kDir, name);
  execFileSync('mkfifo', [fifo]);
  const cat = spawn('cat', [fifo], { stdio: ['ignore', 'pipe', 'inherit'] });
  let text = '';
  cat.stdout!.on('data', (d: Buffer) => { text += d.toString(); });
  cat.stdout!.pause();
  const ended = new Promise<void>((resolve) => cat.once('close', () => resolve()));
  return { fifo, cat, lines: () => text.split('\n').filter((l) => l !== ''), ended };
}

function config(fifo: string, overload: string): string {
  return `audit:
  sink: file
  file: { path: '${fifo}', maxFileBytes: 0, maxFileAgeSec: 0 }
  queue: { maxRecords: 40, batchMaxRecords: 4, flushIntervalMs: 1, overload: ${overload} }
services:
  - name: app
    pathPrefix: /
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`;
}

async function send(proxy: TestProxy, id: string): Promise<{ status: number; code: string | null }> {
  const res = await fetch(`http://127.0.0.1:${proxy.port}/r`, { headers: { 'x-request-id': id } });
  await res.arrayBuffer();
  return { status: res.status, code: res.headers.get('x-portcullis-error') };
}

describe('audit/overload e2e', () => {
  test('shed: refuses with 503 while stalled, every served request keeps its record', async () => {
    const reader = stalledReader('shed.fifo');
    const proxy = await startTestProxy(config(reader.fifo, 'shed'));
    const served: string[] = [];
    let shed: { status: number; code: string | null } | undefined;
    for (let i = 0; i < 5_000 && shed === undefined; i++) {
      const answer = await send(proxy, `shed-${i}`);
      if (answer.status === 200) served.push(`shed-${i}`);
      else shed = answer;
    }
    assert.deepEqual(shed, { status: 503, code: 'IAM_AUDIT_OVERLOADED' });
    const seenByUpstream = upstream.requests.length;
    for (let i = 0; i < 20; i++) assert.equal((await send(proxy, `more-${i}`)).status, 503);
    assert.equal(upstream.requests.length, seenByUpstream, 'nothing shed reached the upstream');
    assert.ok(proxy.running.audit.log.stats().shed >= 21);

    // Read again: the proxy recovers, and every served request's record arrives.
    reader.cat.stdout!.resume();
    let recovered = false;
    for (let i = 0; i < 200 && !recovered; i++) {
      recovered = (await send(proxy, `after-${i}`)).status === 200;
      if (!recovered) await sleep(10);
    }
    assert.ok(recovered, 'serving again once the sink drains');
    await proxy.stop();
    await reader.ended;
    const ids = new Set(reader.lines().map((l) => (JSON.parse(l) as { requestId: string }).requestId));
    for (const id of served) assert.ok(ids.has(id), `record of served request ${id}`);
    const final = proxy.running.audit.log.stats();
    assert.equal(ids.size + final.dropped, proxy.running.audit.log.emitted,
      'every record was either written or counted as dropped');
  });

  test('drop: keeps serving while stalled, and counts every record it drops', async () => {
    const reader = stalledReader('drop.fifo');
    const proxy = await startTestProxy(config(reader.fifo, 'drop'));
    for (let i = 0; i < 1_500; i++) assert.equal((await send(proxy, `drop-${i}`)).status, 200);
    const stats = proxy.running.audit.log.stats();
    assert.ok(stats.dropped > 0, `dropped ${stats.dropped}`);
    const { text } = await proxy.running.audit.metrics.exposition();
    assert.match(text, new RegExp(`^portcullis_audit_records_dropped_total ${stats.dropped}$`, 'm'));
    reader.cat.stdout!.resume();
    await proxy.stop();
    await reader.ended;
    const final = proxy.running.audit.log.stats();
    assert.equal(reader.lines().length + final.dropped, 1_500, 'written plus dropped is every record');
  });
});
