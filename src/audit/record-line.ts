/**
 * Writes a decision record as one line of JSON, applying the redaction rules.
 *
 * Hand-built rather than `JSON.stringify`: the field order is fixed (the schema in
 * src/audit/README.md), and strings that need no escaping, which is nearly all of them, are
 * copied as they are. Lines are pure ASCII (see `jsonString`). This runs for every request, off the response path but on the same
 * thread, so it is kept to string concatenation.
 */
import type { Principal } from '../authn/index.js';
import { errorSpec } from '../errors/index.js';
import type { AuditRecord } from './record.js';

/** The text that replaces a redacted value. */
export const kRedactedValue = '[redacted]';

/**
 * What a record may show about the principal. `claims`: attribute names (principal
 * `attributes`, i.e. scalar token claims) copied into `principal.claims`; none by default, so a
 * record never carries a claim set. `redact`: claim names whose values are replaced by
 * `[redacted]` wherever they appear: `sub`, `iss`, `client_id`, `sid`, `jti`, `kid` name the
 * principal's fields, any other name an entry of `claims`.
 */
export interface RedactionRules {
  readonly claims: readonly string[];
  readonly redact: ReadonlySet<string>;
}

/** No claims copied, nothing redacted. */
export const kNoRedaction: RedactionRules = Object.freeze({
  claims: Object.freeze([]) as readonly string[],
  redact: new Set<string>(),
});

// Printable ASCII without `"` and `\`: such a string is its own JSON form.
const kPlain = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
const kNonAscii = /[\u007f-\uffff]/g;

function unicodeEscape(c: string): string {
  return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
}

/**
 * A JSON string literal for `text`, in ASCII only: anything outside printable ASCII is
 * escaped (`\uXXXX`, surrogate pairs as two), so every record line is pure ASCII and its
 * byte length is its length (the queue writes it as latin1, without UTF-8 encoding).
 */
export function jsonString(text: string): string {
  return kPlain.test(text) ? `"${text}"` : JSON.stringify(text).replace(kNonAscii, unicodeEscape);
}

function optString(text: string | null | undefined): string {
  return text === null || text === undefined ? 'null' : jsonString(text);
}

/** A string known to need no escaping, or null. */
function safeOrNull(text: string | null): string {
  return text === null ? 'null' : `"${text}"`;
}

function shown(name: string, value: string | undefined, rules: RedactionRules): string {
  if (value === undefined) return 'null';
  return rules.redact.has(name) ? `"${kRedactedValue}"` : jsonString(value);
}

let lastSecond = -1;
let secondPrefix = '';

/** ISO time of `ms`: the part up to the second is computed once per second. */
function isoTime(ms: number): string {
  const second = Math.floor(ms / 1000);
  if (second !== lastSecond) {
    lastSecond = second;
    secondPrefix = new Date(second * 1000).toISOString().slice(0, 20);
  }
  const milli = ms - second * 1000;
  return `${secondPrefix}${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`;
}

function principalJSON(p: Principal, rules: RedactionRules): string {
  let out = `{"kind":"${p.kind}","subject":${shown('sub', p.subject, rules)}`
    + `,"issuer":${shown('iss', p.issuer, rules)},"clientId":${shown('client_id', p.clientId, rules)}`
    + `,"sessionId":${shown('sid', p.sessionId, rules)},"tokenId":${shown('jti', p.tokenId, rules)}`;
  if (p.certificate !== undefined) out += `,"certificateSha256":"${p.certificate.fingerprint256}"`;
  if (rules.claims.length > 0) {
    let claims = '';
    for (const name of rules.claims) {
      const value = p.attributes[name];
      if (value === undefined) continue;
      claims += `${claims === '' ? '' : ','}${jsonString(name)}:${shown(name, value, rules)}`;
    }
    out += `,"claims":{${claims}}`;
  }
  return `${out}},"keyId":${shown('kid', p.keyId, rules)}`;
}

/** Formats records under one set of rules; the principal's part is built once per principal. */
export type RecordFormatter = (record: AuditRecord) => string;

/** Most entries in each of a formatter's segment caches; past it segments are built each time. */
const kMaxCachedSegments = 4_096;

const kOutcomeIndex: Readonly<Record<AuditRecord['outcome'], number>> = {
  forwarded: 0, refused: 1, dropped: 2, aborted: 3, upstream_error: 4, redirected: 5,
  answered: 6,
};
/** How many outcomes there are: the status-part key multiplies by it, so no two keys collide. */
const kOutcomeCount = Object.keys(kOutcomeIndex).length;

