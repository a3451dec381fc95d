/**
 * Two uWS loops on one port (`threads: 2`), against a real proxy: the kernel spreads fresh
 * connections over both, and whichever thread serves a request, the proxy behaves as one: one
 * record per request in the one audit file, revocations and pushed bundles in force on every
 * thread before the admin API answers, metrics and sessions summed over the threads, an
 * unknown key id fetched once for all, and the live feed carrying every thread's records.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { WebSocket } from 'undici';
import { readRecords } from '../support/audit-files.js';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';
import { createBundleSigner, type BundleSigner } from '../support/policy-bundles.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

const kAdminToken = 'serving-threads-admin-token';
process.env.SERVING_THREADS_ADMIN = kAdminToken;
/** Fresh connections per check: each lands on either thread; all on one is 2^-(n-1) likely. */
const kSpread = 24;

let upstream: RecordingUpstream;
let issuer: LocalIssuer;
let signer: BundleSigner;
let proxy: TestProxy;
let auditFile: string;

const policyText = (version: number): string => `version: ${version}
rules:
  - id: pub-v${version}
    effect: allow
    who: anyone
    services: [pub]
    paths: ['/**']
    obligations: { headers: { x-policy: 'v${version}' } }
  - id: api-v${version}
    effect: allow
    who: authenticated
    services: [api]
    paths: ['/**']
    obligations: { headers: { x-policy: 'v${version}' } }
`;

/** One request on a connection of its own (so the kernel picks a thread for it). */
function get(urlPath: string, token?: string): Promise<{ status: number; code: string | null }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: proxy.port, path: urlPath, agent: false,
      headers: token === undefined ? {} : { authorization: `Bearer ${token}` } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0,
        code: (res.headers['x-portcullis-error'] as string | undefined) ?? null }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function spread(urlPath: string, token?: string): Promise<Array<{ status: number;
  code: string | null }>> {
  const out = [];
  for (let i = 0; i < kSpread; i++) out.push(await get(urlPath, token));
  return out;
}

function admin(urlPath: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`http://127.0.0.1:${proxy.adminPort}${urlPath}`,
    { ...init, headers: { authorization: `Bearer ${kAdminToken}`, ...init.headers } });
}

interface ThreadFacts { index: number; served: number }

async function readyz(): Promise<{ threads: ThreadFacts[]; inFlight: number }> {
  return await (await fetch(`http://127.0.0.1:${proxy.adminPort}/readyz`)).json() as
    { threads: ThreadFacts[]; inFlight: number };
}

async function push(version: number): Promise<number> {
  const b = await signer.signText(policyText(version));
  const res = await admin('/policy/bundle', { method: 'PUT', body: b.bytes,
    headers: { 'x-portcullis-signature': b.signature } });
  await res.arrayBuffer();
  return res.status;
}

