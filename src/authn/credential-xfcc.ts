/**
 * Envoy's `X-Forwarded-Client-Cert` (XFCC), the client certificate a trusted front proxy checked,
 * read strictly. Only peers in `authn.forwardedClientCert.trustedProxies` are asked; from anyone
 * else the header is ignored (and, as an `x-forwarded-` header, never forwarded).
 *
 * Grammar (Envoy's, with no leniency beyond optional spaces around the commas that join header
 * lines):
 *
 *   header  = element *( OWS "," OWS element )        one element per proxy, oldest first
 *   element = pair *( ";" pair )
 *   pair    = key "=" value                            key: By Hash Cert Chain Subject URI DNS
 *   value   = quoted / *bare                           quoted: DQUOTE *( char / "\" DQUOTE /
 *                                                      "\\" ) DQUOTE; bare: no , ; = " space
 *
 * Rule: the last element counts. Each proxy appends one element describing the certificate of
 * the peer that connected to it, so the last one was added by the proxy closest to Portcullis,
 * the one whose address made the header trusted; earlier elements describe hops that proxy
 * vouched for in turn and are only parsed, not used. In that element `Hash` (the SHA-256 of the
 * certificate, hex) is required once, `Subject` and `By` at most once, `URI` and `DNS` any number
 * of times (empty values mean none); `Cert` and `Chain` are accepted and ignored. The names then
 * pass the same checks as a certificate of the mTLS listener (certificate-identity.ts): printable
 * ASCII, one SPIFFE ID at most. Anything else refuses (IAM_AUTHN_FORWARDED_CERT_INVALID, or the
 * certificate codes).
 */
import type { ErrorCode } from '../errors/index.js';
import { type CertificateResult, checkedIdentity } from './certificate-identity.js';
import { type CertificateIdentity, type Principal, principalFromCertificate } from './principal.js';

/** Most elements (proxy hops) and most pairs in one element accepted. */
export const kMaxElements = 16;
export const kMaxPairs = 64;

const kInvalid: CertificateResult = Object.freeze({
  ok: false, code: 'IAM_AUTHN_FORWARDED_CERT_INVALID',
});
const kKeys: ReadonlySet<string> = new Set(['By', 'Hash', 'Cert', 'Chain', 'Subject', 'URI', 'DNS']);
const kHash = /^[0-9A-Fa-f]{64}$/;

type Pair = readonly [key: string, value: string];

/** A forwarded certificate with its principal, or the code that refuses the request. */
export type ForwardedPeer =
  | { readonly ok: true; readonly certificate: CertificateIdentity; readonly principal: Principal }
  | { readonly ok: false; readonly code: ErrorCode };

/** Distinct header values remembered, and the longest one remembered. */
const kCacheEntries = 1024;
const kMaxCachedLength = 2048;

/**
 * Reads XFCC headers into principals. A front proxy sends the same few values again and again,
 * so the last `kCacheEntries` distinct ones (each at most `kMaxCachedLength` characters) are
 * remembered; the cache is emptied when full. One per proxy.
 */
export class ForwardedCertificates {
  readonly #cache = new Map<string, ForwardedPeer>();

  /** The principal `header` (every XFCC line of the request, joined by ",") names. */
  read(header: string): ForwardedPeer {
    const cached = this.#cache.get(header);
    if (cached !== undefined) return cached;
    const result = forwardedCertificate(header);
    const peer: ForwardedPeer = result.ok ? Object.freeze({
      ok: true, certificate: result.certificate,
      principal: principalFromCertificate(result.certificate),
    }) : result;
    if (header.length <= kMaxCachedLength) {
      if (this.#cache.size >= kCacheEntries) this.#cache.clear();
      this.#cache.set(header, peer);
    }
    return peer;
  }
}

/** The identity the header's last element describes, or the code that refuses it. */
export function forwardedCertificate(header: string): CertificateResult {
  const elements = parseHeader(header);
  const last = elements?.[elements.length - 1];
  if (last === undefined) return kInvalid;

  // The closest proxy's element: Hash once; Subject and By at most once; URI, DNS repeated.
  let hash: string | undefined;
  let subject: string | undefined;
  let isBySeen = false;
  const uris: string[] = [];
  const dns: string[] = [];
  for (const [key, value] of last) {
    if (key === 'Hash') {
      if (hash !== undefined || !kHash.test(value)) return kInvalid;
      hash = value.toLowerCase();
    } else if (key === 'Subject') {
      if (subject !== undefined) return kInvalid;
      subject = value;
    } else if (key === 'By') {
      if (isBySeen) return kInvalid;
      isBySeen = true;
    } else if (key === 'URI') {
      if (value !== '') uris.push(value);
    } else if (key === 'DNS') {
      if (value !== '') dns.push(value);
    }
  }
  if (hash === undefined) return kInvalid;
  return checkedIdentity({
    subject: subject ?? '', issuer: '', dns, uris, emails: [], fingerprint256: hash,
    notAfterSec: undefined, isForwarded: true,
  });
}

/** Every element as its pairs, in order; undefined when the header does not parse. */
function parseHeader(header: string): Pair[][] | undefined {
  const elements: Pair[][] = [];
  let pairs: Pair[] = [];
  let i = 0;
  for (;;) {
    // key "="
    const eq = header.indexOf('=', i);
    if (eq <= i) return undefined;
    const key = header.slice(i, eq);
    if (!kKeys.has(key)) return undefined;
    i = eq + 1;

    // value: quoted or bare
    let value = '';
    if (header.charCodeAt(i) === 0x22) {
      i++;
      for (;;) {
        if (i >= header.length) return undefined;
        const c = header.charCodeAt(i);
        if (c === 0x22) break;
        if (c === 0x5c) {
          const next = header.charCodeAt(i + 1);
          if (next !== 0x22 && next !== 0x5c) return undefined;
          value += header[i + 1];
          i += 2;
          continue;
        }
        if (c < 0x20 || c === 0x7f) return undefined;
        value += header[i];
        i++;
      }
      i++;
    } else {
      const start = i;
      while (i < header.length && isBare(header.charCodeAt(i))) i++;
      value = header.slice(start, i);
    }
    pairs.push([key, value]);
    if (pairs.length > kMaxPairs) return undefined;

    // ";" next pair, "," next element, or the end
    if (i >= header.length) break;
    const c = header.charCodeAt(i);
    if (c === 0x3b) {
      i++;
      continue;
    }
    if (c !== 0x2c && c !== 0x20 && c !== 0x09) return undefined;
    while (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x09) i++;
    if (header.charCodeAt(i) !== 0x2c) return undefined;
    i++;
    while (header.charCodeAt(i) === 0x20 || header.charCodeAt(i) === 0x09) i++;
    elements.push(pairs);
    if (elements.length >= kMaxElements) return undefined;
    pairs = [];
  }
  elements.push(pairs);
  return elements;
}

/** A character allowed in an unquoted value: visible ASCII except `"`, `,`, `;` and `=`. */
function isBare(c: number): boolean {
  return c > 0x20 && c < 0x7f && c !== 0x22 && c !== 0x2c && c !== 0x3b && c !== 0x3d;
}
