/**
 * Revocations shared through Redis, for several instances.
 *
 * Layout: one sorted set `<prefix>revocations`, each member a revocation as JSON, scored by its
 * `expiresAtSec`, so `ZREMRANGEBYSCORE -inf <now>` expires them with the tokens they name; and
 * one pub/sub channel of the same name carrying every change as it happens.
 *
 * 1. start: connect both clients, SUBSCRIBE first, then load the set (so nothing published in
 *    between is missed). A restarted instance therefore denies what was revoked while it was
 *    down before it serves anything. Unreachable at start: `start` rejects and the proxy does
 *    not start (fail closed).
 * 2. revoke: apply locally, then ZADD + PUBLISH in one MULTI. If Redis refuses, the revocation
 *    stays in force here and is written again at the next sync.
 * 3. receive: a published change is applied to the local set at once.
 * 4. resync: after every reconnect of the subscriber (messages may have been missed) and every
 *    `resyncIntervalMs`, the local set is replaced by Redis's content plus what is unshared;
 *    changes that arrive during the load are replayed on top.
 */
import { createClient } from '@redis/client';
import type { Logger } from '../telemetry/index.js';
import {
  parseRevocation, type Revocation, type RevocationKind, RevocationSet, revocationId,
} from './revocation-set.js';
import type { RevocationStore, RevocationStoreStatus } from './revocation-store.js';

/** Options of `RedisRevocationStore`. */
export interface RedisRevocationStoreOptions {
  /** `redis://[user@]host:port[/db]`; the password comes separately (a secret). */
  readonly url: string;
  readonly password: string | undefined;
  /** Prefix of the key and channel names. */
  readonly keyPrefix: string;
  readonly connectTimeoutMs: number;
  readonly resyncIntervalMs: number;
  readonly logger: Logger;
}

type Client = ReturnType<typeof createClient>;

/** A change as published on the channel. */
type Change =
  | { readonly op: 'add'; readonly revocation: Revocation }
  | { readonly op: 'remove'; readonly kind: RevocationKind; readonly issuer: string | null;
    readonly value: string };

function parseChange(text: string): Change | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  const v = value as Record<string, unknown> | null;
  if (v?.op === 'add') {
    const revocation = parseRevocation(v.revocation);
    return revocation === undefined ? undefined : { op: 'add', revocation };
  }
  if (v?.op !== 'remove') return undefined;
  const probe = parseRevocation({ ...v, expiresAtSec: 0, revokedAtMs: 0, reason: null });
  return probe === undefined ? undefined
    : { op: 'remove', kind: probe.kind, issuer: probe.issuer, value: probe.value };
}

/** The member text of a revocation: JSON with a fixed key order. */
function memberOf(r: Revocation): string {
  return JSON.stringify({ kind: r.kind, value: r.value, issuer: r.issuer,
    expiresAtSec: r.expiresAtSec, revokedAtMs: r.revokedAtMs, reason: r.reason });
}

/** Revocations in Redis, mirrored in memory. */
export class RedisRevocationStore implements RevocationStore {
  readonly set = new RevocationSet();
  readonly #opts: RedisRevocationStoreOptions;
  readonly #key: string;
  readonly #client: Client;
  readonly #subscriber: Client;
  readonly #unshared = new Map<string, Revocation>();
  #timer: NodeJS.Timeout | undefined;
  #lastSyncMs: number | undefined;
  #isStarted = false;
  #syncing: Promise<void> | undefined;
  /** Changes received while a sync is loading, replayed after it replaces the set. */
  #duringSync: Change[] | undefined;

