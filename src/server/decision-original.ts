/**
 * The original request an ingress asks about, read from its check request. Each ingress
 * describes it differently (`listeners.decision.flavor`):
 *
 * | flavor  | method               | URI (path + query)          | host                          |
 * |---------|----------------------|-----------------------------|-------------------------------|
 * | nginx   | `X-Original-Method`  | `X-Original-URI`            | `X-Forwarded-Host`, else Host |
 * | traefik | `X-Forwarded-Method` | `X-Forwarded-Uri`           | `X-Forwarded-Host`            |
 * | envoy   | the check's method   | the check's target, less `pathPrefix` | the check's Host    |
 *
 * Every flavor: the scheme from `X-Forwarded-Proto` (optional, `http` or `https`), the client's
 * address from `X-Real-IP` and the last element of `X-Forwarded-For` (the one the ingress
 * appended: the peer it saw); when both are present they must agree, so a header the ingress
 * does not set cannot be filled in by the client. These headers are only read from a trusted
 * ingress (the caller checks the peer first). Nothing here decodes or normalizes the URI: it
 * goes through `canonicalizeTarget` like any request target.
 */
import { isIP } from 'node:net';
import type { DecisionFlavor } from '../config/index.js';
import type { ErrorCode } from '../errors/index.js';
import { type HostPort, parseHost } from '../routing/index.js';
import { joinedValue, singleHeaderValue } from './header-values.js';

/** The request an ingress asks about. Strings are the ingress's, trimmed; nothing decoded. */
export interface OriginalRequest {
  /** Upper-case method token (upper-cased as the proxy listener's front end does). */
  readonly method: string;
  /** The raw request target, to be canonicalized. */
  readonly target: string;
  /** The host, parsed by `parseHost`. */
  readonly host: HostPort;
  /** `host[:port]` as parsed, for absolute-form targets. */
  readonly hostText: string;
  /** The scheme the client used, when the ingress said. */
  readonly scheme: 'http' | 'https' | undefined;
  /** The client's address: IPv4 dotted or IPv6 text, hex digits, dots and colons only. */
  readonly sourceAddress: string;
}

/** Outcome of `readOriginalRequest`. */
export type OriginalResult =
  | { readonly ok: true; readonly value: OriginalRequest }
  | { readonly ok: false; readonly code: ErrorCode };

/** The check request's parts the original is read from. */
export interface CheckRequest {
  /** Upper-case method of the check request itself. */
  readonly method: string;
  /** Its raw target. */
  readonly target: string;
  /** Its headers, flat, names lower-case. */
  readonly headers: readonly string[];
  /** Its Host header, parsed (checkRequestHeaders). */
  readonly host: HostPort;
}

/** How one decision listener reads its checks (config `listeners.decision`). */
export interface OriginalOptions {
  readonly flavor: DecisionFlavor;
  /** Envoy `path_prefix`: the check target is this plus the original target. */
  readonly pathPrefix: string | undefined;
}

const kNames = {
  nginx: { method: 'x-original-method', uri: 'x-original-uri' },
  traefik: { method: 'x-forwarded-method', uri: 'x-forwarded-uri' },
} as const;

// RFC 9110 section 5.6.2 token; an address of hex digits, dots and colons (no zone id).
const kToken = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const kAddressChars = /^[0-9A-Fa-f:.]+$/;

function failure(code: ErrorCode): OriginalResult {
  return { ok: false, code };
}

/** A header value without the optional whitespace around it (RFC 9110 section 5.5). */
function trimmed(value: string): string {
  return value.replace(/^[ \t]+|[ \t]+$/g, '');
}

/**
 * Reads the original request out of `check` for `opts.flavor`. Codes:
 * IAM_DECISION_ORIGINAL_MISSING (method, URI, host or client address not given),
 * IAM_DECISION_ORIGINAL_INVALID (one repeated, a method that is no token, a scheme other than
 * http/https, an address that is no IP address, X-Real-IP and X-Forwarded-For disagreeing),
 * IAM_ROUTING_HOST_INVALID (a host `parseHost` refuses), IAM_DECISION_PATH_PREFIX_MISMATCH
 * (envoy: the target outside `pathPrefix`). Never throws.
 */
