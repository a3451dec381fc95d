/**
 * Request-target canonicalization: the one string that routing, policy and the upstream all see.
 *
 * Accepts origin-form (`/path?query`) and, for the node:https listener whose parser lets it
 * through, absolute-form naming the request's own host. Everything ambiguous is rejected with a
 * stable code (fail closed); the few normalizations applied are listed in ./README.md.
 */
import type { ErrorCode } from '../errors/index.js';
import { parseHost } from './host.js';
import {
  kClassCodes,
  kHexValues,
  kPathClasses,
  kPathClean,
  kPathDirty,
  rebuildPath,
  scanPath,
} from './path-normalize.js';
import { type Rejection, reject } from './rejection.js';

/** A canonical request target. Both strings are ASCII and safe to forward unchanged. */
export interface CanonicalTarget {
  /** Canonical path: starts with '/', no dot segments, no empty segments unless configured. */
  readonly path: string;
  /** Raw query without the '?', validated but not rewritten; '' when there is none. */
  readonly query: string;
}

/** Per-listener canonicalization settings, validated once at start-up by the config stage. */
export interface TargetOptions {
  /** 'merge' collapses runs of '/' (nginx merge_slashes); 'reject' refuses them. */
  readonly slashes: 'merge' | 'reject';
  /** Longest raw target accepted, in bytes (every accepted target is ASCII, so also chars). */
  readonly maxUrlBytes: number;
}

/** Outcome of {@link canonicalizeTarget}; failures are shared frozen objects. */
export type TargetResult =
  | { readonly ok: true; readonly value: CanonicalTarget }
  | Rejection;

const kSlash = 0x2f;
const kPercent = 0x25;

/**
 * Canonicalize a raw request target (`getUrl()` plus '?' and `getQuery()` from uWS, or
 * `req.url` from node). `requestHost` is `host[:port]` of the request (the OWS-trimmed Host value,
 * or rebuilt from `RequestFraming.host`); it is only consulted for absolute-form targets. Never throws. When the path needs no change the
 * returned path is `raw` itself or a slice of it.
 *
 * Codes: IAM_ROUTING_URL_TOO_LONG, IAM_ROUTING_TARGET_MALFORMED, IAM_ROUTING_TARGET_FRAGMENT,
 * IAM_ROUTING_ABSOLUTE_FORM_FOREIGN, IAM_ROUTING_CONTROL_CHARACTER, IAM_ROUTING_INVALID_ENCODING,
 * IAM_ROUTING_BACKSLASH, IAM_ROUTING_SEMICOLON, IAM_ROUTING_ENCODED_SEPARATOR,
 * IAM_ROUTING_DUPLICATE_SLASH, IAM_ROUTING_PATH_ESCAPES_ROOT.
 */
export function canonicalizeTarget(
  raw: string,
  requestHost: string | undefined,
  opts: TargetOptions,
): TargetResult {
  // Step 1: size, fragment, then the form of the target (RFC 9112 section 3.2).
  if (raw.length > opts.maxUrlBytes) return reject('IAM_ROUTING_URL_TOO_LONG');
  if (raw.indexOf('#') >= 0) return reject('IAM_ROUTING_TARGET_FRAGMENT');
  let start = 0;
  if (raw.charCodeAt(0) !== kSlash) {
    const pathStart = absoluteFormPathStart(raw, requestHost);
    if (typeof pathStart !== 'number') return reject(pathStart);
    start = pathStart;
  }

  // Step 2: the path, which ends at the first '?'.
  const queryMark = raw.indexOf('?', start);
  const end = queryMark < 0 ? raw.length : queryMark;
  let path = '/';
  if (end > start) {
    const scan = scanPath(raw, start, end, opts.slashes === 'merge');
    if (scan === kPathClean) {
      path = start === 0 && end === raw.length ? raw : raw.slice(start, end);
    } else if (scan === kPathDirty) {
      const rebuilt = rebuildPath(raw, start, end);
      if (rebuilt === undefined) return reject('IAM_ROUTING_PATH_ESCAPES_ROOT');
      path = rebuilt;
    } else {
      return reject(scan);
    }
  }

  // Step 3: the query, validated but passed through as sent.
  if (queryMark < 0) return { ok: true, value: { path, query: '' } };
  const queryCode = scanQuery(raw, queryMark + 1);
  if (queryCode !== undefined) return reject(queryCode);
  return { ok: true, value: { path, query: raw.slice(queryMark + 1) } };
}

/**
 * For `http://authority/path` or `https://...`: check the authority and return the index where
 * the path (or '?', or the end) starts. Anything that is not origin- or absolute-form (asterisk,
 * authority-form, relative references, other schemes) is malformed.
 */
function absoluteFormPathStart(raw: string, requestHost: string | undefined): number | ErrorCode {
  let i: number;
  if (startsWithIgnoringCase(raw, 'http://')) i = 7;
  else if (startsWithIgnoringCase(raw, 'https://')) i = 8;
  else return 'IAM_ROUTING_TARGET_MALFORMED';

  const authorityStart = i;
  for (; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c === kSlash || c === 0x3f) break;
    if (c < 0x20 || c === 0x7f) return 'IAM_ROUTING_CONTROL_CHARACTER';
    if (c > 0x7e) return 'IAM_ROUTING_INVALID_ENCODING';
    if (c === 0x40) return 'IAM_ROUTING_TARGET_MALFORMED'; // userinfo: RFC 9110 section 4.2.4
  }

  // RFC 9112 section 3.2.2 lets absolute-form override Host; we demand they agree instead.
  const authority = parseHost(raw.slice(authorityStart, i));
  if (authority === undefined) return 'IAM_ROUTING_TARGET_MALFORMED';
  const expected = requestHost === undefined ? undefined : parseHost(requestHost);
  const isSameHost = expected !== undefined && expected.host === authority.host;
  if (!isSameHost || expected.port !== authority.port) return 'IAM_ROUTING_ABSOLUTE_FORM_FOREIGN';
  return i;
}

/** Validate `raw[from..]` as a query; returns an error code or `undefined` when it is fine. */
function scanQuery(raw: string, from: number): ErrorCode | undefined {
  for (let i = from; i < raw.length; i++) {
    const c = raw.charCodeAt(i);
    if (c > 0x7f) return 'IAM_ROUTING_INVALID_ENCODING';
    const cls = kPathClasses[c] as number;
    if (cls <= 2 && cls !== 0) return kClassCodes[cls];
    if (c === kPercent && (!isHexAt(raw, i + 1) || !isHexAt(raw, i + 2))) {
      return 'IAM_ROUTING_INVALID_ENCODING';
    }
  }
  return undefined;
}

function isHexAt(s: string, i: number): boolean {
  const c = s.charCodeAt(i); // NaN past the end, which fails the comparison below
  return c < 128 && (kHexValues[c] as number) >= 0;
}

/** ASCII case-insensitive for letters only, so a control byte never passes for ':' or '/'. */
function startsWithIgnoringCase(s: string, lowerPrefix: string): boolean {
  if (s.length < lowerPrefix.length) return false;
  for (let i = 0; i < lowerPrefix.length; i++) {
    const c = s.charCodeAt(i);
    const p = lowerPrefix.charCodeAt(i);
    if (c !== p && !(p >= 0x61 && p <= 0x7a && c === p - 0x20)) return false;
  }
  return true;
}
