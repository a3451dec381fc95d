/**
 * Where a browser may be sent after login or logout (threats.md, "Open redirect in login/logout
 * flows"). A target is a path on the request's own origin or an absolute URL whose origin is on
 * the exact allow-list; the check runs on the parsed URL, and what is sent in `Location` is the
 * parsed URL serialised again, so the browser goes exactly where the check looked.
 *
 * Refused before parsing, because URL parsers disagree about them or quietly repair them:
 * - control characters, spaces and DEL anywhere (`/%09/evil` decodes to a tab, which WHATWG
 *   parsers drop, turning it into `//evil`);
 * - backslashes anywhere (`/\evil`, `\/evil`: browsers read `\` as `/` in http(s) URLs);
 * - a path that starts with `//` (protocol-relative: another host);
 * - any other relative form, and any scheme but http and https (`javascript:`, `data:`);
 * - an authority that is not plain ASCII host[:port]: user info (`@`), percent escapes, and
 *   Unicode hosts (IDN look-alikes must be written, and are compared, in their `xn--` form).
 */

/** Longest target accepted, in characters. */
export const kMaxRedirectTargetLength = 2048;

/** Refuses C0 controls, space, DEL, the C1 block, backslashes and invisible line breaks. */
function hasUnsafeCharacter(text: string): boolean {
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c <= 0x20 || c === 0x7f || (c >= 0x80 && c <= 0x9f) || c === 0x5c) return true;
    // U+2028/2029 end lines in some consumers; U+FEFF is invisible.
    if (c === 0x2028 || c === 0x2029 || c === 0xfeff) return true;
  }
  return false;
}

/** host, host:port, [v6] or [v6]:port, in ASCII, no user info or escapes. */
const kAuthority = /^(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?$/;
const kAbsolute = /^(https?):\/\/([^/?#]*)/i;

/**
 * The origin of an allow-list entry as configured (`https://app.example.com`, no path), or
 * undefined when the text is not exactly an http(s) origin in ASCII form.
 */
export function parseAllowedOrigin(text: string): string | undefined {
  const match = kAbsolute.exec(text);
  if (match === null || match[0] !== text || !kAuthority.test(match[2] as string)) {
    return undefined;
  }
  try {
    const url = new URL(text);
    return url.origin === text.toLowerCase() ? url.origin : undefined;
  } catch {
    return undefined;
  }
}

/** The redirect rule of one proxy: same origin, or an origin on the exact allow-list. */
export class RedirectTargets {
  readonly #allowed: ReadonlySet<string>;

  /** `allowedOrigins` must already be valid (`parseAllowedOrigin`); they are compared exactly. */
  constructor(allowedOrigins: readonly string[]) {
    this.#allowed = new Set(allowedOrigins.map((o) => parseAllowedOrigin(o) ?? ''));
  }

  /**
   * The absolute URL to send the browser to for `target` (as the client gave it, already
   * percent-decoded once), seen from a request on `origin` (`https://host[:port]`), or undefined
   * when the target is refused. Never throws.
   */
  resolve(target: string, origin: string): string | undefined {
    if (target.length === 0 || target.length > kMaxRedirectTargetLength) return undefined;
    if (hasUnsafeCharacter(target)) return undefined;

    // A path on this origin: one leading slash, never two.
    if (target.startsWith('/')) {
      if (target.startsWith('//')) return undefined;
      const url = parse(target, origin);
      return url !== undefined && url.origin === origin ? url.href : undefined;
    }

    // An absolute http(s) URL whose authority is plain ASCII and whose origin is allowed.
    const match = kAbsolute.exec(target);
    if (match === null || !kAuthority.test(match[2] as string)) return undefined;
    const url = parse(target, undefined);
    if (url === undefined || url.username !== '' || url.password !== '') return undefined;
    if (url.origin !== origin && !this.#allowed.has(url.origin)) return undefined;
    return url.href;
  }
}

function parse(text: string, base: string | undefined): URL | undefined {
  try {
    const url = new URL(text, base);
    return url.protocol === 'https:' || url.protocol === 'http:' ? url : undefined;
  } catch {
    return undefined;
  }
}
