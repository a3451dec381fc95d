/**
 * A serving thread's audit sink: each batch of record lines goes to the main thread, which
 * writes it to the one configured sink in turn with its own batches; the write counts as done
 * when the main thread's sink accepted it, so the thread's queue keeps its bounds and retries
 * (a full disk stalls every thread's queue, as it stalls the main thread's).
 */
import type { AuditSink } from '../audit/index.js';
import type { Channel } from './channel.js';
import type { ThreadRequest } from './protocol.js';

/** Sends batches over the channel. */
export class PortSink implements AuditSink {
  readonly #channel: Channel;

  constructor(channel: Channel) {
    this.#channel = channel;
  }

  /** `data` is the queue's chunk: copied into a buffer of its own, which is transferred. */
  async write(data: Buffer): Promise<void> {
    const bytes = new Uint8Array(data.length);
    bytes.set(data);
    const request: ThreadRequest = { kind: 'audit', bytes };
    await this.#channel.request(request, [bytes.buffer]);
  }

  /** The main thread closes the real sink, after every thread's last batch. */
  close(): Promise<void> {
    return Promise.resolve();
  }
}
