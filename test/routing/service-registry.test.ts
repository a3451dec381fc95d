import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { PortcullisError } from '../../src/errors/index.js';
import {
  type RouteMatch,
  type RouteSpec,
  ServiceRegistry,
  canonicalizeTarget,
} from '../../src/routing/index.js';

const kRoutes: readonly RouteSpec<string>[] = [
  { hosts: ['shop.example.com'], pathPrefix: '/cart', stripPrefix: true, service: 'cart' },
  {
    hosts: ['shop.example.com'],
    pathPrefix: '/cart/admin',
    stripPrefix: false,
    service: 'cart-admin',
  },
  { hosts: ['*.example.com'], pathPrefix: '/', stripPrefix: false, service: 'wild-root' },
  { hosts: ['*.eu.example.com'], pathPrefix: '/orders', stripPrefix: false, service: 'eu-orders' },
  { hosts: ['*'], pathPrefix: '/health', stripPrefix: false, service: 'health' },
  { hosts: ['Static.Example.COM.'], pathPrefix: '/', stripPrefix: false, service: 'static' },
  { hosts: ['*'], pathPrefix: '/a.b', stripPrefix: false, service: 'literal-dot' },
  { hosts: ['[::1]', 'localhost'], pathPrefix: '/', stripPrefix: true, service: 'local' },
];
const kRegistry = new ServiceRegistry(kRoutes);

interface Case {
  readonly why: string;
  readonly host: string;
  readonly path: string;
  readonly expected: RouteMatch<string> | undefined;
}

function hit(service: string, upstreamPath: string, pathPrefix: string): RouteMatch<string> {
  return { service, upstreamPath, pathPrefix };
}

const kCases: readonly Case[] = [
  {
    why: 'the prefix itself matches and strips to /',
    host: 'shop.example.com',
    path: '/cart',
    expected: hit('cart', '/', '/cart'),
  },
  {
    why: 'the prefix with a trailing slash strips to /',
    host: 'shop.example.com',
    path: '/cart/',
    expected: hit('cart', '/', '/cart'),
  },
  {
    why: 'a path below the prefix keeps the rest after stripping',
    host: 'shop.example.com',
    path: '/cart/items/3',
    expected: hit('cart', '/items/3', '/cart'),
  },
  {
    why: 'a longer name sharing the prefix is not on a segment boundary',
    host: 'shop.example.com',
    path: '/cartoon',
    expected: hit('wild-root', '/cartoon', '/'),
  },
  {
    why: 'the longest prefix wins and this one does not strip',
    host: 'shop.example.com',
    path: '/cart/admin/users',
    expected: hit('cart-admin', '/cart/admin/users', '/cart/admin'),
  },
  {
    why: 'a sibling of the longer prefix falls back to the shorter one',
    host: 'shop.example.com',
    path: '/cart/administrator',
    expected: hit('cart', '/administrator', '/cart'),
  },
  {
    why: 'hosts match case-insensitively (Istio CVE-2021-39155)',
    host: 'SHOP.Example.com',
    path: '/cart',
    expected: hit('cart', '/', '/cart'),
  },
  {
    why: 'the port is never part of the match',
    host: 'shop.example.com:8443',
    path: '/cart',
    expected: hit('cart', '/', '/cart'),
  },
  {
    why: 'a trailing dot on the host is ignored',
    host: 'shop.example.com.',
    path: '/cart',
    expected: hit('cart', '/', '/cart'),
  },
  {
    why: 'an exact host without a matching prefix falls back to the wildcard tier',
    host: 'shop.example.com',
    path: '/health',
    expected: hit('wild-root', '/health', '/'),
  },
  {
    why: 'the longest wildcard suffix wins',
    host: 'x.eu.example.com',
    path: '/orders/1',
    expected: hit('eu-orders', '/orders/1', '/orders'),
  },
  {
    why: 'a longer wildcard without the prefix falls back to a shorter one',
    host: 'x.eu.example.com',
    path: '/other',
    expected: hit('wild-root', '/other', '/'),
  },
  {
    why: 'a wildcard never matches its own apex',
    host: 'eu.example.com',
    path: '/orders',
    expected: hit('wild-root', '/orders', '/'),
  },
  {
    why: 'the apex of every wildcard falls through to *',
    host: 'example.com',
    path: '/health',
    expected: hit('health', '/health', '/health'),
  },
  {
    why: 'nothing matches the apex outside the * prefixes',
    host: 'example.com',
    path: '/other',
    expected: undefined,
  },
  {
    why: 'a wildcard covers several labels in front',
    host: 'a.b.c.example.com',
    path: '/x',
    expected: hit('wild-root', '/x', '/'),
  },
  {
    why: 'exact patterns are normalized at construction',
    host: 'static.example.com',
    path: '/anything',
    expected: hit('static', '/anything', '/'),
  },
  {
    why: 'a dot in a prefix is a literal dot',
    host: 'other.test',
    path: '/a.b/x',
    expected: hit('literal-dot', '/a.b/x', '/a.b'),
  },
  {
    why: 'a dot in a prefix never matches another character',
    host: 'other.test',
    path: '/aXb',
    expected: undefined,
  },
  {
    why: 'an unrelated host gets only the * routes',
    host: 'other.test',
    path: '/',
    expected: undefined,
  },
  {
    why: 'a bracketed IPv6 host matches exactly, port ignored',
    host: '[::1]:8080',
    path: '/x',
    expected: hit('local', '/x', '/'),
  },
  {
    why: 'one route can serve several hosts',
    host: 'localhost',
    path: '/',
    expected: hit('local', '/', '/'),
  },
  {
    why: 'an invalid host matches nothing, not even *',
    host: 'bad_host',
    path: '/health',
    expected: undefined,
  },
];

