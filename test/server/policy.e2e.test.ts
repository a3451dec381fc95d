/**
 * The policy decides every request, end to end: a realistic policy (33 rules over 5 services,
 * role inheritance, tenant and self checks, header and claim conditions, deny overrides,
 * obligations) compiled and signed as in CI, loaded from a watched file by a real proxy with a
 * real token issuer, and then replaced through the admin push, where older and tampered
 * bundles are refused and the last good one keeps deciding.
 */
import assert from 'node:assert/strict';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createBundleSigner, type BundleSigner } from '../support/policy-bundles.js';
import { localIssuerYaml, startLocalIssuer, type LocalIssuer } from '../support/local-issuer.js';
import { startRecordingUpstream, type RecordingUpstream } from '../support/recording-upstream.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';

const kPolicyDir = fileURLToPath(new URL('../../../test/server/fixtures/policy-realistic', import.meta.url));
const kAdminToken = 'policy-e2e-admin-token';

let issuer: LocalIssuer;
let upstream: RecordingUpstream;
let proxy: TestProxy;
let signer: BundleSigner;
const tokens: Record<string, string> = {};

const kPeople: Record<string, Record<string, unknown>> = {
  clerk: { sub: 'u-clerk', tenant: 'acme', groups: ['clerks'], scope: 'read', warehouse: 'wh-berlin' },
  clerkNoWh: { sub: 'u-clerk2', tenant: 'acme', groups: ['clerks'], warehouse: 'berlin' },
  manager: { sub: 'u-manager', tenant: 'acme', groups: ['managers'] },
  frozenManager: { sub: 'u-fm', tenant: 'frozen-co', groups: ['managers'] },
  accountant: { sub: 'u-acc', tenant: 'acme', groups: ['finance'], mfa: true },
  accountantNoMfa: { sub: 'u-acc2', tenant: 'acme', groups: ['finance'], mfa: false },
  admin: { sub: 'u-admin', tenant: 'hq', groups: ['platform-admins'] },
  globexViewer: { sub: 'u-gv', tenant: 'globex', scope: 'read' },
  support: { sub: 'u-support', groups: ['helpdesk'] },
  nightly: { sub: 'svc-reports', client_id: 'nightly-reports' },
  paymentsBot: { sub: 'payments-bot' },
  dotTenant: { sub: 'u-dot', tenant: 'acme.co', scope: 'read' },
};

before(async () => {
  issuer = await startLocalIssuer();
  for (const [who, claims] of Object.entries(kPeople)) tokens[who] = await issuer.sign(claims);
  upstream = await startRecordingUpstream();
  signer = createBundleSigner();
  const bundleFile = path.join(signer.dir, 'active.bundle');
  signer.write(bundleFile, await signer.signDir(kPolicyDir));
  const service = (name: string, prefix: string): string => `  - name: ${name}
    pathPrefix: ${prefix}
    stripPrefix: true
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`;
  proxy = await startTestProxy(`admin: { token: { env: POLICY_E2E_ADMIN } }
authn:
  issuers:
${localIssuerYaml(issuer)}      attributeClaims: { sub: sub }
policy:
  publicKeys: ['${signer.publicKeyFile}']
  file: '${bundleFile}'
  allowPush: true
services:
${service('orders', '/orders')}${service('billing', '/billing')}${service('inventory', '/inventory')}${service('users', '/accounts')}${service('reports', '/reports')}`);
});
process.env.POLICY_E2E_ADMIN = kAdminToken;

after(async () => {
  await proxy?.stop();
  await upstream?.close();
});

interface Sent {
  readonly status: number;
  readonly challenge: string | null;
  /** Values the upstream received for each header (lower-case names), when forwarded. */
  readonly upstreamHeaders: Map<string, string[]> | undefined;
}

async function send(method: string, target: string, who?: string,
  headers: Record<string, string> = {}): Promise<Sent> {
  const before = upstream.requests.length;
  const res = await fetch(`http://127.0.0.1:${proxy.port}${target}`, {
    method,
    headers: { ...headers, ...(who === undefined ? {} : { authorization: `Bearer ${tokens[who]!}` }) },
  });
  await res.arrayBuffer();
  let upstreamHeaders: Map<string, string[]> | undefined;
  if (upstream.requests.length > before) {
    upstreamHeaders = new Map();
    const raw = upstream.requests[upstream.requests.length - 1]!.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toLowerCase();
      upstreamHeaders.set(name, [...(upstreamHeaders.get(name) ?? []), raw[i + 1]!]);
    }
  }
  return { status: res.status, challenge: res.headers.get('www-authenticate'), upstreamHeaders };
}

