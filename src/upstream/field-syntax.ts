/**
 * Octet classes of HTTP/1.1 field syntax (RFC 9110 section 5), shared by the response-head parser,
 * the chunked decoder (trailers, extensions) and the request-head encoder.
 *
 * Tables are indexed by octet, so a check is one load; strings are checked through `charCodeAt`,
 * which is why every caller first makes sure its string is a byte string (codes 0-255).
 */

/** Carriage return, line feed, horizontal tab and space octets. */
export const kCR = 0x0d;
export const kLF = 0x0a;
export const kHTAB = 0x09;
export const kSP = 0x20;

/** tchar (RFC 9110 section 5.6.2): 1 for octets allowed in a token (field names, codings). */
export const kTokenOctets: Uint8Array = buildTable((c) =>
  (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) ||
  "!#$%&'*+-.^_`|~".includes(String.fromCharCode(c)));

/**
 * Octets allowed inside a field value (RFC 9110 section 5.5): HTAB, SP, VCHAR and obs-text.
 * Every other control octet, NUL, CR, LF and DEL are refused.
 */
export const kValueOctets: Uint8Array = buildTable((c) =>
  c === kHTAB || (c >= 0x20 && c <= 0x7e) || c >= 0x80);

/**
 * Hex digit values for chunk sizes: 0-15, or -1 for any other octet (so a sign, `x` or space is
 * refused rather than skipped).
 */
export const kHexValues: Int8Array = (() => {
  const table = new Int8Array(256).fill(-1);
  for (let c = 0; c < 10; c++) table[0x30 + c] = c;
  for (let c = 0; c < 6; c++) {
    table[0x41 + c] = 10 + c;
    table[0x61 + c] = 10 + c;
  }
  return table;
})();

/**
 * Fields that concern one connection only (RFC 9110 section 7.6.1) plus the framing fields the
 * client consumes itself. They never reach the caller's `onHead`.
 */
export const kHopByHopFields: ReadonlySet<string> = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'content-length',
]);

/** True when `text[start, end)` is a non-empty token. */
export function isTokenRange(text: string, start: number, end: number): boolean {
  if (start >= end) return false;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c > 0xff || kTokenOctets[c] === 0) return false;
  }
  return true;
}

/** Index of the first character after leading SP/HTAB in `text[start, end)`. */
export function skipWhitespace(text: string, start: number, end: number): number {
  let i = start;
  while (i < end) {
    const c = text.charCodeAt(i);
    if (c !== kSP && c !== kHTAB) break;
    i++;
  }
  return i;
}

/** Index just past the last non-SP/HTAB character of `text[start, end)`. */
export function trimWhitespaceEnd(text: string, start: number, end: number): number {
  let i = end;
  while (i > start) {
    const c = text.charCodeAt(i - 1);
    if (c !== kSP && c !== kHTAB) break;
    i--;
  }
  return i;
}

function buildTable(allowed: (octet: number) => boolean): Uint8Array {
  const table = new Uint8Array(256);
  for (let c = 0; c < 256; c++) table[c] = allowed(c) ? 1 : 0;
  return table;
}
