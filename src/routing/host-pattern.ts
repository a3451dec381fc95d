/**
 * Host patterns of the service registry, and the cheap check that a request's host is already in
 * the normalized form the patterns were stored in.
 */
import { parseHost, parseHostCached } from './host.js';

/**
 * A parsed host pattern: an exact normalized name, a wildcard suffix ('*.example.com' is stored
 * as '.example.com' and needs at least one label in front), or '*' for any host.
 */
export type HostPattern =
  | { readonly kind: 'exact'; readonly name: string }
  | { readonly kind: 'suffix'; readonly suffix: string }
  | { readonly kind: 'any' };

const kDot = 0x2e;
const kMaxNameLength = 253;
const kMaxLabelLength = 63;

/**
 * Parse a configured host pattern. Names go through {@link parseHost} (lower-cased, one trailing
 * dot dropped); a pattern naming a port, a wildcard anywhere but the first label, or a wildcard
 * over an IP literal is refused with `undefined`.
 */
export function parseHostPattern(pattern: string): HostPattern | undefined {
  if (pattern === '*') return { kind: 'any' };

  if (pattern.startsWith('*.')) {
    const rest = parseHost(pattern.slice(2));
    if (rest === undefined || rest.port !== undefined) return undefined;
    if (rest.host.startsWith('[') || isDigit(rest.host.charCodeAt(rest.host.length - 1))) {
      return undefined; // IP literals have no subdomains
    }
    return { kind: 'suffix', suffix: '.' + rest.host };
  }

  const exact = parseHost(pattern);
  if (exact === undefined || exact.port !== undefined) return undefined;
  return { kind: 'exact', name: exact.host };
}

/**
 * Return `host` itself when parseHost would return it unchanged (the common case: the `host`
 * field of a parsed Host header), otherwise normalize it through parseHost (dropping any port),
 * or `undefined` when it is not a valid host at all.
 */
export function normalizeRequestHost(host: string): string | undefined {
  if (host.length > kMaxNameLength) return slowPath(host);
  let labelStart = 0;
  let isDigitsOnly = true;
  for (let i = 0; i <= host.length; i++) {
    const c = i === host.length ? kDot : host.charCodeAt(i);
    if (c === kDot) {
      const labelLength = i - labelStart;
      if (labelLength === 0 || labelLength > kMaxLabelLength) return slowPath(host);
      if (i < host.length) {
        labelStart = i + 1;
        isDigitsOnly = true;
      }
    } else if ((c >= 0x61 && c <= 0x7a) || c === 0x2d) {
      isDigitsOnly = false;
    } else if (!isDigit(c)) {
      return slowPath(host); // upper case, port, IPv6 brackets, or invalid
    }
  }

  // A numeric or 0x-prefixed last label needs parseHost's IPv4 rules.
  const isHexLike =
    host.charCodeAt(labelStart) === 0x30 && host.charCodeAt(labelStart + 1) === 0x78;
  return isDigitsOnly || isHexLike ? slowPath(host) : host;
}

function slowPath(host: string): string | undefined {
  return parseHostCached(host)?.host;
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}
