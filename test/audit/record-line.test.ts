/**
 * The record line: one JSON object per line, fields in the documented order, nulls where a stage
 * never ran, redaction by claim name, and nothing of the token beyond its ids.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { principalFromClaims } from '../../src/authn/index.js';
import {
  AuditRecord, kNoRedaction, kRedactedValue, recordLine, type RedactionRules,
} from '../../src/audit/index.js';

/** The documented field order (src/audit/README.md). */
const kFields = ['time', 'requestId', 'listener', 'sourceAddress', 'method', 'host', 'path',
  'service', 'decision', 'code', 'reason', 'rule', 'bundleVersion', 'bundleDigest', 'principal',
  'keyId', 'cache', 'status', 'upstreamStatus', 'outcome', 'authnUs', 'authzUs', 'totalUs'];

const kClaims = {
  sub: 'alice', client_id: 'web', sid: 'session-1', jti: 'token-1', exp: 2_000_000_000,
  email: 'alice@example.test', email_verified: true, tenant: 'acme', scope: 'read write',
};

function record(): AuditRecord {
  const r = new AuditRecord('proxy', 'req-1', '127.0.0.1', 'GET', Date.UTC(2026, 0, 2, 3, 4, 5, 6),
    0);
  r.host = 'api.example.test';
  r.path = '/orders/7';
  r.service = 'orders';
  r.principal = principalFromClaims('https://idp.test', kClaims, 'key-1');
  r.decision = 'allow';
  r.cacheHit = true;
  r.status = 200;
  r.upstreamStatus = 200;
  r.outcome = 'forwarded';
  r.authnUs = 3;
  r.totalUs = 250;
  return r;
}

