/**
 * Serializes the caller's request head into the byte string written to the upstream.
 *
 * The caller has already validated and canonicalized the request; this is the last defensive
 * check before bytes leave the proxy. A CR, LF or NUL in any part, a name that is not a token, or
 * a framing field supplied by the caller would let one request be read as two (request smuggling),
 * so the whole head is refused and nothing is written.
 */
import type { BodyFraming, UpstreamRequestHead } from './types.js';

// tchar (RFC 9110 section 5.6.2); a regular expression runs the scan natively, once per field.
const kTokenRe = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// field-value octets: HTAB, SP, VCHAR, obs-text. Anything above 0xFF is not a byte string.
const kValueRe = /^[\t\x20-\x7e\x80-\xff]*$/;
// origin-form (path plus query) or the asterisk form of OPTIONS: visible ASCII only.
const kTargetRe = /^(?:\/[\x21-\x7e]*|\*)$/;

/** Methods that are safe to send again when a reused connection turned out to be closed. */
const kRetriableMethods: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE']);

/**
 * Returns the head as a latin1 byte string (request line, the caller's fields in order, the one
 * framing field derived from `head.body`, the empty line), or null when any part is refused.
 * The string is written with the 'latin1' encoding, one character per octet.
 */
export function encodeRequestHead(head: UpstreamRequestHead): string | null {
  const { method, target, headers, body } = head;
  if (!kTokenRe.test(method) || method === 'CONNECT' || !kTargetRe.test(target)) return null;
  if (headers.length % 2 !== 0) return null;

  let text = `${method} ${target} HTTP/1.1\r\n`;
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const value = headers[i + 1]!;
    if (!kTokenRe.test(name) || !kValueRe.test(value) || isFramingField(name)) return null;
    text += `${name}: ${value}\r\n`;
  }

  const framing = framingField(body);
  if (framing === null) return null;
  return `${text}${framing}\r\n`;
}

/** True when a request may be sent once more after the stale-connection race (README). */
export function isRetriableRequest(head: UpstreamRequestHead): boolean {
  return isBodiless(head) && kRetriableMethods.has(head.method);
}

/** True when the request carries no body octets (none, or a zero length). */
export function isBodiless(head: UpstreamRequestHead): boolean {
  const { body } = head;
  return body.kind === 'none' || (body.kind === 'length' && body.length === 0);
}

/** The framing field line for `body`, '' for none, null for an invalid length. */
function framingField(body: BodyFraming): string | null {
  switch (body.kind) {
    case 'none':
      return '';
    case 'chunked':
      return 'transfer-encoding: chunked\r\n';
    case 'length':
      if (!Number.isSafeInteger(body.length) || body.length < 0) return null;
      return `content-length: ${body.length}\r\n`;
    default:
      return null;
  }
}

/** Content-Length and Transfer-Encoding belong to the client, never to the caller. */
function isFramingField(name: string): boolean {
  if (name.length === 14) return name.toLowerCase() === 'content-length';
  if (name.length === 17) return name.toLowerCase() === 'transfer-encoding';
  return false;
}
