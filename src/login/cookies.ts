/**
 * The proxy's two cookies, and keeping them to itself.
 *
 * - `__Host-<name>-session`: the session id (random, looked up on the server).
 * - `__Host-<name>-login`: the sealed pre-login state (sealed-cookie.ts), for one login only.
 *
 * Both are `Secure; HttpOnly; SameSite=Lax; Path=/` with no Domain: the `__Host-` prefix makes
 * browsers refuse them otherwise, so a sibling subdomain cannot plant or shadow them (RFC 6265bis
 * section 4.1.3.2). Lax is what the login needs: the IdP sends the browser back with a top-level
 * GET, which carries Lax cookies, while cross-site POSTs and subresources do not.
 *
 * Neither cookie ever reaches a service: `withoutProxyCookies` removes them from every request
 * forwarded while login is configured (the session id is a bearer credential).
 */

/** The cookie names of one proxy. */
export interface CookieNames {
  readonly session: string;
  readonly login: string;
}

/** Names from `login.cookieName` (already checked to be a cookie token). */
export function cookieNames(base: string): CookieNames {
  return Object.freeze({ session: `__Host-${base}-session`, login: `__Host-${base}-login` });
}

const kAttributes = '; Path=/; Secure; HttpOnly; SameSite=Lax';

/** A `Set-Cookie` value that stores `value` under `name` for `maxAgeSec` seconds. */
export function setCookie(name: string, value: string, maxAgeSec: number): string {
  return `${name}=${value}${kAttributes}; Max-Age=${Math.max(0, Math.floor(maxAgeSec))}`;
}

/** A `Set-Cookie` value that deletes `name`. */
export function clearCookie(name: string): string {
  return `${name}=${kAttributes}; Max-Age=0`;
}

/**
 * The value of cookie `name` in the request's `cookie` headers (flat header list, names
 * lower-case). Undefined when absent or empty, and also when it appears more than once: which
 * copy a browser meant cannot be told, so neither is trusted.
 */
export function cookieValue(headers: readonly string[], name: string): string | undefined {
  let found: string | undefined;
  let count = 0;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] !== 'cookie') continue;
    const text = headers[i + 1] as string;
    // Each occurrence of the name that starts a pair (after ';' and spaces) and is followed
    // by '=' (after spaces) is one copy of the cookie; no split, no array per request.
    for (let at = text.indexOf(name); at !== -1; at = text.indexOf(name, at + name.length)) {
      let before = at - 1;
      while (before >= 0 && text.charCodeAt(before) === 0x20) before--;
      if (before >= 0 && text.charCodeAt(before) !== 0x3b) continue;
      let eq = at + name.length;
      while (text.charCodeAt(eq) === 0x20) eq++;
      if (text.charCodeAt(eq) !== 0x3d) continue;
      const end = text.indexOf(';', eq);
      found = text.slice(eq + 1, end === -1 ? text.length : end).trim();
      count++;
    }
  }
  return count === 1 && found !== '' ? found : undefined;
}

/**
 * `headers` with the proxy's cookies taken out of every `cookie` header (a header left empty is
 * dropped). Returns `headers` itself when none is present, the common case; otherwise a new
 * array owned by the caller.
 */
export function withoutProxyCookies(headers: readonly string[], prefix: string): readonly string[] {
  let isPresent = false;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i] === 'cookie' && (headers[i + 1] as string).includes(prefix)) isPresent = true;
  }
  if (!isPresent) return headers;

  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i] as string;
    const value = headers[i + 1] as string;
    if (name !== 'cookie' || !value.includes(prefix)) {
      out.push(name, value);
      continue;
    }
    const kept = withoutCookies(value, prefix);
    if (kept !== '') out.push(name, kept);
  }
  return out;
}

/** `value` (one Cookie header) without the pairs whose name starts with `prefix`. */
function withoutCookies(value: string, prefix: string): string {
  let kept = '';
  let start = 0;
  while (start <= value.length) {
    let end = value.indexOf(';', start);
    if (end === -1) end = value.length;
    const pair = value.slice(start, end).trim();
    start = end + 1;
    if (pair === '' || pair.startsWith(prefix)) continue;
    kept = kept === '' ? pair : `${kept}; ${pair}`;
  }
  return kept;
}
