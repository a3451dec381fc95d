import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  ConfigLoadError, formatDiagnostic, loadConfigFile, loadConfigText,
} from '../../src/config/index.js';
import { PortcullisError } from '../../src/errors/index.js';

/** A valid service, to append problems to; its lines are 2 to 5 of a file that starts with it. */
const kService = `services:
  - name: web
    access: public
    upstream:
      addresses: ['127.0.0.1:3000']
`;

interface BadCase {
  readonly name: string;
  readonly why: string;
  readonly yaml: string;
  readonly code: string;
  readonly line: number;
  readonly column: number;
  readonly field: string;
  readonly env?: NodeJS.ProcessEnv;
}

const kCases: readonly BadCase[] = [
  {
    name: 'yaml syntax error',
    why: 'an unclosed flow list is a YAML error, reported where the parser gave up',
    yaml: `${kService}routing:\n  trustedProxies: [10.0.0.1\nlog: {}\n`,
    code: 'IAM_CONFIG_INVALID', line: 8, column: 1, field: '',
  },
  {
    name: 'duplicate key',
    why: 'a key written twice is ambiguous, so the second one is an error naming the field',
    yaml: `listeners:\n  proxy:\n    port: 8000\n    port: 8001\n${kService}`,
    code: 'IAM_CONFIG_INVALID', line: 4, column: 5, field: 'listeners.proxy.port',
  },
  {
    name: 'wrong type',
    why: 'a string where an integer is expected points at the value',
    yaml: `${kService}limits:\n  maxHeaderBytes: lots\n`,
    code: 'IAM_CONFIG_INVALID', line: 7, column: 19, field: 'limits.maxHeaderBytes',
  },
  {
    name: 'out of range port',
    why: 'ports stop at 65535',
    yaml: `listeners:\n  admin: { port: 70000 }\n${kService}`,
    code: 'IAM_CONFIG_INVALID', line: 2, column: 18, field: 'listeners.admin.port',
  },
  {
    name: 'non-numeric port',
    why: '"80a" is a string, not a port',
    yaml: `listeners:\n  proxy:\n    port: 80a\n${kService}`,
    code: 'IAM_CONFIG_INVALID', line: 3, column: 11, field: 'listeners.proxy.port',
  },
  {
    name: 'unknown key (typo)',
    why: 'strict mappings turn a misspelt key into an error at the key, not a silent default',
    yaml: `${kService}    pathPrefx: /api\n`,
    code: 'IAM_CONFIG_INVALID', line: 6, column: 5, field: 'services[0].pathPrefx',
  },
  {
    name: 'missing required access',
    why: 'access has no safe default, so leaving it out points at the service mapping',
    yaml: `services:\n  - name: web\n    upstream: { addresses: ['127.0.0.1:3000'] }\n`,
    code: 'IAM_CONFIG_INVALID', line: 2, column: 5, field: 'services[0].access',
  },
  {
    name: 'missing services',
    why: 'a config that routes nothing is a mistake; the top-level mapping is blamed',
    yaml: 'log: { level: info }\n',
    code: 'IAM_CONFIG_INVALID', line: 1, column: 1, field: 'services',
  },
  {
    name: 'inline secret string',
    why: 'secrets are never written inline; a plain string is a shape error, not a secret',
    yaml: `${kService}admin:\n  token: hunter2\n`,
    code: 'IAM_CONFIG_INVALID', line: 7, column: 10, field: 'admin.token',
  },
  {
    name: 'unset env secret',
    why: 'an {env} secret whose variable is unset cannot be resolved',
    yaml: `${kService}admin:\n  token: { env: PORTCULLIS_TEST_UNSET }\n`,
    code: 'IAM_CONFIG_SECRET_UNRESOLVED', line: 7, column: 10, field: 'admin.token',
  },
  {
    name: 'empty env secret',
    why: 'an empty variable is as good as unset for a secret',
    yaml: `${kService}admin:\n  token: { env: PORTCULLIS_TEST_EMPTY }\n`,
    env: { PORTCULLIS_TEST_EMPTY: '' },
    code: 'IAM_CONFIG_SECRET_UNRESOLVED', line: 7, column: 10, field: 'admin.token',
  },
  {
    name: 'missing secret file',
    why: 'a {file} secret whose file does not exist cannot be resolved',
    yaml: `${kService}admin:\n  token: { file: no-such-token }\n`,
    code: 'IAM_CONFIG_SECRET_UNRESOLVED', line: 7, column: 10, field: 'admin.token',
  },
  {
    name: 'bad CIDR',
    why: 'an IPv4 prefix length above 32 is not a CIDR; the entry itself is blamed',
    yaml: `${kService}routing:\n  trustedProxies:\n    - 10.0.0.0/8\n    - 10.0.0.0/33\n`,
    code: 'IAM_CONFIG_INVALID', line: 9, column: 7, field: 'routing.trustedProxies[1]',
  },
  {
    name: 'bad address',
    why: 'an upstream address needs a port',
    yaml: 'services:\n  - name: web\n    access: public\n    upstream:\n      addresses:\n' +
      '        - localhost\n',
    code: 'IAM_CONFIG_INVALID', line: 6, column: 11, field: 'services[0].upstream.addresses[0]',
  },
  {
    name: 'negative timeout',
    why: 'timeouts are positive integers',
    yaml: `${kService}      connectTimeoutMs: -5\n`,
    code: 'IAM_CONFIG_INVALID', line: 6, column: 25,
    field: 'services[0].upstream.connectTimeoutMs',
  },
  {
    name: 'duplicate service name',
    why: 'names label metrics and audit records, so the second use is an error',
    yaml: `${kService}  - name: web\n    access: public\n    pathPrefix: /b\n` +
      `    upstream: { addresses: ['127.0.0.1:3001'] }\n`,
    code: 'IAM_CONFIG_INVALID', line: 6, column: 11, field: 'services[1].name',
  },
  {
    name: 'duplicate host and prefix',
    why: 'two services on the same (host, pathPrefix) would make routing ambiguous',
    yaml: `${kService}  - name: api\n    access: public\n    hosts: [a.example, '*']\n` +
      `    upstream: { addresses: ['127.0.0.1:3001'] }\n`,
    code: 'IAM_CONFIG_INVALID', line: 8, column: 24, field: 'services[1].hosts[1]',
  },
  {
    name: 'bad pathPrefix',
    why: 'dot segments in a prefix never match a canonical path',
    yaml: `${kService}    pathPrefix: /a/../b\n`,
    code: 'IAM_CONFIG_INVALID', line: 6, column: 17, field: 'services[0].pathPrefix',
  },
  {
    name: 'host with a port',
    why: 'route hosts carry no port; the port belongs to the listener',
    yaml: `${kService}    hosts: [example.com:8080]\n`,
    code: 'IAM_CONFIG_INVALID', line: 6, column: 13, field: 'services[0].hosts[0]',
  },
  {
    name: 'mixed upstream schemes',
    why: 'mixing https:// and plain addresses would send some requests unencrypted',
    yaml: 'services:\n  - name: web\n    access: public\n    upstream:\n' +
      `      addresses: ['https://a:443', 'b:80']\n`,
    code: 'IAM_CONFIG_INVALID', line: 5, column: 36, field: 'services[0].upstream.addresses[1]',
  },
  {
    name: 'listener port clash',
    why: 'the admin API cannot share the proxy port on the same address',
    yaml: `listeners:\n  proxy: { port: 9000 }\n  admin: { port: 9000 }\n${kService}`,
    code: 'IAM_CONFIG_INVALID', line: 3, column: 18, field: 'listeners.admin.port',
  },
  {
    name: 'missing TLS file',
    why: 'a certificate that cannot be read fails at load, not at the first handshake',
    yaml: `listeners:\n  proxy:\n    tls: { certFile: none.crt, keyFile: none.key }\n${kService}`,
    code: 'IAM_CONFIG_INVALID', line: 3, column: 22, field: 'listeners.proxy.tls.certFile',
  },
  {
    name: 'mTLS listener without client CAs',
    why: 'a listener that requires client certificates must know which CAs to trust',
    yaml: 'listeners:\n  mtls:\n    certFile: /etc/passwd\n    keyFile: /etc/passwd\n' +
      `    caFiles: []\n${kService}`,
    code: 'IAM_CONFIG_INVALID', line: 5, column: 14, field: 'listeners.mtls.caFiles',
  },
  {
    name: 'mTLS listener port clash',
    why: 'the mTLS listener cannot share the proxy port on the same address',
    yaml: 'listeners:\n  proxy: { port: 9443 }\n  mtls: { port: 9443, certFile: /etc/passwd, ' +
      `keyFile: /etc/passwd, caFiles: [/etc/passwd] }\n${kService}`,
    code: 'IAM_CONFIG_INVALID', line: 3, column: 17, field: 'listeners.mtls.port',
  },
  {
    name: 'unresolved tag',
    why: 'an unknown YAML tag leaves the value unclear, so it is refused',
    yaml: `${kService}log: { level: !loud info }\n`,
    code: 'IAM_CONFIG_INVALID', line: 6, column: 15, field: '',
  },
  {
    name: 'alias bomb',
    why: 'nested aliases that would expand exponentially are refused before expansion',
    yaml: `a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n` +
      'c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n',
    code: 'IAM_CONFIG_INVALID', line: 1, column: 1, field: '',
  },
  {
    name: 'empty file',
    why: 'an empty file holds no services; reported on line 1',
    yaml: '# nothing here\n',
    code: 'IAM_CONFIG_INVALID', line: 1, column: 1, field: '',
  },
  {
    name: 'top-level list',
    why: 'the top level must be a mapping; reported on line 1',
    yaml: '- name: web\n- name: api\n',
    code: 'IAM_CONFIG_INVALID', line: 1, column: 1, field: '',
  },
];