const kCases: { why: string; method: string; target: string; who?: string;
  headers?: Record<string, string>; status: number; upstream?: Record<string, string[]> }[] = [
  {
    why: 'health checks are open to anyone', method: 'GET', target: '/orders/healthz', status: 200,
  },
  {
    why: 'an anonymous caller is asked for credentials when nothing allows it', method: 'GET',
    target: '/orders/t/acme/orders', status: 401,
  },
  {
    why: 'a clerk (viewer by inheritance) lists its own tenant, and the obligation header arrives',
    method: 'GET', target: '/orders/t/acme/orders', who: 'clerk', status: 200,
    upstream: { 'x-orders-view': ['list'] },
  },
  {
    why: 'the tenant check refuses another tenant', method: 'GET',
    target: '/orders/t/globex/orders', who: 'clerk', status: 403,
  },
  {
    why: 'a clerk creates orders in its tenant', method: 'POST', target: '/orders/t/acme/orders',
    who: 'clerk', status: 200,
  },
  {
    why: 'cancelling needs a manager', method: 'DELETE', target: '/orders/t/acme/orders/42',
    who: 'clerk', status: 403,
  },
  {
    why: 'a manager inherits clerk and cancels', method: 'DELETE',
    target: '/orders/t/acme/orders/42', who: 'manager', status: 200,
  },
  {
    why: 'the frozen tenant deny overrides the tenant allow', method: 'POST',
    target: '/orders/t/frozen-co/orders', who: 'frozenManager', status: 403,
  },
  {
    why: 'an admin reads any tenant', method: 'GET', target: '/orders/t/globex/orders',
    who: 'admin', status: 200,
  },
  {
    why: 'the deny overrides an admin too', method: 'POST', target: '/orders/t/frozen-co/orders',
    who: 'admin', status: 403,
  },
  {
    why: 'an export needs an allowed format header', method: 'GET',
    target: '/orders/t/acme/export/all', who: 'manager', headers: { 'x-export-format': 'csv' },
    status: 200,
  },
  {
    why: 'an export without the header is refused', method: 'GET',
    target: '/orders/t/acme/export/all', who: 'manager', status: 403,
  },
  {
    why: 'refunds need the mfa claim', method: 'POST', target: '/billing/t/acme/refunds',
    who: 'accountant', status: 200,
  },
  {
    why: 'refunds without mfa are refused', method: 'POST', target: '/billing/t/acme/refunds',
    who: 'accountantNoMfa', status: 403,
  },
  {
    why: 'the policy obligation replaces a client-sent copy of its header', method: 'POST',
    target: '/billing/t/acme/invoices', who: 'accountant', headers: { 'x-billing-audit': 'skip' },
    status: 200, upstream: { 'x-billing-audit': ['required'] },
  },
  {
    why: 'internal billing is reachable from loopback by an admin', method: 'GET',
    target: '/billing/internal/jobs', who: 'admin', status: 200,
  },
  {
    why: 'a named subject may update payment methods', method: 'PUT',
    target: '/billing/t/acme/payment-methods/pm1', who: 'paymentsBot', status: 200,
  },
  { why: 'the catalog is public', method: 'GET', target: '/inventory/catalog/shoes', status: 200 },
  {
    why: 'stock needs any credential: anonymous gets 401', method: 'GET',
    target: '/inventory/stock/sku-1', status: 401,
  },
  {
    why: 'stock is readable by any authenticated caller', method: 'GET',
    target: '/inventory/stock/sku-1', who: 'globexViewer', status: 200,
  },
  {
    why: 'stock adjustments need a warehouse claim starting with wh-', method: 'POST',
    target: '/inventory/stock/sku-1/adjust', who: 'clerk', status: 200,
  },
  {
    why: 'a warehouse without the prefix is refused', method: 'POST',
    target: '/inventory/stock/sku-1/adjust', who: 'clerkNoWh', status: 403,
  },
  {
    why: 'a user reads itself', method: 'GET', target: '/accounts/users/u-clerk', who: 'clerk',
    status: 200,
  },
  {
    why: 'a user does not read others', method: 'GET', target: '/accounts/users/u-other',
    who: 'clerk', status: 403,
  },
  {
    why: 'support reads any user', method: 'GET', target: '/accounts/users/u-other', who: 'support',
    status: 200,
  },
  {
    why: 'password reads are denied even to admins', method: 'GET',
    target: '/accounts/users/u-other/password', who: 'admin', status: 403,
  },
  {
    why: 'the nightly client runs its job, marked as batch', method: 'POST',
    target: '/reports/jobs/nightly', who: 'nightly', status: 200,
    upstream: { 'x-job-class': ['batch'] },
  },
  {
    why: 'a deny aimed at anonymous callers asks for credentials', method: 'GET',
    target: '/reports/t/acme/reports/q1', status: 401,
  },
  {
    why: 'a viewer is not a manager or accountant', method: 'GET',
    target: '/reports/t/globex/reports/q1', who: 'globexViewer', status: 403,
  },
  {
    why: 'an accountant reads its tenant reports', method: 'GET',
    target: '/reports/t/acme/reports/q1', who: 'accountant', status: 200,
  },
  {
    why: 'dot segments are resolved before the policy sees the path, so the tenant check sees globex',
    method: 'GET', target: '/orders/t/acme/x/../../globex/orders', who: 'clerk', status: 403,
  },
  {
    why: 'encoded dot segments too', method: 'GET', target: '/orders/t/acme/%2e%2e/globex/orders',
    who: 'clerk', status: 403,
  },
  {
    why: 'the query never takes part in matching', method: 'GET',
    target: '/orders/t/globex/orders?path=/t/acme/orders', who: 'clerk', status: 403,
  },
  {
    why: 'a tenant claim that only looks like the path segment (a dot is a dot) does not match',
    method: 'GET', target: '/orders/t/acmeXco/orders', who: 'dotTenant', status: 403,
  },
  {
    why: 'the same claim matches its literal segment', method: 'GET',
    target: '/orders/t/acme.co/orders', who: 'dotTenant', status: 200,
  },
];

