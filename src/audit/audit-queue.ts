/**
 * The bounded queue between the request path and the sink.
 *
 * `push` formats the record at once into a byte chunk (256 KiB, reused), so the record object
 * itself dies young instead of surviving into the old generation while it waits; nothing else
 * happens on the request path. A chunk is sealed when it holds `batchMaxRecords` records, is
 * full, or has waited `flushIntervalMs`, and sealed chunks are written at once (next turn of
 * the event loop), one write in flight at a time; so a write carries a whole chunk under load
 * and a lone record waits at most the interval. A failed write keeps its chunk and is
 * retried with a growing pause (up to 1 s), so a full disk stalls the queue instead of losing
 * records. The queue holds at most `maxRecords` records, the chunk being written included;
 * past that a push is refused and counted as dropped. In `shed` mode the request path stops
 * admitting new requests earlier, at 90% counting the records of requests in flight
 * (`isSheddingWith`), so requests already admitted always find room; only records of refusals
 * can be dropped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditRecord } from './record.js';
import type { AuditSink } from './sink.js';

/** What happens when the queue is full: refuse new requests (`shed`) or drop records (`drop`). */
export type OverloadMode = 'shed' | 'drop';

/** Options of `AuditQueue`. */
export interface AuditQueueOptions {
  readonly sink: AuditSink;
  /** Turns a record into its line (newline included), in ASCII only (see `#append`). */
  readonly format: (record: AuditRecord) => string;
  /** Most records held, the batch being written included. At least 1. */
  readonly maxRecords: number;
  /** Most records in one write. */
  readonly batchMaxRecords: number;
  /** Longest a record waits before its batch is written, in ms. */
  readonly flushIntervalMs: number;
  readonly overload: OverloadMode;
  /** Called (rate-limit it yourself) when a write fails; the batch is retried. */
  readonly onWriteError?: (err: unknown) => void;
}

/** Counters of the queue, for metrics and the admin API. */
export interface AuditQueueStats {
  /** Records waiting or being written. */
  readonly depth: number;
  readonly written: number;
  readonly dropped: number;
  readonly writeErrors: number;
}

const kMaxRetryPauseMs = 1_000;

/** Bytes per chunk; a longer line gets a chunk of its own size. */
const kChunkBytes = 256 * 1024;
/** Spare chunks kept for reuse. */
const kSpareChunks = 4;

interface Chunk {
  buf: Buffer;
  bytes: number;
  records: number;
}

/** A bounded, batching queue in front of one sink. */
export class AuditQueue {
  readonly #opts: AuditQueueOptions;
  readonly #shedAt: number;
  #current: Chunk | undefined;
  readonly #sealed: Chunk[] = [];
  readonly #spare: Chunk[] = [];
  #depth = 0;
  #isWriting = false;
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;
  #idleWaiters: Array<() => void> = [];
  #isClosed = false;
  #isAbandoned = false;
  #isFlushing = false;
  #written = 0;
  #dropped = 0;
  #writeErrors = 0;

  constructor(opts: AuditQueueOptions) {
    if (!(opts.maxRecords >= 1 && opts.batchMaxRecords >= 1)) {
      throw new RangeError('AuditQueue needs maxRecords and batchMaxRecords of at least 1');
    }
    this.#opts = opts;
    this.#shedAt = Math.max(1, Math.floor(opts.maxRecords * 0.9));
  }

  /** Records waiting or being written. */
  get depth(): number {
    return this.#depth;
  }

  /**
   * In `shed` mode: whether a new request must be refused now, given `inFlight` admitted
   * requests whose records are still to come: true when those records and the queue together
   * reach 90% of `maxRecords`. Admitted requests therefore always find room for their record;
   * the last 10% is for the records of refusals.
   */
  isSheddingWith(inFlight: number): boolean {
    return this.#opts.overload === 'shed' && this.#depth + inFlight >= this.#shedAt;
  }

