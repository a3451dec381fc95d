/**
 * Parsing and normalization of a Host header value (RFC 9110 section 7.2, RFC 3986 section 3.2.2).
 *
 * Every place that compares hosts (absolute-form targets, the service registry, policy) goes
 * through this one function, so a host is never matched case-sensitively in one place and
 * case-insensitively in another (Istio CVE-2021-39155).
 */

/** A normalized host and its optional port, as produced by {@link parseHost}. */
export interface HostPort {
  /** Lower-case reg-name without trailing dot, dotted-quad IPv4, or `[ipv6]` with brackets. */
  readonly host: string;
  /** 1-65535, or `undefined` when the value named no port. */
  readonly port: number | undefined;
}

const kDot = 0x2e;
const kColon = 0x3a;
const kOpenBracket = 0x5b;
const kMaxNameLength = 253;
const kMaxLabelLength = 63;

/**
 * Parse `host[:port]` and normalize it: the name is lower-cased and loses one trailing dot;
 * IPv6 literals keep their brackets; the port loses leading zeros. Returns `undefined` for
 * anything else: empty values, userinfo (`@`), spaces, percent-escapes, `_`, empty labels,
 * IPv6 zone ids, ports outside 1-65535 or longer than five digits, and names whose last label is
 * numeric but which are not a strict dotted quad (`127.1`, `0177.0.0.1`, `0x7f.0.0.1`), because
 * other URL parsers read those as IPv4 addresses.
 */
export function parseHost(value: string): HostPort | undefined {
  const length = value.length;
  if (length === 0) return undefined;

  // Step 1: the name, which ends at ']' for IPv6 and at the first ':' otherwise.
  let host: string | undefined;
  let nameEnd: number;
  if (value.charCodeAt(0) === kOpenBracket) {
    const close = value.indexOf(']');
    if (close < 0 || !isIPv6(value, 1, close)) return undefined;
    nameEnd = close + 1;
    host = lowerSlice(value, nameEnd);
  } else {
    nameEnd = value.indexOf(':');
    if (nameEnd < 0) nameEnd = length;
    host = regNameOrIPv4(value, nameEnd);
  }
  if (host === undefined) return undefined;

  // Step 2: the optional port.
  if (nameEnd === length) return { host, port: undefined };
  if (value.charCodeAt(nameEnd) !== kColon) return undefined;
  const port = parsePort(value, nameEnd + 1);
  return port < 0 ? undefined : { host, port };
}

/** True when `s[from, to)` is a strict dotted quad: four decimal octets, no leading zeros. */
export function isDottedQuad(s: string, from: number, to: number): boolean {
  let parts = 0;
  let i = from;
  while (parts < 4) {
    let value = 0;
    const start = i;
    while (i < to && i - start < 4 && isDigit(s.charCodeAt(i))) {
      value = value * 10 + s.charCodeAt(i++) - 48;
    }
    const digits = i - start;
    if (digits === 0 || digits > 3 || value > 255) return false;
    if (digits > 1 && s.charCodeAt(start) === 48) return false;
    parts++;
    if (parts < 4) {
      if (s.charCodeAt(i) !== kDot || i >= to) return false;
      i++;
    }
  }
  return i === to;
}

