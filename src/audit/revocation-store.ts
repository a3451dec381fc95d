/**
 * Where revocations live. The request path only ever reads the store's `RevocationSet` (memory,
 * no I/O); the admin API writes through the store, which applies a revocation locally at once
 * and then shares it. `MemoryRevocationStore` is the single-instance store; with several
 * instances, `RedisRevocationStore` (revocation-store-redis.ts) shares through Redis.
 */
import { type Revocation, type RevocationKind, RevocationSet } from './revocation-set.js';

/** Health of a store, for readiness and the admin API. */
export interface RevocationStoreStatus {
  readonly store: 'memory' | 'redis';
  /** Whether the shared store is reachable (always true in memory). */
  readonly isConnected: boolean;
  /** Last full load from the shared store (ISO time), if any. */
  readonly lastSync: string | null;
  /** Revocations made here that the shared store has not accepted yet. */
  readonly unshared: number;
}

/** The common interface of the stores. */
export interface RevocationStore {
  /** The revocations in force; read by the request path. */
  readonly set: RevocationSet;
  /** Loads what is shared and starts listening; rejects when the shared store is unreachable. */
  start(): Promise<void>;
  /**
   * Applies `r` here at once, then shares it. `isShared` false means only this instance knows
   * so far; the store keeps trying.
   */
  revoke(r: Revocation): Promise<{ readonly isShared: boolean }>;
  /** Lifts a revocation everywhere; `isRemoved` tells whether this instance had it. */
  unrevoke(kind: RevocationKind, issuer: string | null, value: string):
    Promise<{ readonly isRemoved: boolean; readonly isShared: boolean }>;
  status(): RevocationStoreStatus;
  stop(): Promise<void>;
}

/** Sweep interval of expired revocations. */
export const kSweepIntervalMs = 60_000;

/** Revocations in this process only: right for one instance. */
export class MemoryRevocationStore implements RevocationStore {
  readonly set = new RevocationSet();
  #timer: NodeJS.Timeout | undefined;

  start(): Promise<void> {
    this.#timer = setInterval(() => this.set.sweep(), kSweepIntervalMs);
    this.#timer.unref();
    return Promise.resolve();
  }

  revoke(r: Revocation): Promise<{ readonly isShared: boolean }> {
    this.set.add(r);
    return Promise.resolve({ isShared: true });
  }

  unrevoke(kind: RevocationKind, issuer: string | null, value: string):
    Promise<{ readonly isRemoved: boolean; readonly isShared: boolean }> {
    return Promise.resolve({ isRemoved: this.set.remove(kind, issuer, value), isShared: true });
  }

  status(): RevocationStoreStatus {
    return { store: 'memory', isConnected: true, lastSync: null, unshared: 0 };
  }

  stop(): Promise<void> {
    clearInterval(this.#timer);
    return Promise.resolve();
  }
}