describe('server/policy e2e', () => {
  for (const c of kCases) {
    test(`${c.method} ${c.target} as ${c.who ?? 'anonymous'}: ${c.status} (${c.why})`, async () => {
      const r = await send(c.method, c.target, c.who, c.headers);
      assert.equal(r.status, c.status);
      if (c.status === 200) assert.ok(r.upstreamHeaders !== undefined, 'forwarded');
      else assert.equal(r.upstreamHeaders, undefined, 'nothing reaches the upstream');
      if (c.status === 401) assert.match(String(r.challenge), /^Bearer/);
      for (const [name, values] of Object.entries(c.upstream ?? {})) {
        assert.deepEqual(r.upstreamHeaders?.get(name), values, name);
      }
    });
  }

  test('/readyz names the active bundle', async () => {
    const ready = await (await fetch(`http://127.0.0.1:${proxy.adminPort}/readyz`)).json() as
      { policy: { active: { version: number; digest: string } } };
    assert.equal(ready.policy.active.version, 7);
    assert.match(ready.policy.active.digest, /^[0-9a-f]{64}$/);
  });

  const push = (bytes: Uint8Array, signature: string, token = kAdminToken): Promise<Response> =>
    fetch(`http://127.0.0.1:${proxy.adminPort}/policy/bundle`, {
      method: 'PUT', body: bytes,
      headers: { authorization: `Bearer ${token}`, 'x-portcullis-signature': signature },
    });
  const kV8 = `version: 8
rules:
  - { id: only-catalog, effect: allow, who: anyone, services: [inventory], paths: ['/catalog/**'] }
`;

  test('a push without the admin token is refused and changes nothing', async () => {
    const b = await signer.signText(kV8);
    assert.equal((await push(b.bytes, b.signature, 'wrong')).status, 401);
    assert.equal((await send('GET', '/orders/healthz')).status, 200);
  });

  test('a tampered push is refused; the last good bundle keeps deciding', async () => {
    const b = await signer.signText(kV8);
    const tampered = Uint8Array.from(b.bytes);
    tampered[tampered.length - 1]! ^= 1;
    const res = await push(tampered, b.signature);
    assert.equal(res.status, 400);
    assert.equal(((await res.json()) as { error: string }).error, 'IAM_BUNDLE_SIGNATURE_INVALID');
    assert.equal((await send('GET', '/orders/healthz')).status, 200);
  });

  test('a newer push swaps the policy; an older one is then refused with 409', async () => {
    const b = await signer.signText(kV8);
    const res = await push(b.bytes, b.signature);
    assert.equal(res.status, 200);
    assert.deepEqual(((await res.json()) as { status: string; version: number }).version, 8);
    assert.equal((await send('GET', '/orders/healthz')).status, 401, 'the old allow is gone');
    assert.equal((await send('GET', '/inventory/catalog/x')).status, 200);
    const old = await signer.signDir(kPolicyDir);
    const refused = await push(old.bytes, old.signature);
    assert.equal(refused.status, 409);
    assert.equal(((await refused.json()) as { error: string }).error, 'IAM_BUNDLE_VERSION_OLDER');
    assert.equal((await send('GET', '/orders/healthz')).status, 401, 'still version 8');
  });
});
