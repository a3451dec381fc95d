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
    if (!text.includes(name)) continue;
    for (const part of text.split(';')) {
      const eq = part.indexOf('=');
      if (eq === -1 || part.slice(0, eq).trim() !== name) continue;
      found = part.slice(eq + 1).trim();
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
    const kept = value.split(';').filter((part) => {
      const eq = part.indexOf('=');
      const cookie = (eq === -1 ? part : part.slice(0, eq)).trim();
      return cookie !== '' && !cookie.startsWith(prefix);
    }).map((part) => part.trim());
    if (kept.length > 0) out.push(name, kept.join('; '));
  }
  return out;
}