describe('config/load bad configs', () => {
  let dir = '';
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  for (const c of kCases) {
    it(`config/load ${c.name}`, async () => {
      const error = await loadConfigText(c.yaml, 'bad.yaml', dir, c.env ?? {}).then(
        () => assert.fail(`expected a ConfigLoadError: ${c.why}`),
        (err: unknown) => err,
      );
      assert.ok(error instanceof ConfigLoadError, c.why);
      assert.equal(error.code, c.code, c.why);
      const where = error.diagnostics.map(({ line, column, field }) => ({ line, column, field }));
      assert.deepEqual(where[0], { line: c.line, column: c.column, field: c.field },
        `${c.why}\n${error.diagnostics.map(formatDiagnostic).join('\n')}`);
      assert.ok(error.diagnostics.every((d) => d.file === 'bad.yaml'), c.why);
    });
  }
});

describe('config/load reporting', () => {
  it('config/load reports every problem, not just the first', async () => {
    // Cross-field checks (the duplicate name) still run when other fields have failed.
    const yaml = 'listeners:\n  proxy: { port: -1 }\nservices:\n  - name: web\n    access: open\n' +
      '    upstream: { addresses: [nowhere] }\n  - name: web\n    pathPrefix: /b\n' +
      "    access: public\n    upstream: { addresses: ['a:1'] }\n";
    const error = await loadConfigText(yaml, 'many.yaml', '/', {}).catch((err: unknown) => err);
    assert.ok(error instanceof ConfigLoadError);
    assert.deepEqual(error.diagnostics.map((d) => d.field), [
      'listeners.proxy.port',
      'services[0].access',
      'services[0].upstream.addresses[0]',
      'services[1].name',
    ]);
  });

  it('config/load is IAM_CONFIG_INVALID when secrets and shape both fail', async () => {
    // The file itself is wrong, which is the first thing to fix; the secret is listed too.
    const yaml = `${kService}admin: { token: { env: PORTCULLIS_TEST_UNSET } }\n` +
      'log: { level: loud }\n';
    const error = await loadConfigText(yaml, 'mixed.yaml', '/', {}).catch((err: unknown) => err);
    assert.ok(error instanceof ConfigLoadError);
    assert.equal(error.code, 'IAM_CONFIG_INVALID');
    assert.equal(error.diagnostics.length, 2);
  });

  it('config/load formats diagnostics as file:line:column: field: message', () => {
    const text = formatDiagnostic({
      file: 'portcullis.yaml', line: 12, column: 7, field: 'services[1].upstream.connectTimeoutMs',
      message: 'expected a positive integer, got -5',
    });
    assert.equal(text, 'portcullis.yaml:12:7: services[1].upstream.connectTimeoutMs: ' +
      'expected a positive integer, got -5');
  });

  it('config/load an unreadable file is IAM_CONFIG_UNREADABLE without a position', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
    try {
      for (const path of [join(dir, 'missing.yaml'), dir]) {
        const error = await loadConfigFile(path, {}).catch((err: unknown) => err);
        assert.ok(error instanceof ConfigLoadError, path);
        assert.equal(error.code, 'IAM_CONFIG_UNREADABLE', path);
        assert.equal(error.diagnostics[0]?.line, 0, path);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('config/load loadConfigFile resolves relative paths against the file directory', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
    try {
      await writeFile(join(dir, 'token'), 'abc\n');
      await writeFile(join(dir, 'p.yaml'), `${kService}admin: { token: { file: token } }\n`);
      const config = await loadConfigFile(join(dir, 'p.yaml'), {});
      assert.equal(config.admin.token?.reveal(), 'abc');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('config/load a ConfigLoadError is a PortcullisError, not the other way round', () => {
    const error = new ConfigLoadError('IAM_CONFIG_INVALID', []);
    assert.ok(error instanceof PortcullisError);
    assert.ok(!(new PortcullisError('IAM_CONFIG_INVALID') instanceof ConfigLoadError));
  });
});