  get stats(): AuditQueueStats {
    return { depth: this.#depth, written: this.#written, dropped: this.#dropped,
      writeErrors: this.#writeErrors };
  }

  /** Formats and queues `record`; false (and a drop counted) when the queue is full or closed. */
  push(record: AuditRecord): boolean {
    if (this.#isClosed || this.#depth >= this.#opts.maxRecords) {
      this.#dropped++;
      return false;
    }
    this.#append(this.#opts.format(record));
    this.#depth++;
    const current = this.#current as Chunk;
    if (++current.records >= this.#opts.batchMaxRecords) this.#seal();
    if (this.#isWriting) return true;
    if (this.#sealed.length > 0) {
      this.#immediate ??= setImmediate(() => {
        this.#immediate = undefined;
        void this.#drain();
      });
    } else {
      this.#armTimer();
    }
    return true;
  }

  /** Resolves once every record pushed so far has been written. */
  flush(): Promise<void> {
    if (this.#depth === 0 && !this.#isWriting) return Promise.resolve();
    const idle = new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    this.#isFlushing = true;
    void this.#drain();
    return idle;
  }

  /**
   * The chunk being filled waits at most `flushIntervalMs`: only the timer (or a flush) seals
   * a part-filled chunk, so under load every write carries a full chunk rather than the few
   * records that arrived during the previous write.
   */
  #armTimer(): void {
    if (this.#timer !== undefined || this.#isClosed) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#seal();
      void this.#drain();
    }, this.#opts.flushIntervalMs);
    this.#timer.unref();
  }

  /**
   * Refuses further pushes, writes what is queued, closes the sink. Resolves with the number of
   * records that could not be written before `timeoutMs` (0 when nothing was lost).
   */
  async close(timeoutMs: number): Promise<number> {
    this.#isClosed = true;
    clearTimeout(this.#timer);
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<'late'>((resolve) => {
      timer = setTimeout(() => resolve('late'), timeoutMs);
    });
    const result = await Promise.race([this.flush().then(() => 'done' as const), deadline]);
    clearTimeout(timer);
    const lost = result === 'done' ? 0 : this.#depth;
    this.#isAbandoned = result !== 'done';
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    if (this.#isAbandoned) for (const wake of waiters) wake();
    await this.#opts.sink.close().catch(() => undefined);
    return lost;
  }

  /**
   * Appends `line` to the current chunk, sealing it first when the line does not fit. Lines
   * are ASCII (record-line.ts), so latin1 copies them byte for byte, with no UTF-8 encoding;
   * any other text would be written wrongly, so `format` must keep to ASCII.
   */
  #append(line: string): void {
    let chunk = this.#current;
    if (chunk === undefined || line.length > chunk.buf.length - chunk.bytes) {
      if (chunk !== undefined && chunk.records > 0) this.#seal();
      chunk = this.#freshChunk(line.length);
      this.#current = chunk;
    }
    chunk.bytes += chunk.buf.write(line, chunk.bytes, 'latin1');
  }

  #freshChunk(atLeast: number): Chunk {
    if (atLeast <= kChunkBytes) {
      const spare = this.#spare.pop();
      if (spare !== undefined) return spare;
    }
    return { buf: Buffer.allocUnsafeSlow(Math.max(kChunkBytes, atLeast)), bytes: 0, records: 0 };
  }

  #seal(): void {
    const chunk = this.#current;
    if (chunk === undefined || chunk.records === 0) return;
    this.#sealed.push(chunk);
    this.#current = undefined;
  }

  async #drain(): Promise<void> {
    if (this.#isWriting) return;
    this.#isWriting = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    let pauseMs = 10;
    while (!this.#isAbandoned) {
      // 1. The oldest sealed chunk; the one being filled only when a flush asks for it.
      if (this.#sealed.length === 0 && this.#isFlushing) this.#seal();
      const chunk = this.#sealed[0];
      if (chunk === undefined) break;

      // 2. Write it; on failure keep it, pause, try again (give up only when closed and late).
      try {
        await this.#opts.sink.write(chunk.buf.subarray(0, chunk.bytes));
        this.#sealed.shift();
        this.#written += chunk.records;
        this.#depth -= chunk.records;
        this.#recycle(chunk);
        pauseMs = 10;
      } catch (err) {
        this.#writeErrors++;
        this.#opts.onWriteError?.(err);
        await sleep(pauseMs);
        pauseMs = Math.min(pauseMs * 2, kMaxRetryPauseMs);
      }
    }
    this.#isWriting = false;
    if (this.#depth > 0 && !this.#isAbandoned) {
      this.#armTimer();
      return;
    }
    this.#isFlushing = false;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const wake of waiters) wake();
  }

  #recycle(chunk: Chunk): void {
    if (chunk.buf.length !== kChunkBytes || this.#spare.length >= kSpareChunks) return;
    chunk.bytes = 0;
    chunk.records = 0;
    this.#spare.push(chunk);
  }
}
