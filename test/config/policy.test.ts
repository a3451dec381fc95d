/**
 * The `policy` block: where bundles come from and who may sign them. Each refusal names the
 * field; `access` and `policy` exclude each other, so exactly one thing decides.
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, test } from 'node:test';
import { ConfigLoadError, loadConfigText } from '../../src/config/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-policy-config-'));
const keyFile = path.join(dir, 'signer.pub.pem');
writeFileSync(keyFile, generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }));

const service = (access?: string): string => `services:
  - name: web
${access === undefined ? '' : `    access: ${access}\n`}    upstream: { addresses: ['127.0.0.1:3000'] }
`;

async function fields(yaml: string): Promise<string[]> {
  try {
    await loadConfigText(yaml, 'p.yaml', dir);
    return [];
  } catch (err) {
    if (!(err instanceof ConfigLoadError)) throw err;
    return err.diagnostics.map((d) => d.field);
  }
}

describe('config/policy', () => {
  test('a policy block with a file source loads with its defaults', async () => {
    const config = await loadConfigText(`policy:\n  publicKeys: ['${keyFile}']\n  file: bundle.pb\n${service()}`,
      'p.yaml', dir);
    assert.equal(config.policy?.file, path.join(dir, 'bundle.pb'), 'relative to the config file');
    assert.deepEqual([config.policy?.pollIntervalMs, config.policy?.maxBackoffMs, config.policy?.allowPush],
      [5000, 60000, false]);
  });

  const kBad: { why: string; yaml: string; field: string }[] = [
    {
      why: 'without a policy block, a service must say who may call it', yaml: service(),
      field: 'services[0].access',
    },
    {
      why: 'with a policy block, access would be a second decider',
      yaml: `policy:\n  publicKeys: ['${keyFile}']\n  file: b.pb\n${service('public')}`,
      field: 'services[0].access',
    },
    {
      why: 'a policy block needs somewhere to get bundles',
      yaml: `policy:\n  publicKeys: ['${keyFile}']\n${service()}`, field: 'policy',
    },
    {
      why: 'bundles must be verifiable',
      yaml: `policy:\n  publicKeys: []\n  file: b.pb\n${service()}`, field: 'policy.publicKeys',
    },
    {
      why: 'pushes are authenticated with the admin token',
      yaml: `policy:\n  publicKeys: ['${keyFile}']\n  allowPush: true\n${service()}`,
      field: 'policy.allowPush',
    },
    {
      why: 'the URL source must be http(s)',
      yaml: `policy:\n  publicKeys: ['${keyFile}']\n  url: ftp://x/b\n${service()}`,
      field: 'policy.url',
    },
  ];
  for (const c of kBad) {
    test(`refused: ${c.why}`, async () => {
      assert.ok((await fields(c.yaml)).includes(c.field), `${c.field} in ${JSON.stringify(await fields(c.yaml))}`);
    });
  }
});
