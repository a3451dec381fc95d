/**
 * A config crosses into a serving thread as a structured clone: secrets survive as SecretValue
 * (still redacted when printed), everything else is the same plain data, deeply frozen.
 */
import assert from 'node:assert/strict';
import { tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { loadConfigText, SecretValue } from '../../src/config/index.js';
import { configFrom, portableConfig } from '../../src/threads/protocol.js';

describe('threads/protocol', () => {
  test('portableConfig survives structuredClone, secrets included', async () => {
    process.env.PORTABLE_TEST_TOKEN = 'admin-secret-value';
    const config = await loadConfigText(`admin: { token: { env: PORTABLE_TEST_TOKEN } }
threads: 3
services:
  - name: app
    access: public
    upstream: { addresses: ['127.0.0.1:1'] }
`, 'portable.yaml', tmpdir());
    const revived = configFrom(structuredClone(portableConfig(config)));
    assert.ok(revived.admin.token instanceof SecretValue);
    assert.equal(revived.admin.token.reveal(), 'admin-secret-value');
    assert.equal(String(revived.admin.token), '[redacted]');
    assert.equal(revived.threads, 3);
    assert.deepEqual(revived.services.map((s) => s.upstream.addresses), [['127.0.0.1:1']]);
    assert.ok(Object.isFrozen(revived.services[0]), 'deeply frozen, as the loader returns it');
    assert.equal(JSON.stringify(revived).includes('admin-secret-value'), false);
  });
});
