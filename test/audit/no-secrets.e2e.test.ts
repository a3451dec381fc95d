/**
 * No token, key, signature or claim set leaves the proxy through its records, its log lines or
 * its admin API. A real proxy (file sink, the logger at trace level into a buffer) serves valid,
 * expired, forged and malformed tokens, a token in the query string, and a revocation; a feed
 * subscriber listens; then every record, log line, feed message and admin response is scanned
 * for each token, its payload and signature segments, the issuer's private key, a claim value
 * that only the token carries, and the admin token.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { WebSocket } from 'undici';
import { loadConfigText } from '../../src/config/index.js';
import { startPortcullis, type RunningProxy } from '../../src/main.js';
import { Logger } from '../../src/telemetry/index.js';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

const kAdminToken = 'admin-secret-7f3c9a1e5b2d4c6e8a0f';
const kPrivateClaim = 'private-claim-value-4242';
const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-no-secrets-'));
const kFile = path.join(kDir, 'audit.log');
let upstream: RecordingUpstream;
let issuer: LocalIssuer;
let proxy: RunningProxy;
let logText = '';
const tokens: string[] = [];
const feedMessages: string[] = [];
const adminBodies: string[] = [];

before(async () => {
  process.env['PORTCULLIS_NO_SECRETS_TOKEN'] = kAdminToken;
  upstream = await startRecordingUpstream();
  issuer = await startLocalIssuer();
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => { logText += chunk.toString(); });
  const config = await loadConfigText(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
log: { level: trace }
admin: { token: { env: PORTCULLIS_NO_SECRETS_TOKEN } }
audit:
  sink: file
  file: { path: '${kFile}' }
authn:
  issuers:
${localIssuerYaml(issuer)}services:
  - name: api
    pathPrefix: /
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`, 'test.yaml', tmpdir());
  proxy = await startPortcullis(config, new Logger('trace', out));
});

after(async () => {
  await proxy?.stop(2_000);
  await upstream?.close();
  rmSync(kDir, { recursive: true, force: true });
});

function get(pathAndQuery: string, authorization?: string): Promise<Response> {
  return fetch(`http://127.0.0.1:${proxy.proxy.port}${pathAndQuery}`,
    authorization === undefined ? {} : { headers: { authorization } });
}

function admin(p: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${proxy.admin.port}${p}`,
    { ...init, headers: { authorization: `Bearer ${kAdminToken}` } });
}

describe('audit/no-secrets e2e', () => {
  test('the test traffic: good, expired, forged, malformed and query-string tokens', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.admin.port}/feed`,
      { headers: { authorization: `Bearer ${kAdminToken}` } } as never);
    ws.addEventListener('message', (e) => feedMessages.push(String(e.data)));
    await new Promise((resolve) => ws.addEventListener('open', resolve));

    const good = await issuer.sign({ sub: 'alice', sid: 's-1', jti: 'j-1', secret: kPrivateClaim,
      email: 'alice@private.test' });
    const expired = await issuer.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 600,
      secret: kPrivateClaim });
    const [h, p] = good.split('.');
    const forged = `${h}.${p}.${Buffer.alloc(64, 7).toString('base64url')}`;
    tokens.push(good, expired, forged);

    assert.equal((await get('/a', `Bearer ${good}`)).status, 200);
    assert.equal((await get('/a', `Bearer ${good}`)).status, 200);
    assert.equal((await get('/a', `Bearer ${expired}`)).status, 401);
    assert.equal((await get('/a', `Bearer ${forged}`)).status, 401);
    assert.equal((await get('/a', `Bearer ${good}x!`)).status, 401);
    assert.equal((await get(`/a?access_token=${good}`)).status, 401);
    assert.equal((await get('/a', `Basic ${Buffer.from(`u:${kAdminToken}`).toString('base64')}`)).status, 401);
    assert.equal((await admin('/revocations', { method: 'POST',
      body: JSON.stringify({ kind: 'session', value: 's-1' }) })).status, 201);
    assert.equal((await get('/a', `Bearer ${good}`)).status, 401);
    await sleep(300);
    ws.close();

    for (const p of ['/config', '/sessions', '/revocations', '/metrics', '/readyz', '/healthz',
      '/dashboard', '/.well-known/jwks.json']) {
      adminBodies.push(await (await admin(p)).text());
    }
    adminBodies.push(await (await admin('/feed/ticket', { method: 'POST' })).text());
    await proxy.audit.log.flush();
    assert.ok(feedMessages.length > 0, 'the feed saw the traffic');
  });

  test('no record, log line, feed message or admin response carries a secret', () => {
    const records = readFileSync(kFile, 'utf8');
    assert.equal(records.split('\n').filter((l) => l !== '').length, 8, 'one record per request');
    const keyBody = issuer.privateKeyPem.split('\n').filter((l) => l !== '' && !l.startsWith('-----'));
    const needles: Array<[string, string]> = [
      ['the admin token', kAdminToken],
      ['a claim only the token carries', kPrivateClaim],
      ['the email claim', 'alice@private.test'],
      ...keyBody.map((line, i): [string, string] => [`private key line ${i}`, line]),
    ];
    for (const [i, token] of tokens.entries()) {
      const [, payload, signature] = token.split('.');
      needles.push([`token ${i}`, token], [`payload of token ${i}`, payload!],
        [`signature of token ${i}`, signature!]);
    }
    const haystacks: Array<[string, string]> = [['records', records], ['log lines', logText],
      ['feed', feedMessages.join('\n')], ['admin responses', adminBodies.join('\n')]];
    assert.ok(logText.includes('"msg"'), 'the logger wrote something to scan');
    for (const [where, text] of haystacks) {
      for (const [what, needle] of needles) {
        assert.ok(!text.includes(needle), `${what} appears in ${where}`);
      }
    }
  });
});
