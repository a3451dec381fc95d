/**
 * The file sink: appends batches to one file and rotates it by size and by age.
 *
 * Rotation, between two writes (the queue never overlaps them): close the file, rename it to
 * `<path>.<UTC time>` (a `-N` suffix if that name exists), open a fresh `<path>`, then delete
 * the oldest rotated files beyond `maxFiles`. A batch that would push the file past
 * `maxFileBytes` is split at a line end, the rest going to the fresh file, so a file only
 * exceeds the limit when one line alone does. Every write goes through libuv's thread pool:
 * nothing here blocks the event loop.
 */
import { type FileHandle, open, readdir, rename, stat, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { AuditSink } from './sink.js';

/** Options of `FileSink`. */
export interface FileSinkOptions {
  /** Absolute path of the live file; rotated files sit beside it. */
  readonly path: string;
  /** Rotate before a write would take the file past this size; 0 never rotates by size. */
  readonly maxFileBytes: number;
  /** Rotate a file this many ms after it was opened; 0 never rotates by age. */
  readonly maxFileAgeMs: number;
  /** Rotated files kept (oldest deleted first); 0 keeps them all. */
  readonly maxFiles: number;
  /** Clock, injectable for tests. */
  readonly nowMs?: () => number;
}

/** `YYYYMMDDTHHMMSSmmmZ`: sorts by time, valid in every file system. */
function stamp(ms: number): string {
  return new Date(ms).toISOString().replaceAll(/[-:.]/g, '');
}

const kRotatedSuffix = /^\.\d{8}T\d{9}Z(-\d+)?$/;

/** Appends to a file, rotating by size and age. Create with `FileSink.open`. */
export class FileSink implements AuditSink {
  readonly #opts: FileSinkOptions;
  readonly #nowMs: () => number;
  #handle: FileHandle;
  #bytes: number;
  #openedMs: number;
  #rotations = 0;

  private constructor(opts: FileSinkOptions, handle: FileHandle, bytes: number) {
    this.#opts = opts;
    this.#nowMs = opts.nowMs ?? Date.now;
    this.#handle = handle;
    this.#bytes = bytes;
    this.#openedMs = this.#nowMs();
  }

  /** Opens (creating, mode 0600) or appends to `opts.path`. Rejects when it cannot. */
  static async open(opts: FileSinkOptions): Promise<FileSink> {
    const handle = await open(opts.path, 'a', 0o600);
    const { size } = await handle.stat();
    return new FileSink(opts, handle, size);
  }

  /** Files rotated so far by this sink. */
  get rotations(): number {
    return this.#rotations;
  }

  async write(data: Buffer): Promise<void> {
    let start = 0;
    while (start < data.length) {
      if (this.#isAgeDue()) await this.#rotate();
      const end = this.#fitEnd(data, start);
      if (end === start) {
        await this.#rotate();
        continue;
      }
      await this.#writeAll(data.subarray(start, end));
      start = end;
    }
  }

  /**
   * End of the complete lines from `start` that fit in the live file: all of them when they
   * fit; else as many as fit; in an empty file at least one (a line longer than a file gets a
   * file of its own); `start` itself when nothing fits (rotate first).
   */
  #fitEnd(data: Buffer, start: number): number {
    const max = this.#opts.maxFileBytes;
    const room = max - this.#bytes;
    if (max === 0 || data.length - start <= room) return data.length;
    const cut = room > 0 ? data.lastIndexOf(0x0a, start + room - 1) + 1 : 0;
    if (cut > start) return cut;
    if (this.#bytes > 0) return start;
    const newline = data.indexOf(0x0a, start);
    return newline < 0 ? data.length : newline + 1;
  }

  async #writeAll(data: Buffer): Promise<void> {
    let offset = 0;
    while (offset < data.length) {
      const { bytesWritten } = await this.#handle.write(data, offset);
      offset += bytesWritten;
      this.#bytes += bytesWritten;
    }
  }

  async close(): Promise<void> {
    await this.#handle.sync().catch(() => undefined);
    await this.#handle.close();
  }

  #isAgeDue(): boolean {
    const age = this.#opts.maxFileAgeMs;
    return this.#bytes > 0 && age > 0 && this.#nowMs() - this.#openedMs >= age;
  }

  async #rotate(): Promise<void> {
    // 1. Close the live file, then give it its rotated name.
    await this.#handle.close();
    const target = await this.#freeName(`${this.#opts.path}.${stamp(this.#nowMs())}`);
    await rename(this.#opts.path, target);

    // 2. A fresh live file; a failure here leaves the queue retrying on the next write.
    this.#handle = await open(this.#opts.path, 'a', 0o600);
    this.#bytes = 0;
    this.#openedMs = this.#nowMs();
    this.#rotations++;

    // 3. Retention: the oldest rotated files beyond maxFiles go.
    if (this.#opts.maxFiles > 0) await this.#prune();
  }

  async #freeName(base: string): Promise<string> {
    for (let n = 0; ; n++) {
      const name = n === 0 ? base : `${base}-${n}`;
      const exists = await stat(name).then(() => true, () => false);
      if (!exists) return name;
    }
  }

  async #prune(): Promise<void> {
    const dir = dirname(this.#opts.path);
    const prefix = basename(this.#opts.path);
    const rotated = (await readdir(dir))
      .filter((n) => n.startsWith(prefix) && kRotatedSuffix.test(n.slice(prefix.length)))
      .sort();
    const excess = rotated.length - this.#opts.maxFiles;
    for (let i = 0; i < excess; i++) await unlink(join(dir, rotated[i] as string)).catch(() => {});
  }
}
