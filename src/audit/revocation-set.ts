/**
 * The revocations in force, as the request path reads them: one Map per kind (subject, session
 * id, token id, client id), keyed by issuer and value. `match` is the per-request check: with
 * nothing revoked it is one comparison; otherwise at most two Map lookups per kind the
 * principal has a value for. No I/O: the stores (revocation-store*.ts) keep this set current.
 *
 * A revocation without an issuer matches that value from every issuer. It is in force until
 * `expiresAtSec`, the time the revoked credentials would have expired anyway; expired entries
 * are dropped lazily and by `sweep`.
 */
import type { Principal } from '../authn/index.js';

/** What a revocation names. */
export type RevocationKind = 'subject' | 'session' | 'token' | 'client';

export const kRevocationKinds: readonly RevocationKind[] = ['subject', 'session', 'token', 'client'];

/** One revocation. Plain data: it crosses Redis as JSON. */
export interface Revocation {
  readonly kind: RevocationKind;
  /** The subject (`sub`), session id (`sid`), token id (`jti`) or client id. */
  readonly value: string;
  /** Only credentials from this issuer; null for every issuer. */
  readonly issuer: string | null;
  /** In force until then (seconds since the epoch). */
  readonly expiresAtSec: number;
  /** When it was made (ms since the epoch). */
  readonly revokedAtMs: number;
  /** Free text from the operator, at most 200 characters. */
  readonly reason: string | null;
}

function keyOf(issuer: string | null, value: string): string {
  return `${issuer ?? ''}\n${value}`;
}

/** The identity of a revocation: kind, issuer and value (two with the same identity merge). */
export function revocationId(r: Pick<Revocation, 'kind' | 'issuer' | 'value'>): string {
  return `${r.kind}\n${keyOf(r.issuer, r.value)}`;
}

function valueOf(p: Principal, kind: RevocationKind): string | undefined {
  switch (kind) {
    case 'subject': return p.subject;
    case 'session': return p.sessionId;
    case 'token': return p.tokenId;
    case 'client': return p.clientId;
  }
}

/**
 * A change an operator or the shared store made, as replicas (serving threads) replay it.
 * Expiry is not a change: every copy drops expired entries by itself.
 */
export type RevocationChange =
  | { readonly op: 'add'; readonly revocation: Revocation }
  | { readonly op: 'remove'; readonly kind: RevocationKind; readonly issuer: string | null;
    readonly value: string }
  | { readonly op: 'replace'; readonly all: readonly Revocation[] };

/** Revocations by kind; the hot path calls `match`. */
export class RevocationSet {
  readonly #maps = new Map<RevocationKind, Map<string, Revocation>>(
    kRevocationKinds.map((k) => [k, new Map<string, Revocation>()]));
  #size = 0;
  #listener: ((change: RevocationChange) => void) | undefined;

  /** Tells `listener` of every later add, remove and replace (one listener: the thread hub). */
  onChange(listener: (change: RevocationChange) => void): void {
    this.#listener = listener;
  }

  /** Applies a change made on another copy of the set. */
  apply(change: RevocationChange): void {
    if (change.op === 'add') this.add(change.revocation);
    else if (change.op === 'remove') this.remove(change.kind, change.issuer, change.value);
    else this.replace(change.all);
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Adds `r`, or extends a revocation with the same identity to the later expiry. Returns
   * whether anything changed. An already expired revocation is ignored.
   */
  add(r: Revocation, nowSec = Date.now() / 1000): boolean {
    if (r.expiresAtSec <= nowSec) return false;
    const map = this.#maps.get(r.kind) as Map<string, Revocation>;
    const key = keyOf(r.issuer, r.value);
    const held = map.get(key);
    if (held !== undefined && held.expiresAtSec >= r.expiresAtSec) return false;
    if (held === undefined) this.#size++;
    map.set(key, r);
    this.#listener?.({ op: 'add', revocation: r });
    return true;
  }

  /** Removes the revocation with this identity; returns whether there was one. */
  remove(kind: RevocationKind, issuer: string | null, value: string): boolean {
    const isRemoved = this.#delete(kind, issuer, value);
    if (isRemoved) this.#listener?.({ op: 'remove', kind, issuer, value });
    return isRemoved;
  }

  /** Replaces the whole content (a resync from the shared store). */
  replace(all: Iterable<Revocation>, nowSec = Date.now() / 1000): void {
    const listener = this.#listener;
    this.#listener = undefined;
    for (const map of this.#maps.values()) map.clear();
    this.#size = 0;
    for (const r of all) this.add(r, nowSec);
    this.#listener = listener;
    listener?.({ op: 'replace', all: [...this.#maps.values()].flatMap((m) => [...m.values()]) });
  }

  #delete(kind: RevocationKind, issuer: string | null, value: string): boolean {
    const isRemoved = (this.#maps.get(kind) as Map<string, Revocation>)
      .delete(keyOf(issuer, value));
    if (isRemoved) this.#size--;
    return isRemoved;
  }

  /** The revocation that applies to `p` now, if any. */
  match(p: Principal, nowSec?: number): Revocation | undefined {
    if (this.#size === 0) return undefined;
    const now = nowSec ?? Date.now() / 1000;
    for (const [kind, map] of this.#maps) {
      if (map.size === 0) continue;
      const value = valueOf(p, kind);
      if (value === undefined) continue;
      const hit = (p.issuer === undefined ? undefined : map.get(keyOf(p.issuer, value)))
        ?? map.get(keyOf(null, value));
      if (hit === undefined) continue;
      if (hit.expiresAtSec > now) return hit;
      this.#delete(hit.kind, hit.issuer, hit.value);
    }
    return undefined;
  }

  /** Every revocation in force, oldest first. */
  list(nowSec = Date.now() / 1000): Revocation[] {
    this.sweep(nowSec);
    return [...this.#maps.values()].flatMap((m) => [...m.values()])
      .sort((a, b) => a.revokedAtMs - b.revokedAtMs);
  }

  /** Drops every expired revocation. */
  sweep(nowSec = Date.now() / 1000): void {
    for (const map of this.#maps.values()) {
      for (const [key, r] of map) {
        if (r.expiresAtSec <= nowSec) {
          map.delete(key);
          this.#size--;
        }
      }
    }
  }
}

/** Parses a revocation that came from outside (Redis, the admin API); undefined if invalid. */
export function parseRevocation(value: unknown): Revocation | undefined {
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  const kind = v.kind;
  if (typeof kind !== 'string' || !kRevocationKinds.includes(kind as RevocationKind)) {
    return undefined;
  }
  const isText = (x: unknown, max: number): x is string =>
    typeof x === 'string' && x.length > 0 && x.length <= max;
  if (!isText(v.value, 1024)) return undefined;
  if (v.issuer !== null && !isText(v.issuer, 1024)) return undefined;
  if (v.reason !== null && !isText(v.reason, 200)) return undefined;
  if (typeof v.expiresAtSec !== 'number' || !Number.isFinite(v.expiresAtSec)) return undefined;
  if (typeof v.revokedAtMs !== 'number' || !Number.isFinite(v.revokedAtMs)) return undefined;
  return Object.freeze({ kind: kind as RevocationKind, value: v.value, issuer: v.issuer,
    expiresAtSec: v.expiresAtSec, revokedAtMs: v.revokedAtMs, reason: v.reason });
}