/**
 * `text` as one flat string. A string built by concatenation is a tree of pieces that V8
 * walks whenever it is copied; a segment kept for reuse is made flat once, so copying a line
 * that contains it does not walk its pieces again on every request.
 */
function flat(text: string): string {
  return Buffer.from(text, 'latin1').toString('latin1');
}

/** Remembers `text`, flattened, under `key` while `map` is small; returns it. */
function remember<K>(map: Map<K, string>, key: K, text: string): string {
  const kept = flat(text);
  if (map.size < kMaxCachedSegments) map.set(key, kept);
  return kept;
}

function decisionPart(record: AuditRecord): string {
  const { decision, code } = record;
  return `,"decision":${decision === null ? 'null' : `"${decision}"`},"code":`
    + `${code === null ? 'null,"reason":null' : `"${code}","reason":"${errorSpec(code).reason}"`}`;
}

function policyPart(record: AuditRecord): string {
  return `,"rule":${optString(record.rule)},"bundleVersion":${safeOrNull(record.bundleVersion)}`
    + `,"bundleDigest":${safeOrNull(record.bundleDigest)}`;
}

function statusPart(record: AuditRecord): string {
  const hit = record.cacheHit;
  return `,"cache":${hit === null ? 'null' : hit ? '"hit"' : '"miss"'},"status":${record.status}`
    + `,"upstreamStatus":${record.upstreamStatus ?? 'null'},"outcome":"${record.outcome}"`;
}

/**
 * A formatter for `rules`. Most of a line repeats from request to request, and copying a
 * string built from many pieces costs more than building it: so the principal's part
 * (principals are frozen and shared by every request with the same credential), the
 * decision part, the policy part and the status part are each built once, flattened, and
 * reused. No closure or key string is made per record.
 */
export function createRecordFormatter(rules: RedactionRules): RecordFormatter {
  const principals = new WeakMap<Principal, string>();
  const decisions = new Map<AuditRecord['decision'], Map<AuditRecord['code'], string>>();
  const policies = new Map<string | null, Map<string | null, string>>();
  const statuses = new Map<number, string>();
  return (record) => {
    // 1. The repeated parts, from their caches.
    const p = record.principal;
    let who = p === undefined ? kNoPrincipal : principals.get(p);
    if (who === undefined && p !== undefined) {
      who = flat(principalJSON(p, rules));
      principals.set(p, who);
    }
    let byCode = decisions.get(record.decision);
    if (byCode === undefined) decisions.set(record.decision, byCode = new Map());
    const mid = byCode.get(record.code) ?? remember(byCode, record.code, decisionPart(record));
    let byDigest = policies.get(record.rule);
    if (byDigest === undefined) {
      byDigest = new Map();
      if (policies.size < kMaxCachedSegments) policies.set(record.rule, byDigest);
    }
    // The digest names the bundle, and so its version.
    const policy = byDigest.get(record.bundleDigest)
      ?? remember(byDigest, record.bundleDigest, policyPart(record));
    const hit = record.cacheHit;
    const statusKey = ((hit === null ? 2 : hit ? 1 : 0) * kOutcomeCount
      + (kOutcomeIndex[record.outcome] as number)) * 1_002_001 + record.status * 1001
      + (record.upstreamStatus ?? 1000);
    const tail = statuses.get(statusKey) ?? remember(statuses, statusKey, statusPart(record));

    // 2. The line. requestId, sourceAddress, host and service are JSON-safe by construction.
    return `{"time":"${isoTime(record.timeMs)}","requestId":"${record.requestId}","listener":"`
      + `${record.listener}","sourceAddress":"${record.sourceAddress}","method":`
      + `${jsonString(record.method)},"host":${safeOrNull(record.host)},"path":`
      + `${optString(record.path)},"service":${safeOrNull(record.service)}${mid}${policy}`
      + `,"principal":${who}${tail},"authnUs":${record.authnUs ?? 'null'},"authzUs":`
      + `${record.authzUs ?? 'null'},"totalUs":${record.totalUs}}\n`;
  };
}

const kNoPrincipal = 'null,"keyId":null';
const kFormatters = new WeakMap<RedactionRules, RecordFormatter>();

/** The record as one JSON line, newline included (a cached formatter per `rules` object). */
export function recordLine(record: AuditRecord, rules: RedactionRules): string {
  let format = kFormatters.get(rules);
  if (format === undefined) {
    format = createRecordFormatter(rules);
    kFormatters.set(rules, format);
  }
  return format(record);
}
