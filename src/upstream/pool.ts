/**
 * Keep-alive connection pool for one upstream address.
 *
 * A request takes the most recently used idle socket (the one least likely to have been closed
 * by the upstream's own idle timer), else opens a new one while under `maxConnections`, else waits
 * in a bounded FIFO. A socket that frees up serves the queue head first. All deadlines (connect,
 * headers, body, idle, queue) are checked by one unref'd interval per pool, running only while
 * the pool has sockets or waiters.
 */
import { PortcullisError } from '../errors/index.js';
import { Connection, type ConnectionOwner } from './connection.js';
import { Exchange, type ExchangeOwner } from './exchange.js';
import { encodeRequestHead } from './request-head.js';
import type {
  PoolOptions, PoolStats, ResponseSink, UpstreamExchange, UpstreamRequestHead,
} from './types.js';

// The sweep ticks at 1/8 of the shortest timeout, so a deadline fires at most 12.5% late.
const kSweepDivisor = 8;
const kMinSweepMs = 5;
const kMaxSweepMs = 1000;

/** Pool of HTTP/1.1 connections to one address. See README.md for the reuse rules. */
export class UpstreamPool implements ConnectionOwner, ExchangeOwner {
  /** The options this pool was built with (validated). */
  readonly options: PoolOptions;
  readonly #all = new Set<Connection>();
  readonly #idle: Connection[] = [];
  readonly #queue: Exchange[] = [];
  readonly #sweepMs: number;
  #sweep: NodeJS.Timeout | null = null;
  #closing = false;
  #closeWaiters: (() => void)[] = [];

  /** Validates `opts`; throws PortcullisError(IAM_CONFIG_INVALID) naming the bad field. */
  constructor(opts: PoolOptions) {
    validatePoolOptions(opts);
    this.options = opts;
    const shortest = Math.min(opts.connectTimeoutMs, opts.headersTimeoutMs, opts.bodyTimeoutMs,
      opts.idleTimeoutMs, opts.queueTimeoutMs ?? Infinity);
    const sweepMs = Math.floor(shortest / kSweepDivisor);
    this.#sweepMs = Math.min(kMaxSweepMs, Math.max(kMinSweepMs, sweepMs));
  }

