/**
 * The audit endpoints of the admin listener (reference: src/audit/README.md#admin-api). All but
 * the dashboard page need the admin token:
 *
 *   GET    /metrics                 Prometheus exposition
 *   GET    /sessions?subject=&...   the session table
 *   GET    /revocations             revocations in force, and the store's health
 *   POST   /revocations             revoke: {"kind","value","issuer"?,"expiresAtSec"?,"reason"?}
 *   DELETE /revocations?kind=&value=&issuer=   lift one
 *   POST   /feed/ticket             a one-time ticket (30 s) for a browser's WebSocket
 *   WS     /feed?service=&decision=&subject=&rule=   the live feed (token or ticket)
 *   GET    /dashboard               the dashboard page (static; it asks for the token)
 */
import { randomBytes } from 'node:crypto';
import type { HttpResponse, TemplatedApp } from 'uWebSockets.js';
import {
  type AuditStage, type FeedFilter, type FeedSocket, kRevocationKinds, mergeSessionViews,
  type MetricsJSON, parseFeedFilter, parseRevocation, type Revocation, type RevocationKind,
  type SessionFilter, type SessionIdKind, type SessionView,
} from '../audit/index.js';
import { kDashboardCSP, kDashboardPage } from '../audit/dashboard-page.js';
import { statusLine } from '../server/status-line.js';
import { admitAdmin, isAuthorized, readBody, sendJSON } from './admin-http.js';

/**
 * The other serving threads' share of what these endpoints show (src/threads/); absent when the
 * main thread serves alone.
 */
export interface ThreadAudit {
  /** Their session rows matching `filter`: every row (no limit), one list per thread. */
  sessions(filter: SessionFilter): Promise<SessionView[][]>;
  /** Their latest expiries of what a revocation would name (`SessionTable.latestExpirySec`). */
  latestExpirySec(kind: SessionIdKind, issuer: string | null, value: string):
    Promise<Array<number | undefined>>;
  /** Their metrics, to sum with the main thread's. */
  metrics(): Promise<MetricsJSON[]>;
  /** Resolves once every thread has applied every change made so far (a revocation). */
  sync(): Promise<void>;
}

/** What the audit endpoints need besides the stage. */
export interface AdminAudit {
  readonly stage: AuditStage;
  readonly threads?: ThreadAudit;
  /** Lifetime of a revocation whose credential's expiry is not known (config). */
  readonly defaultTtlSec: number;
  /** Most revocations held (config); more are refused with 507. */
  readonly maxRevocations: number;
}

const kTicketTtlMs = 30_000;
const kMaxTickets = 256;
const kMaxBodyBytes = 4_096;
/** Longest a revocation may be asked to last: one year. */
const kMaxRevocationSec = 31_536_000;

/** One-time tickets that let a browser open the feed WebSocket (it cannot send headers). */
class FeedTickets {
  readonly #tickets = new Map<string, number>();

