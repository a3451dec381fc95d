import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { Authenticator, type AuthnResult } from '../../src/authn/index.js';
import { type AuthzRequest, type Decision, PolicyEngine } from '../../src/authz/index.js';

/**
 * The CI gate's injected slowdown must really double the auth path's work, or its recorded FAIL
 * proves nothing. Counting stubs stand in for the real methods before the preload wraps them
 * (this file runs in its own process, so nothing else sees the patched prototypes).
 */
describe('bench-support/inject-preload', () => {
  it('runs every decision and every cached authentication the injected number of times',
    async () => {
      let decisions = 0;
      let authentications = 0;
      const decision = { allow: true } as Decision;
      const cached = { ok: true } as AuthnResult;
      PolicyEngine.prototype.decide = (_req: AuthzRequest): Decision => {
        decisions++;
        return decision;
      };
      Authenticator.prototype.authenticate = (header) => {
        authentications++;
        return header === 'miss' ? Promise.resolve(cached) : cached;
      };

      process.env['PORTCULLIS_BENCH_INJECT_REPEAT'] = '3';
      process.env['PORTCULLIS_BENCH_INJECT_BUSY_US'] = '0';
      await import('../../bench/ci/inject-preload.js');

      const engine = Object.create(PolicyEngine.prototype) as PolicyEngine;
      assert.equal(engine.decide({} as AuthzRequest), decision, 'the decision is unchanged');
      assert.equal(decisions, 3);

      const authenticator = Object.create(Authenticator.prototype) as Authenticator;
      assert.equal(authenticator.authenticate('Bearer x'), cached);
      assert.equal(authentications, 3, 'a cache hit is repeated');
      await authenticator.authenticate('miss');
      assert.equal(authentications, 4, 'a miss is not: it would submit the token twice');
    });
});
