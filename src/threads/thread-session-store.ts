/**
 * A serving thread's view of the browser sessions, which live in the main thread's store
 * (memory, or Redis with several instances). A thread keeps a copy of each session it served and
 * answers from it for up to `kConfirmEveryMs`, then asks the main thread again (which restarts
 * the session's idle clock there); idle and absolute timeouts are checked on the copy too. A
 * session ended anywhere (logout on another thread) is forgotten by a note before the ending
 * completes. A main thread that does not answer refuses the request (503), never lets it in.
 */
import {
  isSessionOver, type Session, type SessionStore,
} from '../login/index.js';
import { LruMap } from '../structures/index.js';
import type { Channel } from './channel.js';
import type { SessionFindAnswer, ThreadRequest } from './protocol.js';

/** How long a copy answers before the main thread is asked again. */
export const kConfirmEveryMs = 2_000;

interface Copy {
  readonly session: Session;
  confirmedMs: number;
}

/** Sessions asked of the main thread, with copies. */
export class ThreadSessionStore implements SessionStore {
  readonly kind: SessionStore['kind'];
  readonly #channel: Channel;
  readonly #maxEntries: number;
  readonly #idleTimeoutMs: number;
  readonly #copies = new LruMap<string, Copy>();

  constructor(channel: Channel, kind: SessionStore['kind'], maxEntries: number,
    idleTimeoutMs: number) {
    this.#channel = channel;
    this.kind = kind;
    this.#maxEntries = maxEntries;
    this.#idleTimeoutMs = idleTimeoutMs;
  }

  get size(): number {
    return this.#copies.size;
  }

  start(): Promise<void> {
    return Promise.resolve();
  }

  find(id: string, nowMs: number): Session | undefined | Promise<Session | undefined> {
    // 1. A fresh copy answers at once (the copy keeps its object: caches keyed by the
    // principal stay warm).
    const copy = this.#copies.get(id);
    if (copy !== undefined && isSessionOver(copy.session, nowMs, this.#idleTimeoutMs)) {
      this.#copies.delete(id);
    } else if (copy !== undefined && nowMs - copy.confirmedMs < kConfirmEveryMs) {
      copy.session.lastSeenMs = nowMs;
      this.#copies.touch(id);
      return copy.session;
    }

    // 2. Otherwise the main thread's store decides.
    const request: ThreadRequest = { kind: 'session-find', id, nowMs };
    return this.#channel.request<SessionFindAnswer>(request).then((found) => {
      if (found === undefined) {
        this.#copies.delete(id);
        return undefined;
      }
      const held = this.#copies.get(id);
      if (held !== undefined && held.session.handle === found.handle) {
        held.session.lastSeenMs = found.lastSeenMs;
        held.confirmedMs = nowMs;
        return held.session;
      }
      this.#keep(found, nowMs);
      return found;
    });
  }

  async save(session: Session): Promise<void> {
    const request: ThreadRequest = { kind: 'session-save', session };
    await this.#channel.request(request);
    this.#keep(session, Date.now());
  }

  async remove(id: string): Promise<void> {
    this.#copies.delete(id);
    const request: ThreadRequest = { kind: 'session-remove', id };
    await this.#channel.request(request);
  }

  /** Drops the copy of `id` (the main thread's note: the session ended elsewhere). */
  forget(id: string): void {
    this.#copies.delete(id);
  }

  stop(): Promise<void> {
    this.#copies.clear();
    return Promise.resolve();
  }

  #keep(session: Session, nowMs: number): void {
    this.#copies.set(session.id, { session, confirmedMs: nowMs });
    const oldest = this.#copies.oldestKey();
    if (this.#copies.size > this.#maxEntries && oldest !== undefined) this.#copies.delete(oldest);
  }
}
