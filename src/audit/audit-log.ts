/**
 * The audit log: where every request's record goes when the request ends.
 *
 * `open` makes the record at the start of the handler; `emit` takes it, once, when the request
 * is over, whatever the outcome. `emit` stamps the total latency and hands the record, by
 * reference and without formatting, to the metrics, the session table, the live feed (only
 * while someone listens) and the sink's queue. The response has already been written by then:
 * nothing here delays an answer, and nothing does I/O on the request path.
 */
import { performance } from 'node:perf_hooks';
import type { AuditQueue } from './audit-queue.js';
import type { ProxyMetrics } from './metrics.js';
import { AuditRecord, type AuditListener } from './record.js';
import type { SessionTable } from './sessions.js';

/**
 * Where records go live: the `LiveFeed` on the main thread, or a serving thread's relay to it
 * (src/threads/). `offer` runs on the request path and must return at once.
 */
export interface RecordFeed {
  offer(record: AuditRecord): void;
  close(): void;
}

/** What an audit log feeds; each part is optional (a test or a bench may leave one out). */
export interface AuditLogParts {
  /** The sink's queue; undefined with `audit.sink: none`. */
  readonly queue: AuditQueue | undefined;
  readonly metrics: ProxyMetrics | undefined;
  readonly sessions: SessionTable | undefined;
  readonly feed: RecordFeed | undefined;
}

/** The per-process audit log. */
export class AuditLog {
  readonly #queue: AuditQueue | undefined;
  readonly #metrics: ProxyMetrics | undefined;
  readonly #sessions: SessionTable | undefined;
  readonly #feed: RecordFeed | undefined;
  #emitted = 0;
  #shed = 0;

  constructor(parts: AuditLogParts) {
    this.#queue = parts.queue;
    this.#metrics = parts.metrics;
    this.#sessions = parts.sessions;
    this.#feed = parts.feed;
  }

  /** A new record for a request that starts now. */
  open(listener: AuditListener, requestId: string, sourceAddress: string, method: string):
    AuditRecord {
    return new AuditRecord(listener, requestId, sourceAddress, method, Date.now(),
      performance.now());
  }

  /**
   * Whether a new request must be refused (503 IAM_AUDIT_OVERLOADED) because the queue, with
   * the records of the `inFlight` admitted requests still to come, is full (`shed` mode).
   */
  isShedding(inFlight: number): boolean {
    return this.#queue?.isSheddingWith(inFlight) ?? false;
  }

  /** Counts a request refused because the queue was full (its record is still emitted). */
  noteShed(): void {
    this.#shed++;
  }

  /** Records emitted so far (every request, whether or not its sink kept it). */
  get emitted(): number {
    return this.#emitted;
  }

  /** Queue counters plus the shed count, for metrics and the admin API. */
  stats(): { depth: number; written: number; dropped: number; writeErrors: number;
    shed: number } {
    const q = this.#queue?.stats ?? { depth: 0, written: 0, dropped: 0, writeErrors: 0 };
    return { ...q, shed: this.#shed };
  }

  /** Ends `record`: call exactly once per request; the record must not change afterwards. */
  emit(record: AuditRecord): void {
    record.totalUs = Math.round((performance.now() - record.startMs) * 1000);
    this.#emitted++;
    this.#metrics?.observe(record);
    this.#sessions?.observe(record);
    this.#feed?.offer(record);
    this.#queue?.push(record);
  }

  /** Resolves when every record emitted so far is written. */
  flush(): Promise<void> {
    return this.#queue?.flush() ?? Promise.resolve();
  }

  /** Writes what is queued and closes the sink; resolves with the records lost (0 normally). */
  async close(timeoutMs: number): Promise<number> {
    this.#feed?.close();
    return this.#queue?.close(timeoutMs) ?? 0;
  }
}