  issue(now: number): string {
    for (const [t, expires] of this.#tickets) if (expires <= now) this.#tickets.delete(t);
    if (this.#tickets.size >= kMaxTickets) {
      this.#tickets.delete(this.#tickets.keys().next().value as string);
    }
    const ticket = randomBytes(24).toString('base64url');
    this.#tickets.set(ticket, now + kTicketTtlMs);
    return ticket;
  }

  /** Whether `ticket` is valid; it is used up either way. */
  redeem(ticket: string, now: number): boolean {
    const expires = this.#tickets.get(ticket);
    this.#tickets.delete(ticket);
    return expires !== undefined && expires > now;
  }
}

function queryValue(query: URLSearchParams, key: string): string | undefined {
  return query.get(key) ?? undefined;
}

/** The latest expiry any thread's table knows for what a revocation names. */
async function latestExpirySec(audit: AdminAudit, kind: SessionIdKind, issuer: string | null,
  value: string): Promise<number | undefined> {
  const mine = audit.stage.sessions.latestExpirySec(kind, issuer, value);
  const theirs = await audit.threads?.latestExpirySec(kind, issuer, value) ?? [];
  return [mine, ...theirs].reduce<number | undefined>((latest, exp) =>
    (exp !== undefined && (latest === undefined || exp > latest) ? exp : latest), undefined);
}

/** The revocation an admin asked for, or the reason it is not valid. */
async function revocationFrom(body: unknown, audit: AdminAudit, nowMs: number):
  Promise<Revocation | string> {
  if (typeof body !== 'object' || body === null) return 'expected a JSON object';
  const b = body as Record<string, unknown>;
  const nowSec = Math.floor(nowMs / 1000);
  if (b.expiresAtSec !== undefined && (typeof b.expiresAtSec !== 'number'
    || b.expiresAtSec <= nowSec || b.expiresAtSec > nowSec + kMaxRevocationSec)) {
    return 'expiresAtSec must be a time in the future, at most a year away';
  }
  const kind = b.kind as RevocationKind;
  const issuer = typeof b.issuer === 'string' ? b.issuer : null;
  const value = b.value;
  // Without a given expiry: the latest expiry seen of what it names, else the configured TTL.
  const seen = typeof value !== 'string' || !kRevocationKinds.includes(kind) ? undefined
    : await latestExpirySec(audit, kind, issuer, value);
  const fallback = kind === 'token' || kind === 'session' ? seen : undefined;
  const expiresAtSec = typeof b.expiresAtSec === 'number' ? b.expiresAtSec
    : fallback !== undefined && fallback > nowSec ? fallback : nowSec + audit.defaultTtlSec;
  const parsed = parseRevocation({ kind, value, issuer, expiresAtSec, revokedAtMs: nowMs,
    reason: typeof b.reason === 'string' && b.reason !== '' ? b.reason : null });
  if (parsed === undefined) {
    return `expected kind (one of ${kRevocationKinds.join(', ')}), value (1 to 1024 characters),`
      + ' optional issuer and reason (at most 200 characters)';
  }
  return parsed;
}

interface FeedUser {
  filter: FeedFilter;
}

/** Registers the audit endpoints on the admin `app`. */
export function registerAuditRoutes(app: TemplatedApp, audit: AdminAudit,
  adminToken: () => string | undefined): void {
  const { stage } = audit;
  const tickets = new FeedTickets();

  app.get('/metrics', (res, req) => {
    if (!admitAdmin(res, req.getHeader('authorization'), adminToken())) return;
    let isAborted = false;
    res.onAborted(() => { isAborted = true; });
    const others = audit.threads?.metrics() ?? Promise.resolve([]);
    void others.then((jsons) => stage.metrics.exposition(jsons)).then(({ text, contentType }) => {
      if (isAborted) return;
      res.cork(() => {
        res.writeStatus(statusLine(200));
        res.writeHeader('content-type', contentType);
        res.end(text);
      });
    });
  });

  app.get('/sessions', (res, req) => {
    if (!admitAdmin(res, req.getHeader('authorization'), adminToken())) return;
    const query = new URLSearchParams(req.getQuery() ?? '');
    const limit = Number(query.get('limit') ?? '100');
    const filter: SessionFilter = {
      subject: queryValue(query, 'subject'), issuer: queryValue(query, 'issuer'),
      clientId: queryValue(query, 'clientId'), sessionId: queryValue(query, 'sessionId'),
      tokenId: queryValue(query, 'tokenId'),
      limit: Number.isInteger(limit) && limit > 0 ? Math.min(limit, 1_000) : 100,
    };
    const threads = audit.threads;
    if (threads === undefined) return sendJSON(res, 200, { sessions: stage.sessions.list(filter) });
    let isAborted = false;
    res.onAborted(() => { isAborted = true; });
    void threads.sessions({ ...filter, limit: 0 }).then((theirs) => {
      const rows = mergeSessionViews([stage.sessions.list({ ...filter, limit: 0 }), ...theirs],
        filter.limit ?? 100);
      if (!isAborted) sendJSON(res, 200, { sessions: rows });
    });
  });

  app.get('/revocations', (res, req) => {
    if (!admitAdmin(res, req.getHeader('authorization'), adminToken())) return;
    sendJSON(res, 200, { store: stage.revocations.status(),
      revocations: stage.revocations.set.list() });
  });

  app.post('/revocations', (res, req) => {
    if (!admitAdmin(res, req.getHeader('authorization'), adminToken())) return;
    const state = { isAborted: false };
    void readBody(res, kMaxBodyBytes, state).then(async (body) => {
      if (body === undefined) return;
      let parsed: unknown;
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        return sendJSON(res, 400, { error: 'invalid_revocation', detail: 'expected JSON' });
      }
      const revocation = await revocationFrom(parsed, audit, Date.now());
      if (typeof revocation === 'string') {
        return sendJSON(res, 400, { error: 'invalid_revocation', detail: revocation });
      }
      if (stage.revocations.set.size >= audit.maxRevocations) {
        return sendJSON(res, 507, { error: 'revocation_limit' });
      }
      const { isShared } = await stage.revocations.revoke(revocation);
      // Every serving thread holds it before the answer: the next request is refused anywhere.
      await audit.threads?.sync();
      if (!state.isAborted) sendJSON(res, isShared ? 201 : 202, { revocation, isShared });
    });
  });

