/**
 * The live decision feed: records streamed over WebSocket (uWS's own, on the admin listener) to
 * authenticated subscribers, each with its own server-side filter.
 *
 * The request path only appends the record to a bounded list (`offer`; nothing at all without
 * subscribers). Every `tickMs` the list is handed out: per subscriber, the records its filter
 * matches, at most `maxRecordsPerTick`, in one message `{"type":"records","records":[...],
 * "skipped":N}`, each record formatted once however many subscribers get it. A subscriber whose
 * socket still holds more than `maxBufferedBytes` unsent gets nothing that tick (its records
 * count in `skipped`, reported in its next message); one that stays that slow for
 * `slowCloseAfterMs` is closed with code 1013 (try again later). So a slow reader costs the
 * proxy a skipped send, never a wait.
 */
import type { AuditRecord } from './record.js';

/** Exact-match filters a subscriber can set (query string at connect, or a message later). */
export interface FeedFilter {
  readonly service?: string;
  readonly decision?: string;
  readonly subject?: string;
  readonly rule?: string;
}

export const kFeedFilterKeys = ['service', 'decision', 'subject', 'rule'] as const;

/** The part of a uWS WebSocket the feed uses (kept small so tests can drive it too). */
export interface FeedSocket {
  send(message: string): number;
  getBufferedAmount(): number;
  end(code: number, reason: string): void;
}

/** Options of `LiveFeed`. */
export interface LiveFeedOptions {
  /** Formats a record as JSON, without the newline (redaction applied). */
  readonly format: (record: AuditRecord) => string;
  readonly tickMs: number;
  readonly maxRecordsPerTick: number;
  readonly maxBufferedBytes: number;
  readonly slowCloseAfterMs: number;
  /** Most subscribers at once; more are refused at upgrade. */
  readonly maxSubscribers: number;
  readonly nowMs?: () => number;
}

interface Subscriber {
  readonly socket: FeedSocket;
  filter: FeedFilter;
  skipped: number;
  slowSinceMs: number | undefined;
}

/** Records a tick may hold before the request path stops adding (then counted as skipped). */
const kMaxPendingFactor = 10;

function matches(filter: FeedFilter, r: AuditRecord): boolean {
  if (filter.service !== undefined && r.service !== filter.service) return false;
  if (filter.decision !== undefined && (r.decision ?? 'none') !== filter.decision) return false;
  if (filter.subject !== undefined && r.principal?.subject !== filter.subject) return false;
  return filter.rule === undefined || r.rule === filter.rule;
}

/** Reads a filter from query-string-like pairs; unknown keys and empty values are ignored. */
export function parseFeedFilter(get: (key: string) => string | undefined): FeedFilter {
  const filter: Record<string, string> = {};
  for (const key of kFeedFilterKeys) {
    const value = get(key);
    if (value !== undefined && value !== '' && value.length <= 256) filter[key] = value;
  }
  return filter;
}

/** The feed. One per process. */
export class LiveFeed {
  readonly #opts: LiveFeedOptions;
  readonly #nowMs: () => number;
  readonly #subscribers = new Set<Subscriber>();
  readonly #bySocket = new Map<FeedSocket, Subscriber>();
  #pending: AuditRecord[] = [];
  #overflow = 0;
  #timer: NodeJS.Timeout | undefined;
  #skipped = 0;
  #closedSlow = 0;

  constructor(opts: LiveFeedOptions) {
    this.#opts = opts;
    this.#nowMs = opts.nowMs ?? Date.now;
  }

  get subscribers(): number {
    return this.#subscribers.size;
  }

  get isFull(): boolean {
    return this.#subscribers.size >= this.#opts.maxSubscribers;
  }

  /** Totals for metrics: records not sent to slow subscribers, subscribers closed as slow. */
  get stats(): { subscribers: number; skipped: number; closedSlow: number } {
    return { subscribers: this.#subscribers.size, skipped: this.#skipped,
      closedSlow: this.#closedSlow };
  }

  /** Called per record on the request path: an append, or nothing without subscribers. */
  offer(record: AuditRecord): void {
    if (this.#subscribers.size === 0) return;
    if (this.#pending.length < this.#opts.maxRecordsPerTick * kMaxPendingFactor) {
      this.#pending.push(record);
    } else {
      this.#overflow++;
    }
  }

  /** Adds a subscriber (the WebSocket has opened). */
  add(socket: FeedSocket, filter: FeedFilter): void {
    const sub: Subscriber = { socket, filter, skipped: 0, slowSinceMs: undefined };
    this.#subscribers.add(sub);
    this.#bySocket.set(socket, sub);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.tick(), this.#opts.tickMs);
      this.#timer.unref();
    }
  }

  /** Changes a subscriber's filter. */
  setFilter(socket: FeedSocket, filter: FeedFilter): void {
    const sub = this.#bySocket.get(socket);
    if (sub !== undefined) sub.filter = filter;
  }

  /** Removes a subscriber (its socket closed). */
  remove(socket: FeedSocket): void {
    const sub = this.#bySocket.get(socket);
    if (sub === undefined) return;
    this.#bySocket.delete(socket);
    this.#subscribers.delete(sub);
    if (this.#subscribers.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      this.#pending = [];
      this.#overflow = 0;
    }
  }

  /** Hands out the records gathered since the last tick. Runs on a timer; public for tests. */
  tick(): void {
    const records = this.#pending;
    const overflow = this.#overflow;
    this.#pending = [];
    this.#overflow = 0;
    const formatted = new Map<AuditRecord, string>();
    const now = this.#nowMs();
    for (const sub of [...this.#subscribers]) this.#send(sub, records, overflow, formatted, now);
  }

  /** Closes every subscriber (shutdown). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const sub of [...this.#subscribers]) sub.socket.end(1001, 'shutting down');
    this.#subscribers.clear();
    this.#bySocket.clear();
  }

  #send(sub: Subscriber, records: readonly AuditRecord[], overflow: number,
    formatted: Map<AuditRecord, string>, now: number): void {
    // 1. The records for this subscriber, sampled down to the per-tick cap.
    const mine = records.filter((r) => matches(sub.filter, r));
    const cap = this.#opts.maxRecordsPerTick;
    const kept = mine.length <= cap ? mine : mine.slice(mine.length - cap);
    // Records the list had no room for are unknown to the filter: every subscriber counts them.
    const skippedNow = mine.length - kept.length + overflow;

    // 2. Still too much unsent on its socket: skip this tick; close it if it stays slow.
    if (sub.socket.getBufferedAmount() > this.#opts.maxBufferedBytes) {
      sub.skipped += mine.length + overflow;
      this.#skipped += mine.length + overflow;
      sub.slowSinceMs ??= now;
      if (now - sub.slowSinceMs >= this.#opts.slowCloseAfterMs) {
        this.#closedSlow++;
        this.remove(sub.socket);
        sub.socket.end(1013, 'subscriber too slow');
      }
      return;
    }
    sub.slowSinceMs = undefined;
    if (kept.length === 0 && sub.skipped === 0 && skippedNow === 0) return;

    // 3. One message; each record formatted once per tick.
    let body = '';
    for (const r of kept) {
      let text = formatted.get(r);
      if (text === undefined) {
        text = this.#opts.format(r);
        formatted.set(r, text);
      }
      body += body === '' ? text : `,${text}`;
    }
    const skipped = sub.skipped + skippedNow;
    this.#skipped += skippedNow;
    sub.skipped = 0;
    sub.socket.send(`{"type":"records","records":[${body}],"skipped":${skipped}}`);
  }
}
