/**
 * A verified client certificate, turned into the identity a principal carries (mTLS listener).
 *
 * The TLS layer has already checked the chain, the validity period and the key; this module only
 * reads names, and refuses the certificate when a name could not be passed on safely:
 *
 * 1. subject and issuer DNs come from node's multi-line form (OpenSSL RFC 2253 escaping, control
 *    characters as `\XX`) and become RFC 4514 strings, most specific RDN first; an escaped
 *    control character refuses, non-ASCII is written as escaped UTF-8 octets (RFC 4514 section
 *    2.4) so that a DN is always plain ASCII;
 * 2. subject alternative names come from node's `subjectAltName` list, in which any name holding
 *    a comma, quote, backslash or control character is a JSON string (node's fix for
 *    CVE-2021-44532), so the list splits unambiguously on ", "; DNS, URI and email names must be
 *    printable ASCII without spaces: CR, LF or NUL in any name refuses (threats.md, header
 *    injection from certificate data);
 * 3. the SPIFFE ID is the one URI SAN with the `spiffe` scheme, checked against the SPIFFE-ID
 *    standard (section 2: lower-case trust domain, `[A-Za-z0-9._-]` path segments, no dot
 *    segments, query, fragment, port or user info); two such URIs are ambiguous and refuse
 *    (X.509-SVID section 2 allows exactly one).
 *
 * Codes: IAM_AUTHN_CERTIFICATE_INVALID, IAM_AUTHN_CERTIFICATE_AMBIGUOUS.
 */
import type { X509Certificate } from 'node:crypto';
import type { ErrorCode } from '../errors/index.js';
import type { CertificateIdentity } from './principal.js';

/** The identity, or the code that refuses the certificate. */
export type CertificateResult =
  | { readonly ok: true; readonly certificate: CertificateIdentity }
  | { readonly ok: false; readonly code: ErrorCode };

/** The names a certificate carries, before they are checked. */
export interface CertificateNames {
  readonly subject: string;
  readonly issuer: string;
  readonly dns: readonly string[];
  readonly uris: readonly string[];
  readonly emails: readonly string[];
  /** SHA-256 of the DER certificate, lower-case hex. */
  readonly fingerprint256: string;
  readonly notAfterSec: number | undefined;
  readonly isForwarded: boolean;
}

/** Most subject alternative names accepted on one certificate. */
export const kMaxAltNames = 256;
/** Longest name accepted (the SPIFFE-ID standard's own bound). */
export const kMaxNameLength = 2048;

const kInvalid: CertificateResult = Object.freeze({
  ok: false, code: 'IAM_AUTHN_CERTIFICATE_INVALID',
});
const kAmbiguous: CertificateResult = Object.freeze({
  ok: false, code: 'IAM_AUTHN_CERTIFICATE_AMBIGUOUS',
});
const kSpiffeId = /^spiffe:\/\/[a-z0-9._-]{1,255}((?:\/[A-Za-z0-9._-]+)*)$/;
const kHex = /^[0-9a-f]{64}$/;
const kEncoder = new TextEncoder();

/** The identity of a certificate the TLS layer verified (node's X509Certificate). */
export function certificateIdentity(x509: X509Certificate): CertificateResult {
  const subject = distinguishedName(x509.subject);
  const issuer = distinguishedName(x509.issuer);
  const names = altNames(x509.subjectAltName);
  const notAfterMs = Date.parse(x509.validTo);
  if (subject === undefined || issuer === undefined || names === undefined) return kInvalid;
  if (!Number.isFinite(notAfterMs)) return kInvalid;
  return checkedIdentity({
    subject, issuer, ...names,
    fingerprint256: x509.fingerprint256.replaceAll(':', '').toLowerCase(),
    notAfterSec: Math.floor(notAfterMs / 1000),
    isForwarded: false,
  });
}

/**
 * Checks `names` (from a certificate, or from a trusted proxy's header) and picks the SPIFFE ID.
 * The result is frozen and shares no array with `names`.
 */
