/**
 * Writes a decision record as one line of JSON, applying the redaction rules.
 *
 * Hand-built rather than `JSON.stringify`: the field order is fixed (the schema in
 * src/audit/README.md), and strings that need no escaping, which is nearly all of them, are
 * copied as they are. This runs for every request, off the response path but on the same
 * thread, so it is kept to string concatenation.
 */
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

/** A JSON string literal for `text`. */
export function jsonString(text: string): string {
  return kPlain.test(text) ? `"${text}"` : JSON.stringify(text);
}

function optString(text: string | null | undefined): string {
  return text === null || text === undefined ? 'null' : jsonString(text);
}

function shown(name: string, value: string | undefined, rules: RedactionRules): string {
  if (value === undefined) return 'null';
  return rules.redact.has(name) ? `"${kRedactedValue}"` : jsonString(value);
}

let lastTimeMs = -1;
let lastTimeText = '';

/** ISO time of `ms`, cached for the last millisecond seen (many records share one). */
function isoTime(ms: number): string {
  if (ms !== lastTimeMs) {
    lastTimeMs = ms;
    lastTimeText = new Date(ms).toISOString();
  }
  return lastTimeText;
}

function principalJSON(record: AuditRecord, rules: RedactionRules): string {
  const p = record.principal;
  if (p === undefined) return 'null';
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
  return `${out}}`;
}

/** The record as one JSON line, newline included. */
export function recordLine(record: AuditRecord, rules: RedactionRules): string {
  const code = record.code;
  const keyId = record.principal?.keyId;
  return `{"time":"${isoTime(record.timeMs)}","requestId":${jsonString(record.requestId)}`
    + `,"listener":"${record.listener}","sourceAddress":${jsonString(record.sourceAddress)}`
    + `,"method":${jsonString(record.method)},"host":${optString(record.host)}`
    + `,"path":${optString(record.path)},"service":${optString(record.service)}`
    + `,"decision":${record.decision === null ? 'null' : `"${record.decision}"`}`
    + `,"code":${code === null ? 'null' : `"${code}"`}`
    + `,"reason":${code === null ? 'null' : `"${errorSpec(code).reason}"`}`
    + `,"rule":${optString(record.rule)},"bundleVersion":${optString(record.bundleVersion)}`
    + `,"bundleDigest":${optString(record.bundleDigest)}`
    + `,"principal":${principalJSON(record, rules)},"keyId":${shown('kid', keyId, rules)}`
    + `,"cache":${record.cacheHit === null ? 'null' : record.cacheHit ? '"hit"' : '"miss"'}`
    + `,"status":${record.status},"upstreamStatus":${record.upstreamStatus ?? 'null'}`
    + `,"outcome":"${record.outcome}","authnUs":${record.authnUs ?? 'null'}`
    + `,"authzUs":${record.authzUs ?? 'null'},"totalUs":${record.totalUs}}\n`;
}
