/**
 * Builds the audit stage from the `audit` and `revocation` configuration: the sink and its
 * queue, the redaction rules, the metrics, the session table, the live feed and the revocation
 * store. The revocation store loads before the proxy listens, so a restarted instance denies
 * what was revoked while it was down from its first request.
 */
import type { AuditConfig, RevocationConfig } from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import type { Logger } from '../telemetry/index.js';
import { AuditLog } from './audit-log.js';
import { AuditQueue } from './audit-queue.js';
import { LiveFeed } from './feed.js';
import { type MetricsSources, ProxyMetrics } from './metrics.js';
import { type RedactionRules, recordLine } from './record-line.js';
import type { AuditRecord } from './record.js';
import { MemoryRevocationStore, type RevocationStore } from './revocation-store.js';
import { RedisRevocationStore } from './revocation-store-redis.js';
import { SessionTable } from './sessions.js';
import type { AuditSink } from './sink.js';
import { FileSink } from './sink-file.js';
import { StdoutSink } from './sink-stdout.js';

/** Records the live feed may send per subscriber per tick (100 ms). */
const kFeedRecordsPerTick = 500;
const kFeedTickMs = 100;
/** How often idle and expired sessions are swept. */
const kSessionSweepMs = 30_000;

/** The running audit stage. */
export interface AuditStage {
  readonly log: AuditLog;
  readonly metrics: ProxyMetrics;
  readonly sessions: SessionTable;
  readonly feed: LiveFeed;
  readonly revocations: RevocationStore;
  readonly redaction: RedactionRules;
  /**
   * Writes lines a serving thread formatted (src/threads/), taking turns with the queue's own
   * writes; rejects when the sink does (the thread retries). Without a sink, discards them.
   */
  writeLines(bytes: Uint8Array): Promise<void>;
  /** Writes every queued record, closes the sink and the stores; resolves the records lost. */
  stop(timeoutMs: number): Promise<number>;
}

/**
 * The scrape-time sources the audit stage cannot know itself (authn, policy), and, with serving
 * threads, the number of distinct sessions over every thread's table.
 */
export type ExternalMetricsSources = Pick<MetricsSources, 'verifierPool' | 'issuers' | 'bundle'
  | 'policyActivations'> & { readonly sessions?: () => number };

/**
 * The sink with one writer at a time: the main thread's queue and the serving threads' batches
 * take turns (a sink is never written concurrently; sink.ts).
 */
class SerialSink implements AuditSink {
  readonly #inner: AuditSink;
  #turn: Promise<unknown> = Promise.resolve();

  constructor(inner: AuditSink) {
    this.#inner = inner;
  }

  write(data: Buffer): Promise<void> {
    const next = this.#turn.then(() => this.#inner.write(data));
    this.#turn = next.catch(() => undefined);
    return next;
  }

  close(): Promise<void> {
    return this.#turn.then(() => this.#inner.close());
  }
}

async function openSink(config: AuditConfig): Promise<AuditSink | undefined> {
  if (config.sink === 'none') return undefined;
  if (config.sink === 'stdout') return new StdoutSink();
  return FileSink.open({
    path: config.file.path as string,
    maxFileBytes: config.file.maxFileBytes,
    maxFileAgeMs: config.file.maxFileAgeSec * 1000,
    maxFiles: config.file.maxFiles,
  });
}

function openRevocations(config: RevocationConfig, logger: Logger): RevocationStore {
  if (config.store === 'memory' || config.redis === undefined) return new MemoryRevocationStore();
  return new RedisRevocationStore({
    url: config.redis.url,
    password: config.redis.password?.reveal(),
    keyPrefix: config.redis.keyPrefix,
    connectTimeoutMs: config.redis.connectTimeoutMs,
    resyncIntervalMs: config.redis.resyncIntervalMs,
    logger,
  });
}

