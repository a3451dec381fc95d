/**
 * The oracle test: on random policies and random requests, the WebAssembly evaluator's decision
 * and deciding rule equal the reference evaluator's. Each run checks 10,000 cases or more
 * (fast-check, 100 policies x 100 requests). Values come from small alphabets so that rules
 * apply often, and the alphabets hold near-misses: `a.b` next to `aXb`, empty values, IPv4 next
 * to IPv6, a claim equal to a path segment and one that is not.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import { stringify } from 'yaml';
import {
  type AuthzRequest, type EvaluatorModule, loadEvaluator, PolicyEngine, referenceDecide,
} from '../../src/authz/index.js';
import { TreeWalker } from '../../src/authz/tree-walker.js';
import { compilePolicy, decodeBundle } from '../../src/policy/index.js';

const kServices = ['alpha', 'beta', 'gamma'];
const kMethods = ['GET', 'POST', 'DELETE'];
const kSegments = ['a.b', 'aXb', 'x', 'y', 'acme'];
const kValues = ['acme', 'x', 'a.b', 'aXb', 'ac', ''];
const kScopes = ['s1', 's2', 's3'];
const kGroups = ['g1', 'g2'];
const kRoles = ['r0', 'r1', 'r2', 'r3'];
const kRanges = ['10.0.0.0/8', '10.1.0.0/16', '::1', '192.168.0.0/24', '2001:db8::/32', '0.0.0.0/0'];
const kAddresses = ['10.1.2.3', '10.2.0.1', '192.168.0.7', '::1', '2001:db8::5', '127.0.0.1',
  'not-an-ip', '0000:0000:0000:0000:0000:ffff:0a01:0203'];
const kClaims = ['tenant', 'team'];
const kHeaders = ['x-env', 'x-team'];

const pick = <T>(xs: readonly T[]): fc.Arbitrary<T> => fc.constantFrom(...xs);
const subset = <T>(xs: readonly T[]): fc.Arbitrary<T[]> =>
  fc.subarray([...xs], { minLength: 1 });

/** A condition; `withParam` allows comparing with the path parameter {t} at segment 0. */
function condition(withParam: boolean): fc.Arbitrary<unknown> {
  const attr = fc.oneof(pick(kClaims).map((c) => ({ claim: c })),
    pick(kHeaders).map((h) => ({ header: h })));
  const leaf = fc.oneof(
    fc.tuple(attr, pick(kValues.filter((v) => v !== ''))).map(([a, v]) => ({ ...a, equals: v })),
    fc.tuple(attr, subset(kValues.filter((v) => v !== ''))).map(([a, v]) => ({ ...a, in: v })),
    fc.tuple(attr, pick(['a', 'ac', 'a.', 'x'])).map(([a, v]) => ({ ...a, prefix: v })),
    ...(withParam ? [attr.map((a) => ({ ...a, equals: { path: 't' } }))] : []),
    subset(kRanges).map((r) => ({ source: r })),
    fc.record({
      days: subset(['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat']),
      hours: pick(['09:00-17:00', '22:00-06:00', '00:00-24:00', '12:30-12:45']),
      utcOffset: pick(['+00:00', '+05:30', '-08:00']),
    }).map((t) => ({ time: t })),
  );
  return fc.letrec((tie) => ({
    cond: fc.oneof({ depthSize: 'small', withCrossShrink: true },
      leaf,
      fc.array(tie('cond'), { minLength: 1, maxLength: 3 }).map((of) => ({ all: of })),
      fc.array(tie('cond'), { minLength: 1, maxLength: 3 }).map((of) => ({ any: of })),
      tie('cond').map((of) => ({ not: of }))),
  })).cond;
}

function pattern(withParam: boolean): fc.Arbitrary<string> {
  const seg = fc.oneof(pick(kSegments), fc.constant('*'), fc.constant('{p}'));
  return fc.tuple(fc.array(seg, { maxLength: 3 }), fc.boolean(), fc.boolean()).map(([segs, glob, slash]) => {
    // {p} at most once per pattern; a trailing empty segment ("/a/") now and then.
    let seen = false;
    const parts = segs.map((s) => (s === '{p}' ? (seen ? '*' : ((seen = true), s)) : s));
    if (withParam) parts.unshift('{t}');
    if (glob) parts.push('**');
    else if (slash) parts.push('');
    return `/${parts.join('/')}`;
  });
}

const who = fc.oneof(
  pick(['anyone', 'authenticated', 'anonymous']),
  subset(kRoles).map((roles) => ({ roles })),
  fc.record({ scopes: subset(kScopes) }, { requiredKeys: [] }).map((w) =>
    (Object.keys(w).length === 0 ? { groups: ['g1'] } : w)),
  subset(['u1', 'u2']).map((subjects) => ({ subjects })),
  subset(['jwt', 'mtls', 'anonymous']).map((credentials) => ({ credentials })),
  fc.constant({ spiffe: ['spiffe://x/a'], clients: ['c1'] }),
);

const rule = fc.boolean().chain((withParam) => fc.record({
  effect: pick(['allow', 'deny']),
  who,
  services: fc.option(subset(kServices), { nil: undefined }),
  methods: fc.option(subset(kMethods), { nil: undefined }),
  paths: fc.array(pattern(withParam), { minLength: 1, maxLength: 2 }),
  when: fc.option(condition(withParam), { nil: undefined, freq: 2 }),
}, { requiredKeys: ['effect', 'who', 'paths'] }));