describe('audit/record-line', () => {
  test('one line of JSON with every documented field in order', () => {
    const line = recordLine(record(), kNoRedaction);
    assert.ok(line.endsWith('}\n'));
    assert.equal(line.indexOf('\n'), line.length - 1);
    const parsed = JSON.parse(line) as Record<string, unknown>;
    assert.deepEqual(Object.keys(parsed), kFields);
    assert.equal(parsed.time, '2026-01-02T03:04:05.006Z');
    assert.deepEqual(parsed.principal, { kind: 'jwt', subject: 'alice', issuer: 'https://idp.test',
      clientId: 'web', sessionId: 'session-1', tokenId: 'token-1' });
    assert.equal(parsed.keyId, 'key-1');
    assert.equal(parsed.cache, 'hit');
    assert.equal(parsed.rule, null, 'no policy step yet: rule stays null');
    assert.equal(parsed.authzUs, null);
  });

  test('a refused request carries its code and reason, and null for the stages never reached',
    () => {
      const r = new AuditRecord('proxy', 'req-2', '::1', 'GET', 0, 0);
      r.refuse('IAM_ROUTING_ENCODED_SEPARATOR');
      const parsed = JSON.parse(recordLine(r, kNoRedaction)) as Record<string, unknown>;
      assert.equal(parsed.code, 'IAM_ROUTING_ENCODED_SEPARATOR');
      assert.equal(parsed.reason, 'encoded_separator');
      assert.equal(parsed.decision, 'reject');
      assert.equal(parsed.status, 400);
      assert.equal(parsed.principal, null);
      assert.equal(parsed.path, null);
      assert.equal(parsed.cache, null);
    });

  test('strings from clients or tokens are escaped; the line still parses to the same values',
    () => {
      const r = new AuditRecord('proxy', 'req-4', '127.0.0.1', 'G"\\T', 0, 0);
      r.path = '/caf\u00e9/\u2028"q"\u0001';
      r.rule = 'rule "a"';
      r.principal = principalFromClaims('https://idp.test', { sub: 'x"\\\u0000y', client_id: '\u{1F600}' },
        'k"1');
      const parsed = JSON.parse(recordLine(r, kNoRedaction)) as Record<string, any>;
      assert.equal(parsed.method, 'G"\\T');
      assert.equal(parsed.path, '/caf\u00e9/\u2028"q"\u0001');
      assert.equal(parsed.rule, 'rule "a"');
      assert.equal(parsed.principal.subject, 'x"\\\u0000y');
      assert.equal(parsed.principal.clientId, '\u{1F600}');
      assert.equal(parsed.keyId, 'k"1');
    });

  test('reused parts never leak from one record into the next', () => {
    const rules: RedactionRules = { claims: [], redact: new Set() };
    const variants: Array<[string, (r: AuditRecord) => void]> = [
      ['a 404 refusal', (r) => r.refuse('IAM_ROUTING_NO_ROUTE')],
      ['a deny by a rule of bundle 2', (r) => {
        r.rule = 'deny-all'; r.bundleVersion = '2'; r.bundleDigest = 'ab'.repeat(32);
        r.refuse('IAM_AUTHZ_DENIED');
      }],
      ['the same rule in bundle 3', (r) => {
        r.rule = 'deny-all'; r.bundleVersion = '3'; r.bundleDigest = 'cd'.repeat(32);
        r.refuse('IAM_AUTHZ_DENIED');
      }],
      ['a cache miss forwarded with 201', (r) => {
        r.decision = 'allow'; r.cacheHit = false; r.endExchange(201, null, false);
      }],
      ['a cache hit forwarded with 200', (r) => {
        r.decision = 'allow'; r.cacheHit = true; r.endExchange(200, null, false);
      }],
      // The same status and cache state as the line above: only the outcome tells them apart.
      ['a decision check answered allow with 200', (r) => {
        r.cacheHit = true; r.answer(200);
      }],
      ['a cache hit answered 302 by the upstream', (r) => {
        r.decision = 'allow'; r.cacheHit = true; r.endExchange(302, null, false);
        r.upstreamStatus = null;
      }],
      ['a browser sent to log in (302, no cache, outcome redirected)', (r) => {
        r.cacheHit = false; r.redirect('deny', 'IAM_AUTHN_REQUIRED');
      }],
    ];
    for (let round = 0; round < 2; round++) {
      for (const [why, set] of variants) {
        const r = new AuditRecord('proxy', 'req-6', '127.0.0.1', 'GET', 0, 0);
        set(r);
        const parsed = JSON.parse(recordLine(r, rules)) as Record<string, unknown>;
        assert.deepEqual(
          [parsed.decision, parsed.code, parsed.rule, parsed.bundleVersion, parsed.bundleDigest,
            parsed.cache, parsed.status, parsed.upstreamStatus, parsed.outcome],
          [r.decision, r.code, r.rule, r.bundleVersion, r.bundleDigest,
            r.cacheHit === null ? null : r.cacheHit ? 'hit' : 'miss', r.status, r.upstreamStatus,
            r.outcome], `${why}, round ${round}`);
      }
    }
  });

  test('every line is pure ASCII, whatever the principal carries', () => {
    const r = new AuditRecord('proxy', 'req-5', '127.0.0.1', 'GET', 0, 0);
    r.path = '/caf\u00e9';
    r.principal = principalFromClaims('https://idp.test',
      { sub: 'J\u00fcrgen \u20ac \u{1F600} \ud800', client_id: '\u2028' }, 'k');
    const line = recordLine(r, kNoRedaction);
    assert.match(line, /^[\x20-\x7e]*\n$/);
    const parsed = JSON.parse(line) as { path: string; principal: { subject: string; clientId: string } };
    assert.equal(parsed.path, '/caf\u00e9');
    assert.equal(parsed.principal.subject, 'J\u00fcrgen \u20ac \u{1F600} \ud800');
    assert.equal(parsed.principal.clientId, '\u2028');
  });

  test('claims are copied only when listed, and redacted names show [redacted]', () => {
    const rules: RedactionRules = { claims: ['tenant', 'email', 'missing'],
      redact: new Set(['email', 'sub', 'kid']) };
    const parsed = JSON.parse(recordLine(record(), rules)) as {
      principal: Record<string, unknown>; keyId: unknown };
    assert.deepEqual(parsed.principal.claims, { tenant: 'acme', email: kRedactedValue });
    assert.equal(parsed.principal.subject, kRedactedValue);
    assert.equal(parsed.keyId, kRedactedValue);
    assert.equal(parsed.principal.clientId, 'web', 'client_id was not on the redact list');
  });

  test('without a claims list no claim value appears at all', () => {
    const line = recordLine(record(), kNoRedaction);
    assert.ok(!line.includes('alice@example.test'));
    assert.ok(!line.includes('acme'));
    assert.ok(!line.includes('read write'), 'scopes are not part of the record');
  });

  test('an abort before any decision keeps the decision null', () => {
    const r = new AuditRecord('proxy', 'req-3', '127.0.0.1', 'POST', 0, 0);
    r.refuse('IAM_REQUEST_CLIENT_ABORTED', 'aborted');
    const parsed = JSON.parse(recordLine(r, kNoRedaction)) as Record<string, unknown>;
    assert.equal(parsed.decision, null);
    assert.equal(parsed.outcome, 'aborted');
    assert.equal(parsed.status, 0);
  });
});
