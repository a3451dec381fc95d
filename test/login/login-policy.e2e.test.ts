/**
 * Sessions under a signed policy (threats.md, "Claim parsing tricks"): a rule for `session`
 * credentials whose condition checks the e-mail domain. The domain the policy sees comes from
 * the strict parser, and only for a verified address, so a multi-@ address, an unverified one,
 * and a Unicode domain that is another domain in ASCII are all refused; the anonymous
 * navigation the rule could admit is sent to log in.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type LoginHarness, startLoginHarness } from '../support/login-harness.js';
import { createBundleSigner } from '../support/policy-bundles.js';

const kPolicy = `version: 1
rules:
  - id: app-example-com
    effect: allow
    who: { credentials: [session] }
    services: [app]
    paths: ['/**']
    when: { claim: email_domain, equals: example.com }
  - id: open
    effect: allow
    who: anyone
    services: [open]
    paths: ['/**']
`;
const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-login-policy-'));
let h: LoginHarness;

before(async () => {
  const signer = createBundleSigner();
  const file = path.join(kDir, 'bundle.pb');
  signer.write(file, await signer.signText(kPolicy));
  h = await startLoginHarness({ policy: { publicKeyFile: signer.publicKeyFile, file } });
});
after(async () => {
  await h.stop();
  rmSync(kDir, { recursive: true, force: true });
});

describe('login/policy e2e', () => {
  test('login/policy an anonymous navigation that the session rule could admit goes to log in', async () => {
    const res = await h.browser().request(`${h.origin}/app/page`);
    assert.equal(res.status, 302);
    assert.ok(res.header('location')!.startsWith(`${h.idp.issuer}/auth?`));
  });

  const kCases: ReadonlyArray<readonly [string, number, string]> = [
    ['alice', 200, 'a verified alice@example.com: the domain matches'],
    ['mallory', 403, 'mallory@evil.test@example.com has two @: no domain at all'],
    ['bob', 403, 'bob@example.com is not verified: no domain to compare'],
    ['ines', 403, 'ines@bücher.example is xn--bcher-kva.example, not example.com'],
  ];
  for (const [account, status, why] of kCases) {
    test(`login/policy ${account}: ${why}`, async () => {
      const out = await h.login(h.browser(), '/app/page', account);
      assert.equal(out.status, status, out.body);
      if (status === 403) assert.match(out.body, /x-portcullis-error: IAM_AUTHZ_DENIED/);
      if (status === 200) assert.deepEqual(h.upstream.lastHeader('x-portcullis-subject'), [account]);
    });
  }
});