  app.del('/revocations', (res, req) => {
    if (!admitAdmin(res, req.getHeader('authorization'), adminToken())) return;
    const query = new URLSearchParams(req.getQuery() ?? '');
    const probe = parseRevocation({ kind: query.get('kind'), value: query.get('value'),
      issuer: query.get('issuer'), expiresAtSec: 0, revokedAtMs: 0, reason: null });
    if (probe === undefined) return sendJSON(res, 400, { error: 'invalid_revocation' });
    let isAborted = false;
    res.onAborted(() => { isAborted = true; });
    void stage.revocations.unrevoke(probe.kind, probe.issuer, probe.value).then(async (result) => {
      await audit.threads?.sync();
      if (!isAborted) sendJSON(res, 200, result);
    });
  });

  app.post('/feed/ticket', (res, req) => {
    if (!admitAdmin(res, req.getHeader('authorization'), adminToken())) return;
    sendJSON(res, 200, { ticket: tickets.issue(Date.now()), expiresInSec: kTicketTtlMs / 1000 });
  });

  app.get('/dashboard', (res) => {
    res.cork(() => {
      res.writeStatus(statusLine(200));
      res.writeHeader('content-type', 'text/html; charset=utf-8');
      res.writeHeader('cache-control', 'no-store');
      res.writeHeader('content-security-policy', kDashboardCSP);
      res.writeHeader('x-content-type-options', 'nosniff');
      res.end(kDashboardPage);
    });
  });

  app.ws<FeedUser>('/feed', {
    maxPayloadLength: 4_096,
    idleTimeout: 120,
    sendPingsAutomatically: true,
    // uWS drops sends beyond this; the feed skips well before it (audit.feed.maxBufferedBytes).
    maxBackpressure: 64 * 1024 * 1024,
    upgrade: (res: HttpResponse, req, context) => {
      const query = new URLSearchParams(req.getQuery() ?? '');
      const ticket = query.get('ticket');
      const isAllowed = isAuthorized(req.getHeader('authorization'), adminToken())
        || (ticket !== null && adminToken() !== undefined && tickets.redeem(ticket, Date.now()));
      if (!isAllowed) return sendJSON(res, 401, { error: 'unauthorized' });
      if (stage.feed.isFull) return sendJSON(res, 503, { error: 'too_many_subscribers' });
      const filter = parseFeedFilter((key) => query.get(key) ?? undefined);
      res.upgrade<FeedUser>({ filter }, req.getHeader('sec-websocket-key'),
        req.getHeader('sec-websocket-protocol'), req.getHeader('sec-websocket-extensions'),
        context);
    },
    open: (ws) => stage.feed.add(ws as unknown as FeedSocket, ws.getUserData().filter),
    message: (ws, message) => {
      // {"filter":{...}} replaces the subscriber's filter; anything else is ignored.
      try {
        const parsed = JSON.parse(Buffer.from(message).toString('utf8')) as { filter?: unknown };
        const raw = parsed.filter;
        if (typeof raw !== 'object' || raw === null) return;
        const map = raw as Record<string, unknown>;
        stage.feed.setFilter(ws as unknown as FeedSocket, parseFeedFilter((key) =>
          typeof map[key] === 'string' ? map[key] as string : undefined));
      } catch {
        // Not JSON: ignored.
      }
    },
    close: (ws) => stage.feed.remove(ws as unknown as FeedSocket),
  });
}
