/**
 * Micro-benchmarks of the audit record's per-request work: formatting one record as its JSON
 * line, and `AuditLog.emit` with metrics and the session table (sink off), and with the queue
 * in front of a sink that discards. Run after a build with:
 *
 *   node dist/bench/micro/audit/record-line.bench.js
 *
 * Each task runs a batch of calls and reports the per-call mean of the batch
 * (`overriddenDuration`), because one call is shorter than the timer's own overhead.
 */
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import {
  AuditLog, AuditQueue, AuditRecord, DiscardSink, kNoRedaction, ProxyMetrics, recordLine,
  SessionTable,
} from '../../../src/audit/index.js';
import { principalFromClaims } from '../../../src/authn/index.js';

const kBatch = 1024;
const kPrincipal = principalFromClaims('https://idp.example.com/realms/main', {
  sub: '5f1c2d3e-4b5a-6978-8a9b-0c1d2e3f4a5b', sid: 'b3c4d5e6-f7a8-4b9c-8d0e-1f2a3b4c5d6e',
  jti: 'a1b2c3d4e5f6', client_id: 'orders-web', exp: 2_000_000_000,
}, 'rsa-2026-11');

function record(i: number): AuditRecord {
  const r = new AuditRecord('proxy', `0f8e7d6c-5b4a-4392-8170-${String(i).padStart(12, '0')}`,
    '10.1.2.3', 'GET', 1_796_400_000_000 + i, 0);
  r.host = 'api.example.com';
  r.path = '/orders/v1/customers/12345/orders';
  r.service = 'orders';
  r.principal = kPrincipal;
  r.decision = 'allow';
  r.cacheHit = true;
  r.status = 200;
  r.upstreamStatus = 200;
  r.outcome = 'forwarded';
  r.authnUs = 2;
  r.totalUs = 412;
  return r;
}

const kSources = {
  verifierPool: () => undefined, issuers: () => ({}), bundle: () => undefined,
  audit: () => ({ depth: 0, written: 0, dropped: 0, writeErrors: 0, shed: 0 }),
  sessions: () => 0, revocations: () => 0,
  feed: () => ({ subscribers: 0, skipped: 0, closedSlow: 0 }),
};
const kRecords = Array.from({ length: 64 }, (_, i) => record(i));
const sessions = new SessionTable({ maxEntries: 10_000, idleTimeoutMs: 3_600_000 });
const offLog = new AuditLog({ queue: undefined, metrics: new ProxyMetrics(kSources), sessions,
  feed: undefined });
const queue = new AuditQueue({ sink: new DiscardSink(), format: (r) => recordLine(r, kNoRedaction),
  maxRecords: 1 << 20, batchMaxRecords: 1024, flushIntervalMs: 50, overload: 'drop' });
const onLog = new AuditLog({ queue, metrics: new ProxyMetrics(kSources), sessions,
  feed: undefined });

let sink = 0;
const bench = new Bench({ name: 'audit', time: 1_000, warmupTime: 300 });

function batched(call: (i: number) => number): () => Promise<object> {
  return async () => {
    const start = bench.now();
    for (let i = 0; i < kBatch; i++) sink += call(i);
    const elapsed = bench.now() - start;
    // Let the queue's timer write what was pushed, so memory stays flat across samples.
    await new Promise((resolve) => setImmediate(resolve));
    return { overriddenDuration: elapsed / kBatch, overriddenIterationCost: elapsed };
  };
}

bench.add('audit/record-line', batched((i) => recordLine(kRecords[i & 63]!, kNoRedaction).length));
bench.add('audit/emit sink=none', batched((i) => {
  const r = record(i);
  offLog.emit(r);
  return r.totalUs;
}));
bench.add('audit/emit sink=discard', batched((i) => {
  const r = record(i);
  onLog.emit(r);
  return r.totalUs;
}));

await bench.run();
await queue.close(1_000);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
console.log(`batch of ${kBatch} calls per sample, sink ${sink}`);
console.table(bench.table());
