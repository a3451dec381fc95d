/**
 * Builds the header list the upstream receives from the one the client sent.
 *
 * Order of the rules (each is a threat in shared/reference/threats.md):
 * 1. Hop-by-hop headers (RFC 9110 section 7.6.1) and every header named in `Connection` are
 *    dropped. The proxy's own headers are appended after the filter, so a client that writes
 *    `Connection: X-Forwarded-For` cannot delete what the proxy sets.
 * 2. Identity and forwarding headers are dropped in every case, dash and underscore variant
 *    (`X-User`, `x_user`, `X-Forwarded-For`, `X-Auth-*`, ...). Only the proxy sets them.
 * 3. `X-Forwarded-For/Proto/Host` are set by the proxy. Inbound values are kept (and appended to)
 *    only when the peer address is in the configured trusted-proxy CIDRs.
 */
import { BlockList, isIPv6 } from 'node:net';

/** Headers that describe one connection only (RFC 9110 section 7.6.1, RFC 9112). */
const kHopByHop = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding',
  'upgrade', 'content-length', 'host', 'expect', 'proxy-authorization', 'proxy-authenticate',
]);

/** Exact names (after lower-casing and `_` -> `-`) that carry identity or forwarding claims. */
const kIdentityNames = new Set([
  'forwarded', 'x-real-ip', 'x-request-id', 'true-client-ip', 'remote-user', 'x-email',
  'x-jwt', 'x-id-token', 'x-access-token', 'x-principal', 'x-subject', 'x-groups', 'x-roles',
  'x-scopes', 'x-tenant', 'x-spiffe-id', 'x-ssl-client-cert', 'ssl-client-cert',
]);

/** Name prefixes (after normalisation) reserved for the proxy's identity and forwarding data. */
const kIdentityPrefixes = [
  'x-forwarded-', 'x-auth-', 'x-authenticated-', 'x-portcullis-', 'x-user', 'x-remote-',
  'x-client-', 'x-original-', 'x-envoy-', 'x-rewrite-',
];

/** `_` read as `-`: some servers and CGI gateways treat the two as one. */
function dashed(lowerName: string): string {
  return lowerName.includes('_') ? lowerName.replaceAll('_', '-') : lowerName;
}

/**
 * Whether a request header name is one the proxy owns, in any case/dash/underscore spelling.
 * Clients can never set these; they are removed before anything else looks at the request.
 */
export function isReservedIdentityHeader(lowerName: string): boolean {
  const name = dashed(lowerName);
  if (kIdentityNames.has(name)) return true;
  for (const prefix of kIdentityPrefixes) {
    if (name.startsWith(prefix)) return true;
  }
  return false;
}

/** Everything `buildUpstreamHeaders` needs about the inbound request, already validated. */
export interface ForwardInput {
  /** Flat inbound headers [name, value, ...], names lower-case, as copied from the front end. */
  readonly headers: readonly string[];
  /** Normalised Host header value (host[:port]) sent on to the upstream. */
  readonly host: string;
  /** Peer address as text (IPv4 dotted or IPv6). */
  readonly remoteAddress: string;
  /** 'http' or 'https': the scheme of the listener the request arrived on. */
  readonly proto: 'http' | 'https';
  /** The request id the proxy settled on (generated or validated inbound). */
  readonly requestId: string;
  /** Lower-case name of the request-id header (default `x-request-id`). */
  readonly requestIdHeader: string;
  /** Drop the client's `Authorization` header (an authenticated route that keeps the token). */
  readonly dropAuthorization?: boolean;
  /** Identity headers of the verified principal, appended after the proxy's own. */
  readonly identity?: readonly string[];
  /**
   * Further names the proxy owns for this service (identity headers renamed out of the
   * reserved namespace): removed from the client's headers in every `_`/`-` spelling.
   */
  readonly ownedNames?: ReadonlySet<string>;
  /** Headers the active policy adds as obligations (dashed, lower-case): removed the same way. */
  readonly policyOwnedNames?: ReadonlySet<string>;
}

/** Trusted front proxies: their X-Forwarded-* values are kept and appended to. */
export class TrustedProxies {
  readonly #list = new BlockList();
  readonly #isEmpty: boolean;

  /** `cidrs`: addresses or CIDRs, already validated by the config schema. */
  constructor(cidrs: readonly string[]) {
    for (const entry of cidrs) {
      const [addr = '', bits] = entry.split('/');
      const family = isIPv6(addr) ? 'ipv6' : 'ipv4';
      if (bits === undefined) this.#list.addAddress(addr, family);
      else this.#list.addSubnet(addr, Number(bits), family);
    }
    this.#isEmpty = cidrs.length === 0;
  }

  /** Whether `address` is one of the trusted proxies. */
  has(address: string): boolean {
    if (this.#isEmpty || address === '') return false;
    return this.#list.check(address, isIPv6(address) ? 'ipv6' : 'ipv4');
  }
}

/**
 * Returns the flat header list for the upstream request: the filtered client headers followed by
 * Host, X-Forwarded-For/Proto/Host and X-Request-Id. The returned array is new and owned by the
 * caller. Never throws.
 */
export function buildUpstreamHeaders(input: ForwardInput, trusted: TrustedProxies): string[] {
  const { headers } = input;
  const isTrusted = trusted.has(input.remoteAddress);
  let connectionNamed: Set<string> | undefined;
  let inboundFor: string | undefined;
  let inboundProto: string | undefined;
  let inboundHost: string | undefined;

  // Step 1: collect what `Connection` names, and the forwarding values a trusted peer sent.
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (name === 'connection') {
      connectionNamed ??= new Set();
      for (const token of value.split(',')) connectionNamed.add(token.trim().toLowerCase());
    } else if (isTrusted && name === 'x-forwarded-for') {
      inboundFor = inboundFor === undefined ? value : `${inboundFor}, ${value}`;
    } else if (isTrusted && name === 'x-forwarded-proto') {
      inboundProto = value;
    } else if (isTrusted && name === 'x-forwarded-host') {
      inboundHost = value;
    }
  }

  // Step 2: keep end-to-end headers the proxy does not own.
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    if (kHopByHop.has(name) || isReservedIdentityHeader(name)) continue;
    if (input.ownedNames !== undefined && input.ownedNames.has(dashed(name))) continue;
    if (input.policyOwnedNames !== undefined && input.policyOwnedNames.has(dashed(name))) continue;
    if (name === input.requestIdHeader) continue;
    if (name === 'authorization' && input.dropAuthorization === true) continue;
    if (connectionNamed !== undefined && connectionNamed.has(name)) continue;
    out.push(name, headers[i + 1] as string);
  }

  // Step 3: the proxy's own headers, appended after filtering so nothing above can remove them.
  out.push(
    'host', input.host,
    'x-forwarded-for', inboundFor === undefined ? input.remoteAddress
      : `${inboundFor}, ${input.remoteAddress}`,
    'x-forwarded-proto', inboundProto ?? input.proto,
    'x-forwarded-host', inboundHost ?? input.host,
    input.requestIdHeader, input.requestId,
  );
  if (input.identity !== undefined) out.push(...input.identity);
  return out;
}
