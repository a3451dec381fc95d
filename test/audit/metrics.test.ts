/**
 * Metrics summed over serving threads: a thread's registry holds its request counters,
 * histograms and audit-queue figures (no process metrics, which would count twice), and the
 * main thread's exposition adds them to its own, series by series.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { AuditRecord, ProxyMetrics } from '../../src/audit/index.js';

const kQueue = { depth: 2, written: 10, dropped: 1, writeErrors: 0, shed: 0 };

function record(service: string, status: number): AuditRecord {
  const r = new AuditRecord('proxy', 'id', '127.0.0.1', 'GET', 0, 0);
  r.service = service;
  r.decision = 'allow';
  r.status = status;
  r.totalUs = 1_500;
  return r;
}

function main(): ProxyMetrics {
  return new ProxyMetrics({
    verifierPool: () => undefined, issuers: () => ({}), bundle: () => undefined,
    audit: () => kQueue, sessions: () => 4, revocations: () => 0,
    feed: () => ({ subscribers: 0, skipped: 0, closedSlow: 0 }),
  });
}

/** The value of the series of `name` whose line contains `labels`. */
function value(text: string, name: string, labels = ''): number {
  const line = text.split('\n').find((l) => l.startsWith(name) && l.includes(labels)
    && (l[name.length] === '{' || l[name.length] === ' '));
  assert.ok(line !== undefined, `no ${name} ${labels}`);
  return Number(line.slice(line.lastIndexOf(' ') + 1));
}

describe('audit/metrics', () => {
  test('a thread registry has request and audit metrics only, no process metrics', async () => {
    const thread = new ProxyMetrics({ audit: () => kQueue });
    const names = (await thread.json()).map((m) => m.name);
    assert.ok(names.includes('portcullis_requests_total'));
    assert.ok(names.includes('portcullis_audit_records_written_total'));
    assert.ok(!names.some((n) => n.startsWith('portcullis_process_')), 'process metrics count once');
    assert.ok(!names.includes('portcullis_sessions_active'), 'the main thread counts sessions');
  });

  test('the exposition sums every thread, counters and histograms alike', async () => {
    const own = main();
    const thread = new ProxyMetrics({ audit: () => kQueue });
    own.observe(record('orders', 200));
    thread.observe(record('orders', 200));
    thread.observe(record('orders', 200));
    thread.observe(record('billing', 403));
    const { text } = await own.exposition([await thread.json()]);
    assert.equal(value(text, 'portcullis_requests_total', 'service="orders"'), 3);
    assert.equal(value(text, 'portcullis_requests_total', 'service="billing"'), 1);
    assert.equal(value(text, 'portcullis_request_duration_seconds_count',
      'service="orders"'), 3);
    assert.equal(value(text, 'portcullis_audit_records_written_total'), 20);
    assert.equal(value(text, 'portcullis_sessions_active'), 4);
  });
});
