/**
 * Prometheus metrics, served by the admin listener at `GET /metrics` (names and labels in
 * src/audit/README.md).
 *
 * Per request, `observe` bumps plain counters and two `LatencyHistogram`s kept here (a Map
 * lookup and a few additions); everything else (pool, key sets, bundle, audit queue, sessions,
 * feed) is read from its owner only when Prometheus scrapes. prom-client's Registry formats the
 * exposition and adds the process metrics.
 */
import { AggregatorRegistry, collectDefaultMetrics, Registry } from 'prom-client';
import type { JwksSourceStatus, VerifierPoolStats } from '../authn/index.js';
import { errorSpec } from '../errors/index.js';
import { LatencyHistogram, type MetricValue } from './latency-histogram.js';
import type { AuditRecord } from './record.js';

/** Where the scrape-time figures come from; every function is called at scrape time only. */
export interface MetricsSources {
  verifierPool(): VerifierPoolStats | undefined;
  issuers(): Readonly<Record<string, JwksSourceStatus>>;
  /** The active policy bundle, when there is one. */
  bundle(): { readonly version: string; readonly digest: string } | undefined;
  /** Bundle offers by outcome since start (src/control/bundle-activator.ts). */
  policyActivations?(): { readonly activated: number; readonly unchanged: number;
    readonly rejected: Readonly<Record<string, number>> };
  audit(): { readonly depth: number; readonly written: number; readonly dropped: number;
    readonly writeErrors: number; readonly shed: number };
  sessions(): number;
  revocations(): number;
  feed(): { readonly subscribers: number; readonly skipped: number; readonly closedSlow: number };
}

/** What a serving thread's metrics read at scrape time: its own audit queue. */
export type ThreadMetricsSources = Pick<MetricsSources, 'audit'>;

/** One registry's metrics as JSON (prom-client's `getMetricsAsJSON`), to cross threads. */
export type MetricsJSON = Awaited<ReturnType<Registry['getMetricsAsJSON']>>;

/** Distinct (service, decision, status) series kept; the rest are counted under `_other`. */
const kMaxRequestSeries = 4_096;

interface Series {
  readonly labels: Readonly<Record<string, string>>;
  count: number;
}

type MetricType = 'counter' | 'gauge' | 'histogram';

/** The proxy's metrics. One per process. */
/** Per service: its requests by (decision, status) and its latency histogram. */
interface ServiceSeries {
  readonly requests: Map<number, Series>;
  readonly total: LatencyHistogram;
}

const kDecisionIndex: Readonly<Record<string, number>> = {
  allow: 0, deny: 1, reject: 2, error: 3, none: 4,
};

export class ProxyMetrics {
  readonly registry = new Registry();
  readonly #services = new Map<string, ServiceSeries>();
  #requestSeries = 0;
  readonly #otherRequests: Series = { labels: { service: '_other' }, count: 0 };
  readonly #upstreamErrors = new Map<string, Series>();
  readonly #decision = new LatencyHistogram();
  #cacheHits = 0;
  #cacheMisses = 0;

  /**
   * The main thread passes every source and gets the process metrics too. A serving thread
   * (src/threads/) passes only its audit queue: its request counters and histograms, and its
   * queue's, are summed into the main thread's at scrape time (`exposition(others)`).
   */
  constructor(sources: MetricsSources | ThreadMetricsSources) {
    this.#registerRequestMetrics();
    if (!('verifierPool' in sources)) {
      this.#registerAuditMetrics(sources);
      return;
    }
    collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
    this.#registerSourceMetrics(sources);
  }

  /** Counts one finished request. Called once per record, on the request path. */
  observe(record: AuditRecord): void {
    // 1. Requests by service, decision and status: Map lookups on small integer keys.
    const service = record.service ?? '';
    let perService = this.#services.get(service);
    if (perService === undefined) {
      perService = { requests: new Map(), total: new LatencyHistogram() };
      this.#services.set(service, perService);
    }
    const decision = record.decision ?? 'none';
    const key = (kDecisionIndex[decision] as number) * 1000 + record.status;
    let series = perService.requests.get(key);
    if (series === undefined) {
      if (this.#requestSeries >= kMaxRequestSeries) {
        series = this.#otherRequests;
      } else {
        series = { labels: { service, decision, status: String(record.status) }, count: 0 };
        perService.requests.set(key, series);
        this.#requestSeries++;
      }
    }
    series.count++;
    perService.total.observe(record.totalUs);

    // 2. Cache, upstream failures, decision time.
    if (record.cacheHit !== null) {
      if (record.cacheHit) this.#cacheHits++;
      else this.#cacheMisses++;
    }
    if (record.outcome === 'upstream_error' && record.code !== null) {
      const kind = errorSpec(record.code).reason;
      this.#count(this.#upstreamErrors, `${service}\u0000${kind}`, () => ({ service, kind }));
    }
    if (record.authnUs !== null || record.authzUs !== null) {
      this.#decision.observe((record.authnUs ?? 0) + (record.authzUs ?? 0));
    }
  }

  /** This registry's metrics as JSON, for another thread to aggregate. */
  json(): Promise<MetricsJSON> {
    return this.registry.getMetricsAsJSON();
  }

  /**
   * The exposition text and its content type; with `others` (serving threads' `json()`), every
   * series is summed with theirs (counters, histograms and the audit-queue gauges are sums).
   */
  async exposition(others: readonly MetricsJSON[] = []): Promise<{ text: string;
    contentType: string }> {
    if (others.length === 0) {
      return { text: await this.registry.metrics(), contentType: this.registry.contentType };
    }
    const merged = AggregatorRegistry.aggregate([await this.json(), ...others]);
    return { text: await merged.metrics(), contentType: merged.contentType };
  }

