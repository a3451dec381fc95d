/**
 * Where batches of record lines go. The audit queue (audit-queue.ts) calls `write` with one
 * batch at a time and never calls it again before the previous call settled, so a sink needs no
 * locking of its own; rotation happens between two writes and loses nothing.
 */

/** A destination for record lines. */
export interface AuditSink {
  /**
   * Writes `data` (complete UTF-8 lines, each ending in '\n') in full, or rejects with the
   * reason it could not; the queue then retries the same bytes. Never called concurrently.
   * `data` belongs to the queue and is reused once the promise settles: copy it to keep it.
   */
  write(data: Buffer): Promise<void>;
  /** Flushes what the sink holds and releases it; called once, after the last write settled. */
  close(): Promise<void>;
}

/** A sink that keeps nothing (`audit.sink: none`): the queue, metrics and feed still run. */
export class DiscardSink implements AuditSink {
  write(_data: Buffer): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
