/**
 * The audit stage's public API: the decision record and the log it goes to, its sinks, the
 * metrics, the session table, the live feed and the revocation stores. Schema and behaviour:
 * src/audit/README.md.
 */
export {
  AuditRecord, type AuditDecision, type AuditListener, type AuditOutcome, decisionOf,
} from './record.js';
export {
  type RedactionRules, jsonString, kNoRedaction, kRedactedValue, recordLine,
} from './record-line.js';
export { AuditLog, type AuditLogParts, type RecordFeed } from './audit-log.js';
export {
  AuditQueue, type AuditQueueOptions, type AuditQueueStats, type OverloadMode,
} from './audit-queue.js';
export { type AuditSink, DiscardSink } from './sink.js';
export { FileSink, type FileSinkOptions } from './sink-file.js';
export { StdoutSink } from './sink-stdout.js';
export { LatencyHistogram, kLatencyBoundsUs } from './latency-histogram.js';
export {
  type MetricsJSON, type MetricsSources, ProxyMetrics, type ThreadMetricsSources,
} from './metrics.js';
export {
  kMaxAddresses, mergeSessionViews, type SessionFilter, type SessionIdKind, SessionTable,
  type SessionView, sessionKey,
} from './sessions.js';
export {
  kRevocationKinds, parseRevocation, type Revocation, type RevocationChange, type RevocationKind,
  RevocationSet, revocationId,
} from './revocation-set.js';
export {
  MemoryRevocationStore, type RevocationStore, type RevocationStoreStatus,
} from './revocation-store.js';
export { RedisRevocationStore, type RedisRevocationStoreOptions } from './revocation-store-redis.js';
export {
  type FeedFilter, type FeedItem, type FeedSocket, feedFields, kFeedFilterKeys, LiveFeed,
  type LiveFeedOptions, parseFeedFilter,
} from './feed.js';
export {
  type AuditStage, type ExternalMetricsSources, recordParts, type RecordParts, startAuditStage,
} from './setup.js';
