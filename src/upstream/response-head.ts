/**
 * Parses one complete response head (status line, field lines, final CRLF) and decides how the
 * body is framed (RFC 9112 section 6.3). The input is the head as a byte string; the caller has
 * already found its end. Anything ambiguous is refused rather than guessed: a proxy that reads a
 * response differently from the next hop is a response-splitting vector.
 */
import type { ResponseBodyKind } from './types.js';
import {
  isTokenRange, kHopByHopFields, kTokenOctets, kValueOctets, skipWhitespace, trimWhitespaceEnd,
} from './field-syntax.js';

/** A parsed response head. `headers` is filtered as `ResponseSink.onHead` documents. */
export interface ParsedHead {
  readonly status: number;
  readonly headers: string[];
  readonly bodyKind: ResponseBodyKind;
  /**
   * Declared body length for 'length'; for a bodiless HEAD or 304 answer the Content-Length it
   * declares (the representation's size, which may be relayed); else -1.
   */
  readonly contentLength: number;
  /** False when the connection must be closed after this response (see README "Reuse rules"). */
  readonly keepAlive: boolean;
}

// Module-local constants and aliases: a loop reading an imported binding re-loads it on every
// octet (ESM live bindings are not hoisted), which measured twice as slow as a local constant.
const kToken = kTokenOctets;
const kValue = kValueOctets;
const kCR = 0x0d;
const kLF = 0x0a;
const kHTAB = 0x09;
const kSP = 0x20;
const kColon = 0x3a;
// 15 decimal digits stay below 2^53, so the length is exact as a JS number.
const kMaxLengthDigits = 15;

/**
 * Parses `buf[start, end)`, the whole head including its terminating empty line. `isHeadRequest`
 * makes the response bodiless. Returns null when the head is malformed or its framing is
 * ambiguous. Interim (1xx) heads come back with bodyKind 'none'; the caller decides about them.
 *
 * The octets are checked on the Buffer (a typed-array loop runs about 2.5x faster here than
 * `charCodeAt` on a string); the head is decoded to one latin1 string and fields are sliced
 * from it by offset.
 */
export function parseResponseHead(
  buf: Buffer, start: number, end: number, isHeadRequest: boolean,
): ParsedHead | null {
  // The last four octets must be the empty line; the loops below then always meet a CR.
  if (end - start < 16 || buf[end - 4] !== kCR || buf[end - 3] !== kLF ||
      buf[end - 2] !== kCR || buf[end - 1] !== kLF) return null;
  const text = buf.toString('latin1', start, end);

  // Status line: HTTP-version SP 3DIGIT [SP reason-phrase] CRLF (RFC 9112 section 4).
  if (!text.startsWith('HTTP/1.', 0) || text.charCodeAt(8) !== kSP) return null;
  const minor = text.charCodeAt(7) - 0x30;
  if (minor !== 0 && minor !== 1) return null;
  const status = parseStatus(text);
  if (status < 0) return null;
  let pos = start + 12;
  if (buf[pos] === kSP) pos = skipValue(buf, pos + 1);
  if (buf[pos] !== kCR || buf[pos + 1] !== kLF) return null;
  pos += 2;

  // Field lines: token ":" OWS value OWS CRLF. A name ending in whitespace or a line starting
  // with whitespace (obs-fold) fails the token check; NUL, a bare CR or LF and other controls
  // fail the value check.
  const headers: string[] = [];
  let lengthText: string | null = null;
  let lengthCount = 0;
  let codings: string | null = null;
  let connection: string | null = null;
  while (buf[pos] !== kCR) {
    const nameStart = pos;
    let hasUpper = false;
    for (let c = buf[pos]!; c !== kColon; c = buf[++pos]!) {
      if (kToken[c] !== 1) return null;
      if (c >= 0x41 && c <= 0x5a) hasUpper = true;
    }
    if (pos === nameStart) return null;
    const rawName = text.slice(nameStart - start, pos - start);
    const name = hasUpper ? rawName.toLowerCase() : rawName;

    let valueStart = pos + 1;
    while (buf[valueStart] === kSP || buf[valueStart] === kHTAB) valueStart++;
    pos = skipValue(buf, valueStart);
    if (buf[pos] !== kCR || buf[pos + 1] !== kLF) return null;
    let valueEnd = pos;
    while (valueEnd > valueStart && (buf[valueEnd - 1] === kSP || buf[valueEnd - 1] === kHTAB)) {
      valueEnd--;
    }
    const value = text.slice(valueStart - start, valueEnd - start);
    pos += 2;

    if (!isHopByHop(name)) headers.push(name, value);
    else if (name === 'content-length') {
      lengthText = value;
      lengthCount++;
    } else if (name === 'transfer-encoding') codings = joinList(codings, value);
    else if (name === 'connection') connection = joinList(connection, value);
  }
  // The first empty line must be the one that ends the head.
  if (pos !== end - 2) return null;

  // Connection options: `close` ends reuse, other names are hop-by-hop fields to drop.
  let keepAlive = minor === 1;
  if (connection !== null) {
    const options = parseConnection(connection);
    if (options === null) return null;
    if (options.close) keepAlive = false;
    if (options.names.length > 0) dropNamed(headers, options.names);
  }

  // Framing, in the order of RFC 9112 section 6.3.
  const framing = decideFraming(lengthText, lengthCount, codings, minor);
  if (isHeadRequest || status < 200 || status === 204 || status === 304) {
    // No body whatever the fields say. A 204 must not declare one, and an unusable declaration
    // means the upstream is confused: finish this response, then close.
    const doubtful = framing === null ||
      (status === 204 && (lengthText !== null || codings !== null));
    const reusable = keepAlive && !doubtful;
    const declared = status >= 200 && status !== 204 && framing !== null && framing >= 0
      ? framing : -1;
    return { status, headers, bodyKind: 'none', contentLength: declared, keepAlive: reusable };
  }
  if (framing === null) return null;
  if (framing === kChunked) {
    return { status, headers, bodyKind: 'chunked', contentLength: -1, keepAlive };
  }
  if (framing === kClose) {
    return { status, headers, bodyKind: 'close', contentLength: -1, keepAlive: false };
  }
  return { status, headers, bodyKind: 'length', contentLength: framing, keepAlive };
}

