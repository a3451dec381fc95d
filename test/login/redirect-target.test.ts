/**
 * The redirect rule of login and logout (threats.md, "Open redirect in login/logout flows"):
 * same origin, or an origin on the exact allow-list, judged on the parsed URL, with the known
 * parser tricks refused outright. Each case is one sentence saying why.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { parseAllowedOrigin, RedirectTargets } from '../../src/login/index.js';

const kOrigin = 'https://app.example.com';
const targets = new RedirectTargets(['https://docs.example.com', 'https://xn--bcher-kva.example',
  'https://admin.example.com:8443']);

const kRefused: ReadonlyArray<readonly [string, string]> = [
  ['//evil.example/x', 'a protocol-relative path names another host'],
  ['/\\evil.example', 'browsers read a backslash as a slash, making /\\ protocol-relative'],
  ['\\/evil.example', 'a leading backslash is a slash to a browser, and no path of ours'],
  ['/\t/evil.example', 'a tab (from %09) is dropped by URL parsers, leaving //evil.example'],
  ['/\n/evil.example', 'a line feed (from %0a) is dropped the same way'],
  ['/\r/evil.example', 'a carriage return (from %0d) is dropped the same way'],
  [' /app', 'leading space is stripped by parsers: what is checked must be what is sent'],
  ['/app\u0000x', 'NUL is never part of a URL we send'],
  ['https://evil.example/', 'an absolute URL to a host not on the list'],
  ['https://app.example.com@evil.example/', 'user info makes the real host evil.example'],
  ['https://user@app.example.com/', 'user info is refused even for our own origin'],
  ['https://app.example.com.evil.example/', 'a suffix is another host: matching is exact'],
  ['https://docs.example.com.evil.example/', 'an allowed name as a prefix of a foreign host'],
  ['https://sub.docs.example.com/', 'subdomains of an allowed origin are not allowed'],
  ['http://docs.example.com/', 'the allow-list names the scheme: http is another origin'],
  ['https://docs.example.com:444/', 'the allow-list names the port: another port is another origin'],
  ['https://admin.example.com/', 'the allowed origin has port 8443; the default port differs'],
  ['https://b\u00fccher.example/', 'a Unicode host is refused; IDN origins are written as xn--'],
  ['https://\u0430pp.example.com/', 'a Cyrillic a is a look-alike of our own host'],
  ['https://xn--pp-7ka.example.com/', 'the punycode of that look-alike is not our host either'],
  ['https://%61pp.example.com/', 'percent escapes in the host are decoded by parsers: refused'],
  ['https://\uff41pp.example.com/', 'full-width letters are refused (IDNA would fold them)'],
  ['javascript:alert(1)', 'only http and https are redirect schemes'],
  ['data:text/html,<script>', 'a data URL is no place to send a browser'],
  ['JAVASCRIPT://app.example.com/%0aalert(1)', 'javascript: in any case, even with slashes'],
  ['ftp://app.example.com/', 'another scheme, even to our host'],
  ['app/page', 'a relative path without a leading slash depends on the base'],
  ['./page', 'dot-relative paths are not accepted either'],
  ['', 'an empty target is not a place'],
  [`/${'a'.repeat(2048)}`, 'targets longer than 2048 characters are refused'],
  ['/app\u2028x', 'a line separator is refused: some consumers end a line there'],
  ['/app\u0085x', 'a C1 control (NEL) is refused'],
];

const kAllowed: ReadonlyArray<readonly [string, string, string]> = [
  ['/', `${kOrigin}/`, 'the root of the request\'s own origin'],
  ['/app/page?x=1#top', `${kOrigin}/app/page?x=1#top`, 'a path with query and fragment on this origin'],
  ['/app/%2F%2Fevil', `${kOrigin}/app/%2F%2Fevil`, 'encoded slashes inside a path stay in the path'],
  ['/%09/evil.example', `${kOrigin}/%09/evil.example`, 'a %09 still encoded is a literal path, not a tab'],
  ['/a/../b', `${kOrigin}/b`, 'dot segments resolve within this origin'],
  ['/caf\u00e9', `${kOrigin}/caf%C3%A9`, 'non-ASCII in the path is sent percent-encoded'],
  ['https://app.example.com/x', `${kOrigin}/x`, 'an absolute URL on the request\'s own origin'],
  ['https://APP.example.com:443/x', `${kOrigin}/x`, 'case and the default port normalise to our origin'],
  ['https://docs.example.com/guide', 'https://docs.example.com/guide', 'an allowed origin'],
  ['https://xn--bcher-kva.example/', 'https://xn--bcher-kva.example/',
    'an allowed IDN origin in ASCII form'],
  ['https://admin.example.com:8443/', 'https://admin.example.com:8443/', 'an allowed origin with its port'],
];

describe('login/redirect-target', () => {
  for (const [target, why] of kRefused) {
    test(`login/redirect-target refuses ${JSON.stringify(target.slice(0, 60))}: ${why}`, () => {
      assert.equal(targets.resolve(target, kOrigin), undefined);
    });
  }
  for (const [target, sent, why] of kAllowed) {
    test(`login/redirect-target allows ${JSON.stringify(target)}: ${why}`, () => {
      assert.equal(targets.resolve(target, kOrigin), sent);
    });
  }

  test('login/redirect-target what is sent parses back to the origin that was checked', () => {
    for (const [target] of kAllowed) {
      const sent = targets.resolve(target, kOrigin)!;
      const origin = new URL(sent).origin;
      assert.ok(origin === kOrigin || ['https://docs.example.com', 'https://xn--bcher-kva.example',
        'https://admin.example.com:8443'].includes(origin), sent);
    }
  });

  const kOrigins: ReadonlyArray<readonly [string, string | undefined, string]> = [
    ['https://docs.example.com', 'https://docs.example.com', 'an origin as browsers write it'],
    ['https://docs.example.com:8443', 'https://docs.example.com:8443', 'with a port'],
    ['https://docs.example.com/', undefined, 'a trailing slash is a path: written exactly or not at all'],
    ['https://docs.example.com:443', undefined, 'the default port is left out by browsers'],
    ['https://user@docs.example.com', undefined, 'user info is no part of an origin'],
    ['https://b\u00fccher.example', undefined, 'IDN origins are configured in xn-- form'],
    ['docs.example.com', undefined, 'an origin has a scheme'],
    ['ftp://docs.example.com', undefined, 'only http(s) origins'],
  ];
  for (const [text, parsed, why] of kOrigins) {
    test(`login/redirect-target allow-list entry ${JSON.stringify(text)}: ${why}`, () => {
      assert.equal(parseAllowedOrigin(text), parsed);
    });
  }
});