before(async () => {
  upstream = await startRecordingUpstream();
  issuer = await startLocalIssuer();
  signer = createBundleSigner();
  auditFile = path.join(mkdtempSync(path.join(tmpdir(), 'portcullis-threads-')), 'audit.log');
  proxy = await startTestProxy(`threads: 2
admin: { token: { env: SERVING_THREADS_ADMIN } }
audit: { sink: file, file: { path: '${auditFile}' }, queue: { flushIntervalMs: 5 } }
policy:
  publicKeys: ['${signer.publicKeyFile}']
  allowPush: true
authn:
  issuers:
${localIssuerYaml(issuer)}services:
  - name: pub
    pathPrefix: /pub
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: api
    pathPrefix: /api
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
  assert.equal(await push(1), 200);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

describe('threads/serving threads e2e', () => {
  test('both loops serve the port, and every request has exactly one record', async () => {
    const before = readRecords(auditFile).length;
    const token = await issuer.sign({ sub: 'spread-user' });
    const answers = [...await spread('/pub/a'), ...await spread('/api/b', token)];
    assert.deepEqual(answers.filter((a) => a.status !== 200), [], 'every request is forwarded');

    const facts = await readyz();
    assert.equal(facts.threads.length, 2, 'the main thread and one serving thread');
    for (const t of facts.threads) assert.ok(t.served > 0, `thread ${t.index} served requests`);
    const deadline = Date.now() + 5_000;
    let records = readRecords(auditFile).slice(before);
    while (records.length < answers.length && Date.now() < deadline) {
      await sleep(20);
      records = readRecords(auditFile).slice(before);
    }
    assert.equal(records.length, answers.length, 'one record per request, none twice');
    assert.equal(new Set(records.map((r) => r.requestId)).size, answers.length);
  });

  test('a revocation is in force on every thread when the admin API answers', async () => {
    const token = await issuer.sign({ sub: 'revoked-everywhere' });
    assert.equal((await get('/api/x', token)).status, 200);
    const res = await admin('/revocations', { method: 'POST',
      body: JSON.stringify({ kind: 'subject', value: 'revoked-everywhere' }) });
    assert.equal(res.status, 201);
    const answers = await spread('/api/x', token);
    assert.deepEqual(new Set(answers.map((a) => a.code)), new Set(['IAM_AUTHN_REVOKED']));
  });

  test('a pushed bundle decides on every thread when the admin API answers', async () => {
    assert.equal(await push(2), 200);
    const seen = upstream.requests.length;
    await spread('/pub/after-push');
    const versions = upstream.requests.slice(seen).map((r) => {
      const i = r.rawHeaders.findIndex((h, k) => k % 2 === 0 && h.toLowerCase() === 'x-policy');
      return r.rawHeaders[i + 1];
    });
    assert.equal(versions.length, kSpread);
    assert.deepEqual(new Set(versions), new Set(['v2']));
  });

  test('metrics sum the requests of every thread', async () => {
    const served = (await readyz()).threads.reduce((n, t) => n + t.served, 0);
    const text = await (await admin('/metrics')).text();
    const total = text.split('\n').filter((l) => l.startsWith('portcullis_requests_total{'))
      .reduce((n, l) => n + Number(l.slice(l.lastIndexOf(' ') + 1)), 0);
    assert.equal(total, served);
  });

  test('the session table merges what every thread saw of one session', async () => {
    const token = await issuer.sign({ sub: 'merged-user', sid: 'merged-session' });
    await spread('/api/s', token);
    const body = await (await admin('/sessions?sessionId=merged-session')).json() as
      { sessions: Array<{ requests: number; subject: string }> };
    assert.equal(body.sessions.length, 1);
    assert.equal(body.sessions[0]?.requests, kSpread);
    assert.equal(body.sessions[0]?.subject, 'merged-user');
  });

  test('a key published after start is fetched once and verifies on every thread', async () => {
    const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
    const jwks = JSON.parse((await import('node:fs')).readFileSync(issuer.jwksFile, 'utf8')) as
      { keys: unknown[] };
    const jwk = { ...(await exportJWK(publicKey)), kid: 'added-later', alg: 'ES256', use: 'sig' };
    writeFileSync(issuer.jwksFile, JSON.stringify({ keys: [...jwks.keys, jwk] }));
    const token = await new SignJWT({ sub: 'new-key-user' })
      .setProtectedHeader({ alg: 'ES256', kid: 'added-later' }).setIssuer(issuer.issuer)
      .setAudience('local').setExpirationTime('10m').sign(privateKey);
    const answers = await spread('/api/k', token);
    assert.deepEqual(answers.filter((a) => a.status !== 200), []);
  });

  test('the live feed carries the records of every thread', async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${proxy.adminPort}/feed?service=pub`,
      { headers: { authorization: `Bearer ${kAdminToken}` } } as unknown as string[]);
    await new Promise<void>((resolve, reject) => {
      ws.addEventListener('open', () => resolve());
      ws.addEventListener('error', () => reject(new Error('feed refused')));
    });
    const ids = new Set<string>();
    ws.addEventListener('message', (event) => {
      const message = JSON.parse(String(event.data)) as { records: Array<{ path: string;
        requestId: string }> };
      for (const r of message.records) if (r.path === '/pub/feed') ids.add(r.requestId);
    });
    // The serving thread hears of the subscriber by a note; give it a moment.
    await sleep(300);
    await spread('/pub/feed');
    const deadline = Date.now() + 3_000;
    while (ids.size < kSpread && Date.now() < deadline) await sleep(20);
    ws.close();
    assert.equal(ids.size, kSpread);
  });
});
