/**
 * Browser sessions shared through Redis, for several instances (`revocation.store: redis`):
 * a session made on one instance works on every other, and logout on any ends it everywhere.
 *
 * Layout: one string key per session, `<prefix>session:<SHA-256(id), base64url>` (a dump of
 * Redis holds no usable cookie), whose value is the session as JSON and whose expiry is the
 * idle timeout, capped by the absolute end; and one pub/sub channel, `<prefix>sessions`, that
 * carries the digest of every session ended.
 *
 * Each instance keeps the sessions it serves in a bounded local cache (MemorySessionStore), so
 * a request is answered without I/O:
 * 1. a cached session is confirmed with Redis at most every `confirmEveryMs` (PEXPIRE, which
 *    also restarts its idle clock there), after the answer; a key that is gone (ended, or idle
 *    on every instance) leaves the cache;
 * 2. a session not confirmed for `kMaxUnconfirmedMs` (Redis unreachable) is not trusted: the
 *    request waits for Redis, and is refused when it cannot be reached (fail closed);
 * 3. a miss asks Redis (GET), and a session found there is cached and confirmed;
 * 4. an ended session is deleted and published; every instance drops it from its cache at once,
 *    and a cache whose subscription reconnected (messages may be lost) is emptied.
 */
import { createHash } from 'node:crypto';
import { createClient } from '@redis/client';
import type { CertificateIdentity, Principal } from '../authn/index.js';
import type { Logger } from '../telemetry/index.js';
import {
  isSessionOver, MemorySessionStore, type Session, type SessionStore,
} from './session-store.js';

/** Options of `RedisSessionStore`. */
export interface RedisSessionStoreOptions {
  readonly url: string;
  readonly password: string | undefined;
  readonly keyPrefix: string;
  readonly connectTimeoutMs: number;
  readonly maxEntries: number;
  readonly idleTimeoutMs: number;
  readonly logger: Logger;
}

type Client = ReturnType<typeof createClient>;

/** Longest a cached session is served without Redis having confirmed it. */
export const kMaxUnconfirmedMs = 30_000;
/** Longest between two confirmations of a session in use. */
const kConfirmEveryMs = 5_000;

/** Sessions in Redis, cached per instance. */
export class RedisSessionStore implements SessionStore {
  readonly kind = 'redis';
  readonly #opts: RedisSessionStoreOptions;
  readonly #cache: MemorySessionStore;
  /** For each cached session, by id: when Redis last confirmed it (ms), and its key digest. */
  readonly #confirmed = new Map<string, { atMs: number; readonly digest: string }>();
  /** Cached session ids by key digest, for the ends published by other instances. */
  readonly #idsByDigest = new Map<string, string>();
  readonly #confirmEveryMs: number;
  readonly #client: Client;
  readonly #subscriber: Client;
  readonly #channel: string;
  #isStarted = false;