const policy = fc.record({
  inherits: fc.array(fc.subarray([0, 1, 2]), { minLength: 4, maxLength: 4 }),
  assignments: fc.array(fc.oneof(
    fc.record({ role: pick(kRoles), groups: subset(kGroups) }),
    fc.record({ role: pick(kRoles), scopes: subset(kScopes) }),
    fc.record({ role: pick(kRoles), subjects: subset(['u1', 'u2']) }),
    fc.record({ role: pick(kRoles), credentials: subset(['jwt', 'opaque', 'mtls', 'session', 'anonymous']) }),
    fc.record({ role: pick(kRoles), spiffe: fc.constant(['spiffe://x/a']) }),
  ), { maxLength: 5 }),
  rules: fc.array(rule, { minLength: 1, maxLength: 12 }),
}).map((p) => stringify({
  version: 1,
  // Role i may inherit only lower-numbered roles, so inheritance is acyclic.
  roles: Object.fromEntries(kRoles.map((r, i) => {
    const inherits = p.inherits[i]!.filter((j) => j < i).map((j) => kRoles[j]);
    return [r, inherits.length === 0 ? {} : { inherits }];
  })),
  assignments: p.assignments,
  rules: p.rules.map((r, i) => ({ id: `rule-${i}`, ...r })),
  // fast-check shares values between records; written out, not as YAML aliases (refused).
}, { aliasDuplicateObjects: false }));

const principal = fc.record({
  kind: pick(['jwt', 'opaque', 'mtls', 'session', 'anonymous'] as const),
  subject: pick(['u1', 'u2', 'u3', undefined]),
  clientId: pick(['c1', 'c2', undefined]),
  scopes: fc.subarray(kScopes),
  groups: fc.subarray(kGroups),
  attributes: fc.dictionary(pick(kClaims), pick(kValues), { maxKeys: 2 }),
  certificate: pick([undefined, { spiffeId: 'spiffe://x/a' }, { spiffeId: 'spiffe://x/b' }]),
});

const request: fc.Arbitrary<AuthzRequest> = fc.record({
  service: pick([...kServices, 'unnamed']),
  method: pick([...kMethods, 'PATCH']),
  path: fc.array(pick([...kSegments, 'zz', '']), { minLength: 1, maxLength: 5 }).map((s) => `/${s.join('/')}`),
  headers: fc.array(fc.tuple(pick([...kHeaders, 'other']), pick(kValues)), { maxLength: 3 })
    .map((hs) => hs.flat()),
  sourceAddress: pick(kAddresses),
  // 2026-01-01 to 2027-01-01: every weekday and minute of the day.
  nowMs: fc.integer({ min: Date.UTC(2026, 0, 1), max: Date.UTC(2027, 0, 1) }),
  principal,
});

describe('authz/wasm-matches-reference', () => {
  let evaluator: EvaluatorModule;
  before(async () => {
    evaluator = await loadEvaluator();
  });

  test('decision and rule agree on >= 10,000 random policy/request cases (WASM and TS tree walk)', () => {
    let cases = 0;
    let allows = 0;
    let ruleDenies = 0;
    let firstMismatch = '';
    const outcome = fc.check(fc.property(policy, fc.array(request, { minLength: 100, maxLength: 100 }),
      (source, requests) => {
        const compiled = compilePolicy([{ name: 'p.yaml', text: source }], { createdAtMs: 0 });
        const bundle = decodeBundle(compiled.bytes);
        const engine = new PolicyEngine(evaluator, bundle);
        const walker = new TreeWalker(bundle);
        for (const req of requests) {
          const want = referenceDecide(bundle.policy, req);
          const got = engine.decide(req);
          // The TypeScript port of the tree walk (the bench's "well-written TS evaluator").
          const code = walker.decide(req);
          const walked = { allow: (code & 1) === 1, ruleIndex: (code >> 1) - 1 };
          if (walked.allow !== want.allow || walked.ruleIndex !== want.ruleIndex) {
            firstMismatch = `policy:\n${source}\nrequest: ${JSON.stringify(req)}\n` +
              `tree walker ${walked.allow}/${walked.ruleIndex}, reference ${want.allow}/${want.ruleIndex}`;
            return false;
          }
          cases++;
          if (got.allow) allows++;
          else if (got.ruleIndex >= 0) ruleDenies++;
          if (got.allow !== want.allow || got.ruleIndex !== want.ruleIndex) {
            firstMismatch = `policy:\n${source}\nrequest: ${JSON.stringify(req)}\n` +
              `wasm ${got.allow}/${got.ruleIndex}, reference ${want.allow}/${want.ruleIndex}`;
            return false;
          }
        }
        return true;
      }), { numRuns: 100 });
    // Report one failing case compactly (the shrunk counterexample holds 100 requests).
    if (outcome.failed) {
      assert.fail(firstMismatch || `seed ${outcome.seed}: ${String(outcome.errorInstance)}`);
    }
    assert.ok(cases >= 10_000, `${cases} cases`);
    // Guard against a vacuous run: rules must decide a fair share of the cases both ways.
    assert.ok(allows > cases / 20 && ruleDenies > cases / 20, `${allows} allows, ${ruleDenies} rule denies`);
  });
});
