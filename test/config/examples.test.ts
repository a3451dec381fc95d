import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigFile, loadConfigText } from '../../src/config/index.js';

// Compiled to dist/test/config/, so the repository root is three levels up.
const kExamples = fileURLToPath(new URL('../../../examples/', import.meta.url));

describe('config/examples', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-examples-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('config/examples minimal.yaml loads', async () => {
    const config = await loadConfigFile(join(kExamples, 'minimal.yaml'), {});
    assert.equal(config.services.length, 1);
  });

  it('config/examples multi-service.yaml loads', async () => {
    const config = await loadConfigFile(join(kExamples, 'multi-service.yaml'), {});
    assert.deepEqual(config.services.map((s) => s.name), ['docs', 'api', 'uploads', 'status']);
    assert.equal(config.routing.slashes, 'reject');
  });

  it('config/examples login.yaml loads once its files and secrets exist', async () => {
    const base = join(dir, 'login');
    await mkdir(join(base, 'certs'), { recursive: true });
    await mkdir(join(base, 'secrets'));
    for (const file of ['certs/app.crt', 'certs/app.key']) {
      await writeFile(join(base, file), `placeholder for ${file}\n`);
    }
    await writeFile(join(base, 'secrets', 'login-client-secret'), 'client-secret-value\n');
    const text = await readFile(join(kExamples, 'login.yaml'), 'utf8');
    const env = { PORTCULLIS_LOGIN_COOKIE_KEY: 'k'.repeat(48), PORTCULLIS_REDIS_PASSWORD: 'pw' };
    const config = await loadConfigText(text, 'login.yaml', base, env);
    assert.equal(config.login?.clientSecret.reveal(), 'client-secret-value');
    assert.equal(config.login?.transport, 'tls');
    assert.deepEqual(config.services.map((s) => [s.name, s.login]), [['app', true], ['api', false]]);
  });

  it('config/examples tls.yaml loads once its files and secrets exist', async () => {
    // The example names certificate, key and token files relative to its own directory; they
    // are created here, next to a copy of the example, with placeholder contents.
    await mkdir(join(dir, 'certs'));
    await mkdir(join(dir, 'secrets'));
    const files = ['certs/proxy.crt', 'certs/proxy.key', 'certs/internal-ca.crt',
      'certs/proxy-client.crt', 'certs/proxy-client.key', 'certs/mesh-ca.crt'];
    for (const file of files) await writeFile(join(dir, file), `placeholder for ${file}\n`);
    await writeFile(join(dir, 'secrets', 'admin-token'), 'admin-token-value\n');

    const text = await readFile(join(kExamples, 'tls.yaml'), 'utf8');
    const env = { PORTCULLIS_TLS_PASSPHRASE: 'example-passphrase' };
    const config = await loadConfigText(text, 'tls.yaml', dir, env);
    assert.equal(config.listeners.proxy.tls?.certFile, join(dir, 'certs/proxy.crt'));
    assert.equal(config.listeners.proxy.tls?.passphrase?.reveal(), 'example-passphrase');
    assert.equal(config.admin.token?.reveal(), 'admin-token-value');
    assert.equal(config.services[0]?.upstream.tls?.serverName, 'billing.internal');
    assert.deepEqual(config.listeners.mtls?.caFiles, [join(dir, 'certs/mesh-ca.crt')]);
  });

  it('config/examples authn.yaml loads once its JWKS file exists', async () => {
    // The example pins one issuer's keys in a file next to it; an empty key set stands in.
    await mkdir(join(dir, 'keys'));
    await writeFile(join(dir, 'keys', 'ci-jwks.json'), '{"keys":[]}\n');
    const text = await readFile(join(kExamples, 'authn.yaml'), 'utf8');
    const config = await loadConfigText(text, 'authn.yaml', dir, {});
    const [login, ci] = config.authn.issuers;
    assert.equal(login?.discovery, true);
    assert.equal(login?.algorithms.length, 10);
    assert.equal(ci?.jwksFile, join(dir, 'keys', 'ci-jwks.json'));
    assert.deepEqual(ci?.algorithms, ['ES256']);
  });

  it('config/examples policy-bundles.yaml loads once its public key exists', async () => {
    // The bundle file itself may appear later (it is watched); the signing key must exist.
    const { generateKeyPairSync } = await import('node:crypto');
    await writeFile(join(dir, 'signer.pub.pem'),
      generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));
    const text = await readFile(join(kExamples, 'policy-bundles.yaml'), 'utf8');
    const config = await loadConfigText(text, 'policy-bundles.yaml', dir,
      { PORTCULLIS_ADMIN_TOKEN: 'example-admin-token' });
    assert.equal(config.policy?.file, join(dir, 'policy.bundle'));
    assert.deepEqual(config.policy?.publicKeys, [join(dir, 'signer.pub.pem')]);
    assert.equal(config.policy?.allowPush, true);
    assert.deepEqual(config.services.map((s) => s.access), [undefined, undefined]);
  });
});
