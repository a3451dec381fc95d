/**
 * The internalJwt block: a service that asks for internal JWTs needs the proxy's signing key.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigLoadError, loadConfigText } from '../../src/config/index.js';

describe('config/internal-jwt', () => {
  test('identity.internalJwt without the top-level block names the field and its line', async () => {
    const text = `services:
  - name: orders
    access: authenticated
    identity: { internalJwt: true }
    upstream: { addresses: ['127.0.0.1:1'] }
`;
    await assert.rejects(loadConfigText(text, 'c.yaml', tmpdir()), (err: unknown) => {
      assert.ok(err instanceof ConfigLoadError);
      const d = err.diagnostics.find((x) => x.field === 'services[0].identity.internalJwt');
      assert.ok(d !== undefined, JSON.stringify(err.diagnostics));
      assert.equal(d.line, 4);
      return true;
    });
  });

  test('the signing key must be a secret reference, never inline', async () => {
    const text = `internalJwt:
  issuer: https://proxy.test
  signingKey: "-----BEGIN PRIVATE KEY-----"
services:
  - name: a
    access: public
    upstream: { addresses: ['127.0.0.1:1'] }
`;
    await assert.rejects(loadConfigText(text, 'c.yaml', tmpdir()), (err: unknown) => {
      assert.ok(err instanceof ConfigLoadError);
      assert.ok(err.diagnostics.some((x) => x.field === 'internalJwt.signingKey' && x.line === 3));
      assert.doesNotMatch(JSON.stringify(err.diagnostics), /BEGIN PRIVATE KEY/);
      return true;
    });
  });
});