export function checkedIdentity(names: CertificateNames): CertificateResult {
  // Step 1: every name printable ASCII, bounded.
  if (!isPrintable(names.subject, true) || !isPrintable(names.issuer, true)) return kInvalid;
  if (names.dns.length + names.uris.length + names.emails.length > kMaxAltNames) return kInvalid;
  for (const list of [names.dns, names.uris, names.emails]) {
    for (const name of list) if (!isPrintable(name, false)) return kInvalid;
  }
  const notAfter = names.notAfterSec;
  if (!kHex.test(names.fingerprint256)) return kInvalid;
  if (notAfter !== undefined && !Number.isSafeInteger(notAfter)) return kInvalid;

  // Step 2: the SPIFFE ID, from the one URI with that scheme.
  let spiffeId: string | undefined;
  for (const uri of names.uris) {
    if (uri.length < 7 || uri.slice(0, 7).toLowerCase() !== 'spiffe:') continue;
    if (spiffeId !== undefined) return kAmbiguous;
    if (!isSpiffeId(uri)) return kInvalid;
    spiffeId = uri;
  }

  return {
    ok: true,
    certificate: Object.freeze({
      subject: names.subject,
      issuer: names.issuer,
      dns: Object.freeze([...names.dns]),
      uris: Object.freeze([...names.uris]),
      emails: Object.freeze([...names.emails]),
      spiffeId,
      fingerprint256: names.fingerprint256,
      notAfterSec: names.notAfterSec,
      isForwarded: names.isForwarded,
    }),
  };
}

/** SPIFFE-ID standard section 2, and its 2048-byte bound. */
function isSpiffeId(uri: string): boolean {
  if (uri.length > kMaxNameLength) return false;
  const match = kSpiffeId.exec(uri);
  if (match === null) return false;
  for (const segment of (match[1] as string).split('/')) {
    if (segment === '.' || segment === '..') return false;
  }
  return true;
}

/** Printable ASCII (0x21-0x7E, and the space where `isSpaceOk`), at most kMaxNameLength. */
function isPrintable(text: string, isSpaceOk: boolean): boolean {
  if (text.length > kMaxNameLength) return false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c > 0x7e || c < 0x20 || (c === 0x20 && !isSpaceOk)) return false;
  }
  return true;
}

/**
 * Node's multi-line DN (`C=DE\nO=Acme\, Inc\nCN=svc`, most general first) as an RFC 4514
 * string (`CN=svc,O=Acme\, Inc,C=DE`); undefined when it holds a control character.
 */
export function distinguishedName(text: string): string | undefined {
  if (text === '') return '';
  const rdns = text.split('\n');
  const out: string[] = [];
  for (let r = rdns.length - 1; r >= 0; r--) {
    const rdn = rdns[r] as string;
    let escaped = '';
    for (let i = 0; i < rdn.length; i++) {
      const c = rdn.charCodeAt(i);
      if (c === 0x5c && isHexPair(rdn, i + 1)) {
        // OpenSSL writes control characters (and only octets) as \XX.
        const octet = parseInt(rdn.slice(i + 1, i + 3), 16);
        if (octet < 0x20 || octet === 0x7f) return undefined;
        escaped += rdn.slice(i, i + 3);
        i += 2;
      } else if (c === 0x5c) {
        escaped += rdn.slice(i, i + 2);
        i += 1;
      } else if (c < 0x20 || c === 0x7f) {
        return undefined;
      } else if (c > 0x7e) {
        const cp = rdn.codePointAt(i) as number;
        if (cp > 0xffff) i++;
        for (const octet of kEncoder.encode(String.fromCodePoint(cp))) {
          escaped += `\\${octet.toString(16).toUpperCase().padStart(2, '0')}`;
        }
      } else {
        escaped += rdn[i];
      }
    }
    // A multi-valued RDN is written `OU=a + CN=b`; a literal plus in a value is escaped (`\+`).
    out.push(escaped.replaceAll(' + ', '+'));
  }
  return out.join(',');
}

function hasControl(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x20 || c === 0x7f) return true;
  }
  return false;
}

function isHexPair(text: string, at: number): boolean {
  return at + 1 < text.length && /^[0-9A-Fa-f]{2}$/.test(text.slice(at, at + 2));
}

/** DNS, URI and email names from node's `subjectAltName`; undefined when it cannot be read. */
export function altNames(text: string | undefined):
  { dns: string[]; uris: string[]; emails: string[] } | undefined {
  const names = { dns: [] as string[], uris: [] as string[], emails: [] as string[] };
  if (text === undefined || text === '') return names;
  const entries = text.split(', ');
  if (entries.length > kMaxAltNames) return undefined;
  for (const entry of entries) {
    const colon = entry.indexOf(':');
    if (colon <= 0) return undefined;
    const kind = entry.slice(0, colon);
    let value = entry.slice(colon + 1);
    if (value.startsWith('"')) {
      // Node's escaped form: a JSON string (its only escapes: \\, \" and \uXXXX).
      try {
        const parsed: unknown = JSON.parse(value);
        if (typeof parsed !== 'string') return undefined;
        value = parsed;
      } catch {
        return undefined;
      }
    }
    if (hasControl(value)) return undefined;
    if (kind === 'DNS') names.dns.push(value);
    else if (kind === 'URI') names.uris.push(value);
    else if (kind === 'email') names.emails.push(value);
  }
  return names;
}
