import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import type { ErrorCode } from '../../src/errors/index.js';
import { type TargetOptions, canonicalizeTarget } from '../../src/routing/index.js';

const kMerge: TargetOptions = { slashes: 'merge', maxUrlBytes: 8192 };
const kReject: TargetOptions = { slashes: 'reject', maxUrlBytes: 8192 };

interface Case {
  readonly why: string;
  readonly raw: string;
  readonly host?: string;
  readonly opts?: TargetOptions;
  readonly path?: string;
  readonly query?: string;
  readonly code?: ErrorCode;
}

const kCases: readonly Case[] = [
  // Already canonical.
  { why: 'the root is canonical as sent', raw: '/', path: '/' },
  { why: 'a plain path is returned unchanged', raw: '/api/users/42', path: '/api/users/42' },
  { why: 'a trailing slash is significant and kept', raw: '/api/', path: '/api/' },
  { why: 'three dots are a name, not a dot segment', raw: '/x/.../y', path: '/x/.../y' },
  { why: 'a leading-dot name is not a dot segment', raw: '/.well-known/x', path: '/.well-known/x' },
  {
    why: 'sub-delims, colon and at-sign are legal pchars',
    raw: "/a:b@c!$&'()*+,=",
    path: "/a:b@c!$&'()*+,=",
  },

  // Query handling (oauth2-proxy GHSA-7rh7-c77v-6434: route on the path only).
  {
    why: 'a path-like query never becomes part of the path',
    raw: '/api/private?path=/status',
    path: '/api/private',
    query: 'path=/status',
  },
  {
    why: 'query escapes pass through unchanged',
    raw: '/a?x=%2f%2E%00',
    path: '/a',
    query: 'x=%2f%2E%00',
  },
  { why: 'an empty query after ? is empty', raw: '/a?', path: '/a', query: '' },
  { why: 'a ? inside the query is data', raw: '/a?b?c', path: '/a', query: 'b?c' },
  {
    why: 'backslash and semicolon are allowed in the query',
    raw: '/a?b\\c;d',
    path: '/a',
    query: 'b\\c;d',
  },
  {
    why: 'path normalization does not touch the query',
    raw: '/a/../b?x=/../y',
    path: '/b',
    query: 'x=/../y',
  },

  // Duplicate slashes (Istio CVE-2021-31920, Pomerium #6398).
  { why: 'merge mode collapses a double slash', raw: '/a//b', path: '/a/b' },
  {
    why: 'reject mode refuses a double slash',
    raw: '/a//b',
    opts: kReject,
    code: 'IAM_ROUTING_DUPLICATE_SLASH',
  },
  {
    why: 'a leading double slash is merged, so it cannot look like an authority',
    raw: '//evil.example/x',
    path: '/evil.example/x',
  },
  { why: 'runs of slashes and a trailing run collapse to one', raw: '/a///b//', path: '/a/b/' },
  { why: 'slashes merge before dot removal, as nginx does', raw: '/a//../b', path: '/b' },

  // Dot segments (RFC 3986 5.2.4), plain and encoded (Pomerium CVE-2021-39206).
  { why: 'a single-dot segment is removed', raw: '/a/./b', path: '/a/b' },
  { why: 'a double-dot segment removes its parent', raw: '/a/b/../c', path: '/a/c' },
  { why: 'a trailing .. keeps the trailing slash', raw: '/a/b/..', path: '/a/' },
  { why: 'a trailing . keeps the trailing slash', raw: '/a/.', path: '/a/' },
  { why: 'encoded dots are decoded before dot removal', raw: '/a/%2e%2e/b', path: '/b' },
  { why: 'mixed-case encoded dots are the same dots', raw: '/a/%2E%2e/b', path: '/b' },
  { why: 'half-encoded dot-dot is a dot-dot', raw: '/a/.%2E/b', path: '/b' },
  { why: 'an encoded single dot is removed', raw: '/a/%2e/b', path: '/a/b' },
  {
    why: 'dot segments are resolved in reject mode too',
    raw: '/a/./b/../c',
    opts: kReject,
    path: '/a/c',
  },
  {
    why: 'climbing above the root is refused, not clamped',
    raw: '/..',
    code: 'IAM_ROUTING_PATH_ESCAPES_ROOT',
  },
  {
    why: 'climbing above the root later in the path is refused',
    raw: '/a/../../etc',
    code: 'IAM_ROUTING_PATH_ESCAPES_ROOT',
  },
  {
    why: 'encoded dots cannot climb above the root either',
    raw: '/%2e%2e/etc/passwd',
    code: 'IAM_ROUTING_PATH_ESCAPES_ROOT',
  },

  // Encoded separators (Istio CVE-2021-31920, Traefik CVE-2025-66490).
  { why: 'an encoded slash is refused', raw: '/a/%2F/b', code: 'IAM_ROUTING_ENCODED_SEPARATOR' },
  {
    why: 'a lower-case encoded slash is refused',
    raw: '/a%2fb',
    code: 'IAM_ROUTING_ENCODED_SEPARATOR',
  },
  { why: 'an encoded backslash is refused', raw: '/a%5Cb', code: 'IAM_ROUTING_ENCODED_SEPARATOR' },
  {
    why: 'a lower-case encoded backslash is refused',
    raw: '/a%5cb',
    code: 'IAM_ROUTING_ENCODED_SEPARATOR',
  },
  { why: 'a raw backslash in the path is refused', raw: '/a\\b', code: 'IAM_ROUTING_BACKSLASH' },

  // Control characters and NUL.
  { why: 'an encoded NUL is refused', raw: '/a%00b', code: 'IAM_ROUTING_CONTROL_CHARACTER' },
  {
    why: 'an encoded unit separator is refused',
    raw: '/a%1Fb',
    code: 'IAM_ROUTING_CONTROL_CHARACTER',
  },
  { why: 'an encoded DEL is refused', raw: '/a%7fb', code: 'IAM_ROUTING_CONTROL_CHARACTER' },
  { why: 'a raw NUL is refused', raw: '/a\u0000b', code: 'IAM_ROUTING_CONTROL_CHARACTER' },
  { why: 'a raw tab is refused', raw: '/a\tb', code: 'IAM_ROUTING_CONTROL_CHARACTER' },
  { why: 'a raw DEL is refused', raw: '/a\u007fb', code: 'IAM_ROUTING_CONTROL_CHARACTER' },
  {
    why: 'a raw control in the query is refused',
    raw: '/a?x=\u0001',
    code: 'IAM_ROUTING_CONTROL_CHARACTER',
  },

  // Path parameters.
  { why: 'a raw semicolon is refused', raw: '/a;b', code: 'IAM_ROUTING_SEMICOLON' },
  {
    why: 'a jsessionid-style parameter is refused',
    raw: '/admin;jsessionid=1/x',
    code: 'IAM_ROUTING_SEMICOLON',
  },
  { why: 'an encoded semicolon is refused', raw: '/a%3Bb', code: 'IAM_ROUTING_SEMICOLON' },
  {
    why: 'a lower-case encoded semicolon is refused',
    raw: '/a%3bb',
    code: 'IAM_ROUTING_SEMICOLON',
  },

  // Fragments (Istio CVE-2021-39156, oauth2-proxy GHSA-pxq7-h93f-9jrg).
  {
    why: 'a fragment in the path is refused',
    raw: '/public#/admin',
    code: 'IAM_ROUTING_TARGET_FRAGMENT',
  },
  {
    why: 'a fragment left in the query by uWS is refused',
    raw: '/a?x=1#f',
    code: 'IAM_ROUTING_TARGET_FRAGMENT',
  },
  { why: 'an encoded # is data and stays encoded', raw: '/a%23b', path: '/a%23b' },

  // Escapes: decode unreserved only, never twice, upper-case the rest.
  { why: 'escaped unreserved characters are decoded', raw: '/%7e%41%5a%30%2D%5F', path: '/~AZ0-_' },
  {
    why: '%25, %23 and %3F stay encoded with upper-case hex',
    raw: '/%25%23%3f',
    path: '/%25%23%3F',
  },
  { why: 'a double-encoded dot is decoded once only', raw: '/%252e%252e/x', path: '/%252e%252e/x' },
  {
    why: 'a reserved escape keeps its encoding, hex upper-cased',
    raw: '/a%2bb%40c',
    path: '/a%2Bb%40c',
  },
  { why: 'an encoded space is kept encoded', raw: '/p%20q', path: '/p%20q' },
  { why: 'a non-hex escape is refused', raw: '/a%zz', code: 'IAM_ROUTING_INVALID_ENCODING' },
  { why: 'a truncated escape is refused', raw: '/a%2', code: 'IAM_ROUTING_INVALID_ENCODING' },
  { why: 'a lone percent is refused', raw: '/a%', code: 'IAM_ROUTING_INVALID_ENCODING' },
  {
    why: 'an escape cut by the query mark is refused',
    raw: '/a%2?x',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },
  {
    why: 'a malformed escape in the query is refused',
    raw: '/a?x=%g0',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },

  // UTF-8 in escapes.
  { why: 'valid UTF-8 stays encoded', raw: '/caf%C3%A9', path: '/caf%C3%A9' },
  { why: 'valid UTF-8 gets upper-case hex', raw: '/caf%c3%a9', path: '/caf%C3%A9' },
  { why: 'a four-byte sequence is valid', raw: '/%F0%9F%98%80', path: '/%F0%9F%98%80' },
  { why: 'an overlong slash is refused', raw: '/%C0%AF', code: 'IAM_ROUTING_INVALID_ENCODING' },
  {
    why: 'an overlong three-byte form is refused',
    raw: '/%E0%80%AF',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },
  {
    why: 'an encoded surrogate is refused',
    raw: '/%ED%A0%80',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },
  {
    why: 'a code point above U+10FFFF is refused',
    raw: '/%F4%90%80%80',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },
  { why: 'a truncated sequence is refused', raw: '/%E2%82', code: 'IAM_ROUTING_INVALID_ENCODING' },
  {
    why: 'a stray continuation byte is refused',
    raw: '/%80',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },
  {
    why: 'a lead byte followed by a literal is refused',
    raw: '/%C3x',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },
  {
    why: 'raw non-ASCII in the path is refused',
    raw: '/caf\u00e9',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },
  {
    why: 'a replacement character from uWS is refused',
    raw: '/a\ufffd',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },
  {
    why: 'raw non-ASCII in the query is refused',
    raw: '/a?q=\u00e9',
    code: 'IAM_ROUTING_INVALID_ENCODING',
  },

  // Characters RFC 3986 never allows raw.
  { why: 'a raw space is refused', raw: '/a b', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  { why: 'a raw double quote is refused', raw: '/a"b', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  { why: 'raw angle brackets are refused', raw: '/<script>', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  { why: 'a raw caret is refused', raw: '/a^b', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  { why: 'a raw backtick is refused', raw: '/a`b', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  { why: 'raw braces are refused', raw: '/a{b}', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  { why: 'a raw pipe is refused', raw: '/a|b', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  {
    why: 'a raw pipe in the query is refused',
    raw: '/a?x=a|b',
    code: 'IAM_ROUTING_TARGET_MALFORMED',
  },
  {
    why: 'a raw space in the query is refused',
    raw: '/a?x=a b',
    code: 'IAM_ROUTING_TARGET_MALFORMED',
  },

  // Request-target forms (RFC 9112 3.2).
  { why: 'an empty target is malformed', raw: '', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  { why: 'asterisk-form is malformed here', raw: '*', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  {
    why: 'authority-form is malformed here',
    raw: 'example.com:443',
    code: 'IAM_ROUTING_TARGET_MALFORMED',
  },
  { why: 'a relative path is malformed', raw: 'a/b', code: 'IAM_ROUTING_TARGET_MALFORMED' },
  {
    why: 'a non-http scheme is malformed',
    raw: 'ftp://example.com/x',
    host: 'example.com',
    code: 'IAM_ROUTING_TARGET_MALFORMED',
  },
  {
    why: 'absolute-form for the request host becomes its path and query',
    raw: 'http://example.com/x?y=1',
    host: 'example.com',
    path: '/x',
    query: 'y=1',
  },
  {
    why: 'scheme and host compare case-insensitively',
    raw: 'HTTPS://EXAMPLE.com:8443/x',
    host: 'example.COM:8443',
    path: '/x',
  },
  {
    why: 'absolute-form with an empty path means /',
    raw: 'http://example.com',
    host: 'example.com',
    path: '/',
  },
  {
    why: 'absolute-form with only a query means / plus the query',
    raw: 'http://example.com?x=1',
    host: 'example.com',
    path: '/',
    query: 'x=1',
  },
  {
    why: 'the absolute-form path is normalized like any other',
    raw: 'http://example.com./a/../b',
    host: 'Example.Com',
    path: '/b',
  },
  {
    why: 'a foreign absolute-form host is refused',
    raw: 'http://evil.example/x',
    host: 'example.com',
    code: 'IAM_ROUTING_ABSOLUTE_FORM_FOREIGN',
  },
  {
    why: 'a differing port makes the authority foreign',
    raw: 'http://example.com:8080/x',
    host: 'example.com',
    code: 'IAM_ROUTING_ABSOLUTE_FORM_FOREIGN',
  },
  {
    why: 'without a Host to compare, absolute-form is foreign',
    raw: 'http://example.com/x',
    code: 'IAM_ROUTING_ABSOLUTE_FORM_FOREIGN',
  },
  {
    why: 'userinfo in absolute-form is malformed',
    raw: 'http://user@example.com/x',
    host: 'example.com',
    code: 'IAM_ROUTING_TARGET_MALFORMED',
  },
  {
    why: 'an unparsable authority is malformed',
    raw: 'http://exa_mple.com/x',
    host: 'exa_mple.com',
    code: 'IAM_ROUTING_TARGET_MALFORMED',
  },
  {
    why: 'a control byte never passes for the scheme separator',
    raw: 'http\u001a//example.com/',
    host: 'example.com',
    code: 'IAM_ROUTING_TARGET_MALFORMED',
  },

  // Size.
  {
    why: 'a target over the byte limit is refused',
    raw: '/' + 'a'.repeat(64),
    opts: { slashes: 'merge', maxUrlBytes: 64 },
    code: 'IAM_ROUTING_URL_TOO_LONG',
  },
  {
    why: 'a target exactly at the byte limit is accepted',
    raw: '/' + 'a'.repeat(63),
    opts: { slashes: 'merge', maxUrlBytes: 64 },
    path: '/' + 'a'.repeat(63),
  },
];

describe('routing/request-target table', () => {
  for (const c of kCases) {
    test(`${JSON.stringify(c.raw).slice(0, 60)}: ${c.why}`, () => {
      const result = canonicalizeTarget(c.raw, c.host, c.opts ?? kMerge);
      if (c.code !== undefined) {
        assert.equal(result.ok, false);
        assert.equal(result.ok ? undefined : result.code, c.code);
      } else {
        assert.deepEqual(result, { ok: true, value: { path: c.path, query: c.query ?? '' } });
      }
    });
  }

  test('a clean origin-form path is the input string itself, not a copy', () => {
    const raw = '/api/users/42';
    const result = canonicalizeTarget(raw, undefined, kMerge);
    assert.ok(result.ok);
    assert.equal(result.value.path, raw);
  });

  test('rejections are shared frozen objects, so refusing allocates nothing', () => {
    const a = canonicalizeTarget('/a;b', undefined, kMerge);
    const b = canonicalizeTarget('/c;d', undefined, kMerge);
    assert.equal(a, b);
    assert.ok(Object.isFrozen(a));
  });
});

/** Pieces that exercise every rule: dots, escapes (valid and not), separators, controls. */
const kPieces = [
  '/', '//', '.', '..', '%2e', '%2E', '%2F', '%5c', '%41', '%7e', '%c3%a9', '%C3', '%E2%82%AC',
  '%', '%zz', '%25', '%3f', '%23', '%3B', '%00', 'a', 'B', '~', '-', ';', '?', '#', '\\', ' ',
  'x=1', '&', '|', '\u00e9', '\u0001', '@', ':',
];
const kPathLike = fc
  .array(fc.constantFrom(...kPieces), { maxLength: 14 })
  .map((pieces) => '/' + pieces.join(''));
const kAnyTarget = fc.oneof(kPathLike, fc.string({ maxLength: 24 }).map((s) => '/' + s));

describe('routing/request-target properties', () => {
  for (const opts of [kMerge, kReject]) {
    test(`canonicalization is idempotent slashes=${opts.slashes}`, () => {
      fc.assert(
        fc.property(kAnyTarget, (raw) => {
          const first = canonicalizeTarget(raw, undefined, opts);
          if (!first.ok) return;
          const target = `${first.value.path}?${first.value.query}`;
          const again = canonicalizeTarget(target, undefined, opts);
          assert.deepEqual(again, first);
          if (first.value.query === '') {
            assert.deepEqual(canonicalizeTarget(first.value.path, undefined, opts), first);
          }
        }),
        { numRuns: 2000 },
      );
    });
  }

  test('an accepted path has no dot segments, no empty segments and only printable ASCII', () => {
    fc.assert(
      fc.property(kAnyTarget, (raw) => {
        const result = canonicalizeTarget(raw, undefined, kMerge);
        if (!result.ok) return;
        const { path } = result.value;
        assert.ok(path.startsWith('/'));
        assert.ok(!path.includes('//'), path);
        assert.ok(!/(^|\/)\.\.?(\/|$)/.test(path), path);
        assert.ok(/^[\x21-\x7e]*$/.test(path), path);
      }),
      { numRuns: 2000 },
    );
  });
});