describe('routing/service-registry match', () => {
  for (const c of kCases) {
    test(`${c.host} ${c.path}: ${c.why}`, () => {
      assert.deepEqual(kRegistry.match(c.host, c.path), c.expected);
    });
  }
});

interface ConfigCase {
  readonly why: string;
  readonly routes: readonly RouteSpec<string>[];
}

function route(hosts: readonly string[], pathPrefix: string): RouteSpec<string> {
  return { hosts, pathPrefix, stripPrefix: false, service: 's' };
}

const kConfigCases: readonly ConfigCase[] = [
  { why: 'a prefix with a trailing slash is not canonical', routes: [route(['a.test'], '/api/')] },
  { why: 'a prefix must start with /', routes: [route(['a.test'], 'api')] },
  { why: 'an empty prefix is not canonical', routes: [route(['a.test'], '')] },
  { why: 'a prefix with // is not canonical', routes: [route(['a.test'], '/a//b')] },
  { why: 'a prefix with a dot segment is not canonical', routes: [route(['a.test'], '/a/./b')] },
  { why: 'a prefix with .. is not canonical', routes: [route(['a.test'], '/a/../b')] },
  {
    why: 'an escaped unreserved character is not canonical',
    routes: [route(['a.test'], '/%61pi')],
  },
  { why: 'a prefix with ; can never match a canonical path', routes: [route(['a.test'], '/a;b')] },
  { why: 'a prefix with a query is not a path', routes: [route(['a.test'], '/a?x')] },
  { why: 'a host pattern with a port is refused', routes: [route(['a.test:80'], '/')] },
  { why: 'a wildcard in an inner label is refused', routes: [route(['a.*.test'], '/')] },
  { why: 'a wildcard without its dot is refused', routes: [route(['*a.test'], '/')] },
  { why: 'a wildcard over an IP address is refused', routes: [route(['*.1.2.3.4'], '/')] },
  { why: 'an invalid host name is refused', routes: [route(['bad_host'], '/')] },
  { why: 'a route without hosts is refused', routes: [route([], '/')] },
  {
    why: 'the same host and prefix twice is refused',
    routes: [route(['a.test'], '/x'), route(['a.test'], '/x')],
  },
  {
    why: 'host duplicates are found after normalization',
    routes: [route(['A.test'], '/x'), route(['a.test.'], '/x')],
  },
  {
    why: 'wildcard duplicates are refused',
    routes: [route(['*.a.test'], '/'), route(['*.A.test'], '/')],
  },
];

describe('routing/service-registry configuration', () => {
  for (const c of kConfigCases) {
    test(c.why, () => {
      assert.throws(
        () => new ServiceRegistry(c.routes),
        (err: unknown) => err instanceof PortcullisError && err.code === 'IAM_CONFIG_INVALID',
      );
    });
  }

  test('the same prefix on different hosts is fine', () => {
    const routes = [route(['a.test'], '/x'), route(['b.test'], '/x')];
    assert.doesNotThrow(() => new ServiceRegistry(routes));
  });
});

describe('routing/service-registry with canonical targets', () => {
  const registry = new ServiceRegistry([
    { hosts: ['app.test'], pathPrefix: '/status', stripPrefix: false, service: 'public' },
    { hosts: ['app.test'], pathPrefix: '/api/private', stripPrefix: false, service: 'private' },
  ]);
  const options = { slashes: 'merge', maxUrlBytes: 8192 } as const;

  // oauth2-proxy GHSA-7rh7-c77v-6434: a rule matched against path and query was fooled.
  test('a query that looks like a public path routes by the path only', () => {
    const target = canonicalizeTarget('/api/private?path=/status', 'app.test', options);
    assert.ok(target.ok);
    assert.equal(registry.match('app.test', target.value.path)?.service, 'private');
  });

  test('encoded dots that climb out of a public prefix land on the private route', () => {
    const target = canonicalizeTarget('/status/%2E%2e/api/private', 'app.test', options);
    assert.ok(target.ok);
    assert.equal(registry.match('app.test', target.value.path)?.service, 'private');
  });
});