export function readOriginalRequest(check: CheckRequest, opts: OriginalOptions): OriginalResult {
  const { headers } = check;

  // Step 1: method and target, where the flavor keeps them.
  let method: string;
  let target: string;
  let host: HostPort | undefined;
  if (opts.flavor === 'envoy') {
    method = check.method;
    target = check.target;
    const prefix = opts.pathPrefix;
    if (prefix !== undefined) {
      if (!target.startsWith(prefix) || target.charCodeAt(prefix.length) !== 0x2f) {
        return failure('IAM_DECISION_PATH_PREFIX_MISMATCH');
      }
      target = target.slice(prefix.length);
    }
    host = check.host;
  } else {
    const names = kNames[opts.flavor];
    const rawMethod = singleHeaderValue(headers, names.method);
    const rawTarget = singleHeaderValue(headers, names.uri);
    if (rawMethod === null || rawTarget === null) return failure('IAM_DECISION_ORIGINAL_INVALID');
    if (rawMethod === undefined || rawTarget === undefined) {
      return failure('IAM_DECISION_ORIGINAL_MISSING');
    }
    method = trimmed(rawMethod);
    if (!kToken.test(method)) return failure('IAM_DECISION_ORIGINAL_INVALID');
    method = method.toUpperCase();
    target = trimmed(rawTarget);
  }

  // Step 2: the host (nginx falls back to the check's own Host, which nginx passes on).
  if (opts.flavor !== 'envoy') {
    const forwardedHost = singleHeaderValue(headers, 'x-forwarded-host');
    if (forwardedHost === null) return failure('IAM_DECISION_ORIGINAL_INVALID');
    if (forwardedHost === undefined && opts.flavor === 'traefik') {
      return failure('IAM_DECISION_ORIGINAL_MISSING');
    }
    host = forwardedHost === undefined ? check.host : parseHost(trimmed(forwardedHost));
    if (host === undefined) return failure('IAM_ROUTING_HOST_INVALID');
  }
  const parsedHost = host as HostPort;

  // Step 3: the scheme, when given.
  const proto = singleHeaderValue(headers, 'x-forwarded-proto');
  if (proto === null) return failure('IAM_DECISION_ORIGINAL_INVALID');
  const schemeText = proto === undefined ? undefined : trimmed(proto).toLowerCase();
  if (schemeText !== undefined && schemeText !== 'http' && schemeText !== 'https') {
    return failure('IAM_DECISION_ORIGINAL_INVALID');
  }

  // Step 4: the client's address.
  const source = clientAddress(headers);
  if (typeof source !== 'string') return failure(source.code);
  if (source === '') return failure('IAM_DECISION_ORIGINAL_MISSING');

  return { ok: true, value: {
    method, target, host: parsedHost,
    hostText: parsedHost.port === undefined ? parsedHost.host
      : `${parsedHost.host}:${parsedHost.port}`,
    scheme: schemeText, sourceAddress: source,
  } };
}

/**
 * The client's address from `X-Real-IP` and the last `X-Forwarded-For` element: '' when both
 * are absent, the code when one is malformed, repeated (X-Real-IP) or they disagree.
 */
function clientAddress(headers: readonly string[]): string | { readonly code: ErrorCode } {
  const invalid = { code: 'IAM_DECISION_ORIGINAL_INVALID' } as const;
  const realIp = singleHeaderValue(headers, 'x-real-ip');
  if (realIp === null) return invalid;
  const forwardedFor = joinedValue(headers, 'x-forwarded-for');
  const last = forwardedFor === undefined ? undefined
    : forwardedFor.slice(forwardedFor.lastIndexOf(',') + 1);

  const fromRealIp = realIp === undefined ? undefined : ipAddress(realIp);
  const fromForwarded = last === undefined ? undefined : ipAddress(last);
  if (fromRealIp === null || fromForwarded === null) return invalid;
  if (fromRealIp !== undefined && fromForwarded !== undefined && fromRealIp !== fromForwarded) {
    return invalid;
  }
  return fromRealIp ?? fromForwarded ?? '';
}

/** `text` (trimmed) as a lower-case IP address, or null when it is not one. */
function ipAddress(text: string): string | null {
  const value = trimmed(text).toLowerCase();
  return kAddressChars.test(value) && isIP(value) !== 0 ? value : null;
}
