/**
 * Reading the original request out of an ingress's check request, per flavor
 * (src/server/decision-original.ts). Each case says what the ingress sent and why the result
 * follows; failures are asserted by code.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { DecisionFlavor } from '../../src/config/index.js';
import { parseHost } from '../../src/routing/index.js';
import {
  type OriginalRequest, readOriginalRequest,
} from '../../src/server/decision-original.js';

interface Case {
  readonly why: string;
  readonly flavor: DecisionFlavor;
  readonly headers: readonly string[];
  readonly method?: string;
  readonly target?: string;
  readonly host?: string;
  readonly pathPrefix?: string;
  readonly expect: Partial<OriginalRequest> | string;
}

const kClient = ['x-real-ip', '192.0.2.7', 'x-forwarded-for', '198.51.100.1, 192.0.2.7'];
const kNginx = ['x-original-method', 'GET', 'x-original-uri', '/a/b?x=1',
  'x-forwarded-host', 'App.Example:8443', 'x-forwarded-proto', 'https', ...kClient];
const kTraefik = ['x-forwarded-method', 'POST', 'x-forwarded-uri', '/t/x',
  'x-forwarded-host', 'app.example', 'x-forwarded-proto', 'http',
  'x-forwarded-for', '192.0.2.9'];

const kCases: readonly Case[] = [
  { why: 'nginx: every field from the snippet\'s headers; the host parsed and lower-cased',
    flavor: 'nginx', headers: kNginx,
    expect: { method: 'GET', target: '/a/b?x=1', hostText: 'app.example:8443', scheme: 'https',
      sourceAddress: '192.0.2.7' } },
  { why: 'nginx without X-Forwarded-Host: the Host nginx passed on names the host',
    flavor: 'nginx', host: 'shop.example',
    headers: ['x-original-method', 'GET', 'x-original-uri', '/', 'x-real-ip', '192.0.2.7'],
    expect: { hostText: 'shop.example', scheme: undefined } },
  { why: 'nginx without X-Original-URI: nothing says which request to decide on',
    flavor: 'nginx', headers: ['x-original-method', 'GET', ...kClient],
    expect: 'IAM_DECISION_ORIGINAL_MISSING' },
  { why: 'a repeated X-Original-URI is two descriptions of one request: neither is believed',
    flavor: 'nginx', headers: [...kNginx, 'x-original-uri', '/admin'],
    expect: 'IAM_DECISION_ORIGINAL_INVALID' },
  { why: 'a method that is no token (a space) cannot be the method of a request',
    flavor: 'nginx', headers: ['x-original-method', 'G T', 'x-original-uri', '/', ...kClient],
    expect: 'IAM_DECISION_ORIGINAL_INVALID' },
  { why: 'a lower-case method is decided upper-cased, as the proxy listener\'s front end does',
    flavor: 'nginx', headers: ['x-original-method', 'delete', 'x-original-uri', '/', ...kClient],
    expect: { method: 'DELETE' } },
  { why: 'an X-Forwarded-Host parseHost refuses gets the proxy\'s code for a bad Host',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/',
      'x-forwarded-host', 'a b', ...kClient], expect: 'IAM_ROUTING_HOST_INVALID' },
  { why: 'a scheme other than http or https is no scheme a client used',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/',
      'x-forwarded-proto', 'gopher', ...kClient], expect: 'IAM_DECISION_ORIGINAL_INVALID' },
  { why: 'the last X-Forwarded-For element is the peer the ingress saw; earlier ones are not',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/',
      'x-forwarded-for', '10.0.0.1, 203.0.113.5'], expect: { sourceAddress: '203.0.113.5' } },
  { why: 'X-Forwarded-For split over two lines is one list: the last line\'s last element counts',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/',
      'x-forwarded-for', '10.0.0.1', 'x-forwarded-for', '203.0.113.6'],
    expect: { sourceAddress: '203.0.113.6' } },
  { why: 'X-Real-IP and X-Forwarded-For naming different clients: one was not the ingress\'s',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/',
      'x-real-ip', '10.0.0.1', 'x-forwarded-for', '203.0.113.5'],
    expect: 'IAM_DECISION_ORIGINAL_INVALID' },
  { why: 'an address with a port is no IP address (and the record writes it unescaped)',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/',
      'x-real-ip', '192.0.2.7:4000'], expect: 'IAM_DECISION_ORIGINAL_INVALID' },
  { why: 'an IPv6 zone id is refused: it is not an address policy can compare',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/',
      'x-real-ip', 'fe80::1%eth0'], expect: 'IAM_DECISION_ORIGINAL_INVALID' },
  { why: 'IPv6 text is kept, lower-cased',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/',
      'x-real-ip', '2001:DB8::1'], expect: { sourceAddress: '2001:db8::1' } },
  { why: 'no client address at all: a source condition would have nothing to check',
    flavor: 'nginx', headers: ['x-original-method', 'GET', 'x-original-uri', '/'],
    expect: 'IAM_DECISION_ORIGINAL_MISSING' },
  { why: 'traefik: the forwardAuth headers; its X-Forwarded-Uri is the target',
    flavor: 'traefik', headers: kTraefik,
    expect: { method: 'POST', target: '/t/x', hostText: 'app.example', scheme: 'http',
      sourceAddress: '192.0.2.9' } },
  { why: 'traefik always sends X-Forwarded-Host: without it the check is not from Traefik',
    flavor: 'traefik', headers: kTraefik.slice(0, 4).concat(kTraefik.slice(6)),
    expect: 'IAM_DECISION_ORIGINAL_MISSING' },
  { why: 'traefik flavor ignores nginx\'s header names (X-Original-URI is not its field)',
    flavor: 'traefik', headers: kNginx, expect: 'IAM_DECISION_ORIGINAL_MISSING' },
  { why: 'envoy: the check\'s own method, target and Host are the original\'s',
    flavor: 'envoy', method: 'DELETE', target: '/orders/7?force=1', host: 'orders.example',
    headers: ['x-forwarded-for', '192.0.2.8'],
    expect: { method: 'DELETE', target: '/orders/7?force=1', hostText: 'orders.example' } },
  { why: 'envoy with path_prefix: the prefix is removed, the rest is the original target',
    flavor: 'envoy', pathPrefix: '/authz', target: '/authz/orders/7',
    headers: ['x-forwarded-for', '192.0.2.8'], expect: { target: '/orders/7' } },
  { why: 'envoy with path_prefix: a target outside it did not come from that filter',
    flavor: 'envoy', pathPrefix: '/authz', target: '/orders/7',
    headers: ['x-forwarded-for', '192.0.2.8'], expect: 'IAM_DECISION_PATH_PREFIX_MISMATCH' },
  { why: 'envoy with path_prefix: the prefix must end at a segment boundary (/authzx is not it)',
    flavor: 'envoy', pathPrefix: '/authz', target: '/authzx/orders',
    headers: ['x-forwarded-for', '192.0.2.8'], expect: 'IAM_DECISION_PATH_PREFIX_MISMATCH' },
  { why: 'envoy: an encoded slash after the prefix is not a boundary; it is refused here',
    flavor: 'envoy', pathPrefix: '/authz', target: '/authz%2F..%2Fadmin',
    headers: ['x-forwarded-for', '192.0.2.8'], expect: 'IAM_DECISION_PATH_PREFIX_MISMATCH' },
];

describe('server/decision-original', () => {
  for (const c of kCases) {
    test(c.why, () => {
      const host = parseHost(c.host ?? 'decision.internal:9191');
      assert.ok(host !== undefined);
      const result = readOriginalRequest({
        method: c.method ?? 'GET', target: c.target ?? '/check', headers: c.headers, host,
      }, { flavor: c.flavor, pathPrefix: c.pathPrefix });
      if (typeof c.expect === 'string') {
        assert.equal(result.ok, false);
        if (!result.ok) assert.equal(result.code, c.expect);
        return;
      }
      assert.equal(result.ok, true, result.ok ? '' : result.code);
      if (!result.ok) return;
      for (const [key, value] of Object.entries(c.expect)) {
        assert.deepEqual(result.value[key as keyof OriginalRequest], value, key);
      }
    });
  }
});