/** What every serving thread builds alike from `audit`: see `recordParts`. */
export interface RecordParts {
  readonly redaction: RedactionRules;
  /** The record as its line, newline included. */
  readonly format: (record: AuditRecord) => string;
  /** The queue to `sink`; undefined without a sink. */
  readonly queue: AuditQueue | undefined;
  readonly sessions: SessionTable;
}

/**
 * The redaction rules, the line format, the bounded queue into `sink` and the session table, as
 * `audit` configures them; the main thread and each serving thread (src/threads/) build their
 * own. Write failures are logged through `logger`, rate-limited.
 */
export function recordParts(audit: AuditConfig, sink: AuditSink | undefined, logger: Logger):
  RecordParts {
  const redaction: RedactionRules = { claims: audit.claims, redact: new Set(audit.redact) };
  const format = (r: AuditRecord): string => recordLine(r, redaction);
  const queue = sink === undefined ? undefined : new AuditQueue({
    sink, format,
    maxRecords: audit.queue.maxRecords,
    batchMaxRecords: audit.queue.batchMaxRecords,
    flushIntervalMs: audit.queue.flushIntervalMs,
    overload: audit.queue.overload,
    onWriteError: (err) => logger.warnRateLimited('audit-write', 10_000,
      'audit sink write failed; retrying', { error: (err as Error).message }),
  });
  const sessions = new SessionTable({ maxEntries: audit.sessions.maxEntries,
    idleTimeoutMs: audit.sessions.idleTimeoutSec * 1000 });
  return { redaction, format, queue, sessions };
}

/**
 * Starts the stage. Rejects with IAM_REVOCATION_STORE_UNAVAILABLE when a Redis store cannot be
 * loaded, and with the file system's error when the audit file cannot be opened.
 */
export async function startAuditStage(audit: AuditConfig, revocation: RevocationConfig,
  external: ExternalMetricsSources, logger: Logger): Promise<AuditStage> {
  // 1. Revocations first: nothing may be served before they are known.
  const revocations = openRevocations(revocation, logger);
  try {
    await revocations.start();
  } catch (err) {
    await revocations.stop();
    throw new PortcullisError('IAM_REVOCATION_STORE_UNAVAILABLE', (err as Error).message,
      { cause: err });
  }

  // 2. The sink, its queue and the session table.
  let sink: AuditSink | undefined;
  try {
    const opened = await openSink(audit);
    sink = opened === undefined ? undefined : new SerialSink(opened);
  } catch (err) {
    await revocations.stop();
    throw err;
  }
  const { redaction, format, queue, sessions } = recordParts(audit, sink, logger);
  const sweep = setInterval(() => sessions.sweep(), kSessionSweepMs);
  sweep.unref();

  // 3. What else is built from the records: the feed, the metrics.
  const feed = new LiveFeed({
    format: (r) => format(r).slice(0, -1),
    tickMs: kFeedTickMs,
    maxRecordsPerTick: kFeedRecordsPerTick,
    maxBufferedBytes: audit.feed.maxBufferedBytes,
    slowCloseAfterMs: audit.feed.slowCloseAfterMs,
    maxSubscribers: audit.feed.maxSubscribers,
  });
  let log: AuditLog | undefined;
  const metrics = new ProxyMetrics({
    ...external,
    audit: () => log?.stats() ?? { depth: 0, written: 0, dropped: 0, writeErrors: 0, shed: 0 },
    sessions: external.sessions ?? (() => sessions.size),
    revocations: () => revocations.set.size,
    feed: () => feed.stats,
  });
  log = new AuditLog({ queue, metrics, sessions, feed });
  const running = log;

  const stop = async (timeoutMs: number): Promise<number> => {
    clearInterval(sweep);
    const lost = await running.close(timeoutMs);
    await revocations.stop();
    if (lost > 0) logger.error('audit records lost at shutdown', { lost });
    return lost;
  };
  const shared = sink;
  const writeLines = (bytes: Uint8Array): Promise<void> => (shared === undefined
    ? Promise.resolve() : shared.write(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length)));
  return { log: running, metrics, sessions, feed, revocations, redaction, writeLines, stop };
}
