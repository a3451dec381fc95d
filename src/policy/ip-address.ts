/**
 * IP address text to 16 bytes, for CIDR conditions. IPv4 addresses become IPv4-mapped IPv6
 * (`::ffff:a.b.c.d`, RFC 4291 section 2.5.5.2), so one 128-bit comparison serves both families
 * and `10.0.0.0/8` is stored as `::ffff:10.0.0.0/104`.
 *
 * `parseIpInto` writes into a caller's buffer and allocates nothing: the authz host calls it per
 * request with the peer address text.
 */

/** Parses dotted-quad IPv4 text into out[off..off+4]; false on anything else. */
function parseV4(text: string, start: number, end: number, out: Uint8Array, off: number): boolean {
  let part = 0;
  let value = 0;
  let digits = 0;
  for (let i = start; i <= end; i++) {
    const c = i === end ? 46 : text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 3) return false;
      out[off + part] = value;
      part++;
      value = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      // A leading zero is refused: `010` means 8 to some parsers and 10 to others.
      if (digits > 0 && value === 0) return false;
      value = value * 10 + (c - 48);
      digits++;
      if (value > 255) return false;
    } else {
      return false;
    }
  }
  return part === 4;
}

function hexValue(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
}

/** Parses IPv6 text (with `::` and an optional trailing dotted quad) into out[off..off+16]. */
function parseV6(text: string, out: Uint8Array, off: number): boolean {
  const n = text.length;
  let groups = 0;
  let gap = -1;
  let i = 0;
  if (n >= 2 && text.charCodeAt(0) === 58 && text.charCodeAt(1) === 58) {
    gap = 0;
    i = 2;
    if (i === n) {
      out.fill(0, off, off + 16);
      return true;
    }
  }
  while (i < n) {
    if (groups === 8) return false;
    // A dotted quad may close the address in place of the last two groups.
    let j = i;
    let value = 0;
    while (j < n && j - i < 5) {
      const h = hexValue(text.charCodeAt(j));
      if (h < 0) break;
      value = value * 16 + h;
      j++;
    }
    if (j < n && text.charCodeAt(j) === 46) {
      if (groups > 6 || !parseV4(text, i, n, out, off + groups * 2)) return false;
      groups += 2;
      i = n;
      break;
    }
    if (j === i || j - i > 4) return false;
    out[off + groups * 2] = value >> 8;
    out[off + groups * 2 + 1] = value & 0xff;
    groups++;
    i = j;
    if (i === n) break;
    if (text.charCodeAt(i) !== 58) return false;
    i++;
    if (i < n && text.charCodeAt(i) === 58) {
      if (gap >= 0) return false;
      gap = groups;
      i++;
    } else if (i === n) {
      return false;
    }
  }
  if (gap < 0) return groups === 8;
  if (groups === 8) return false;
  // Move the groups after the gap to the end and zero the gap.
  const tail = (groups - gap) * 2;
  out.copyWithin(off + 16 - tail, off + gap * 2, off + groups * 2);
  out.fill(0, off + gap * 2, off + 16 - tail);
  return true;
}

/**
 * Writes the 16-byte form of `text` (IPv4 dotted quad or IPv6) at `out[off]`. Returns false, and
 * leaves the bytes unspecified, when `text` is not an address (zones such as `%eth0` included).
 */
export function parseIpInto(text: string, out: Uint8Array, off: number): boolean {
  if (text.indexOf(':') < 0) {
    if (!parseV4(text, 0, text.length, out, off + 12)) return false;
    out.fill(0, off, off + 10);
    out[off + 10] = 0xff;
    out[off + 11] = 0xff;
    return true;
  }
  return parseV6(text, out, off);
}

/** A parsed CIDR range: the 16 address bytes (host bits cleared) and a prefix of 0-128 bits. */
export interface CidrRange {
  readonly bytes: Uint8Array;
  readonly prefixBits: number;
}

/** Parses `addr/len` (or a bare address, a /32 or /128). undefined when malformed. */
export function parseCidr(text: string): CidrRange | undefined {
  const slash = text.indexOf('/');
  const addr = slash < 0 ? text : text.slice(0, slash);
  const bytes = new Uint8Array(16);
  if (!parseIpInto(addr, bytes, 0)) return undefined;
  const isV4 = addr.indexOf(':') < 0;
  const max = isV4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const len = text.slice(slash + 1);
    if (!/^(0|[1-9][0-9]{0,2})$/.test(len) || Number(len) > max) return undefined;
    bits = Number(len);
  }
  const prefixBits = isV4 ? bits + 96 : bits;
  for (let b = prefixBits; b < 128; b++) bytes[b >> 3] = bytes[b >> 3]! & ~(0x80 >> (b & 7));
  return { bytes, prefixBits };
}

/** True when the 16-byte address at `addr[off]` lies in `range`. */
export function cidrContains(range: CidrRange, addr: Uint8Array, off: number): boolean {
  const full = range.prefixBits >> 3;
  for (let i = 0; i < full; i++) if (addr[off + i] !== range.bytes[i]) return false;
  const rest = range.prefixBits & 7;
  if (rest === 0) return true;
  const mask = (0xff00 >> rest) & 0xff;
  return ((addr[off + full]! & mask) === range.bytes[full]);
}
