import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import {
  type Config, ConfigLoadError, SecretValue, describeConfig, loadConfigText,
} from '../../src/config/index.js';

const kEnvSecret = 'env-secret-4b1d9c';
const kFileSecret = 'file-secret-77e0aa';
const kPassphrase = 'passphrase-5f3e21';

describe('config/secrets', () => {
  let dir = '';
  let config: Config;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-secrets-'));
    await mkdir(join(dir, 'secrets'));
    await writeFile(join(dir, 'secrets', 'token'), `${kFileSecret}\r\n\n`);
    await writeFile(join(dir, 'client.key'), 'not really a key');
    await writeFile(join(dir, 'client.crt'), 'not really a cert');
    const yaml = `admin:
  token: { file: secrets/token }
services:
  - name: api
    access: authenticated
    upstream:
      addresses: ['https://api.internal:8443']
      tls:
        certFile: client.crt
        keyFile: client.key
        passphrase: { env: API_KEY_PASSPHRASE }
  - name: other
    access: public
    pathPrefix: /other
    upstream:
      addresses: ['https://other.internal:8443']
      tls:
        certFile: client.crt
        keyFile: client.key
        passphrase: { env: OTHER_PASSPHRASE }
`;
    const env = { API_KEY_PASSPHRASE: kPassphrase, OTHER_PASSPHRASE: kEnvSecret };
    config = await loadConfigText(yaml, 'secrets.yaml', dir, env);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('config/secrets env and file secrets resolve, file newlines trimmed', () => {
    assert.ok(config.admin.token instanceof SecretValue);
    assert.equal(config.admin.token.reveal(), kFileSecret);
    assert.equal(config.services[0]?.upstream.tls?.passphrase?.reveal(), kPassphrase);
    assert.equal(config.services[1]?.upstream.tls?.passphrase?.reveal(), kEnvSecret);
  });

  it('config/secrets never appear in describeConfig, JSON, inspect or string conversion', () => {
    const outputs = {
      describeConfig: describeConfig(config),
      json: JSON.stringify(config),
      inspect: inspect(config, { depth: Infinity }),
      template: `${config.admin.token}`,
      string: String(config.admin.token),
      concat: 'x' + config.admin.token,
    };
    for (const [how, text] of Object.entries(outputs)) {
      for (const secret of [kEnvSecret, kFileSecret, kPassphrase]) {
        assert.ok(!text.includes(secret), `${how} must not reveal the secret`);
      }
      assert.ok(text.includes('[redacted]'), `${how} shows where the secret was`);
    }
  });

  it('config/secrets relative TLS paths are resolved against the config directory', () => {
    assert.equal(config.services[0]?.upstream.tls?.keyFile, join(dir, 'client.key'));
    assert.equal(config.services[0]?.upstream.tls?.certFile, join(dir, 'client.crt'));
  });

  it('config/secrets an empty secret file is unresolved', async () => {
    await writeFile(join(dir, 'empty-token'), '\n');
    const yaml = 'admin: { token: { file: empty-token } }\nservices:\n  - name: a\n' +
      '    access: public\n    upstream: { addresses: [a:1] }\n';
    const error = await loadConfigText(yaml, 'e.yaml', dir, {}).catch((err: unknown) => err);
    assert.ok(error instanceof ConfigLoadError);
    assert.equal(error.code, 'IAM_CONFIG_SECRET_UNRESOLVED');
  });

  it('config/secrets an inline secret is refused without echoing it', async () => {
    const yaml = `admin: { token: ${kEnvSecret} }\nservices:\n  - name: a\n` +
      '    access: public\n    upstream: { addresses: [a:1] }\n';
    const error = await loadConfigText(yaml, 'i.yaml', dir, {}).catch((err: unknown) => err);
    assert.ok(error instanceof ConfigLoadError);
    assert.equal(error.code, 'IAM_CONFIG_INVALID');
    assert.ok(!error.message.includes(kEnvSecret), 'the error must not carry the secret');
    assert.ok(!JSON.stringify(error.diagnostics).includes(kEnvSecret));
  });
});