  /** Socket and queue counts, as a fresh snapshot. */
  get stats(): PoolStats {
    const open = this.#all.size;
    const idle = this.#idle.length;
    return { open, idle, busy: open - idle, queued: this.#queue.length };
  }

  /** Requests on sockets or waiting for one (the balancer's least-pending measure). */
  get pending(): number {
    return this.#all.size - this.#idle.length + this.#queue.length;
  }

  /** True after `close()`. */
  get isClosing(): boolean {
    return this.#closing;
  }

  /**
   * Starts one exchange. The head is validated and serialized first (refused ->
   * IAM_FRAMING_HEADER_INVALID); after `close()` or with a full queue -> IAM_UPSTREAM_UNAVAILABLE.
   * Errors reach the sink on a microtask, never inside this call.
   */
  request(head: UpstreamRequestHead, sink: ResponseSink): UpstreamExchange {
    const encoded = encodeRequestHead(head);
    const exchange = new Exchange(this, head, sink, encoded ?? '');
    if (encoded === null) exchange.failSoon('IAM_FRAMING_HEADER_INVALID');
    else if (this.#closing) exchange.failSoon('IAM_UPSTREAM_UNAVAILABLE');
    else this.#schedule(exchange);
    return exchange;
  }

  /** Closes idle sockets now; in-flight and queued requests finish, then the promise resolves. */
  close(): Promise<void> {
    this.#closing = true;
    for (const conn of this.#idle.splice(0)) conn.destroy();
    return new Promise((resolve) => {
      this.#closeWaiters.push(resolve);
      this.#settleClose();
    });
  }

  /** ConnectionOwner: a socket is idle; give it to the queue head or keep it. */
  connectionReady(conn: Connection): void {
    const next = this.#nextQueued();
    if (next !== null) conn.dispatch(next);
    else if (this.#closing) conn.destroy();
    else this.#idle.push(conn);
  }

  /** ConnectionOwner: a socket closed; its slot serves a retry first, then the queue. */
  connectionGone(conn: Connection, retry: Exchange | null): void {
    this.#all.delete(conn);
    const index = this.#idle.lastIndexOf(conn);
    if (index >= 0) this.#idle.splice(index, 1);
    if (retry !== null) this.#open(retry);
    while (this.#all.size < this.options.maxConnections) {
      const next = this.#nextQueued();
      if (next === null) break;
      this.#open(next);
    }
    this.#settleClose();
  }

  /** ConnectionOwner: passes connect outcomes on (the balancer's health signal). */
  connectOutcome(ok: boolean): void {
    this.options.onConnectOutcome?.(ok);
  }

  /** ExchangeOwner: an aborted exchange leaves the queue. */
  dequeue(exchange: Exchange): void {
    const index = this.#queue.indexOf(exchange);
    if (index >= 0) this.#queue.splice(index, 1);
    this.#settleClose();
  }

  #schedule(exchange: Exchange): void {
    const idle = this.#idle.pop();
    if (idle !== undefined) return idle.dispatch(exchange);
    if (this.#all.size < this.options.maxConnections) return this.#open(exchange);
    if (this.#queue.length >= this.options.maxQueued) {
      return exchange.failSoon('IAM_UPSTREAM_UNAVAILABLE');
    }
    if (this.options.queueTimeoutMs !== undefined) exchange.queuedAt = Date.now();
    this.#queue.push(exchange);
  }

  #open(exchange: Exchange): void {
    this.#all.add(new Connection(this, exchange));
    if (this.#sweep === null) {
      this.#sweep = setInterval(this.#tick, this.#sweepMs);
      this.#sweep.unref();
    }
  }

  #nextQueued(): Exchange | null {
    while (this.#queue.length > 0) {
      const exchange = this.#queue.shift()!;
      if (!exchange.isDone) return exchange;
    }
    return null;
  }

  #tick = (): void => {
    const now = Date.now();
    for (const conn of this.#all) if (conn.deadline <= now) conn.checkDeadline(now);

    const queueTimeoutMs = this.options.queueTimeoutMs;
    if (queueTimeoutMs !== undefined) {
      while (this.#queue.length > 0 && this.#queue[0]!.queuedAt + queueTimeoutMs <= now) {
        this.#queue.shift()!.fail('IAM_UPSTREAM_UNAVAILABLE');
      }
    }

    if (this.#all.size === 0 && this.#queue.length === 0 && this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
    this.#settleClose();
  };

  #settleClose(): void {
    if (!this.#closing || this.#all.size > 0 || this.#queue.length > 0) return;
    if (this.#sweep !== null) {
      clearInterval(this.#sweep);
      this.#sweep = null;
    }
    for (const resolve of this.#closeWaiters.splice(0)) resolve();
  }
}

/** Fails loudly at start-up on options no pool can work with. */
function validatePoolOptions(opts: PoolOptions): void {
  const { host, port } = opts.address;
  if (typeof host !== 'string' || host.length === 0) invalid('address.host must be non-empty');
  if (!Number.isInteger(port) || port < 1 || port > 65535) invalid('address.port must be 1-65535');
  positiveInteger(opts.maxConnections, 'maxConnections');
  if (!Number.isInteger(opts.maxQueued) || opts.maxQueued < 0) invalid('maxQueued must be >= 0');
  positiveInteger(opts.connectTimeoutMs, 'connectTimeoutMs');
  positiveInteger(opts.headersTimeoutMs, 'headersTimeoutMs');
  positiveInteger(opts.bodyTimeoutMs, 'bodyTimeoutMs');
  positiveInteger(opts.idleTimeoutMs, 'idleTimeoutMs');
  if (opts.queueTimeoutMs !== undefined) positiveInteger(opts.queueTimeoutMs, 'queueTimeoutMs');
  // The status line alone needs 14 octets; anything under a few hundred is a configuration slip.
  if (!Number.isInteger(opts.maxResponseHeaderBytes) || opts.maxResponseHeaderBytes < 256) {
    invalid('maxResponseHeaderBytes must be an integer >= 256');
  }
}

function positiveInteger(value: number, field: string): void {
  if (!Number.isInteger(value) || value < 1) invalid(`${field} must be a positive integer`);
}

function invalid(detail: string): never {
  throw new PortcullisError('IAM_CONFIG_INVALID', `upstream pool: ${detail}`);
}
