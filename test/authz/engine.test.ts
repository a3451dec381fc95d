/**
 * The WebAssembly engine's contract beyond agreeing with the reference: frozen shared decisions,
 * obligations, refusals past the evaluator's limits, and literal fields that stay literal.
 */
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import fc from 'fast-check';
import {
  type AuthzRequest, type EvaluatorModule, loadEvaluator, PolicyEngine,
} from '../../src/authz/index.js';
import { compilePolicy, decodeBundle } from '../../src/policy/index.js';

const kPolicy = `version: 3
rules:
  - id: read
    effect: allow
    who: anyone
    services: [files]
    paths: ['/files/a.b', '/files/{name}/v1.0']
    obligations: { headers: { x-policy: read, x-tier: gold } }
  - id: deny-secret
    effect: deny
    who: authenticated
    paths: ['/files/secret']
`;

function engineFor(evaluator: EvaluatorModule, text: string): PolicyEngine {
  return new PolicyEngine(evaluator, decodeBundle(compilePolicy([{ name: 'p.yaml', text }],
    { createdAtMs: 0 }).bytes));
}

function request(path: string, more: Partial<AuthzRequest> = {}): AuthzRequest {
  return {
    service: 'files', method: 'GET', path, headers: [], sourceAddress: '127.0.0.1', nowMs: 0,
    principal: { kind: 'anonymous', subject: undefined, clientId: undefined, scopes: [], groups: [],
      attributes: {}, certificate: undefined },
    ...more,
  };
}

describe('authz/engine', () => {
  let evaluator: EvaluatorModule;
  before(async () => {
    evaluator = await loadEvaluator();
  });

  test('an allow carries its rule, obligations and the bundle identity; decisions are shared', () => {
    const engine = engineFor(evaluator, kPolicy);
    const d = engine.decide(request('/files/a.b'));
    assert.equal(d.allow, true);
    assert.equal(d.ruleId, 'read');
    assert.deepEqual(d.obligations, ['x-policy', 'read', 'x-tier', 'gold']);
    assert.equal(d.bundleVersion, 3);
    assert.equal(d.bundleDigest, engine.digest);
    assert.ok(Object.isFrozen(d));
    // The same outcome is the same object: deciding allocates no result.
    assert.equal(engine.decide(request('/files/a.b')), d);
  });

  test('a deny names its rule; nothing applicable is default-deny and asks for credentials', () => {
    const engine = engineFor(evaluator, kPolicy);
    const denied = engine.decide(request('/files/secret', { principal: { ...request('/').principal, kind: 'jwt' } }));
    assert.deepEqual([denied.allow, denied.ruleId, denied.code], [false, 'deny-secret', 'IAM_AUTHZ_DENIED']);
    const none = engine.decide(request('/files/other'));
    assert.deepEqual([none.allow, none.ruleId, none.ruleIndex, none.credentialsMayHelp],
      [false, 'default-deny', -1, true]);
  });

  test('a request beyond the evaluator limits is refused, not truncated', () => {
    const engine = engineFor(evaluator, kPolicy);
    const deep = `/${Array.from({ length: 300 }, () => 'x').join('/')}`;
    assert.equal(engine.decide(request(deep)).code, 'IAM_AUTHZ_REQUEST_LIMITS');
    const manyScopes = { ...request('/').principal, kind: 'jwt' as const,
      scopes: Array.from({ length: 300 }, (_, i) => `s${i}`) };
    assert.equal(engine.decide(request('/files/a.b', { principal: manyScopes })).code,
      'IAM_AUTHZ_REQUEST_LIMITS');
  });

  test('literal fields are literals: a dot matches only a dot', () => {
    const engine = engineFor(evaluator, kPolicy);
    fc.assert(fc.property(fc.string({ minLength: 1, maxLength: 1 }).filter((c: string) => c !== '.' && c !== '/'), (c) => {
      assert.equal(engine.decide(request(`/files/a${c}b`)).allow, false);
      assert.equal(engine.decide(request(`/files/x/v1${c}0`)).allow, false);
    }), { numRuns: 200 });
    assert.equal(engine.decide(request('/files/x/v1.0')).allow, true);
  });
});
