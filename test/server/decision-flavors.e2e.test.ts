/**
 * The decision listener as Traefik's forwardAuth and Envoy's ext_authz (HTTP service) call it,
 * without those ingresses: a raw client on 127.0.0.2 (the trusted ingress) sends the check
 * requests they send, byte for byte. What a deployment relies on: the original request is read
 * from the flavor's headers (and only from a trusted peer), decided as the proxy decides it
 * (canonical path, routing, token, revocation, policy), and answered with the headers to copy
 * upstream, or a 401/403 with the proxy's codes. Client identity headers inside a check are
 * never echoed; a check with a body is refused.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { rawRequest, type RawResponse } from '../support/raw-http.js';

const kAdminToken = 'decision-flavors-admin-token';
let issuer: LocalIssuer;
let traefik: TestProxy;
let envoy: TestProxy;
let token: string;
let revokedToken: string;

function config(decision: string): string {
  return `listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  decision: { host: 127.0.0.1, port: 0, trustedIngress: ['127.0.0.2/32'], ${decision} }
admin: { token: { env: DECISION_FLAVORS_ADMIN } }
authn:
  issuers:
${localIssuerYaml(issuer)}      attributeClaims: { tenant: tenant }
services:
  - name: pub
    hosts: [app.test]
    pathPrefix: /public
    access: public
    upstream: { addresses: ['127.0.0.1:1'] }
  - name: api
    hosts: [app.test]
    pathPrefix: /api
    access: authenticated
    identity: { attributes: { tenant: x-tenant-id } }
    upstream: { addresses: ['127.0.0.1:1'] }
`;
}

before(async () => {
  process.env['DECISION_FLAVORS_ADMIN'] = kAdminToken;
  issuer = await startLocalIssuer();
  token = await issuer.sign({ sub: 'u-1', scope: 'read write', tenant: 'acme' });
  revokedToken = await issuer.sign({ sub: 'u-revoked' });
  traefik = await startTestProxy(config('flavor: traefik'));
  envoy = await startTestProxy(config('flavor: envoy, pathPrefix: /authz'));
});

after(async () => {
  await traefik?.stop();
  await envoy?.stop();
});

/** A check request from the trusted ingress address (or `from`), as raw bytes. */
function check(proxy: TestProxy, head: string, opts: { from?: string; isHead?: boolean } = {}):
  Promise<RawResponse> {
  return rawRequest(proxy.decisionPort ?? 0, `${head}\r\n\r\n`, {
    localAddress: opts.from ?? '127.0.0.2', expectNoBody: opts.isHead ?? false,
    waitForCloseMs: 100,
  });
}

/** What Traefik's forwardAuth sends for `method uri`, plus `extra` header lines. */
function traefikCheck(method: string, uri: string, extra: readonly string[] = []): string {
  return ['GET /auth HTTP/1.1', 'Host: 127.0.0.1', `X-Forwarded-Method: ${method}`,
    'X-Forwarded-Proto: https', 'X-Forwarded-Host: app.test', `X-Forwarded-Uri: ${uri}`,
    'X-Forwarded-For: 203.0.113.9', ...extra].join('\r\n');
}

function code(res: RawResponse): string | undefined {
  return res.headers.get('x-portcullis-error')?.[0];
}

