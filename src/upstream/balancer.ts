/**
 * Spreads one service's requests over several upstream addresses, one UpstreamPool each.
 *
 * Passive health check: when a connect to an address fails (refused, reset, timed out), that
 * address is skipped for `failureCooldownMs`; a successful connect clears the mark at once. When
 * every address is cooling down, the policy picks among all of them as usual, so a service whose
 * upstreams all flap still gets attempts instead of a blanket refusal. A failed request is not
 * re-sent to another address (see README "Known limitations").
 */
import { PortcullisError } from '../errors/index.js';
import { UpstreamPool } from './pool.js';
import type {
  BalancerOptions, PoolStats, ResponseSink, UpstreamExchange, UpstreamRequestHead,
} from './types.js';

/** A set of pools behind one balancing policy. */
export class UpstreamGroup {
  readonly #pools: UpstreamPool[];
  readonly #coolingUntil: Float64Array;
  readonly #leastPending: boolean;
  readonly #cooldownMs: number;
  #next = 0;

  /** Builds one pool per address; throws PortcullisError(IAM_CONFIG_INVALID) on bad options. */
  constructor(opts: BalancerOptions) {
    if (opts.addresses.length === 0) invalid('addresses must not be empty');
    if (opts.policy !== 'round-robin' && opts.policy !== 'least-pending') {
      invalid('policy must be round-robin or least-pending');
    }
    if (!Number.isInteger(opts.failureCooldownMs) || opts.failureCooldownMs < 0) {
      invalid('failureCooldownMs must be an integer >= 0');
    }
    this.#leastPending = opts.policy === 'least-pending';
    this.#cooldownMs = opts.failureCooldownMs;
    this.#coolingUntil = new Float64Array(opts.addresses.length);
    const outer = opts.pool.onConnectOutcome;
    this.#pools = opts.addresses.map((address, index) => new UpstreamPool({
      ...opts.pool,
      address,
      onConnectOutcome: (ok) => {
        this.#coolingUntil[index] = ok ? 0 : Date.now() + this.#cooldownMs;
        outer?.(ok);
      },
    }));
  }

  /** Per-address snapshot, in the order of `addresses`. */
  get stats(): PoolStats[] {
    return this.#pools.map((pool) => pool.stats);
  }

  /** Sends the request through the address the policy picks (see `UpstreamPool.request`). */
  request(head: UpstreamRequestHead, sink: ResponseSink): UpstreamExchange {
    return this.#pools[this.#pick()]!.request(head, sink);
  }

  /** Closes every pool (idle sockets now, in-flight requests when they finish). */
  async close(): Promise<void> {
    await Promise.all(this.#pools.map((pool) => pool.close()));
  }

  #pick(): number {
    const count = this.#pools.length;
    if (count === 1) return 0;
    const now = Date.now();
    const start = this.#next;
    this.#next = (start + 1) % count;

    // Both policies scan from a rotating start, so ties spread evenly. The first pass skips
    // cooling addresses; the second, only reached when all are cooling, takes any.
    for (let pass = 0; pass < 2; pass++) {
      let best = -1;
      let bestPending = Infinity;
      for (let k = 0; k < count; k++) {
        const index = (start + k) % count;
        if (pass === 0 && this.#coolingUntil[index]! > now) continue;
        if (!this.#leastPending) return this.#advance(index, count);
        const pending = this.#pools[index]!.pending;
        if (pending < bestPending) {
          best = index;
          bestPending = pending;
        }
      }
      if (best >= 0) return best;
    }
    return start;
  }

  /** Round-robin continues after the address it picked (skipping cooling ones fairly). */
  #advance(index: number, count: number): number {
    this.#next = (index + 1) % count;
    return index;
  }
}

function invalid(detail: string): never {
  throw new PortcullisError('IAM_CONFIG_INVALID', `upstream group: ${detail}`);
}
