/**
 * The path half of request-target canonicalization: one validating scan, and a rebuild that runs
 * only when the scan found something to change. The rules are numbered in ./README.md.
 *
 * `scanPath` is the per-request hot loop: one table lookup per character, no allocation, and it
 * answers "clean" (the raw slice already is the canonical path), "dirty" (call `rebuildPath`) or
 * an error code. `rebuildPath` decodes unreserved escapes, upper-cases the hex of the others,
 * merges slashes and resolves dot segments (RFC 3986 section 5.2.4).
 */
import type { ErrorCode } from '../errors/index.js';

/** Result of {@link scanPath}: an error code, or whether the slice needs a rebuild. */
export type PathScan = ErrorCode | typeof kPathClean | typeof kPathDirty;

/** The scanned slice is already canonical. */
export const kPathClean = 'clean';
/** The scanned slice is valid but must go through {@link rebuildPath}. */
export const kPathDirty = 'dirty';

const kHexUpper = '0123456789ABCDEF';

// Character classes of the raw target, for code points below 0x80.
const kPlain = 0;
const kControl = 1;
const kMalformed = 2;
const kHash = 3;
const kBackslash = 4;
const kSemicolon = 5;
const kPercent = 6;
const kSlash = 7;
const kDot = 8;
/** `[` and `]`: RFC 3986 keeps them for IP literals in the authority; refused in the path only. */
const kBracket = 9;

/** Class of each ASCII code point in a target (DEL is a control; above 0x7F is not ASCII). */
export const kPathClasses = buildClasses();

/** The error code of each class that refuses the character outright, by class number. */
export const kClassCodes: readonly (ErrorCode | undefined)[] = [
  undefined,
  'IAM_ROUTING_CONTROL_CHARACTER',
  'IAM_ROUTING_TARGET_MALFORMED',
  'IAM_ROUTING_TARGET_FRAGMENT',
  'IAM_ROUTING_BACKSLASH',
  'IAM_ROUTING_SEMICOLON',
  undefined,
  undefined,
  undefined,
  'IAM_ROUTING_TARGET_MALFORMED',
];

/** Canonical text of each escaped byte: the character itself if unreserved, else '%XX'. */
const kEscapeReplacements: readonly string[] = Array.from({ length: 256 }, (_, v) =>
  isUnreserved(v) ? String.fromCharCode(v) : '%' + kHexUpper[v >> 4] + kHexUpper[v & 15]);

/** Value of each ASCII hex digit, -1 for every other code point below 0x80. */
export const kHexValues = buildHexValues();

function buildClasses(): Uint8Array {
  const classes = new Uint8Array(128);
  for (let c = 0; c < 0x20; c++) classes[c] = kControl;
  classes[0x7f] = kControl;
  for (const ch of ' "<>^`{|}') classes[ch.charCodeAt(0)] = kMalformed;
  classes[0x23] = kHash;
  classes[0x5c] = kBackslash;
  classes[0x3b] = kSemicolon;
  classes[0x25] = kPercent;
  classes[0x2f] = kSlash;
  classes[0x2e] = kDot;
  classes[0x5b] = kBracket;
  classes[0x5d] = kBracket;
  return classes;
}

function buildHexValues(): Int8Array {
  const values = new Int8Array(128).fill(-1);
  for (let i = 0; i < 16; i++) {
    values[kHexUpper.charCodeAt(i)] = i;
    values[kHexUpper.toLowerCase().charCodeAt(i)] = i;
  }
  return values;
}

/** True for the RFC 3986 unreserved set: ALPHA DIGIT '-' '.' '_' '~'. */
function isUnreserved(v: number): boolean {
  return (v >= 0x41 && v <= 0x5a) || (v >= 0x61 && v <= 0x7a) || (v >= 0x30 && v <= 0x39) ||
    v === 0x2d || v === 0x2e || v === 0x5f || v === 0x7e;
}

function hexAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  return c < 128 ? (kHexValues[c] as number) : -1;
}

/**
 * Validate the path `raw[start, end)`, where `raw[start]` is '/'. `merge` selects the duplicate
 * slash rule ('merge' collapses, otherwise IAM_ROUTING_DUPLICATE_SLASH). The range must end
 * before the first '?'. Codes: see canonicalizeTarget; never IAM_ROUTING_PATH_ESCAPES_ROOT,
 * which only the rebuild can see.
 */