const kChunked = -1;
const kClose = -2;

/** Returns the body length, kChunked, kClose, or null when the framing fields are unusable. */
function decideFraming(
  lengthText: string | null, lengthCount: number, codings: string | null, minor: number,
): number | null {
  if (codings !== null) {
    // Transfer-Encoding with Content-Length is a smuggling signature: refuse, never pick one.
    // In HTTP/1.0 Transfer-Encoding is not defined (RFC 9112 section 6.1): refuse as well.
    if (lengthText !== null || minor === 0) return null;
    return isChunkedOnly(codings) ? kChunked : null;
  }
  if (lengthText === null) return kClose;
  if (lengthCount !== 1) return null;
  return parseLength(lengthText);
}

/** True when the coding list is exactly one `chunked` (any other coding cannot be relayed). */
function isChunkedOnly(codings: string): boolean {
  let chunked = 0;
  let start = 0;
  while (start <= codings.length) {
    let end = codings.indexOf(',', start);
    if (end < 0) end = codings.length;
    const first = skipWhitespace(codings, start, end);
    const last = trimWhitespaceEnd(codings, first, end);
    if (last > first) {
      const coding = codings.slice(first, last);
      if (coding.length !== 7 || coding.toLowerCase() !== 'chunked') return false;
      chunked++;
    }
    start = end + 1;
  }
  return chunked === 1;
}

/** Index of the first octet at or after `start` that is not a field-value octet (CR, usually). */
function skipValue(buf: Buffer, start: number): number {
  let i = start;
  while (kValue[buf[i]!] === 1) i++;
  return i;
}

/** Hop-by-hop and framing names have lengths 2, 7, 10, 14, 16 or 17: skip the set otherwise. */
function isHopByHop(name: string): boolean {
  const length = name.length;
  if (length !== 2 && length !== 7 && length !== 10 && length < 14) return false;
  return kHopByHopFields.has(name);
}

/** Joins repeated list fields (RFC 9110 section 5.3). */
function joinList(list: string | null, value: string): string {
  return list === null ? value : `${list},${value}`;
}

function parseLength(text: string): number | null {
  if (text.length === 0 || text.length > kMaxLengthDigits) return null;
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return null;
    value = value * 10 + digit;
  }
  return value;
}

function parseStatus(text: string): number {
  let status = 0;
  for (let i = 9; i < 12; i++) {
    const digit = text.charCodeAt(i) - 0x30;
    if (digit < 0 || digit > 9) return -1;
    status = status * 10 + digit;
  }
  return status >= 100 && status <= 599 ? status : -1;
}

/** Splits Connection options; null when one is not a token. Names come back lower-cased. */
function parseConnection(value: string): { close: boolean; names: string[] } | null {
  const names: string[] = [];
  let close = false;
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(',', start);
    if (end < 0) end = value.length;
    const first = skipWhitespace(value, start, end);
    const last = trimWhitespaceEnd(value, first, end);
    start = end + 1;
    if (last === first) continue;
    if (!isTokenRange(value, first, last)) return null;
    const option = value.slice(first, last).toLowerCase();
    if (option === 'close') close = true;
    else if (option !== 'keep-alive') names.push(option);
  }
  return { close, names };
}

/** Removes, in place, every field whose name the Connection field listed. */
function dropNamed(headers: string[], names: readonly string[]): void {
  let out = 0;
  for (let i = 0; i < headers.length; i += 2) {
    if (names.includes(headers[i]!)) continue;
    headers[out] = headers[i]!;
    headers[out + 1] = headers[i + 1]!;
    out += 2;
  }
  headers.length = out;
}
