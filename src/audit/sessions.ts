/**
 * The session table: who is calling right now. One entry per credential session, keyed by the
 * principal's `sid` when it has one, else its `jti`, else issuer + subject + client id, holding
 * the ids, the source addresses seen (at most `kMaxAddresses`), first and last time seen, and
 * request and deny counts. Fed by every record that carries a principal.
 *
 * Bounded: at most `maxEntries`; the least recently seen entry goes first, and entries idle for
 * `idleTimeoutMs` or past their token's expiry are swept. Per serving thread: the admin API
 * merges the threads' rows (`mergeSessionViews`); with several instances each has its own
 * tables (the admin API of each shows what it served).
 */
import type { Principal } from '../authn/index.js';
import { LruMap } from '../structures/index.js';
import type { AuditRecord } from './record.js';

/** Most source addresses kept per entry (the first ones seen). */
export const kMaxAddresses = 8;

/** One row of the table, as the admin API shows it. */
export interface SessionView {
  readonly key: string;
  readonly kind: string;
  readonly subject: string | null;
  readonly issuer: string | null;
  readonly clientId: string | null;
  readonly sessionId: string | null;
  readonly tokenId: string | null;
  readonly addresses: readonly string[];
  readonly firstSeen: string;
  readonly lastSeen: string;
  readonly requests: number;
  readonly denies: number;
  /** When the credential expires (ISO time), if known. */
  readonly expiresAt: string | null;
}

/** What `list` can filter on (exact matches); `limit` caps the rows (newest first). */
export interface SessionFilter {
  readonly subject?: string;
  readonly issuer?: string;
  readonly clientId?: string;
  readonly sessionId?: string;
  readonly tokenId?: string;
  readonly limit?: number;
}

interface Entry {
  readonly key: string;
  readonly principal: Principal;
  readonly addresses: string[];
  readonly firstSeenMs: number;
  lastSeenMs: number;
  requests: number;
  denies: number;
  isEvicted: boolean;
}

/** Which principal field a revocation names (the kinds of `RevocationKind`). */
export type SessionIdKind = 'subject' | 'session' | 'token' | 'client';

function idOf(p: Principal, kind: SessionIdKind): string | undefined {
  return kind === 'subject' ? p.subject : kind === 'session' ? p.sessionId
    : kind === 'token' ? p.tokenId : p.clientId;
}

/**
 * One list from several tables (the serving threads'), as if one table had seen every record:
 * rows with the same key are summed (requests, denies), their addresses joined (at most
 * `kMaxAddresses`) and their first and last sightings widened; most recently seen first, at
 * most `limit` rows.
 */
export function mergeSessionViews(lists: readonly (readonly SessionView[])[], limit: number):
  SessionView[] {
  const byKey = new Map<string, SessionView>();
  for (const row of lists.flat()) {
    const held = byKey.get(row.key);
    if (held === undefined) {
      byKey.set(row.key, row);
      continue;
    }
    byKey.set(row.key, {
      ...held,
      addresses: [...new Set([...held.addresses, ...row.addresses])].slice(0, kMaxAddresses),
      firstSeen: row.firstSeen < held.firstSeen ? row.firstSeen : held.firstSeen,
      lastSeen: row.lastSeen > held.lastSeen ? row.lastSeen : held.lastSeen,
      requests: held.requests + row.requests,
      denies: held.denies + row.denies,
    });
  }
  return [...byKey.values()].sort((a, b) => (a.lastSeen < b.lastSeen ? 1 : -1)).slice(0, limit);
}

/** The key of a principal's session (see the file comment). */
export function sessionKey(p: Principal): string {
  const issuer = p.issuer ?? '';
  if (p.sessionId !== undefined) return `sid:${issuer}\n${p.sessionId}`;
  if (p.tokenId !== undefined) return `jti:${issuer}\n${p.tokenId}`;
  return `sub:${issuer}\n${p.subject ?? ''}\n${p.clientId ?? ''}`;
}

/** Options of `SessionTable`. */
export interface SessionTableOptions {
  readonly maxEntries: number;
  readonly idleTimeoutMs: number;
  readonly nowMs?: () => number;
}

/** The table. `observe` runs per request; the rest is for the admin API. */
export class SessionTable {
  readonly #opts: SessionTableOptions;
  readonly #nowMs: () => number;
  readonly #entries = new LruMap<string, Entry>();
  // Principals are shared per token: this finds a token's entry without building its key.
  #byPrincipal = new WeakMap<Principal, Entry>();

