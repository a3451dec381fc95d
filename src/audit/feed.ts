/**
 * The live decision feed: records streamed over WebSocket (uWS's own, on the admin listener) to
 * authenticated subscribers, each with its own server-side filter.
 *
 * Per record, on the request path (`offer`): nothing without subscribers; otherwise, for each
 * subscriber whose filter matches, the record's line (formatted once, however many take it) is
 * appended to that subscriber's list, unless the list already holds `maxRecordsPerTick` or the
 * subscriber is marked slow: then it only counts as skipped. No record object is kept. Every
 * `tickMs` each list goes out as one message `{"type":"records","records":[...],"skipped":N}`.
 * A subscriber whose socket holds more than `maxBufferedBytes` unsent at a tick is marked slow
 * (its list is dropped, counted as skipped) until a tick finds it drained; one that stays slow
 * for `slowCloseAfterMs` is closed with code 1013 (try again later). So a slow reader costs the
 * proxy a counter, never a wait and never memory.
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
  pending: string[];
  skipped: number;
  isSlow: boolean;
  slowSinceMs: number | undefined;
}

/**
 * A record a serving thread offers (src/threads/): its line, formatted there, and the fields the
 * filters read. Plain data, so it crosses threads.
 */
export interface FeedItem {
  readonly line: string;
  readonly service: string | null;
  readonly decision: string;
  readonly subject: string | null;
  readonly rule: string | null;
}

function matches(filter: FeedFilter, service: string | null, decision: string,
  subject: string | null, rule: string | null): boolean {
  if (filter.service !== undefined && service !== filter.service) return false;
  if (filter.decision !== undefined && decision !== filter.decision) return false;
  if (filter.subject !== undefined && subject !== filter.subject) return false;
  return filter.rule === undefined || rule === filter.rule;
}

/** The filter fields of `record`, as a `FeedItem` carries them. */
export function feedFields(record: AuditRecord): Omit<FeedItem, 'line'> {
  return { service: record.service, decision: record.decision ?? 'none',
    subject: record.principal?.subject ?? null, rule: record.rule };
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
  #timer: NodeJS.Timeout | undefined;
  #skipped = 0;
  #closedSlow = 0;
  #onActive: ((isActive: boolean) => void) | undefined;

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

  /** Called per record on the request path (see the file comment). */
  offer(record: AuditRecord): void {
    if (this.#subscribers.size === 0) return;
    let line: string | undefined;
    const decision = record.decision ?? 'none';
    const subject = record.principal?.subject ?? null;
    for (const sub of this.#subscribers) {
      if (!matches(sub.filter, record.service, decision, subject, record.rule)) continue;
      if (this.#isOverTick(sub)) continue;
      line ??= this.#opts.format(record);
      sub.pending.push(line);
    }
  }

  /** `offer` for a record a serving thread formatted; the same filters and limits apply. */
  offerItem(item: FeedItem): void {
    for (const sub of this.#subscribers) {
      if (!matches(sub.filter, item.service, item.decision, item.subject, item.rule)) continue;
      if (!this.#isOverTick(sub)) sub.pending.push(item.line);
    }
  }

  /** Counts records a serving thread could not relay (its own per-tick bound). */
  noteSkipped(count: number): void {
    this.#skipped += count;
  }

  /** Whether `sub` takes no more this tick (slow, or its list is full); counts the skip. */
  #isOverTick(sub: Subscriber): boolean {
    if (!sub.isSlow && sub.pending.length < this.#opts.maxRecordsPerTick) return false;
    sub.skipped++;
    this.#skipped++;
    return true;
  }

  /**
   * Tells `listener` when the feed gets its first subscriber (true) and loses its last (false),
   * so the serving threads relay records only while someone listens (src/threads/).
   */
  onActiveChange(listener: (isActive: boolean) => void): void {
    this.#onActive = listener;
  }

  /** Adds a subscriber (the WebSocket has opened). */
  add(socket: FeedSocket, filter: FeedFilter): void {
    const sub: Subscriber = { socket, filter, pending: [], skipped: 0, isSlow: false,
      slowSinceMs: undefined };
    this.#subscribers.add(sub);
    this.#bySocket.set(socket, sub);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.tick(), this.#opts.tickMs);
      this.#timer.unref();
      this.#onActive?.(true);
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
      this.#onActive?.(false);
    }
  }

  /** Sends each subscriber what it gathered since the last tick. Runs on a timer. */
  tick(): void {
    const now = this.#nowMs();
    for (const sub of [...this.#subscribers]) this.#send(sub, now);
  }

  /** Closes every subscriber (shutdown). */
  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const sub of [...this.#subscribers]) sub.socket.end(1001, 'shutting down');
    this.#subscribers.clear();
    this.#bySocket.clear();
  }

  #send(sub: Subscriber, now: number): void {
    // 1. Too much still unsent on its socket: slow until drained; closed if it stays slow.
    if (sub.socket.getBufferedAmount() > this.#opts.maxBufferedBytes) {
      sub.isSlow = true;
      sub.skipped += sub.pending.length;
      this.#skipped += sub.pending.length;
      sub.pending = [];
      sub.slowSinceMs ??= now;
      if (now - sub.slowSinceMs >= this.#opts.slowCloseAfterMs) {
        this.#closedSlow++;
        this.remove(sub.socket);
        sub.socket.end(1013, 'subscriber too slow');
      }
      return;
    }
    sub.isSlow = false;
    sub.slowSinceMs = undefined;

    // 2. One message with what it gathered, and how much it missed.
    if (sub.pending.length === 0 && sub.skipped === 0) return;
    const body = sub.pending.join(',');
    const skipped = sub.skipped;
    sub.pending = [];
    sub.skipped = 0;
    sub.socket.send(`{"type":"records","records":[${body}],"skipped":${skipped}}`);
  }
}