describe('server/decision listener, traefik flavor', () => {
  test('an allowed check answers 200 with the identity headers for authResponseHeaders', async () => {
    const res = await check(traefik, traefikCheck('GET', '/api/items?page=2',
      [`Authorization: Bearer ${token}`]));
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.get('x-portcullis-subject'), ['u-1']);
    assert.deepEqual(res.headers.get('x-portcullis-scopes'), ['read write']);
    assert.deepEqual(res.headers.get('x-tenant-id'), ['acme'], 'a renamed attribute header');
    assert.deepEqual(res.headers.get('x-portcullis-path'), ['/api/items']);
    assert.deepEqual(res.headers.get('cache-control'), ['no-store']);
    assert.equal(res.body.length, 0);
  });

  test('no token: 401 with the Bearer challenge and the code; a bad one: invalid_token', async () => {
    const none = await check(traefik, traefikCheck('GET', '/api/items'));
    assert.deepEqual([none.status, code(none), none.headers.get('www-authenticate')?.[0]],
      [401, 'IAM_AUTHN_REQUIRED', 'Bearer']);
    const bad = await check(traefik, traefikCheck('GET', '/api/items',
      ['Authorization: Bearer not.a.token']));
    assert.deepEqual([bad.status, bad.headers.get('www-authenticate')?.[0]],
      [401, 'Bearer error="invalid_token"']);
  });

  test('client identity headers inside the check are never answered back', async () => {
    const res = await check(traefik, traefikCheck('GET', '/public/x',
      ['X-Portcullis-Subject: root', 'X-User: root', 'X-Tenant-Id: evil']));
    assert.equal(res.status, 200, 'a public route allows the anonymous caller');
    assert.equal(res.headers.get('x-portcullis-subject'), undefined);
    assert.equal(res.headers.get('x-user'), undefined);
    assert.equal(res.headers.get('x-tenant-id'), undefined);
  });

  test('a revoked subject is refused at the check, as on the proxy', async () => {
    assert.equal((await check(traefik, traefikCheck('GET', '/api/x',
      [`Authorization: Bearer ${revokedToken}`]))).status, 200);
    const revoked = await fetch(`http://127.0.0.1:${traefik.adminPort}/revocations`, {
      method: 'POST', headers: { authorization: `Bearer ${kAdminToken}` },
      body: JSON.stringify({ kind: 'subject', value: 'u-revoked', issuer: issuer.issuer }) });
    assert.equal(revoked.status, 201);
    const res = await check(traefik, traefikCheck('GET', '/api/x',
      [`Authorization: Bearer ${revokedToken}`]));
    assert.deepEqual([res.status, code(res)], [401, 'IAM_AUTHN_REVOKED']);
  });

  // Refusals before any decision, each with the code an operator can look up.
  const kRefused: ReadonlyArray<readonly [string, string, number, string]> = [
    ['without X-Forwarded-Uri the check names no request', ['GET /auth HTTP/1.1',
      'Host: x', 'X-Forwarded-Method: GET', 'X-Forwarded-Host: app.test',
      'X-Forwarded-For: 203.0.113.9'].join('\r\n'), 400, 'IAM_DECISION_ORIGINAL_MISSING'],
    ['an encoded slash in the original URI is refused as on the proxy',
      traefikCheck('GET', '/public/..%2Fapi/x'), 400, 'IAM_ROUTING_ENCODED_SEPARATOR'],
    ['a fragment in the original URI is refused as on the proxy',
      traefikCheck('GET', '/public/x#frag'), 400, 'IAM_ROUTING_TARGET_FRAGMENT'],
    ['an original host with no service is unroutable', traefikCheck('GET', '/public/x')
      .replace('X-Forwarded-Host: app.test', 'X-Forwarded-Host: other.test'), 404,
    'IAM_ROUTING_NO_ROUTE'],
    ['TRACE is never allowed through, as on the proxy', traefikCheck('TRACE', '/public/x'),
      405, 'IAM_ROUTING_METHOD_UNSUPPORTED'],
    ['X-Real-IP contradicting the ingress\'s X-Forwarded-For is not believed',
      traefikCheck('GET', '/public/x', ['X-Real-IP: 10.1.1.1']), 400,
      'IAM_DECISION_ORIGINAL_INVALID'],
  ];
  for (const [why, head, status, expected] of kRefused) {
    test(why, async () => {
      const res = await check(traefik, head);
      assert.deepEqual([res.status, code(res)], [status, expected]);
    });
  }

  test('a check with a body is refused and its connection closed', async () => {
    const res = await rawRequest(traefik.decisionPort ?? 0, `${traefikCheck('POST', '/public/x',
      ['Content-Length: 5'])}\r\n\r\nhello`, { localAddress: '127.0.0.2', waitForCloseMs: 300 });
    assert.deepEqual([res.status, code(res), res.isClosed],
      [400, 'IAM_DECISION_BODY_UNSUPPORTED', true]);
  });

  test('a well-formed check from an untrusted peer gets no decision', async () => {
    const res = await check(traefik, traefikCheck('GET', '/public/x'), { from: '127.0.0.1' });
    assert.deepEqual([res.status, code(res)], [403, 'IAM_DECISION_PEER_UNTRUSTED']);
  });
});

describe('server/decision listener lifecycle', () => {
  test('stop closes the decision listener with the others; a draining check gets 503', async () => {
    const proxy = await startTestProxy(config('flavor: traefik'));
    const port = proxy.decisionPort ?? 0;
    assert.equal((await check(proxy, traefikCheck('GET', '/public/x'))).status, 200);
    proxy.running.lifecycle.drain(10_000).catch(() => undefined);
    const draining = await check(proxy, traefikCheck('GET', '/public/x'));
    assert.deepEqual([draining.status, code(draining)], [503, 'IAM_SERVER_DRAINING']);
    assert.equal(await proxy.stop(), true);
    const after = await rawRequest(port, `${traefikCheck('GET', '/public/x')}\r\n\r\n`,
      { localAddress: '127.0.0.2', timeoutMs: 1000 });
    assert.equal(after.status, 0, 'nothing answers once stopped');
  });
});

describe('server/decision listener, envoy flavor (path_prefix /authz)', () => {
  const envoyCheck = (method: string, target: string, extra: readonly string[] = []): string =>
    [`${method} ${target} HTTP/1.1`, 'Host: app.test', 'Content-Length: 0',
      'X-Forwarded-Proto: https', 'X-Forwarded-For: 198.51.100.4', ...extra].join('\r\n');

  test('the check\'s own method and path, less the prefix, are the original\'s', async () => {
    const res = await check(envoy, envoyCheck('DELETE', '/authz/api/items/7?force=1',
      [`Authorization: Bearer ${token}`]));
    assert.equal(res.status, 200);
    assert.deepEqual(res.headers.get('x-portcullis-subject'), ['u-1']);
    assert.deepEqual(res.headers.get('x-portcullis-path'), ['/api/items/7']);
  });

  test('a HEAD check is answered without a body', async () => {
    const res = await check(envoy, envoyCheck('HEAD', '/authz/api/items'), { isHead: true });
    assert.deepEqual([res.status, code(res), res.body.length], [401, 'IAM_AUTHN_REQUIRED', 0]);
  });

  const kPaths: ReadonlyArray<readonly [string, string, number, string | undefined]> = [
    ['a check outside the prefix did not come from that filter', '/api/items', 400,
      'IAM_DECISION_PATH_PREFIX_MISMATCH'],
    ['dot segments after the prefix are decided where they lead (/api: a token is needed)',
      '/authz/public/../api/items', 401, 'IAM_AUTHN_REQUIRED'],
    ['dot segments climbing above the original root are refused as on the proxy',
      '/authz/public/%2e%2e/%2e%2e/etc', 400, 'IAM_ROUTING_PATH_ESCAPES_ROOT'],
    ['a public original path is allowed for the anonymous caller', '/authz/public/a', 200,
      undefined],
  ];
  for (const [why, target, status, expected] of kPaths) {
    test(why, async () => {
      const res = await check(envoy, envoyCheck('GET', target));
      assert.deepEqual([res.status, code(res)], [status, expected]);
    });
  }
});