/** Validate a reg-name or IPv4 in `s[0, end)` and return it normalized, or `undefined`. */
function regNameOrIPv4(s: string, end: number): string | undefined {
  let nameEnd = end;
  if (nameEnd > 1 && s.charCodeAt(nameEnd - 1) === kDot) nameEnd--; // one trailing dot only
  if (nameEnd === 0 || nameEnd > kMaxNameLength) return undefined;

  let hasUpper = false;
  let labelStart = 0;
  let labelDigitsOnly = true;
  for (let i = 0; i <= nameEnd; i++) {
    const c = i === nameEnd ? kDot : s.charCodeAt(i);
    if (c === kDot) {
      const labelLength = i - labelStart;
      if (labelLength === 0 || labelLength > kMaxLabelLength) return undefined;
      if (i === nameEnd) break;
      labelStart = i + 1;
      labelDigitsOnly = true;
    } else if (isDigit(c)) {
      continue;
    } else if ((c >= 0x61 && c <= 0x7a) || c === 0x2d) {
      labelDigitsOnly = false;
    } else if (c >= 0x41 && c <= 0x5a) {
      labelDigitsOnly = false;
      hasUpper = true;
    } else {
      return undefined;
    }
  }

  // A numeric last label makes WHATWG parsers treat the whole name as IPv4: demand a strict quad.
  if (labelDigitsOnly && !isDottedQuad(s, 0, nameEnd)) return undefined;
  if (isHexNumberLabel(s, labelStart, nameEnd)) return undefined;

  const name = nameEnd === s.length ? s : s.slice(0, nameEnd);
  return hasUpper ? name.toLowerCase() : name;
}

/** True for a `0x`-prefixed hex label, which WHATWG parsers read as a number. */
function isHexNumberLabel(s: string, from: number, to: number): boolean {
  if (to - from < 2 || s.charCodeAt(from) !== 48 || (s.charCodeAt(from + 1) | 0x20) !== 0x78) {
    return false;
  }
  for (let i = from + 2; i < to; i++) if (!isHex(s.charCodeAt(i))) return false;
  return true;
}

/**
 * RFC 4291 section 2.2 text forms in `s[from, to)`: eight groups of 1-4 hex digits, at most one
 * `::` standing for at least one group, and an optional dotted-quad tail worth two groups.
 */
function isIPv6(s: string, from: number, to: number): boolean {
  let groups = 0;
  let compressed = false;
  let i = from;
  if (s.charCodeAt(i) === kColon) {
    if (s.charCodeAt(i + 1) !== kColon) return false;
    compressed = true;
    i += 2;
  }
  while (i < to) {
    const start = i;
    while (i < to && i - start < 5 && isHex(s.charCodeAt(i))) i++;
    if (i < to && s.charCodeAt(i) === kDot) {
      if (!isDottedQuad(s, start, to)) return false;
      groups += 2;
      break;
    }
    if (i === start || i - start > 4) return false;
    groups++;
    if (i === to) break;
    if (s.charCodeAt(i) !== kColon || i + 1 === to) return false;
    i++;
    if (s.charCodeAt(i) === kColon) {
      if (compressed) return false;
      compressed = true;
      i++;
    }
  }
  return compressed ? groups <= 7 : groups === 8;
}

/** Digits only, 1-5 of them, value 1-65535; returns -1 on failure. */
function parsePort(s: string, from: number): number {
  const digits = s.length - from;
  if (digits < 1 || digits > 5) return -1;
  let port = 0;
  for (let i = from; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (!isDigit(c)) return -1;
    port = port * 10 + c - 48;
  }
  return port >= 1 && port <= 65535 ? port : -1;
}

function lowerSlice(s: string, end: number): string {
  const slice = end === s.length ? s : s.slice(0, end);
  for (let i = 0; i < end; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x41 && c <= 0x5a) return slice.toLowerCase();
  }
  return slice;
}

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

function isHex(c: number): boolean {
  return (c >= 48 && c <= 57) || ((c | 0x20) >= 0x61 && (c | 0x20) <= 0x66);
}

const kHostCacheMax = 512;
const kHostCache = new Map<string, HostPort | null>();

/**
 * {@link parseHost} behind a small memo: Host values repeat from request to request, and the
 * parse showed in profiles (bench/e2e). At most `kHostCacheMax` values are kept; the memo is
 * emptied when full, so a client sending many distinct hosts costs a re-parse, never memory.
 */
export function parseHostCached(value: string): HostPort | undefined {
  let result = kHostCache.get(value);
  if (result === undefined) {
    result = parseHost(value) ?? null;
    if (kHostCache.size >= kHostCacheMax) kHostCache.clear();
    kHostCache.set(value, result);
  }
  return result ?? undefined;
}
