/**
 * A small stand-in for a browser in login tests: a cookie jar that follows RFC 6265's rules that
 * matter here (host-only cookies shared across ports, Path prefixes, Secure only over https,
 * Max-Age=0 deletes), navigation headers a browser sends for a document, and redirects followed
 * by hand so a test sees every hop. Requests go through undici's `request` (not `fetch`, which
 * adds Sec-Fetch headers of its own) with the test CA trusted.
 */
import { readFileSync } from 'node:fs';
import { Agent, request } from 'undici';

/** One response, read whole. */
export interface BrowserResponse {
  readonly status: number;
  /** Header values by lower-case name; repeated headers (Set-Cookie) as several entries. */
  readonly headers: ReadonlyMap<string, readonly string[]>;
  readonly body: string;
  /** The first value of header `name`, if any. */
  header(name: string): string | undefined;
}

/** One stored cookie, with the attributes it was set with (as sent, for assertions). */
export interface StoredCookie {
  readonly name: string;
  readonly value: string;
  readonly path: string;
  readonly isSecure: boolean;
  /** The whole Set-Cookie value that stored it. */
  readonly setCookie: string;
}

/** Headers a browser sends when it opens a page (a top-level navigation). */
export const kNavigationHeaders: Readonly<Record<string, string>> = {
  accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8',
  'sec-fetch-mode': 'navigate',
  'sec-fetch-dest': 'document',
};

/** A jar per host name; ports share cookies, as in browsers. */
export class TestBrowser {
  readonly #jar = new Map<string, Map<string, StoredCookie>>();
  readonly #agent: Agent;
  /** Every URL requested, in order (for scanning redirect URLs). */
  readonly visited: string[] = [];
  /** Every response seen: the URL asked, then status, headers and body (for scanning). */
  readonly seen: string[] = [];

  /** `caFile`: PEM CA to trust for https (the test PKI). */
  constructor(caFile?: string) {
    this.#agent = new Agent({ connect: caFile === undefined ? {} : { ca: readFileSync(caFile) } });
  }

  /**
   * One request, no redirect followed. Sends the jar's cookies for the URL and stores what the
   * response sets. `headers` default to a navigation's; pass `{}` for an API call.
   */
  async request(url: string, init: { method?: 'GET' | 'POST' | 'HEAD' | 'PUT';
    headers?: Record<string, string>; body?: string } = {}): Promise<BrowserResponse> {
    const target = new URL(url);
    const headers: Record<string, string> = { ...(init.headers ?? kNavigationHeaders) };
    const cookie = this.cookieHeader(target);
    if (cookie !== '') headers.cookie = cookie;
    this.visited.push(url);
    const res = await request(url, { method: init.method ?? 'GET', headers,
      ...(init.body === undefined ? {} : { body: init.body }), dispatcher: this.#agent });
    const body = await res.body.text();
    const map = new Map<string, string[]>();
    for (const [name, value] of Object.entries(res.headers)) {
      if (value !== undefined) map.set(name, Array.isArray(value) ? value : [value]);
    }
    for (const value of map.get('set-cookie') ?? []) this.store(target, value);
    const out: BrowserResponse = { status: res.statusCode, headers: map, body,
      header: (name) => map.get(name)?.[0] };
    this.seen.push(`${url}\n${out.status} ${[...map].map(([k, v]) => `${k}: ${v.join(', ')}`)
      .join('\n')}\n${body}`);
    return out;
  }

  /**
   * Follows redirects from `url` (at most `maxHops`) until a response that is not a 3xx, or
   * until `stop` says a URL is reached (not requested). Resolves the last response and URL.
   */
  async navigate(url: string, opts: { maxHops?: number; stop?: (url: URL) => boolean;
    rewrite?: (url: URL) => string } = {}):
    Promise<{ res: BrowserResponse | undefined; url: string }> {
    let current = url;
    for (let hop = 0; hop <= (opts.maxHops ?? 12); hop++) {
      const at = new URL(current);
      if (hop > 0 && opts.stop?.(at) === true) return { res: undefined, url: current };
      const res = await this.request(opts.rewrite?.(at) ?? current);
      const location = res.header('location');
      if (res.status < 300 || res.status > 399 || location === undefined) {
        return { res, url: current };
      }
      current = new URL(location, current).href;
    }
    throw new Error(`more than ${opts.maxHops ?? 12} redirects from ${url}`);
  }

  /** The cookie header the jar sends to `url`. */
  cookieHeader(url: URL): string {
    const cookies = this.#jar.get(url.hostname);
    if (cookies === undefined) return '';
    return [...cookies.values()]
      .filter((c) => url.pathname.startsWith(c.path) && (!c.isSecure || url.protocol === 'https:'))
      .map((c) => `${c.name}=${c.value}`).join('; ');
  }

  /** The stored cookie `name` for `host`, if any. */
  cookie(host: string, name: string): StoredCookie | undefined {
    return this.#jar.get(host)?.get(name);
  }

  /** Puts a cookie in the jar as if a page had set it (a planted or copied value). */
  plant(host: string, name: string, value: string, isSecure = true): void {
    this.#cookies(host).set(name, { name, value, path: '/', isSecure,
      setCookie: `${name}=${value}; Path=/${isSecure ? '; Secure' : ''}` });
  }

  /** Forgets cookie `name` for `host`. */
  drop(host: string, name: string): void {
    this.#jar.get(host)?.delete(name);
  }

  /** Stores one Set-Cookie value received from `from`. */
  store(from: URL, setCookie: string): void {
    const [pair = '', ...attributes] = setCookie.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = '/';
    let isSecure = false;
    let isDeleted = false;
    for (const attribute of attributes) {
      const [key = '', val = ''] = attribute.split('=');
      const lower = key.toLowerCase();
      if (lower === 'path') path = val;
      if (lower === 'secure') isSecure = true;
      if (lower === 'max-age' && Number(val) <= 0) isDeleted = true;
      if (lower === 'expires' && Date.parse(val) < Date.now()) isDeleted = true;
    }
    if (isSecure && from.protocol !== 'https:') return;
    if (isDeleted) this.#jar.get(from.hostname)?.delete(name);
    else this.#cookies(from.hostname).set(name, { name, value, path, isSecure, setCookie });
  }

  async close(): Promise<void> {
    await this.#agent.close();
  }

  #cookies(host: string): Map<string, StoredCookie> {
    let cookies = this.#jar.get(host);
    if (cookies === undefined) {
      cookies = new Map();
      this.#jar.set(host, cookies);
    }
    return cookies;
  }
}
