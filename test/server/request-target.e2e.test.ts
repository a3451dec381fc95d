/**
 * Request-target and framing rules, end to end: raw bytes from a node:net client through the real
 * proxy to a real recording upstream. Each case states what the upstream must receive (the one
 * canonical path) or which error the client must get, and why. `status: 0` marks requests the
 * uWS parser itself drops without an answer; the proxy's own checks answer with a code.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

interface TargetCase {
  readonly why: string;
  readonly target: string;
  /** Path the upstream must see, when the request is forwarded. */
  readonly forwarded?: string;
  /** Error code the client must get, when the request is refused by the proxy. */
  readonly code?: string;
  /** Expected status when refused (0 = the connection is dropped by the uWS parser). */
  readonly status?: number;
}

const kTargets: readonly TargetCase[] = [
  { target: '/a/b', forwarded: '/a/b', why: 'an already canonical path passes unchanged' },
  { target: '/a//b', forwarded: '/a/b', why: 'duplicate slashes merge (the default rule)' },
  { target: '///a', forwarded: '/a', why: 'leading runs of slashes merge too' },
  { target: '/a/./b', forwarded: '/a/b', why: 'single-dot segments are removed' },
  { target: '/a/../b', forwarded: '/b', why: 'double-dot segments are resolved' },
  { target: '/a/%2e%2e/b', forwarded: '/b', why: 'encoded dots decode before resolution' },
  { target: '/a/%2E%2e/b', forwarded: '/b', why: 'mixed-case encoded dots are dots too' },
  { target: '/a/.%2e/b', forwarded: '/b', why: 'half-encoded double dot is a double dot' },
  { target: '/a//../b', forwarded: '/b', why: 'slashes merge before dots resolve, as nginx does' },
  { target: '/a/b/..', forwarded: '/a/', why: 'a trailing double dot keeps the trailing slash' },
  { target: '/a/.', forwarded: '/a/', why: 'a trailing single dot keeps the trailing slash' },
  { target: '/a%41b', forwarded: '/aAb', why: 'unreserved escapes decode to their character' },
  { target: '/a%7eb', forwarded: '/a~b', why: 'encoded tilde is unreserved and decodes' },
  { target: '/caf%c3%a9', forwarded: '/caf%C3%A9', why: 'UTF-8 escapes stay encoded, upper-cased' },
  { target: '/a%25b', forwarded: '/a%25b', why: 'an encoded percent is never decoded' },
  { target: '/a%252Fb', forwarded: '/a%252Fb', why: 'no double decoding: %252F stays as sent' },
  { target: '/a%20b', forwarded: '/a%20b', why: 'an encoded space is data and stays encoded' },
  { target: '/q?x=1&y=%2F', forwarded: '/q?x=1&y=%2F', why: 'the query passes through as sent' },
  { target: '/../a', code: 'IAM_ROUTING_PATH_ESCAPES_ROOT', status: 400,
    why: 'climbing above the root is refused, not clamped' },
  { target: '/a/%2e%2e/%2e%2e/b', code: 'IAM_ROUTING_PATH_ESCAPES_ROOT', status: 400,
    why: 'encoded climbing above the root is refused as well' },
  { target: '/a/%2Fb', code: 'IAM_ROUTING_ENCODED_SEPARATOR', status: 400,
    why: 'an encoded slash could be a second path to the same resource' },
  { target: '/a/%2fb', code: 'IAM_ROUTING_ENCODED_SEPARATOR', status: 400,
    why: 'lower-case encoded slash is refused the same way' },
  { target: '/a/%5Cb', code: 'IAM_ROUTING_ENCODED_SEPARATOR', status: 400,
    why: 'an encoded backslash is a separator on some upstreams' },
  { target: '/a/%5cb', code: 'IAM_ROUTING_ENCODED_SEPARATOR', status: 400,
    why: 'lower-case encoded backslash is refused the same way' },
  { target: '/a\\b', code: 'IAM_ROUTING_BACKSLASH', status: 400,
    why: 'a raw backslash is a separator on some upstreams' },
  { target: '/a%00b', code: 'IAM_ROUTING_CONTROL_CHARACTER', status: 400,
    why: 'encoded NUL truncates paths in C upstreams' },
  { target: '/a%0d%0aX-Injected:%20x', code: 'IAM_ROUTING_CONTROL_CHARACTER', status: 400,
    why: 'encoded CR LF could split headers downstream' },
  { target: '/a%7f', code: 'IAM_ROUTING_CONTROL_CHARACTER', status: 400,
    why: 'encoded DEL is a control character' },
  { target: '/a;jsessionid=1', code: 'IAM_ROUTING_SEMICOLON', status: 400,
    why: 'path parameters are read differently by different servers' },
  { target: '/admin;/x', code: 'IAM_ROUTING_SEMICOLON', status: 400,
    why: 'the classic ";" bypass of prefix rules is refused' },
  { target: '/a%3bx', code: 'IAM_ROUTING_SEMICOLON', status: 400,
    why: 'an encoded semicolon is refused like a raw one' },
  { target: '/a%zz', code: 'IAM_ROUTING_INVALID_ENCODING', status: 400,
    why: 'a percent sign not followed by two hex digits is malformed' },
  { target: '/a%2', code: 'IAM_ROUTING_INVALID_ENCODING', status: 400,
    why: 'a truncated escape at the end is malformed' },
  { target: '/a%c3', code: 'IAM_ROUTING_INVALID_ENCODING', status: 400,
    why: 'a truncated UTF-8 sequence is not text' },
  { target: '/a%c0%af', code: 'IAM_ROUTING_INVALID_ENCODING', status: 400,
    why: 'an overlong UTF-8 slash is the oldest traversal trick' },
  { target: '/\xc3\xa9', code: 'IAM_ROUTING_INVALID_ENCODING', status: 400,
    why: 'raw non-ASCII bytes are not allowed in a request target' },
  { target: '/a#frag', code: 'IAM_ROUTING_TARGET_FRAGMENT', status: 400,
    why: 'a fragment never belongs in a request target' },
  { target: '/a?x=1#frag', code: 'IAM_ROUTING_TARGET_FRAGMENT', status: 400,
    why: 'a fragment after the query is refused too' },
  { target: '/a?x=%zz', code: 'IAM_ROUTING_INVALID_ENCODING', status: 400,
    why: 'malformed escapes in the query are refused' },
  { target: '/a?x=<script>', code: 'IAM_ROUTING_TARGET_MALFORMED', status: 400,
    why: 'angle brackets are not allowed raw in a target' },
  { target: '/a|b', code: 'IAM_ROUTING_TARGET_MALFORMED', status: 400,
    why: 'a raw pipe is outside RFC 3986' },
  { target: '/a[0]', code: 'IAM_ROUTING_TARGET_MALFORMED', status: 400,
    why: 'raw brackets belong to IP literals, never to a path' },
  { target: '/list?ids[]=1&ids[]=2', forwarded: '/list?ids[]=1&ids[]=2',
    why: 'brackets in the query are common and pass through' },
  { target: 'http://evil.example/x', status: 0,
    why: 'absolute-form is dropped by the uWS parser before the proxy sees it' },
  { target: `/${'a'.repeat(300)}`, code: 'IAM_ROUTING_URL_TOO_LONG', status: 414,
    why: 'targets longer than limits.maxUrlBytes (256 here) are refused' },
];

let upstream: RecordingUpstream;
let proxy: TestProxy;

before(async () => {
  upstream = await startRecordingUpstream();
  proxy = await startTestProxy(`limits: { maxUrlBytes: 256 }
services:
  - name: app
    hosts: ['*']
    pathPrefix: /
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

describe('server/request-target e2e', () => {
  for (const c of kTargets) {
    test(`${JSON.stringify(c.target).slice(0, 60)}: ${c.why}`, async () => {
      const seen = upstream.requests.length;
      const res = await rawRequest(proxy.port, `GET ${c.target} HTTP/1.1\r\nHost: app.test\r\n\r\n`);
      if (c.forwarded !== undefined) {
        assert.equal(res.status, 200);
        assert.equal(upstream.requests.length, seen + 1, 'exactly one request reached upstream');
        assert.equal(upstream.requests.at(-1)?.url, c.forwarded);
      } else {
        assert.equal(res.status, c.status);
        if (c.code !== undefined) assert.equal(res.headers.get('x-portcullis-error')?.[0], c.code);
        assert.equal(upstream.requests.length, seen, 'nothing reached the upstream');
      }
    });
  }
});
