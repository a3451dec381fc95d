/**
 * Strict e-mail addresses for identity decisions (threats.md, "Claim parsing tricks": a
 * multi-`@` address such as `alice@evil.test@example.com` passed a domain check elsewhere).
 *
 * An address is accepted only in the one unambiguous form: exactly one `@`; a dot-atom local
 * part (RFC 5322 section 3.2.3 `atext` and single dots, 1-64 characters, no quoted strings, no
 * comments, no backslashes, ASCII only); a DNS domain of at least two labels, no IP literal and
 * no trailing dot. A domain written in Unicode is converted to its ASCII (`xn--`) form with
 * IDNA, and every domain is lower-cased, so comparing domains is comparing strings. Anything
 * else is refused rather than repaired: a caller that checks the domain must never see a
 * different domain than the mail system would.
 */
import { domainToASCII } from 'node:url';

/** A parsed address: `local` as written, `domain` in lower-case ASCII. */
export interface EmailAddress {
  readonly local: string;
  readonly domain: string;
  /** `local@domain`: the normalised whole. */
  readonly address: string;
}

/** RFC 5321 section 4.5.3.1: path length (254 for the address itself). */
const kMaxAddressLength = 254;
const kMaxLocalLength = 64;
/** RFC 5322 dot-atom: atext runs separated by single dots. */
const kDotAtom = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** One DNS label (RFC 1123): letters, digits and inner hyphens, at most 63. */
const kLabel = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

/**
 * Parses `text` strictly (see the file comment). Returns undefined for anything that is not
 * one plain address; never throws.
 */
export function parseEmailAddress(text: string): EmailAddress | undefined {
  // 1. Bounds, and exactly one @ (a second one is the classic bypass).
  if (text.length === 0 || text.length > kMaxAddressLength) return undefined;
  const at = text.indexOf('@');
  if (at <= 0 || at !== text.lastIndexOf('@')) return undefined;

  // 2. The local part: a dot-atom in ASCII (no quotes, comments, spaces or escapes).
  const local = text.slice(0, at);
  if (local.length > kMaxLocalLength || !kDotAtom.test(local)) return undefined;

  // 3. The domain: IDNA to ASCII, then plain DNS labels only.
  const written = text.slice(at + 1);
  if (written === '' || written.startsWith('[') || written.endsWith('.')) return undefined;
  const domain = isAscii(written) ? written.toLowerCase() : domainToASCII(written);
  if (domain === '' || domain.length > 253) return undefined;
  const labels = domain.split('.');
  if (labels.length < 2 || !labels.every((label) => kLabel.test(label))) return undefined;
  // An all-numeric last label would make the domain an IPv4 address in disguise.
  if (/^[0-9]+$/.test(labels[labels.length - 1] as string)) return undefined;

  return Object.freeze({ local, domain, address: `${local}@${domain}` });
}

/**
 * The verified address of a claim set: `email` parsed strictly, and only when `email_verified`
 * is `true` (the boolean, or the string `"true"` some providers send). Undefined otherwise.
 */
export function verifiedEmail(claims: Readonly<Record<string, unknown>>): EmailAddress | undefined {
  const verified = claims.email_verified;
  if (verified !== true && verified !== 'true') return undefined;
  const email = claims.email;
  return typeof email === 'string' ? parseEmailAddress(email) : undefined;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7e) return false;
  return true;
}
