/**
 * Syntax checks for the string fields of the config: hostnames and host patterns, CIDRs,
 * upstream addresses, path prefixes, header names and http(s) URLs. Pure functions, no I/O;
 * the schema turns their answers into diagnostics.
 */
import { isIPv4, isIPv6 } from 'node:net';

const kServiceName = /^[a-z0-9][a-z0-9-]{0,62}$/;
const kLabel = /^[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?$/;
const kDigits = /^(?:0|[1-9][0-9]{0,4})$/;
const kPrefixBits = /^(?:0|[1-9][0-9]{0,2})$/;
const kHeaderName = /^[!#$%&'*+.^_`|~0-9a-z-]+$/;
// RFC 3986 pchar minus '%' (escapes would need the routing stage's decoding rules) and ';'
// (the router rejects path parameters, so a prefix holding one could never match).
const kPrefixChars = /^[A-Za-z0-9\-._~!$&'()*+,=:@/]+$/;

/** A parsed upstream address; `origin` is ready for an HTTP client (`http://h:p`). */
export interface UpstreamAddress {
  readonly isTLS: boolean;
  readonly host: string;
  readonly port: number;
  readonly origin: string;
}

/**
 * Whether `name` is a DNS hostname (lower-case letters, digits, '-', '_'; at most 253 chars)
 * or an IPv4 address. A name whose last label is all digits must be a valid IPv4 address.
 */
export function isHostname(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split('.');
  if (!labels.every((label) => kLabel.test(label))) return false;
  return !/^[0-9]+$/.test(labels[labels.length - 1] ?? '') || isIPv4(name);
}

/** Whether `name` is a service name: lower-case letters, digits and '-', 1 to 63, not '-' first. */
export function isServiceName(name: string): boolean {
  return kServiceName.test(name);
}

/** Whether `pattern` (already lower-cased) is a route host: a hostname, '*.suffix' or '*'. */
export function isHostPattern(pattern: string): boolean {
  if (pattern === '*') return true;
  if (pattern.startsWith('*.')) return isHostname(pattern.slice(2));
  return isHostname(pattern) || isBracketedIPv6(pattern);
}

/** Whether `text` is a single IPv4/IPv6 address or a CIDR block such as `10.0.0.0/8`. */
export function isAddressOrCIDR(text: string): boolean {
  const slash = text.indexOf('/');
  const addr = slash === -1 ? text : text.slice(0, slash);
  const isV4 = isIPv4(addr);
  // Zone ids (fe80::1%eth0) name a local interface, which means nothing in a trust list.
  const isV6 = !isV4 && isIPv6(addr) && !addr.includes('%');
  if (!isV4 && !isV6) return false;
  if (slash === -1) return true;

  const bits = text.slice(slash + 1);
  if (!kPrefixBits.test(bits)) return false;
  return Number(bits) <= (isV4 ? 32 : 128);
}

/** Whether `host` is an address a listener can bind: an IP literal or `localhost`. */
export function isBindHost(host: string): boolean {
  return host === 'localhost' || isIPv4(host) || (isIPv6(host) && !host.includes('%'));
}

/**
 * Parses an upstream address: `host:port`, `[v6]:port`, or either behind `https://` for TLS.
 * Returns undefined when the text is not one of these (no path, user info or query allowed).
 */
export function parseUpstreamAddress(text: string): UpstreamAddress | undefined {
  const isTLS = text.startsWith('https://');
  const rest = isTLS ? text.slice('https://'.length) : text;
  const colon = rest.lastIndexOf(':');
  if (colon <= 0) return undefined;

  // 1. the port: decimal, 1..65535, no sign or leading zeros
  const portText = rest.slice(colon + 1);
  if (!kDigits.test(portText)) return undefined;
  const port = Number(portText);
  if (port < 1 || port > 65535) return undefined;

  // 2. the host: a bracketed IPv6 literal, or a hostname / IPv4 address
  const rawHost = rest.slice(0, colon).toLowerCase();
  if (isBracketedIPv6(rawHost)) {
    return { isTLS, host: rawHost.slice(1, -1), port, origin: origin(isTLS, rawHost, port) };
  }
  if (!isHostname(rawHost)) return undefined;
  return { isTLS, host: rawHost, port, origin: origin(isTLS, rawHost, port) };
}

/**
 * Returns why `prefix` is not a valid route path prefix, as an 'expected ...' phrase, or
 * undefined when it is valid: starts with '/', no trailing '/' (except '/' itself), no empty
 * segment, no '.' or '..' segment, only unreserved and sub-delimiter characters.
 */
export function pathPrefixProblem(prefix: string): string | undefined {
  if (!prefix.startsWith('/')) return 'expected a path prefix starting with "/"';
  if (prefix === '/') return undefined;
  if (!kPrefixChars.test(prefix)) {
    return 'expected a path prefix of letters, digits and -._~!$&\'()*+,=:@/ only';
  }
  if (prefix.endsWith('/')) return 'expected a path prefix without a trailing "/"';
  if (prefix.includes('//')) return 'expected a path prefix without empty segments ("//")';

  const segments = prefix.split('/');
  if (segments.some((s) => s === '.' || s === '..')) {
    return 'expected a path prefix without "." or ".." segments';
  }
  return undefined;
}

/** Whether `name` (already lower-cased) is a valid HTTP header field name (RFC 9110 token). */
export function isHeaderName(name: string): boolean {
  return kHeaderName.test(name);
}

/**
 * Whether `text` is an absolute http(s) URL written as such: a literal lower-case `http://` or
 * `https://` start, a host, no user info, no spaces or control characters. (The WHATWG parser
 * would quietly repair `HTTPS:host` or strip spaces; a value compared exactly must not need it.)
 */
export function isHttpUrl(text: string): boolean {
  if (!/^https?:\/\//.test(text) || /[\u0000-\u0020\u007f]/.test(text)) return false;
  try {
    const url = new URL(text);
    return url.hostname !== '' && url.username === '' && url.password === '';
  } catch {
    return false;
  }
}

/** Whether `text` is an OpenID issuer identifier: an http(s) URL without query or fragment. */
export function isIssuerUrl(text: string): boolean {
  return isHttpUrl(text) && !text.includes('?') && !text.includes('#');
}

function isBracketedIPv6(text: string): boolean {
  if (!text.startsWith('[') || !text.endsWith(']')) return false;
  const inner = text.slice(1, -1);
  return isIPv6(inner) && !inner.includes('%');
}

function origin(isTLS: boolean, host: string, port: number): string {
  return `${isTLS ? 'https' : 'http'}://${host}:${port}`;
}
