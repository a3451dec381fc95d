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

/**
 * A formatter for `rules`. Principals are frozen and shared by every request with the same
 * credential, so their JSON (with `keyId`) is kept in a WeakMap and reused.
 */
export function createRecordFormatter(rules: RedactionRules): RecordFormatter {
  const principals = new WeakMap<Principal, string>();
  return (record) => {
    const p = record.principal;
    let who = kNoPrincipal;
    if (p !== undefined) {
      const cached = principals.get(p);
      if (cached !== undefined) {
        who = cached;
      } else {
        who = principalJSON(p, rules);
        principals.set(p, who);
      }
    }
    const code = record.code;
    // requestId, sourceAddress, host and service are JSON-safe by construction (AuditRecord).
    return `{"time":"${isoTime(record.timeMs)}","requestId":"${record.requestId}"`
      + `,"listener":"${record.listener}","sourceAddress":"${record.sourceAddress}"`
      + `,"method":${jsonString(record.method)},"host":${safeOrNull(record.host)}`
      + `,"path":${optString(record.path)},"service":${safeOrNull(record.service)}`
      + `,"decision":${record.decision === null ? 'null' : `"${record.decision}"`}`
      + `,"code":${code === null ? 'null' : `"${code}","reason":"${errorSpec(code).reason}"`}`
      + `${code === null ? ',"reason":null' : ''}`
      + `,"rule":${optString(record.rule)},"bundleVersion":${safeOrNull(record.bundleVersion)}`
      + `,"bundleDigest":${safeOrNull(record.bundleDigest)},"principal":${who}`
      + `,"cache":${record.cacheHit === null ? 'null' : record.cacheHit ? '"hit"' : '"miss"'}`
      + `,"status":${record.status},"upstreamStatus":${record.upstreamStatus ?? 'null'}`
      + `,"outcome":"${record.outcome}","authnUs":${record.authnUs ?? 'null'}`
      + `,"authzUs":${record.authzUs ?? 'null'},"totalUs":${record.totalUs}}\n`;
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
