/**
 * CPU per record of the audit sinks, counted with `process.cpuUsage()` (every thread of the
 * process, so the file writes done in libuv's thread pool count too): batches of records are
 * emitted through an `AuditLog` with metrics and sessions, then flushed, alternating `sink=none`
 * and `sink=file` batch by batch so that drift on the machine falls on both alike. CPU time,
 * unlike wall time or req/s, is barely moved by other processes on the machine. Run pinned:
 *
 *   taskset -c 0 node dist/bench/micro/audit/sink-cpu.bench.js
 *
 * Prints the median CPU µs per record of each sink and their difference: what the file sink
 * adds to every request.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import {
  AuditLog, AuditQueue, AuditRecord, FileSink, kNoRedaction, ProxyMetrics, recordLine,
  SessionTable,
} from '../../../src/audit/index.js';
import { principalFromClaims } from '../../../src/authn/index.js';

const kBatch = 20_000;
const kRounds = 15;
const kPrincipals = Array.from({ length: 64 }, (_, i) => principalFromClaims(
  'https://idp.example.com/realms/main', { sub: `user-${i}`, sid: `session-${i}`, jti: `t-${i}`,
    client_id: 'orders-web', exp: 2_000_000_000 }, 'rsa-2026-11'));

function record(i: number): AuditRecord {
  const r = new AuditRecord('proxy', `0f8e7d6c-5b4a-4392-8170-${String(i).padStart(12, '0')}`,
    '10.1.2.3', 'GET', Date.now(), performance.now());
  r.host = 'api.example.com';
  r.path = '/orders/v1/customers/12345/orders';
  r.service = 'orders';
  r.principal = kPrincipals[i & 63];
  r.decision = 'allow';
  r.rule = 'orders-read';
  r.bundleVersion = '7';
  r.bundleDigest = 'c0ffee'.repeat(10) + 'beef';
  r.cacheHit = true;
  r.status = 200;
  r.upstreamStatus = 200;
  r.outcome = 'forwarded';
  r.authnUs = 2;
  r.authzUs = 1;
  return r;
}

const kSources = {
  verifierPool: () => undefined, issuers: () => ({}), bundle: () => undefined,
  audit: () => ({ depth: 0, written: 0, dropped: 0, writeErrors: 0, shed: 0 }),
  sessions: () => 0, revocations: () => 0,
  feed: () => ({ subscribers: 0, skipped: 0, closedSlow: 0 }),
};

const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-sink-cpu-'));
const sessions = new SessionTable({ maxEntries: 10_000, idleTimeoutMs: 3_600_000 });
const none = new AuditLog({ queue: undefined, metrics: new ProxyMetrics(kSources), sessions,
  feed: undefined });
const queue = new AuditQueue({
  sink: await FileSink.open({ path: path.join(dir, 'audit.log'), maxFileBytes: 100 * 1024 * 1024,
    maxFileAgeMs: 0, maxFiles: 1 }),
  format: (r) => recordLine(r, kNoRedaction), maxRecords: 65_536, batchMaxRecords: 1_024,
  flushIntervalMs: 50, overload: 'drop' });
const file = new AuditLog({ queue, metrics: new ProxyMetrics(kSources), sessions,
  feed: undefined });

/** CPU µs per record for one batch through `log`, flushed. */
async function batch(log: AuditLog): Promise<number> {
  const before = process.cpuUsage();
  for (let i = 0; i < kBatch; i++) {
    log.emit(record(i));
    // Yield now and then, as a server does between requests: the queue's writes run meanwhile.
    if ((i & 255) === 255) await new Promise((resolve) => setImmediate(resolve));
  }
  await log.flush();
  const used = process.cpuUsage(before);
  return (used.user + used.system) / kBatch;
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[s.length >> 1] as number;
}

const results = { none: [] as number[], file: [] as number[] };
await batch(none);
await batch(file);
for (let round = 0; round < kRounds; round++) {
  const order = round % 2 === 0 ? ['none', 'file'] as const : ['file', 'none'] as const;
  for (const name of order) results[name].push(await batch(name === 'none' ? none : file));
}
await queue.close(5_000);
rmSync(dir, { recursive: true, force: true });

const n = median(results.none);
const f = median(results.file);
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
console.log(`${kRounds} alternating rounds of ${kBatch} records each; CPU of all threads`);
console.log(`audit/emit sink=none: ${n.toFixed(2)} µs/record (range ${Math.min(...results.none).toFixed(2)}-${Math.max(...results.none).toFixed(2)})`);
console.log(`audit/emit sink=file: ${f.toFixed(2)} µs/record (range ${Math.min(...results.file).toFixed(2)}-${Math.max(...results.file).toFixed(2)})`);
console.log(`the file sink adds ${(f - n).toFixed(2)} µs of CPU per request`);
