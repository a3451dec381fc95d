/**
 * How many uWS loops serve: `threads` in the config (or `serve --threads`), `auto` from the CPUs
 * the process may use, with or without browser login. Values that are not a count are refused
 * at load time, naming the field.
 */
import assert from 'node:assert/strict';
import { availableParallelism, tmpdir } from 'node:os';
import { describe, test } from 'node:test';
import { ConfigLoadError, loadConfigText } from '../../src/config/index.js';
import { servingThreadCount } from '../../src/threads/index.js';

const kService = `services:
  - name: app
    access: public
    upstream: { addresses: ['127.0.0.1:1'] }
`;
const kLogin = `authn:
  issuers:
    - { issuer: 'https://idp.example', discovery: true }
login:
  issuer: 'https://idp.example'
  clientId: web
  clientSecret: { env: THREADS_LOGIN_SECRET }
  transport: trusted-proxy
routing: { trustedProxies: [127.0.0.1] }
`;

function load(text: string) {
  return loadConfigText(text, 'threads.yaml', tmpdir(),
    { ...process.env, THREADS_LOGIN_SECRET: 'secret' });
}

describe('threads/start', () => {
  test('auto is one loop per CPU the process may use (at most 16)', async () => {
    const config = await load(kService);
    assert.equal(config.threads, 'auto');
    assert.equal(servingThreadCount(config), Math.min(availableParallelism(), 16));
  });

  test('an explicit count is used as given', async () => {
    assert.equal(servingThreadCount(await load(`threads: 3\n${kService}`)), 3);
    assert.equal(servingThreadCount(await load(`threads: 1\n${kService}`)), 1);
  });

  test('browser login does not change the count (its sessions are shared across threads)',
    async () => {
      assert.equal(servingThreadCount(await load(`${kLogin}${kService}`)),
        Math.min(availableParallelism(), 16));
      assert.equal(servingThreadCount(await load(`threads: 2\n${kLogin}${kService}`)), 2);
    });

  for (const [value, why] of [['0', 'at least one loop serves'], ['65', 'at most 64'],
    ['two', 'a word other than auto'], ['1.5', 'not a whole number']] as const) {
    test(`threads: ${value} is refused at load time (${why})`, async () => {
      await assert.rejects(load(`threads: ${value}\n${kService}`), (err: unknown) =>
        err instanceof ConfigLoadError && err.diagnostics.some((d) => d.field === 'threads'));
    });
  }
});
