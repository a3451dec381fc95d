import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  JwksFetchError,
  type JwksFetchFailureKind,
  fetchJson,
  parseMaxAge,
} from '../../src/authn/jwks-fetch.js';
import { type JwksTestServer, startJwksServer } from './jwks-test-server.js';

const kLimits = { timeoutMs: 1_000, maxBytes: 4_096 };

describe('authn/jwks-fetch', () => {
  let server: JwksTestServer;
  before(async () => {
    server = await startJwksServer();
    const big = JSON.stringify({ keys: [], pad: 'x'.repeat(10_000) });
    server.routes.set('/ok', {
      body: { keys: [] },
      headers: { 'cache-control': 'public, max-age=120', etag: '"v1"', age: '20' },
    });
    server.routes.set('/500', { status: 500, body: { error: 'boom' } });
    server.routes.set('/404', { status: 404, body: 'nope' });
    server.routes.set('/bad-json', { body: '{"keys": [' });
    server.routes.set('/bad-utf8', { body: Buffer.from([0x7b, 0xff, 0x7d]) });
    server.routes.set('/big-declared', { body: big });
    // Without a Content-Length the size must be enforced while streaming.
    server.routes.set('/big-chunked', { body: big, headers: { 'transfer-encoding': 'chunked' } });
    server.routes.set('/slow', { body: { keys: [] }, delayMs: 2_000 });
    server.routes.set('/to-file', { status: 302, headers: { location: 'file:///etc/passwd' } });
    server.routes.set('/to-ok', { status: 307, headers: { location: '/ok' } });
    server.routes.set('/loop', { status: 302, headers: { location: '/loop' } });
    server.routes.set('/no-location', { status: 302 });
  });
  after(() => server.close());

  test('authn/jwks-fetch ok: body parsed, max-age minus Age, etag returned', async () => {
    const result = await fetchJson(`${server.baseUrl}/ok`, kLimits);
    assert.deepEqual(result, { body: { keys: [] }, maxAgeSec: 100, etag: '"v1"' });
  });

  test('authn/jwks-fetch redirect to http(s) is followed', async () => {
    const result = await fetchJson(`${server.baseUrl}/to-ok`, kLimits);
    assert.deepEqual(result.body, { keys: [] });
  });

  const kFailures: readonly { why: string; path: string; kind: JwksFetchFailureKind }[] = [
    { why: 'a 500 is a status failure, not an empty key set', path: '/500', kind: 'status' },
    { why: 'a 404 is a status failure', path: '/404', kind: 'status' },
    { why: 'truncated JSON is invalid_json', path: '/bad-json', kind: 'invalid_json' },
    { why: 'invalid UTF-8 is invalid_json', path: '/bad-utf8', kind: 'invalid_json' },
    { why: 'a declared length past maxBytes fails', path: '/big-declared', kind: 'too_large' },
    { why: 'an undeclared body is cut at maxBytes', path: '/big-chunked', kind: 'too_large' },
    { why: 'a server slower than timeoutMs times out', path: '/slow', kind: 'timeout' },
    { why: 'a redirect to file: is never followed', path: '/to-file', kind: 'redirect' },
    { why: 'a redirect loop stops after maxRedirects', path: '/loop', kind: 'redirect' },
    { why: 'a redirect without Location fails', path: '/no-location', kind: 'redirect' },
  ];
  for (const { why, path, kind } of kFailures) {
    test(`authn/jwks-fetch failure path=${path}: ${why}`, async () => {
      const timeoutMs = path === '/slow' ? 150 : kLimits.timeoutMs;
      const pending = fetchJson(`${server.baseUrl}${path}`, { ...kLimits, timeoutMs });
      await assert.rejects(pending, (err) => {
        assert.ok(err instanceof JwksFetchError);
        assert.equal(err.code, 'IAM_AUTHN_KEYS_UNAVAILABLE');
        assert.equal(err.kind, kind);
        return true;
      });
    });
  }

  const kBadUrls: readonly { why: string; url: string }[] = [
    { why: 'file: URLs are never fetched', url: 'file:///etc/passwd' },
    { why: 'data: URLs are never fetched', url: 'data:application/json,{"keys":[]}' },
    { why: 'a relative URL is not a URL', url: '/jwks.json' },
  ];
  for (const { why, url } of kBadUrls) {
    test(`authn/jwks-fetch scheme url=${url}: ${why}`, async () => {
      const expected = { code: 'IAM_AUTHN_KEYS_UNAVAILABLE', kind: 'scheme' };
      await assert.rejects(fetchJson(url, kLimits), expected);
    });
  }

  test('authn/jwks-fetch aborted: a cancelled signal fails with kind aborted', async () => {
    const controller = new AbortController();
    const pending = fetchJson(`${server.baseUrl}/slow`, { ...kLimits, signal: controller.signal });
    controller.abort();
    await assert.rejects(pending, { code: 'IAM_AUTHN_KEYS_UNAVAILABLE', kind: 'aborted' });
  });
});

describe('authn/jwks-fetch parseMaxAge', () => {
  interface Case {
    readonly why: string;
    readonly cc: string | null;
    readonly age?: string;
    readonly want: number | undefined;
  }
  const kCases: readonly Case[] = [
    { why: 'no header gives no hint', cc: null, want: undefined },
    { why: 'max-age is read in seconds', cc: 'max-age=300', want: 300 },
    { why: 'directive names are case-insensitive', cc: 'Public, MAX-AGE=60', want: 60 },
    { why: 'a quoted value is accepted', cc: 'max-age="90"', want: 90 },
    { why: 'no-store forbids reuse, so freshness is 0', cc: 'max-age=300, no-store', want: 0 },
    { why: 'no-cache requires revalidation, so freshness is 0', cc: 'no-cache', want: 0 },
    { why: 'Age is subtracted', cc: 'max-age=300', age: '100', want: 200 },
    { why: 'Age past max-age gives 0, never negative', cc: 'max-age=10', age: '100', want: 0 },
    { why: 'a malformed value gives no hint', cc: 'max-age=abc', want: undefined },
    { why: 'a negative value gives no hint', cc: 'max-age=-5', want: undefined },
    { why: 'other directives give no hint', cc: 'public, must-revalidate', want: undefined },
  ];
  for (const { why, cc, age, want } of kCases) {
    test(`authn/jwks-fetch parseMaxAge cc=${String(cc)}: ${why}`, () => {
      assert.equal(parseMaxAge(cc, age ?? null), want);
    });
  }
});
