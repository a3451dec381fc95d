/**
 * Issuers that introspect opaque tokens: one may do without a key source, and only one may
 * introspect (an opaque token names no issuer, so two would be ambiguous).
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigLoadError, loadConfigText } from '../../src/config/index.js';

const env = { INTROSPECT_SECRET: 's3cret' };
const issuer = (name: string, extra = ''): string => `    - issuer: https://${name}.test
      introspection:
        endpoint: https://${name}.test/introspect
        clientId: proxy
        clientSecret: { env: INTROSPECT_SECRET }
${extra}`;
const services = `services:
  - name: api
    access: authenticated
    upstream: { addresses: ['127.0.0.1:1'] }
`;

describe('config/introspection', () => {
  test('an introspection-only issuer (no key source) is valid', async () => {
    const config = await loadConfigText(`authn:\n  issuers:\n${issuer('idp')}${services}`,
      'c.yaml', tmpdir(), env);
    const entry = config.authn.issuers[0];
    assert.equal(entry?.introspection?.clientId, 'proxy');
    assert.equal(entry?.introspection?.clientSecret.reveal(), 's3cret');
  });

  test('a second introspecting issuer is refused at its introspection block', async () => {
    const text = `authn:\n  issuers:\n${issuer('one')}${issuer('two')}${services}`;
    await assert.rejects(loadConfigText(text, 'c.yaml', tmpdir(), env), (err: unknown) => {
      assert.ok(err instanceof ConfigLoadError);
      assert.ok(err.diagnostics.some((d) => d.field === 'authn.issuers[1].introspection'),
        JSON.stringify(err.diagnostics));
      return true;
    });
  });

  test('an issuer with neither a key source nor introspection is still refused', async () => {
    const text = `authn:\n  issuers:\n    - issuer: https://bare.test\n${services}`;
    await assert.rejects(loadConfigText(text, 'c.yaml', tmpdir(), env), (err: unknown) => {
      assert.ok(err instanceof ConfigLoadError);
      assert.ok(err.diagnostics.some((d) => d.field === 'authn.issuers[0]'));
      return true;
    });
  });
});
