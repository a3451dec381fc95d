/**
 * A fixed-bucket latency histogram that costs one short loop per observation, exported in the
 * Prometheus histogram shape (cumulative `_bucket{le}`, `_sum`, `_count`, in seconds).
 *
 * The request path observes through this instead of prom-client's Histogram, which hashes the
 * label set on every call (about 1 µs for the three request metrics together, measured here);
 * prom-client still formats and serves the result (see metrics.ts).
 */

/** Upper bounds in microseconds: 10 µs to 10 s, roughly 1-2.5-5 per decade. */
export const kLatencyBoundsUs: readonly number[] = [
  10, 25, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000,
  500_000, 1_000_000, 2_500_000, 10_000_000,
];

/** One value of a Prometheus metric as prom-client's registry formats it. */
export interface MetricValue {
  readonly value: number;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly metricName?: string;
}

/** Counts of observations per bucket, plus their sum. Not thread-safe (one event loop). */
export class LatencyHistogram {
  readonly #bounds: readonly number[];
  readonly #counts: Float64Array;
  #sumUs = 0;
  #count = 0;

  constructor(boundsUs: readonly number[] = kLatencyBoundsUs) {
    this.#bounds = boundsUs;
    this.#counts = new Float64Array(boundsUs.length + 1);
  }

  /** Adds one observation of `us` microseconds. */
  observe(us: number): void {
    const bounds = this.#bounds;
    let i = 0;
    while (i < bounds.length && us > (bounds[i] as number)) i++;
    this.#counts[i]!++;
    this.#sumUs += us;
    this.#count++;
  }

  get count(): number {
    return this.#count;
  }

  /**
   * The `q`-quantile (0..1) in microseconds, as the upper bound of the bucket it falls in
   * (the last bound for the overflow bucket); 0 when empty.
   */
  quantileUs(q: number): number {
    if (this.#count === 0) return 0;
    const rank = q * this.#count;
    let seen = 0;
    for (let i = 0; i < this.#counts.length; i++) {
      seen += this.#counts[i] as number;
      if (seen >= rank) return this.#bounds[Math.min(i, this.#bounds.length - 1)] as number;
    }
    return this.#bounds[this.#bounds.length - 1] as number;
  }

  /** Prometheus values under `name` (seconds), each carrying `labels` plus `le`. */
  values(name: string, labels: Readonly<Record<string, string>>): MetricValue[] {
    const out: MetricValue[] = [];
    let cumulative = 0;
    for (let i = 0; i < this.#bounds.length; i++) {
      cumulative += this.#counts[i] as number;
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: (this.#bounds[i] as number) / 1e6 },
        value: cumulative });
    }
    out.push({ metricName: `${name}_bucket`, labels: { ...labels, le: '+Inf' }, value: this.#count });
    out.push({ metricName: `${name}_sum`, labels, value: this.#sumUs / 1e6 });
    out.push({ metricName: `${name}_count`, labels, value: this.#count });
    return out;
  }
}
