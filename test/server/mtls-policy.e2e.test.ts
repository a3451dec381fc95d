/**
 * Client certificates under a signed policy: the policy sees `mtls` principals and SPIFFE IDs,
 * and a token sent over an mTLS connection carries the certificate along, so one rule can
 * require both (the SPIFFE ID from the certificate, a claim from the token).
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { ConnectionOptions } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { createBundleSigner } from '../support/policy-bundles.js';
import { localIssuerYaml, startLocalIssuer, type LocalIssuer } from '../support/local-issuer.js';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { createTestPki, type TestPki } from '../support/test-pki.js';

const kPay = 'spiffe://prod.acme/ns/pay/sa/api';
const kPolicy = `version: 1
roles:
  payments: {}
assignments:
  - { role: payments, spiffe: ['${kPay}'] }
rules:
  - id: ledger-needs-pay-workload-and-admin-token
    effect: allow
    who: { roles: [payments] }
    services: [ledger]
    paths: ['/**']
    when: { claim: role, equals: admin }
  - id: status-for-machines
    effect: allow
    who: { credentials: [mtls] }
    services: [status]
    methods: [GET]
    paths: ['/**']
`;

let pki: TestPki;
let issuer: LocalIssuer;
let upstream: RecordingUpstream;
let proxy: TestProxy;
const tls: Record<string, ConnectionOptions> = {};
let adminToken = '';
let userToken = '';

before(async () => {
  pki = createTestPki();
  const server = pki.leaf('server', 'localhost', 'DNS:localhost', 'serverAuth');
  for (const [name, spiffe] of [['pay', kPay], ['other', 'spiffe://prod.acme/ns/x/sa/y']]) {
    const leaf = pki.issue(name as string, { san: `URI:${spiffe}` });
    tls[name as string] = { ca: readFileSync(pki.caCert), servername: 'localhost',
      cert: readFileSync(leaf.cert), key: readFileSync(leaf.key) };
  }
  issuer = await startLocalIssuer();
  adminToken = await issuer.sign({ sub: 'alice', role: 'admin' });
  userToken = await issuer.sign({ sub: 'bob', role: 'user' });
  upstream = await startRecordingUpstream();
  const signer = createBundleSigner();
  const bundleFile = path.join(signer.dir, 'policy.bundle');
  signer.write(bundleFile, await signer.signText(kPolicy));
  proxy = await startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls: { host: 127.0.0.1, port: 0, certFile: '${server.cert}', keyFile: '${server.key}',
          caFiles: ['${pki.caCert}'] }
authn:
  issuers:
${localIssuerYaml(issuer)}policy:
  publicKeys: ['${signer.publicKeyFile}']
  file: '${bundleFile}'
services:
  - name: ledger
    pathPrefix: /ledger
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
  - name: status
    pathPrefix: /status
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
});

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

interface Case {
  readonly why: string;
  readonly path: string;
  /** Client certificate (mTLS listener) or none (proxy listener). */
  readonly cert?: string;
  readonly token?: 'admin' | 'user';
  readonly status: number;
}

const kCases: readonly Case[] = [
  { why: 'a workload certificate alone is an mtls principal the status rule allows',
    path: '/status/ping', cert: 'other', status: 200 },
  { why: 'a token over the plain listener is a jwt principal: the mtls-only rule refuses it',
    path: '/status/ping', token: 'admin', status: 403 },
  { why: 'the payments workload without the admin token lacks the claim',
    path: '/ledger/entries', cert: 'pay', status: 403 },
  { why: 'the payments workload with an admin token meets both halves of the rule',
    path: '/ledger/entries', cert: 'pay', token: 'admin', status: 200 },
  { why: 'the admin token from any other workload lacks the SPIFFE ID',
    path: '/ledger/entries', cert: 'other', token: 'admin', status: 403 },
  { why: 'the admin token without a certificate lacks the SPIFFE ID',
    path: '/ledger/entries', token: 'admin', status: 403 },
  { why: 'the payments workload with a user token lacks the claim',
    path: '/ledger/entries', cert: 'pay', token: 'user', status: 403 },
  { why: 'nobody at all is asked for credentials', path: '/ledger/entries', status: 401 },
];

describe('server/mtls-policy', () => {
  for (const c of kCases) {
    test(c.why, async () => {
      const before = upstream.requests.length;
      const auth = c.token === undefined ? ''
        : `Authorization: Bearer ${c.token === 'admin' ? adminToken : userToken}\r\n`;
      const head = `GET ${c.path} HTTP/1.1\r\nHost: api.test\r\n${auth}\r\n`;
      const res = c.cert === undefined ? await rawRequest(proxy.port, head)
        : await rawRequest(proxy.mtlsPort as number, head, { tls: tls[c.cert] });
      assert.equal(res.status, c.status, res.body.toString());
      assert.equal(upstream.requests.length, before + (c.status === 200 ? 1 : 0));
    });
  }
});