export function scanPath(raw: string, start: number, end: number, merge: boolean): PathScan {
  let isDirty = false;
  let afterSlash = true;
  let segmentLength = 0; // decoded characters in the current segment
  let segmentDots = 0; // decoded dots in the current segment
  let utf8Needed = 0; // continuation bytes still owed by a multi-byte sequence
  let utf8Low = 0x80;
  let utf8High = 0xbf;

  for (let i = start + 1; i < end; i++) {
    const c = raw.charCodeAt(i);
    if (c > 0x7f) return 'IAM_ROUTING_INVALID_ENCODING';
    const cls = kPathClasses[c] as number;
    if (utf8Needed !== 0 && cls !== kPercent) return 'IAM_ROUTING_INVALID_ENCODING';

    if (cls === kPlain || cls === kDot) {
      segmentLength++;
      if (cls === kDot) segmentDots++;
      afterSlash = false;
      continue;
    }

    if (cls === kSlash) {
      if (afterSlash) {
        if (!merge) return 'IAM_ROUTING_DUPLICATE_SLASH';
        isDirty = true;
        continue;
      }
      if (segmentDots === segmentLength && segmentLength <= 2) isDirty = true;
      segmentLength = 0;
      segmentDots = 0;
      afterSlash = true;
      continue;
    }

    if (cls !== kPercent) return kClassCodes[cls] as ErrorCode;

    // A percent-escape: '%' HEXDIG HEXDIG, always inside the path (never across '?').
    const high = i + 2 < end ? hexAt(raw, i + 1) : -1;
    const low = i + 2 < end ? hexAt(raw, i + 2) : -1;
    if (high < 0 || low < 0) return 'IAM_ROUTING_INVALID_ENCODING';
    const v = high * 16 + low;
    const isLowerHex = raw.charCodeAt(i + 1) > 0x60 || raw.charCodeAt(i + 2) > 0x60;
    i += 2;
    segmentLength++;
    afterSlash = false;

    if (utf8Needed !== 0) {
      if (v < utf8Low || v > utf8High) return 'IAM_ROUTING_INVALID_ENCODING';
      utf8Needed--;
      utf8Low = 0x80;
      utf8High = 0xbf;
    } else if (v >= 0x80) {
      // RFC 3629 section 4: lead byte ranges that exclude overlongs, surrogates and > U+10FFFF.
      if (v < 0xc2 || v > 0xf4) return 'IAM_ROUTING_INVALID_ENCODING';
      utf8Needed = v < 0xe0 ? 1 : v < 0xf0 ? 2 : 3;
      if (v === 0xe0) utf8Low = 0xa0;
      else if (v === 0xed) utf8High = 0x9f;
      else if (v === 0xf0) utf8Low = 0x90;
      else if (v === 0xf4) utf8High = 0x8f;
    } else if (v < 0x20 || v === 0x7f) {
      return 'IAM_ROUTING_CONTROL_CHARACTER';
    } else if (v === 0x2f || v === 0x5c) {
      return 'IAM_ROUTING_ENCODED_SEPARATOR';
    } else if (v === 0x3b) {
      return 'IAM_ROUTING_SEMICOLON';
    } else if (isUnreserved(v)) {
      isDirty = true;
      if (v === 0x2e) segmentDots++;
      continue;
    }
    if (isLowerHex) isDirty = true;
  }

  if (utf8Needed !== 0) return 'IAM_ROUTING_INVALID_ENCODING';
  if (!afterSlash && segmentDots === segmentLength && segmentLength <= 2) isDirty = true;
  return isDirty ? kPathDirty : kPathClean;
}

/**
 * Build the canonical form of a path that {@link scanPath} accepted as dirty: unreserved escapes
 * decoded, other escapes upper-cased, empty segments dropped (merge mode; in reject mode none
 * reach here), '.' removed and '..' resolved. A trailing '/', '.' or '..' leaves a trailing '/'.
 * Returns `undefined` when a '..' would climb above the root.
 */
export function rebuildPath(raw: string, start: number, end: number): string | undefined {
  const segments: string[] = [];
  let segment = '';
  let runStart = start + 1;
  let hasTrailingSlash = false;

  for (let i = start + 1; i <= end; i++) {
    const c = i < end ? raw.charCodeAt(i) : 0x2f; // the end closes the last segment like a '/'
    if (c === 0x25) {
      // An escape already in canonical form stays inside the current run of copied characters.
      const isLowerHex = raw.charCodeAt(i + 1) > 0x60 || raw.charCodeAt(i + 2) > 0x60;
      const v = (hexAt(raw, i + 1) << 4) | hexAt(raw, i + 2);
      if (isLowerHex || isUnreserved(v)) {
        segment += raw.slice(runStart, i) + (kEscapeReplacements[v] as string);
        runStart = i + 3;
      }
      i += 2;
      continue;
    }
    if (c !== 0x2f) continue;

    segment += raw.slice(runStart, i);
    runStart = i + 1;
    const isLast = i === end;
    if (segment === '..') {
      if (segments.length === 0) return undefined;
      segments.pop();
      hasTrailingSlash = isLast;
    } else if (segment === '.' || segment === '') {
      hasTrailingSlash = isLast;
    } else {
      segments.push(segment);
      hasTrailingSlash = false;
    }
    segment = '';
  }

  if (segments.length === 0) return '/';
  const joined = '/' + segments.join('/');
  return hasTrailingSlash ? joined + '/' : joined;
}