  constructor(opts: RedisSessionStoreOptions) {
    this.#opts = opts;
    this.#cache = new MemorySessionStore(opts.maxEntries, opts.idleTimeoutMs,
      (id) => this.#untrack(id));
    this.#confirmEveryMs = Math.min(kConfirmEveryMs, Math.max(1, opts.idleTimeoutMs / 4));
    this.#channel = `${opts.keyPrefix}sessions`;
    this.#client = createClient({
      url: opts.url,
      ...(opts.password === undefined ? {} : { password: opts.password }),
      socket: { connectTimeout: opts.connectTimeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000) },
      disableOfflineQueue: true,
    });
    this.#subscriber = this.#client.duplicate();
    const clients = [['client', this.#client], ['subscriber', this.#subscriber]] as const;
    for (const [name, client] of clients) {
      client.on('error', (err: unknown) => {
        opts.logger.warnRateLimited(`sessions-redis-${name}`, 10_000,
          'session store: Redis connection failing', { error: (err as Error).message });
      });
    }
    // A resubscribed channel may have missed ends: nothing cached is trusted any more.
    this.#subscriber.on('ready', () => {
      if (this.#isStarted) this.#forgetAll();
    });
  }

  get size(): number {
    return this.#cache.size;
  }

  async start(): Promise<void> {
    const timeout = new Promise<never>((_resolve, reject) => {
      setTimeout(() => reject(new Error('Redis connect timeout')), this.#opts.connectTimeoutMs)
        .unref();
    });
    await Promise.race([Promise.all([this.#client.connect(), this.#subscriber.connect()]),
      timeout]);
    await this.#subscriber.subscribe(this.#channel, (digest: string) => this.#forgetDigest(digest));
    await this.#cache.start();
    this.#isStarted = true;
  }

  find(id: string, nowMs: number): Session | undefined | Promise<Session | undefined> {
    const cached = this.#cache.find(id, nowMs);
    const confirmedMs = this.#confirmed.get(id)?.atMs ?? 0;
    if (cached !== undefined && nowMs - confirmedMs < kMaxUnconfirmedMs) {
      if (nowMs - confirmedMs >= this.#confirmEveryMs) void this.#confirm(cached, nowMs);
      return cached;
    }
    return this.#load(id, nowMs);
  }

  async save(session: Session): Promise<void> {
    const ttlMs = this.#ttlMs(session, session.createdAtMs);
    await this.#client.set(this.#key(session.id), JSON.stringify(toStored(session)),
      { PX: ttlMs });
    this.#track(session, Date.now());
  }

  async remove(id: string): Promise<void> {
    this.#cache.forget(id);
    this.#untrack(id);
    const digest = digestOf(id);
    await this.#client.multi().del(`${this.#opts.keyPrefix}session:${digest}`)
      .publish(this.#channel, digest).exec();
  }

  async stop(): Promise<void> {
    this.#isStarted = false;
    await this.#cache.stop();
    this.#confirmed.clear();
    this.#idsByDigest.clear();
    await Promise.allSettled([this.#subscriber.close(), this.#client.close()]);
  }

  /** Redis's copy of session `id`, cached when live; rejects when Redis cannot be asked. */
  async #load(id: string, nowMs: number): Promise<Session | undefined> {
    const text = await this.#client.get(this.#key(id));
    const session = text === null ? undefined : fromStored(id, text, nowMs);
    if (session === undefined || isSessionOver(session, nowMs, this.#opts.idleTimeoutMs)) {
      this.#cache.forget(id);
      this.#untrack(id);
      return undefined;
    }
    // The GET found it: it is confirmed now; this use restarts its idle clock in Redis after.
    this.#track(session, nowMs);
    void this.#confirm(session, nowMs);
    return session;
  }

  /** Caches `session` as confirmed at `atMs`. */
  #track(session: Session, atMs: number): void {
    this.#cache.put(session);
    const digest = digestOf(session.id);
    this.#confirmed.set(session.id, { atMs, digest });
    this.#idsByDigest.set(digest, session.id);
  }

  /** Forgets what was kept about cached session `id` (it left the cache). */
  #untrack(id: string): void {
    const held = this.#confirmed.get(id);
    if (held === undefined) return;
    this.#confirmed.delete(id);
    this.#idsByDigest.delete(held.digest);
  }

  /** Restarts the session's idle clock in Redis; a key that is gone leaves the cache. */
  async #confirm(session: Session, nowMs: number): Promise<void> {
    try {
      const isLive = await this.#client.pExpire(this.#key(session.id),
        this.#ttlMs(session, nowMs));
      const held = this.#confirmed.get(session.id);
      if (isLive === 1) {
        if (held !== undefined) held.atMs = nowMs;
        return;
      }
      this.#cache.forget(session.id);
      this.#untrack(session.id);
    } catch {
      // Unreachable: the session stays cached until kMaxUnconfirmedMs, then requests wait.
    }
  }

  #ttlMs(session: Session, nowMs: number): number {
    return Math.max(1, Math.min(this.#opts.idleTimeoutMs, session.expiresAtMs - nowMs));
  }

  #key(id: string): string {
    return `${this.#opts.keyPrefix}session:${digestOf(id)}`;
  }

  #forgetDigest(digest: string): void {
    const id = this.#idsByDigest.get(digest);
    if (id === undefined) return;
    this.#cache.forget(id);
    this.#untrack(id);
  }

  #forgetAll(): void {
    this.#cache.clear();
    this.#confirmed.clear();
    this.#idsByDigest.clear();
  }
}

function digestOf(id: string): string {
  return createHash('sha256').update(id).digest('base64url');
}

/** The stored form: the session without its id (the key is its digest). */
function toStored(s: Session): Record<string, unknown> {
  return { handle: s.handle, createdAtMs: s.createdAtMs, expiresAtMs: s.expiresAtMs,
    principal: s.principal };
}

/** A session read back from Redis, checked field by field; undefined when malformed. */
function fromStored(id: string, text: string, nowMs: number): Session | undefined {
  let v: Record<string, unknown>;
  try {
    v = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return undefined;
  }
  const p = v.principal as Record<string, unknown> | undefined;
  const strings = (x: unknown): x is string[] =>
    Array.isArray(x) && x.every((e) => typeof e === 'string');
  const optional = (x: unknown): string | undefined => (typeof x === 'string' ? x : undefined);
  if (typeof v.handle !== 'string' || typeof v.createdAtMs !== 'number'
    || typeof v.expiresAtMs !== 'number' || typeof p !== 'object' || p === null
    || p.kind !== 'session' || !strings(p.scopes) || !strings(p.groups)
    || typeof p.attributes !== 'object' || p.attributes === null) {
    return undefined;
  }
  const attributes: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const [name, value] of Object.entries(p.attributes as Record<string, unknown>)) {
    if (typeof value === 'string') attributes[name] = value;
  }
  const principal: Principal = Object.freeze({
    kind: 'session', subject: optional(p.subject), issuer: optional(p.issuer),
    clientId: optional(p.clientId), scopes: Object.freeze([...p.scopes]),
    groups: Object.freeze([...p.groups]), attributes: Object.freeze(attributes),
    sessionId: optional(p.sessionId), tokenId: optional(p.tokenId),
    expiresAtSec: typeof p.expiresAtSec === 'number' ? p.expiresAtSec : undefined,
    keyId: optional(p.keyId), certificate: undefined as CertificateIdentity | undefined,
  });
  return { id, handle: v.handle, principal, createdAtMs: v.createdAtMs,
    expiresAtMs: v.expiresAtMs, lastSeenMs: nowMs };
}
