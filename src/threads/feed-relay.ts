/**
 * A serving thread's share of the live feed. The feed's subscribers are on the main thread (the
 * admin listener); while it has any, it says so, and each record is formatted here (once) and
 * sent with the fields the filters read, in one note per tick. At most `maxPerTick` records go
 * per tick; the rest are counted as skipped there. Without subscribers, `offer` costs one test.
 */
import { type AuditRecord, feedFields, type FeedItem, type RecordFeed } from '../audit/index.js';
import type { Channel } from './channel.js';
import type { ThreadNote } from './protocol.js';

/** Relays records to the main thread's feed while someone listens there. */
export class FeedRelay implements RecordFeed {
  readonly #channel: Channel;
  readonly #format: (record: AuditRecord) => string;
  readonly #maxPerTick: number;
  readonly #tickMs: number;
  #isOn = false;
  #items: FeedItem[] = [];
  #skipped = 0;
  #timer: NodeJS.Timeout | undefined;

  /** `format`: the record as JSON without the newline, redaction applied. */
  constructor(channel: Channel, format: (record: AuditRecord) => string, maxPerTick: number,
    tickMs: number) {
    this.#channel = channel;
    this.#format = format;
    this.#maxPerTick = maxPerTick;
    this.#tickMs = tickMs;
  }

  /** Whether the main thread's feed has subscribers (its note). */
  setOn(isOn: boolean): void {
    this.#isOn = isOn;
    if (isOn && this.#timer === undefined) {
      this.#timer = setInterval(() => this.#send(), this.#tickMs);
      this.#timer.unref();
    } else if (!isOn) {
      this.close();
    }
  }

  offer(record: AuditRecord): void {
    if (!this.#isOn) return;
    if (this.#items.length >= this.#maxPerTick) {
      this.#skipped++;
      return;
    }
    this.#items.push({ line: this.#format(record), ...feedFields(record) });
  }

  close(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#items = [];
    this.#skipped = 0;
  }

  #send(): void {
    if (this.#items.length === 0 && this.#skipped === 0) return;
    const note: ThreadNote = { kind: 'feed-items', items: this.#items, skipped: this.#skipped };
    this.#items = [];
    this.#skipped = 0;
    this.#channel.note(note);
  }
}