  #count(map: Map<string, Series>, key: string, labels: () => Record<string, string>): void {
    let series = map.get(key);
    if (series === undefined) {
      const isFull = map.size >= kMaxRequestSeries;
      const name = isFull ? '_other' : key;
      series = map.get(name);
      if (series === undefined) {
        series = { labels: isFull ? { service: '_other' } : labels(), count: 0 };
        map.set(name, series);
      }
    }
    series.count++;
  }

  #register(name: string, help: string, type: MetricType, values: () => MetricValue[]): void {
    this.registry.registerMetric({
      name, help, type,
      get: async () => ({ name, help, type, values: values(), aggregator: 'sum' }),
    } as unknown as Parameters<Registry['registerMetric']>[0]);
  }

  #registerRequestMetrics(): void {
    const seriesValues = (map: Map<string, Series>) => () =>
      [...map.values()].map((s) => ({ labels: s.labels, value: s.count }));
    this.#register('portcullis_requests_total', 'Requests by service, decision and status.',
      'counter', () => [...this.#services.values()]
        .flatMap((svc) => [...svc.requests.values()])
        .concat(this.#otherRequests.count > 0 ? [this.#otherRequests] : [])
        .map((s) => ({ labels: s.labels, value: s.count })));
    this.#register('portcullis_upstream_errors_total', 'Upstream failures by service and kind.',
      'counter', seriesValues(this.#upstreamErrors));
    this.#register('portcullis_decision_duration_seconds',
      'Time to decide (authentication plus authorization).', 'histogram',
      () => this.#decision.values('portcullis_decision_duration_seconds', {}));
    this.#register('portcullis_request_duration_seconds', 'Whole request, by service.',
      'histogram', () => [...this.#services].flatMap(([service, svc]) =>
        svc.total.values('portcullis_request_duration_seconds', { service })));
    this.#register('portcullis_token_cache_lookups_total',
      'Verified-token cache lookups of authenticated requests.', 'counter', () => [
        { labels: { result: 'hit' }, value: this.#cacheHits },
        { labels: { result: 'miss' }, value: this.#cacheMisses }]);
    this.#register('portcullis_token_cache_hit_ratio', 'Cache hits over lookups since start.',
      'gauge', () => {
        const lookups = this.#cacheHits + this.#cacheMisses;
        return [{ labels: {}, value: lookups === 0 ? 0 : this.#cacheHits / lookups }];
      });
  }

  #registerAuditMetrics(s: ThreadMetricsSources): void {
    const one = (value: number) => [{ labels: {}, value }];
    this.#register('portcullis_audit_queue_depth', 'Records waiting for the sink.', 'gauge',
      () => one(s.audit().depth));
    this.#register('portcullis_audit_records_written_total', 'Records the sink accepted.',
      'counter', () => one(s.audit().written));
    this.#register('portcullis_audit_records_dropped_total', 'Records lost: the queue was full.',
      'counter', () => one(s.audit().dropped));
    this.#register('portcullis_audit_write_errors_total', 'Failed sink writes (retried).',
      'counter', () => one(s.audit().writeErrors));
    this.#register('portcullis_audit_requests_shed_total',
      'Requests refused because the audit queue was full.', 'counter', () => one(s.audit().shed));
  }

  #registerSourceMetrics(s: MetricsSources): void {
    const one = (value: number) => [{ labels: {}, value }];
    this.#register('portcullis_verifier_pool_queue_depth', 'Tokens waiting for a worker.',
      'gauge', () => one(s.verifierPool()?.queued ?? 0));
    this.#register('portcullis_verifier_pool_utilization', 'Worker thread utilization, 0..1.',
      'gauge', () => one(s.verifierPool()?.utilization ?? 0));
    const perIssuer = (pick: (st: JwksSourceStatus) => number) => () =>
      Object.entries(s.issuers()).map(([issuer, st]) => ({ labels: { issuer }, value: pick(st) }));
    this.#register('portcullis_jwks_refresh_failures_total', 'Failed key-set loads per issuer.',
      'counter', perIssuer((st) => st.totalFailures));
    this.#register('portcullis_jwks_key_set_age_seconds',
      'Time since the issuer\'s keys were last loaded.', 'gauge',
      perIssuer((st) => (st.keySetAgeMs ?? Number.NaN) / 1000));
    this.#register('portcullis_policy_bundle_info', 'The active policy bundle (value 1).',
      'gauge', () => {
        const bundle = s.bundle();
        return bundle === undefined ? [] : [{ labels: { ...bundle }, value: 1 }];
      });
    this.#register('portcullis_policy_activations_total',
      'Policy bundles offered, by outcome (refusals by error code).', 'counter', () => {
        const a = s.policyActivations?.();
        if (a === undefined) return [];
        return [{ labels: { result: 'activated' }, value: a.activated },
          { labels: { result: 'unchanged' }, value: a.unchanged },
          ...Object.entries(a.rejected).map(([code, value]) => ({ labels: { result: 'refused', code }, value }))];
      });
    this.#registerAuditMetrics(s);
    this.#register('portcullis_sessions_active', 'Entries in the session table.', 'gauge',
      () => one(s.sessions()));
    this.#register('portcullis_revocations_active', 'Revocations in force.', 'gauge',
      () => one(s.revocations()));
    this.#register('portcullis_feed_subscribers', 'Live feed subscribers.', 'gauge',
      () => one(s.feed().subscribers));
    this.#register('portcullis_feed_records_skipped_total',
      'Records not sent to a slow feed subscriber.', 'counter', () => one(s.feed().skipped));
    this.#register('portcullis_feed_subscribers_closed_total',
      'Feed subscribers disconnected for staying too slow.', 'counter',
      () => one(s.feed().closedSlow));
  }
}
