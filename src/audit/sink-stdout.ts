/**
 * The stdout sink, for containers: batches go to file descriptor 1 through libuv's thread pool
 * (`fs.write`), not through `process.stdout`, whose writes to a pipe are synchronous on Linux and
 * would stall the event loop whenever the reader falls behind.
 */
import { write } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import type { AuditSink } from './sink.js';

function writeSome(fd: number, data: Buffer, offset: number): Promise<number> {
  return new Promise((resolve, reject) => {
    write(fd, data, offset, data.length - offset, null, (err, bytes) => {
      if (err === null) resolve(bytes);
      else reject(err);
    });
  });
}

/** Writes batches to a file descriptor (1 by default), in full, retrying while it is full. */
export class StdoutSink implements AuditSink {
  readonly #fd: number;

  /** `fd` stays open: the sink does not own it. */
  constructor(fd = 1) {
    this.#fd = fd;
  }

  async write(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      try {
        offset += await writeSome(this.#fd, data, offset);
      } catch (err) {
        // A non-blocking pipe that is full: wait for the reader instead of failing the batch.
        if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
        await sleep(5);
      }
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
