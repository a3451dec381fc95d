/**
 * Threats.md, "Path normalization bypass": one canonical path feeds the policy. Property: any
 * spelling of a path that the canonicalizer accepts (escaped unreserved characters in either
 * hex case, `.` segments, `x/..` detours, repeated slashes, a query that names another path) is
 * decided exactly as the plain path is: same rule, same effect. A spelling it cannot make
 * canonical is refused with a routing code, never decided on. Spellings with an encoded slash or
 * backslash, a raw backslash or a `;` are always refused.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type AuthzRequest, type EvaluatorModule, loadEvaluator, PolicyEngine,
} from '../../src/authz/index.js';
import { compilePolicy, decodeBundle } from '../../src/policy/index.js';
import { canonicalizeTarget } from '../../src/routing/index.js';

/** A deny inside an allowed tree, a parameter route, and a literal with a dot. */
const kPolicy = `version: 1
rules:
  - id: public-read
    effect: allow
    who: anyone
    paths: ['/public/**']
  - id: admin-deny
    effect: deny
    who: anyone
    paths: ['/public/admin/**', '/admin/**']
  - id: order-owner
    effect: allow
    who: anyone
    paths: ['/orders/{id}']
  - id: dotted
    effect: allow
    who: anyone
    paths: ['/files/a.b']
`;

const kSegments = ['public', 'admin', 'orders', 'files', 'a.b', 'aXb', 'x', '7', '~u', 'A-Z'];
const kOptions = { slashes: 'merge', maxUrlBytes: 8192 } as const;
const kUnreserved = /[A-Za-z0-9\-._~]/;

function request(path: string): AuthzRequest {
  return {
    service: 'web', method: 'GET', path, headers: [], sourceAddress: '127.0.0.1', nowMs: 0,
    principal: { kind: 'anonymous', subject: undefined, clientId: undefined, scopes: [],
      groups: [], attributes: {}, certificate: undefined },
  };
}

/** One segment, each character escaped or not, escapes in upper or lower case. */
function spelledSegment(segment: string): fc.Arbitrary<string> {
  return fc.array(fc.tuple(fc.boolean(), fc.boolean()), {
    minLength: segment.length, maxLength: segment.length,
  }).map((choices) => [...segment].map((ch, i) => {
    const [isEscaped, isLower] = choices[i] as [boolean, boolean];
    if (!isEscaped || !kUnreserved.test(ch)) return ch;
    const hex = ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0');
    return `%${isLower ? hex.toLowerCase() : hex}`;
  }).join(''));
}

/** Detours that canonicalize to nothing: `.`, `seg/..`, and extra slashes. */
const kDetour = fc.constantFrom('./', '%2e/', '%2E/', 'x/../', 'x/%2e%2e/', 'x/.%2E/', '/', '//');

/** A raw target for `segments`: each segment spelled, detours between, maybe a query. */
function rawTarget(segments: readonly string[]): fc.Arbitrary<string> {
  const parts = segments.map((s) =>
    fc.tuple(fc.array(kDetour, { maxLength: 2 }), spelledSegment(s)));
  return fc.tuple(fc.tuple(...parts), fc.constantFrom('', '?path=/admin/x', '?a=%2F..%2F'))
    .map(([spelled, query]) => `/${spelled.map(([detours, s]) => `${detours.join('')}${s}`)
      .join('/')}${query}`);
}

describe('routing/canonical-path-decision', () => {
  let evaluator: EvaluatorModule;
  let engine: PolicyEngine;
  before(async () => {
    evaluator = await loadEvaluator();
    engine = new PolicyEngine(evaluator, decodeBundle(compilePolicy(
      [{ name: 'p.yaml', text: kPolicy }], { createdAtMs: 0 }).bytes));
  });

  test('every accepted spelling is decided as the plain path is (2,000 cases)', () => {
    let accepted = 0;
    const plainPaths = fc.array(fc.constantFrom(...kSegments), { minLength: 1, maxLength: 4 });
    fc.assert(fc.property(plainPaths.chain((segs) => fc.tuple(fc.constant(segs), rawTarget(segs))),
      ([segments, raw]) => {
        const plain = `/${segments.join('/')}`;
        const result = canonicalizeTarget(raw, 'api.test', kOptions);
        if (!result.ok) {
          assert.match(result.code, /^IAM_ROUTING_/, raw);
          return;
        }
        accepted++;
        assert.equal(result.value.path, plain, raw);
        const want = engine.decide(request(plain));
        const got = engine.decide(request(result.value.path));
        assert.equal(got.ruleId, want.ruleId, raw);
        assert.equal(got.allow, want.allow, raw);
      }), { numRuns: 2000, seed: 0x5eed });
    // The property means something only if most spellings were accepted and decided.
    assert.ok(accepted > 1500, `only ${accepted} of 2000 spellings were accepted`);
  });

  const kRefused: ReadonlyArray<readonly [string, string, string]> = [
    ['an encoded slash would let /public%2F..%2Fadmin reach admin as one segment',
      '/public/x%2F..%2Fadmin/y', 'IAM_ROUTING_ENCODED_SEPARATOR'],
    ['an encoded backslash is a separator on some upstreams', '/public%5Cadmin',
      'IAM_ROUTING_ENCODED_SEPARATOR'],
    ['a raw backslash is a separator on some upstreams', '/public\\..\\admin',
      'IAM_ROUTING_BACKSLASH'],
    ['a path parameter hides segments from some matchers', '/admin;x=1/y', 'IAM_ROUTING_SEMICOLON'],
    ['an encoded semicolon is the same trick', '/admin%3Bx/y', 'IAM_ROUTING_SEMICOLON'],
    ['an encoded NUL truncates paths in C upstreams', '/public/a%00/../admin',
      'IAM_ROUTING_CONTROL_CHARACTER'],
    ['dot segments may not climb above the root', '/../admin', 'IAM_ROUTING_PATH_ESCAPES_ROOT'],
    ['a fragment is never part of a request target', '/public#/../admin',
      'IAM_ROUTING_TARGET_FRAGMENT'],
  ];
  for (const [why, raw, code] of kRefused) {
    test(`refused: ${why}`, () => {
      const result = canonicalizeTarget(raw, 'api.test', kOptions);
      assert.equal(result.ok, false, why);
      if (!result.ok) assert.equal(result.code, code, why);
    });
  }

  test('a detour through a denied subtree lands where it ends, not where it passed', () => {
    const result = canonicalizeTarget('/public/admin/../docs', 'api.test', kOptions);
    assert.ok(result.ok);
    if (!result.ok) return;
    assert.equal(result.value.path, '/public/docs');
    assert.equal(engine.decide(request(result.value.path)).ruleId, 'public-read');
    assert.equal(engine.decide(request('/public/admin/docs')).ruleId, 'admin-deny');
  });
});
