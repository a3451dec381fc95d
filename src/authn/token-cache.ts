/**
 * The verified-token cache: keeps signature checks off the pool for repeat tokens.
 *
 * Rules (threats.md, "Unsafe caching of auth results"):
 * - a hit needs the whole token to be equal, so a tampered token never shares an entry with the
 *   original: the map is keyed by the token's last `kKeyChars` characters (the end of its
 *   signature), and the entry keeps the whole token to compare. Hashing 600 characters on
 *   every request cost about as much as the rest of a hit; the tail hashes in a tenth of that,
 *   and the comparison is a memcmp. (Cerbos v0.53 keyed by the signature alone and let a token
 *   with an altered payload hit: threats.md. Here the payload must match too.) Two tokens with
 *   one tail just take turns in the entry;
 * - an entry records the issuer's key-set version; a different current version is a miss, and
 *   `flushIssuer` drops every entry of an issuer whose keys rotated;
 * - an entry lives no longer than the token's `exp` (and at most `kMaxTtlSec`);
 * - claim checks (exp, nbf, aud, ...) run on every request, hit or miss: the entry only saves
 *   the shape check, the signature check and building the principal;
 * - bounded in entries and in bytes; the oldest entries go first.
 */

import { LruMap } from '../structures/index.js';

/**
 * A verified token: what the worker returned, plus where and until when it is valid. `extra`
 * carries what the caller derived once from the same token (its header, its principal), so a
 * hit repeats none of that work.
 */
export interface CachedVerification<E = unknown> {
  readonly issuer: string;
  readonly version: number;
  readonly kid: string | undefined;
  readonly claims: Record<string, unknown>;
  readonly extra: E;
  /** Epoch seconds after which the entry is dropped. */
  readonly expiresAtSec: number;
}

/** Entries without `exp` (when an issuer allows that) are kept this long at most. */
const kMaxTtlSec = 300;
/**
 * Heap an entry holds beyond the token text, for the byte bound: its claims, principal, header
 * and bookkeeping. Measured: 10,000 entries for 633-character RS256 tokens with eight claims
 * retained 2,092 bytes each after a full GC (Node 20), so 633 + 1,536 errs a little high.
 */
const kEntryOverheadBytes = 1_536;

interface Slot<E> {
  /** The whole token: a lookup hits only when it is equal. */
  readonly token: string;
  readonly value: CachedVerification<E>;
  readonly bytes: number;
}

/** Characters of the token's end that key the map (see the file comment). */
const kKeyChars = 32;

function keyOf(token: string): string {
  return token.length <= kKeyChars ? token : token.slice(-kKeyChars);
}

/** Bounded map from token to its verification. Main thread only. */
export class VerifiedTokenCache<E = unknown> {
  readonly #maxEntries: number;
  readonly #maxBytes: number;
  readonly #slots = new LruMap<string, Slot<E>>();
  #bytes = 0;

  /** `maxEntries` 0 disables the cache (every lookup misses, nothing is stored). */
  constructor(maxEntries: number, maxBytes: number) {
    this.#maxEntries = maxEntries;
    this.#maxBytes = maxBytes;
  }

  /** Entries held now. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * The entry for `token`, whatever its version, if it has not expired at `nowSec`. The caller
   * must compare `version` with the issuer's current key-set version: another version is a miss.
   */
  peek(token: string, nowSec: number): CachedVerification<E> | undefined {
    const key = keyOf(token);
    const slot = this.#slots.get(key);
    if (slot === undefined || slot.token !== token) return undefined;
    if (slot.value.expiresAtSec <= nowSec) {
      this.#remove(key, slot);
      return undefined;
    }
    return slot.value;
  }

  /** Stores a fresh verification; `claims.exp` (if numeric) bounds its life. */
  set(token: string, issuer: string, version: number, kid: string | undefined,
    claims: Record<string, unknown>, extra: E, nowSec: number): void {
    if (this.#maxEntries === 0) return;
    const exp = typeof claims.exp === 'number' ? claims.exp : Infinity;
    const expiresAtSec = Math.min(exp, nowSec + kMaxTtlSec);
    if (expiresAtSec <= nowSec) return;
    const bytes = token.length + kEntryOverheadBytes;
    if (bytes > this.#maxBytes) return;

    const key = keyOf(token);
    const previous = this.#slots.get(key);
    if (previous !== undefined) this.#remove(key, previous);
    while (this.#slots.size >= this.#maxEntries || this.#bytes + bytes > this.#maxBytes) {
      const oldest = this.#slots.oldestKey();
      const slot = this.#slots.oldestValue();
      if (oldest === undefined || slot === undefined) break;
      this.#remove(oldest, slot);
    }
    this.#slots.set(key, { token, value: { issuer, version, kid, claims, extra, expiresAtSec },
      bytes });
    this.#bytes += bytes;
  }

  /** Drops every entry of `issuer` (its keys rotated). */
  flushIssuer(issuer: string): void {
    this.#slots.forEach((slot, key) => {
      if (slot.value.issuer === issuer) this.#remove(key, slot);
    });
  }

  #remove(key: string, slot: Slot<E>): void {
    this.#slots.delete(key);
    this.#bytes -= slot.bytes;
  }
}
