/**
 * Browser sessions on the server side: the session cookie holds only a random id, and the
 * principal it stands for lives here. A session ends at the first of: its idle timeout (no
 * request for `idleTimeoutMs`), its absolute timeout (`expiresAtMs`, set at login), logout, or
 * a revocation of its subject, session or token id (checked on every request, proxy-handler).
 *
 * `MemorySessionStore` is the single-instance store: bounded (`maxEntries`; the least recently
 * used session goes first when a new one needs room), swept every minute. With several
 * instances, `RedisSessionStore` (session-store-redis.ts) shares sessions through Redis.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Principal } from '../authn/index.js';
import { LruMap } from '../structures/index.js';

/** One browser session. `id` is the cookie value, a bearer credential: never log or show it. */
export interface Session {
  readonly id: string;
  /** A public name for the session (principal `tokenId`): the first 128 bits of SHA-256(id). */
  readonly handle: string;
  readonly principal: Principal;
  readonly createdAtMs: number;
  /** The absolute end, ms since the epoch. */
  readonly expiresAtMs: number;
  /** The last request that used it, ms since the epoch (the idle clock). */
  lastSeenMs: number;
}

/** Where sessions live. */
export interface SessionStore {
  readonly kind: 'memory' | 'redis';
  /** Sessions held here (for Redis: in this instance's cache). */
  readonly size: number;
  start(): Promise<void>;
  /**
   * The live session `id` at `nowMs`, its idle clock restarted; undefined when unknown, idle
   * or expired. Synchronous when answered from memory. Rejects only when a shared store cannot
   * be asked (the request is then refused, IAM_LOGIN_SESSION_STORE_UNAVAILABLE).
   */
  find(id: string, nowMs: number): Session | undefined | Promise<Session | undefined>;
  /** Stores a new session; resolves once it can be found (everywhere, with Redis). */
  save(session: Session): Promise<void>;
  /** Ends session `id` (everywhere, with Redis). */
  remove(id: string): Promise<void>;
  stop(): Promise<void>;
}

/** Session ids: 32 random bytes, base64url (43 characters). */
const kIdPattern = /^[A-Za-z0-9_-]{43}$/;

/** A new session id. */
export function newSessionId(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether a cookie value can be a session id at all (checked before any lookup). */
export function isSessionId(value: string): boolean {
  return kIdPattern.test(value);
}

/** The public handle of session `id` (see `Session.handle`). */
export function sessionHandle(id: string): string {
  return createHash('sha256').update(id).digest().subarray(0, 16).toString('base64url');
}

/** Whether `session` is over at `nowMs` (absolute or idle timeout). */
export function isSessionOver(session: Session, nowMs: number, idleTimeoutMs: number): boolean {
  return nowMs >= session.expiresAtMs || nowMs - session.lastSeenMs >= idleTimeoutMs;
}

/** How often expired sessions are swept, and how stale the LRU order may get. */
const kSweepIntervalMs = 60_000;
const kReorderAfterMs = 1_000;

/** Sessions in this process. */
export class MemorySessionStore implements SessionStore {
  readonly kind = 'memory';
  readonly #sessions = new LruMap<string, Session>();
  readonly #maxEntries: number;
  readonly #idleTimeoutMs: number;
  readonly #onDrop: ((id: string) => void) | undefined;
  #timer: NodeJS.Timeout | undefined;

  /**
   * `onDrop` is told of every session the store drops on its own (over, or evicted for room);
   * not of `remove`, `forget` or `clear`, which its caller asked for.
   */
  constructor(maxEntries: number, idleTimeoutMs: number, onDrop?: (id: string) => void) {
    this.#maxEntries = maxEntries;
    this.#idleTimeoutMs = idleTimeoutMs;
    this.#onDrop = onDrop;
  }

  get size(): number {
    return this.#sessions.size;
  }

  start(): Promise<void> {
    this.#timer = setInterval(() => this.sweep(Date.now()), kSweepIntervalMs);
    this.#timer.unref();
    return Promise.resolve();
  }

  find(id: string, nowMs: number): Session | undefined {
    const session = this.#sessions.get(id);
    if (session === undefined) return undefined;
    if (isSessionOver(session, nowMs, this.#idleTimeoutMs)) {
      this.#sessions.delete(id);
      this.#onDrop?.(id);
      return undefined;
    }
    // The map's order is the LRU order; a session used again within a second keeps its place.
    if (nowMs - session.lastSeenMs > kReorderAfterMs) this.#sessions.touch(id);
    session.lastSeenMs = nowMs;
    return session;
  }

  /** Stores `session` (never fails); the least recently used session makes room when full. */
  save(session: Session): Promise<void> {
    this.put(session);
    return Promise.resolve();
  }

  /** `save`, synchronously: also what the Redis store's local cache uses. */
  put(session: Session): void {
    this.#sessions.delete(session.id);
    while (this.#sessions.size >= this.#maxEntries) {
      const oldest = this.#sessions.oldestKey();
      if (oldest === undefined) break;
      this.#sessions.delete(oldest);
      this.#onDrop?.(oldest);
    }
    this.#sessions.set(session.id, session);
  }

  remove(id: string): Promise<void> {
    this.#sessions.delete(id);
    return Promise.resolve();
  }

  /** Drops the session `id` from memory only (a change another instance made). */
  forget(id: string): void {
    this.#sessions.delete(id);
  }

  /** Drops every session from memory only (the Redis cache after a reconnect). */
  clear(): void {
    this.#sessions.clear();
  }

  /** Drops every session over at `nowMs`. */
  sweep(nowMs: number): void {
    this.#sessions.forEach((session, id) => {
      if (!isSessionOver(session, nowMs, this.#idleTimeoutMs)) return;
      this.#sessions.delete(id);
      this.#onDrop?.(id);
    });
  }

  stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#sessions.clear();
    return Promise.resolve();
  }
}