  constructor(opts: RedisRevocationStoreOptions) {
    this.#opts = opts;
    this.#key = `${opts.keyPrefix}revocations`;
    this.#client = createClient({
      url: opts.url,
      ...(opts.password === undefined ? {} : { password: opts.password }),
      socket: {
        connectTimeout: opts.connectTimeoutMs,
        reconnectStrategy: (retries: number) => Math.min(50 * 2 ** retries, 2_000),
      },
      disableOfflineQueue: true,
    });
    this.#subscriber = this.#client.duplicate();
    for (const [name, client] of [['client', this.#client], ['subscriber', this.#subscriber]] as const) {
      client.on('error', (err: unknown) => {
        opts.logger.warnRateLimited(`revocations-redis-${name}`, 10_000,
          'revocation store: Redis connection failing', { error: (err as Error).message });
      });
    }
    // A reconnected subscriber may have missed messages, and a reconnected client can write
    // what is unshared: either way, sync everything again.
    for (const client of [this.#client, this.#subscriber]) {
      client.on('ready', () => {
        if (this.#isStarted) void this.#sync().catch(() => undefined);
      });
    }
  }

  async start(): Promise<void> {
    const timeout = new Promise<never>((_resolve, reject) => {
      setTimeout(() => reject(new Error('Redis connect timeout')), this.#opts.connectTimeoutMs)
        .unref();
    });
    await Promise.race([Promise.all([this.#client.connect(), this.#subscriber.connect()]),
      timeout]);
    await this.#subscriber.subscribe(this.#key, (message: string) => this.#receive(message));
    await this.#sync();
    this.#isStarted = true;
    this.#timer = setInterval(() => void this.#sync().catch(() => undefined),
      this.#opts.resyncIntervalMs);
    this.#timer.unref();
  }

  async revoke(r: Revocation): Promise<{ readonly isShared: boolean }> {
    this.set.add(r);
    try {
      await this.#share(r);
      return { isShared: true };
    } catch {
      this.#unshared.set(revocationId(r), r);
      return { isShared: false };
    }
  }

  async unrevoke(kind: RevocationKind, issuer: string | null, value: string):
    Promise<{ readonly isRemoved: boolean; readonly isShared: boolean }> {
    const isRemoved = this.set.remove(kind, issuer, value);
    const id = revocationId({ kind, issuer, value });
    this.#unshared.delete(id);
    try {
      const members = await this.#client.zRangeByScore(this.#key, '-inf', '+inf');
      const mine = members.filter((m) => {
        const r = parseRevocation(safeJSON(m));
        return r !== undefined && revocationId(r) === id;
      });
      const change: Change = { op: 'remove', kind, issuer, value };
      const multi = this.#client.multi();
      if (mine.length > 0) multi.zRem(this.#key, mine);
      await multi.publish(this.#key, JSON.stringify(change)).exec();
      return { isRemoved, isShared: true };
    } catch {
      return { isRemoved, isShared: false };
    }
  }

  status(): RevocationStoreStatus {
    return {
      store: 'redis',
      isConnected: this.#client.isReady && this.#subscriber.isReady,
      lastSync: this.#lastSyncMs === undefined ? null : new Date(this.#lastSyncMs).toISOString(),
      unshared: this.#unshared.size,
    };
  }

  async stop(): Promise<void> {
    this.#isStarted = false;
    clearInterval(this.#timer);
    await Promise.allSettled([this.#subscriber.close(), this.#client.close()]);
  }

  async #share(r: Revocation): Promise<void> {
    const change: Change = { op: 'add', revocation: r };
    await this.#client.multi()
      .zAdd(this.#key, { score: r.expiresAtSec, value: memberOf(r) })
      .publish(this.#key, JSON.stringify(change))
      .exec();
  }

  #receive(message: string): void {
    const change = parseChange(message);
    if (change === undefined) return;
    this.#duringSync?.push(change);
    this.#apply(change);
  }

  #apply(change: Change): void {
    if (change.op === 'add') this.set.add(change.revocation);
    else this.set.remove(change.kind, change.issuer, change.value);
  }

  /** One sync at a time; a sync asked for while one runs joins it. */
  #sync(): Promise<void> {
    this.#syncing ??= this.#syncOnce().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #syncOnce(): Promise<void> {
    // 1. Share what Redis has not accepted yet; keep what still fails.
    for (const [id, r] of this.#unshared) {
      await this.#share(r);
      this.#unshared.delete(id);
    }

    // 2. Expire, then load what is in force, noting changes that arrive meanwhile.
    this.#duringSync = [];
    try {
      const nowSec = Date.now() / 1000;
      await this.#client.zRemRangeByScore(this.#key, '-inf', nowSec);
      const members = await this.#client.zRangeByScore(this.#key, `(${nowSec}`, '+inf');
      const loaded = members.map((m) => parseRevocation(safeJSON(m)))
        .filter((r): r is Revocation => r !== undefined);

      // 3. Replace, then replay the changes that raced with the load.
      this.set.replace([...loaded, ...this.#unshared.values()]);
      for (const change of this.#duringSync) this.#apply(change);
      this.#lastSyncMs = Date.now();
    } finally {
      this.#duringSync = undefined;
    }
  }
}

function safeJSON(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