describe('routing/service-registry hash collisions', () => {
  // '/p0ii9z' and '/p15074' share the registry's 30-bit prefix hash.
  test('a prefix whose hash collides with the path never matches it', () => {
    const registry = new ServiceRegistry([route(['a.test'], '/p0ii9z')]);
    assert.equal(registry.match('a.test', '/p15074'), undefined);
    assert.equal(registry.match('a.test', '/p0ii9z/x')?.pathPrefix, '/p0ii9z');
  });

  test('two colliding prefixes each route to their own service', () => {
    const registry = new ServiceRegistry([
      { hosts: ['a.test'], pathPrefix: '/p0ii9z', stripPrefix: false, service: 'first' },
      { hosts: ['a.test'], pathPrefix: '/p15074', stripPrefix: false, service: 'second' },
    ]);
    assert.equal(registry.match('a.test', '/p0ii9z')?.service, 'first');
    assert.equal(registry.match('a.test', '/p15074/y')?.service, 'second');
  });
});

/** Segments made of unreserved characters only, so any of their characters may be escaped. */
const kSegments = ['api', 'v1', 'admin', 'a.b', 'aXb', 'x', 'y', 'users', '~me', 'a-b_c'];
const kPropertyRegistry = new ServiceRegistry<string>([
  { hosts: ['*'], pathPrefix: '/', stripPrefix: false, service: 'root' },
  { hosts: ['*'], pathPrefix: '/api', stripPrefix: true, service: 'api' },
  { hosts: ['*'], pathPrefix: '/api/v1', stripPrefix: true, service: 'api-v1' },
  { hosts: ['*'], pathPrefix: '/admin', stripPrefix: false, service: 'admin' },
  { hosts: ['*'], pathPrefix: '/a.b', stripPrefix: false, service: 'a.b' },
  { hosts: ['*'], pathPrefix: '/x/y', stripPrefix: false, service: 'x/y' },
]);

/** Noise that canonicalizes to nothing: dot segments, plain or encoded, and extra slashes. */
const kNoise = ['', '', './', '%2e/', '%2E/', 'junk/../', 'j%75nk/%2e%2E/', '/', 'x/.%2e/'];

function escape(ch: string, upper: boolean): string {
  const hex = ch.charCodeAt(0).toString(16).padStart(2, '0');
  return '%' + (upper ? hex.toUpperCase() : hex);
}

const kPiece = fc.record({
  segment: fc.constantFrom(...kSegments),
  noise: fc.constantFrom(...kNoise),
  escapes: fc.array(fc.boolean(), { minLength: 5, maxLength: 5 }),
  upper: fc.boolean(),
});

const kNoisyPath = fc.record({
  pieces: fc.array(kPiece, { maxLength: 5 }),
  trailing: fc.constantFrom('', '/', '/.', '/%2E'),
});

describe('routing/service-registry properties', () => {
  test('the route for a noisy raw path equals the route for its canonical form', () => {
    fc.assert(
      fc.property(kNoisyPath, ({ pieces, trailing }) => {
        const logical = '/' + pieces.map((p) => p.segment).join('/');
        const raw = '/' + pieces.map(({ segment, noise, escapes, upper }) => {
          const chars = [...segment].map((ch, i) => (escapes[i % 5] ? escape(ch, upper) : ch));
          return noise + chars.join('');
        }).join('/') + trailing;
        const expected = trailing !== '' && logical !== '/' ? logical + '/' : logical;

        const result = canonicalizeTarget(raw, undefined, { slashes: 'merge', maxUrlBytes: 8192 });
        assert.ok(result.ok, `${raw} refused`);
        assert.equal(result.value.path, expected, raw);
        assert.deepEqual(
          kPropertyRegistry.match('any.test', result.value.path),
          kPropertyRegistry.match('any.test', expected),
        );
      }),
      { numRuns: 2000 },
    );
  });

  test("literal '/a.b' prefix and 'a.b' host never match when the dot is another char", () => {
    const registry = new ServiceRegistry<string>([
      { hosts: ['a.b.test'], pathPrefix: '/', stripPrefix: false, service: 'host-a.b' },
      { hosts: ['*'], pathPrefix: '/a.b', stripPrefix: false, service: 'prefix-a.b' },
    ]);
    const notDot = fc
      .string({ unit: 'binary', minLength: 1, maxLength: 1 })
      .filter((s) => s !== '.');
    fc.assert(
      fc.property(notDot, fc.constantFrom('', '/', '/c'), (x, rest) => {
        const options = { slashes: 'merge', maxUrlBytes: 64 } as const;
        const result = canonicalizeTarget(`/a${x}b${rest}`, undefined, options);
        if (result.ok) assert.equal(registry.match('other.test', result.value.path), undefined);
        assert.equal(registry.match(`a${x}b.test`, '/'), undefined);
      }),
      { numRuns: 2000 },
    );
  });
});