  constructor(opts: SessionTableOptions) {
    this.#opts = opts;
    this.#nowMs = opts.nowMs ?? Date.now;
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Counts `record` against its principal's session; records without a principal are skipped. */
  observe(record: AuditRecord): void {
    const p = record.principal;
    if (p === undefined || p.kind === 'anonymous' || this.#opts.maxEntries === 0) return;
    const now = this.#nowMs();
    let entry = this.#byPrincipal.get(p);
    if (entry === undefined || entry.isEvicted) {
      entry = this.#entryFor(p, now);
      this.#byPrincipal.set(p, entry);
    }
    entry.requests++;
    if (record.decision === 'deny') entry.denies++;
    const addresses = entry.addresses;
    if (addresses.length < kMaxAddresses && !addresses.includes(record.sourceAddress)) {
      addresses.push(record.sourceAddress);
    }
    // Keep the table in least-recently-seen order, refreshing at most once a second per entry.
    if (now - entry.lastSeenMs >= 1_000) this.#entries.touch(entry.key);
    entry.lastSeenMs = now;
  }

  /** Rows matching `filter`, most recently seen first (`limit` 0: every matching row). */
  list(filter: SessionFilter = {}): SessionView[] {
    this.sweep();
    const out: SessionView[] = [];
    const limit = filter.limit === 0 ? Infinity : filter.limit ?? 1_000;
    const entries = this.#entries.values().sort((a, b) => b.lastSeenMs - a.lastSeenMs);
    for (const e of entries) {
      if (out.length >= limit) break;
      const p = e.principal;
      if (filter.subject !== undefined && p.subject !== filter.subject) continue;
      if (filter.issuer !== undefined && p.issuer !== filter.issuer) continue;
      if (filter.clientId !== undefined && p.clientId !== filter.clientId) continue;
      if (filter.sessionId !== undefined && p.sessionId !== filter.sessionId) continue;
      if (filter.tokenId !== undefined && p.tokenId !== filter.tokenId) continue;
      out.push(view(e));
    }
    return out;
  }

  /**
   * Latest expiry (seconds) of the credentials a revocation of `kind` would name (`issuer` null:
   * any issuer), for revocations made without one; undefined when none is in the table.
   */
  latestExpirySec(kind: SessionIdKind, issuer: string | null, value: string): number | undefined {
    let latest: number | undefined;
    this.#entries.forEach((e) => {
      const p = e.principal;
      const exp = p.expiresAtSec;
      if (exp === undefined || (issuer !== null && p.issuer !== issuer)) return;
      if (idOf(p, kind) === value && (latest === undefined || exp > latest)) latest = exp;
    });
    return latest;
  }

  /** Removes entries idle past `idleTimeoutMs` or whose credential has expired. */
  sweep(): void {
    const now = this.#nowMs();
    this.#entries.forEach((e) => {
      const exp = e.principal.expiresAtSec;
      const isExpired = exp !== undefined && exp * 1000 <= now;
      if (isExpired || now - e.lastSeenMs >= this.#opts.idleTimeoutMs) this.#evict(e);
    });
  }

  #entryFor(p: Principal, now: number): Entry {
    const key = sessionKey(p);
    const existing = this.#entries.get(key);
    if (existing !== undefined) return existing;
    const oldest = this.#entries.oldestValue();
    if (this.#entries.size >= this.#opts.maxEntries && oldest !== undefined) this.#evict(oldest);
    const entry: Entry = { key, principal: p, addresses: [], firstSeenMs: now, lastSeenMs: now,
      requests: 0, denies: 0, isEvicted: false };
    this.#entries.set(key, entry);
    return entry;
  }

  #evict(e: Entry): void {
    e.isEvicted = true;
    this.#entries.delete(e.key);
  }
}

function view(e: Entry): SessionView {
  const p = e.principal;
  return {
    key: e.key, kind: p.kind, subject: p.subject ?? null, issuer: p.issuer ?? null,
    clientId: p.clientId ?? null, sessionId: p.sessionId ?? null, tokenId: p.tokenId ?? null,
    addresses: [...e.addresses], firstSeen: new Date(e.firstSeenMs).toISOString(),
    lastSeen: new Date(e.lastSeenMs).toISOString(), requests: e.requests, denies: e.denies,
    expiresAt: p.expiresAtSec === undefined ? null : new Date(p.expiresAtSec * 1000).toISOString(),
  };
}
