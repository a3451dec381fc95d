/**
 * The decision listener behind a real nginx `auth_request`, in front of a real recording
 * upstream, with the recommended snippet (README, "Decision API"): nginx asks Portcullis about
 * every request, copies the identity headers of an allow upstream, and answers denials itself.
 * nginx's auth subrequests come from 127.0.0.2 (`proxy_bind`), the one trusted ingress; test
 * clients connect from 127.0.0.1, so a client that reaches the decision listener directly is an
 * untrusted peer. Threats: "Spoofed identity or forwarded headers" (X-Original-URI, X-Real-IP,
 * identity headers sent by the client), the canonical-path rows (the original URI's tricks).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { byRequestId, readRecords, type WrittenRecord } from '../support/audit-files.js';
import { createBundleSigner } from '../support/policy-bundles.js';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';
import { type NginxInstance, nginxBinary, startNginx } from '../support/nginx.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { rawRequest } from '../support/raw-http.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

function missingNginx(): string | false {
  try {
    nginxBinary();
    return false;
  } catch (err) {
    if (process.env['CI'] === 'true') throw err;
    return (err as Error).message;
  }
}

const kPolicy = `version: 1
roles:
  reader: {}
  admin: { inherits: [reader] }
assignments:
  - { role: reader, scopes: [read] }
  - { role: admin, groups: [admins] }
rules:
  - { id: public-read, effect: allow, who: anyone, services: [app], methods: [GET, HEAD],
      paths: ['/public/**'] }
  - id: private-read
    effect: allow
    who: { roles: [reader] }
    services: [app]
    methods: [GET]
    paths: ['/private/**']
    obligations: { headers: { x-app-view: reader } }
  - { id: admin-any, effect: allow, who: { roles: [admin] }, services: [app],
      paths: ['/admin/**'] }
  - { id: client-lan, effect: allow, who: anyone, services: [app], methods: [GET],
      paths: ['/lan/**'], when: { source: ['127.0.0.1'] } }
  - { id: ingress-only, effect: allow, who: anyone, services: [app], methods: [GET],
      paths: ['/ingress/**'], when: { source: ['127.0.0.2'] } }
`;

const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-decision-nginx-'));
const kAuditFile = path.join(kDir, 'audit.log');
let issuer: LocalIssuer;
let upstream: RecordingUpstream;
let proxy: TestProxy;
let nginx: NginxInstance;
let reader: string;
let admin: string;
let nextId = 0;

/** The recommended snippet (README), with the test's ports; `bind` only in the trusted one. */
function nginxConf(decisionPort: number, upstreamPort: number): string {
  const check = (name: string, bind: boolean): string => `
    location = ${name} {
      internal;
      proxy_pass http://${bind ? 'portcullis' : `127.0.0.1:${decisionPort}`};
      ${bind ? 'proxy_bind 127.0.0.2;' : ''}
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_pass_request_body off;
      proxy_set_header Content-Length "";
      proxy_set_header X-Original-Method $request_method;
      proxy_set_header X-Original-URI $request_uri;
      proxy_set_header X-Forwarded-Host $host;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Real-IP $remote_addr;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
    }`;
  const protect = (name: string): string => `
      auth_request ${name};
      auth_request_set $pc_path $upstream_http_x_portcullis_path;
      auth_request_set $pc_credential $upstream_http_x_portcullis_credential;
      auth_request_set $pc_subject $upstream_http_x_portcullis_subject;
      auth_request_set $pc_scopes $upstream_http_x_portcullis_scopes;
      auth_request_set $pc_groups $upstream_http_x_portcullis_groups;
      auth_request_set $pc_view $upstream_http_x_app_view;
      auth_request_set $pc_request_id $upstream_http_x_request_id;
      proxy_set_header X-Portcullis-Credential $pc_credential;
      proxy_set_header X-Portcullis-Subject $pc_subject;
      proxy_set_header X-Portcullis-Scopes $pc_scopes;
      proxy_set_header X-Portcullis-Groups $pc_groups;
      proxy_set_header X-App-View $pc_view;
      proxy_set_header X-Request-Id $pc_request_id;
      proxy_set_header Authorization "";
      proxy_set_header Host $host;
      proxy_pass http://127.0.0.1:${upstreamPort}$pc_path$is_args$args;`;
  return `
  upstream portcullis {
    server 127.0.0.1:${decisionPort};
    keepalive 8;
  }
  server {
    listen 127.0.0.1:{{port:front}};
    location / {${protect('/_portcullis')}
    }
    location /untrusted/ {${protect('/_portcullis_unbound')}
    }
    ${check('/_portcullis', true)}
    ${check('/_portcullis_unbound', false)}
  }`;
}

const skip = missingNginx();

before(async () => {
  if (skip !== false) return;
  issuer = await startLocalIssuer();
  reader = await issuer.sign({ sub: 'u-reader', scope: 'read' });
  admin = await issuer.sign({ sub: 'u-admin', groups: ['admins'] });
  upstream = await startRecordingUpstream();
  const signer = createBundleSigner();
  const bundleFile = path.join(signer.dir, 'decision.bundle');
  signer.write(bundleFile, await signer.signText(kPolicy));
  proxy = await startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  decision: { host: 127.0.0.1, port: 0, flavor: nginx, trustedIngress: ['127.0.0.2'] }
audit: { sink: file, file: { path: '${kAuditFile}' } }
authn:
  issuers:
${localIssuerYaml(issuer)}policy:
  publicKeys: ['${signer.publicKeyFile}']
  file: '${bundleFile}'
services:
  - name: app
    hosts: [app.test]
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
  nginx = await startNginx({ conf: nginxConf(proxy.decisionPort ?? 0, upstream.port) });
});

after(async () => {
  await nginx?.stop();
  await proxy?.stop();
  await upstream?.close();
  rmSync(kDir, { recursive: true, force: true });
});

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly id: string;
}

/**
 * One request to nginx with its own x-request-id (nginx passes it to the check, so the
 * record is found by it). `target` is sent as written (no client-side normalization).
 */
function viaNginx(target: string, headers: Record<string, string> = {}, method = 'GET'):
  Promise<Answer> {
  const id = `decision-nginx-${++nextId}`;
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port: nginx.port('front'), method, path: target,
      agent: false, headers: { host: 'app.test', 'x-request-id': id, ...headers } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, id }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function recordOf(id: string): Promise<WrittenRecord> {
  await proxy.running.audit.log.flush();
  const record = byRequestId(readRecords(kAuditFile)).get(id);
  assert.ok(record !== undefined, `a record for ${id}`);
  return record;
}

/** The upstream request nginx made for `id`, if it made one. */
function upstreamSaw(id: string): { url: string; header(name: string): string[] } | undefined {
  const seen = upstream.requests.find((r) => {
    for (let i = 0; i < r.rawHeaders.length; i += 2) {
      if (r.rawHeaders[i]?.toLowerCase() === 'x-request-id' && r.rawHeaders[i + 1] === id) {
        return true;
      }
    }
    return false;
  });
  if (seen === undefined) return undefined;
  return {
    url: seen.url,
    header: (name) => seen.rawHeaders.filter((_v, i) => i % 2 === 1
      && seen.rawHeaders[i - 1]?.toLowerCase() === name),
  };
}

describe('server/decision listener behind nginx auth_request', { skip }, () => {
  test('an allowed request reaches the upstream with the identity headers nginx copied', async () => {
    const answer = await viaNginx('/private/report?q=1', { authorization: `Bearer ${reader}` });
    assert.equal(answer.status, 200);
    const seen = upstreamSaw(answer.id);
    assert.ok(seen !== undefined, 'the upstream got the request');
    assert.equal(seen.url, '/private/report?q=1');
    assert.deepEqual(seen.header('x-portcullis-subject'), ['u-reader']);
    assert.deepEqual(seen.header('x-portcullis-credential'), ['jwt']);
    assert.deepEqual(seen.header('x-portcullis-scopes'), ['read']);
    assert.deepEqual(seen.header('x-app-view'), ['reader'], 'the policy obligation');
    assert.deepEqual(seen.header('authorization'), [], 'the token stays at the ingress');
    const record = await recordOf(answer.id);
    assert.deepEqual([record.listener, record.decision, record.outcome, record.status,
      record.rule, record.method, record.path, record.service, record.sourceAddress],
    ['decision', 'allow', 'answered', 200, 'private-read', 'GET', '/private/report', 'app',
      '127.0.0.1']);
    assert.equal(record.principal?.subject, 'u-reader');
  });

  test('no token: nginx answers 401 with the challenge, and the upstream never sees it', async () => {
    const answer = await viaNginx('/private/report');
    assert.equal(answer.status, 401);
    assert.equal(answer.headers['www-authenticate'], 'Bearer');
    assert.equal(upstreamSaw(answer.id), undefined);
    const record = await recordOf(answer.id);
    assert.deepEqual([record.decision, record.code, record.status],
      ['deny', 'IAM_AUTHN_REQUIRED', 401]);
  });

  test('a token the policy does not admit: 403, and the upstream never sees it', async () => {
    const answer = await viaNginx('/admin/users', { authorization: `Bearer ${reader}` });
    assert.equal(answer.status, 403);
    assert.equal(upstreamSaw(answer.id), undefined);
    assert.equal((await recordOf(answer.id)).code, 'IAM_AUTHZ_DENIED');
    const allowed = await viaNginx('/admin/users', { authorization: `Bearer ${admin}` });
    assert.equal(allowed.status, 200, 'the same path with an admin token passes');
  });

  test('a client\'s X-Original-URI and X-Original-Method are overwritten by nginx', async () => {
    const answer = await viaNginx('/admin/users', {
      'x-original-uri': '/public/index.html', 'x-original-method': 'GET',
    }, 'DELETE');
    assert.equal(answer.status, 401, 'decided as DELETE /admin/users, not as the spoofed values');
    assert.equal(upstreamSaw(answer.id), undefined);
    const record = await recordOf(answer.id);
    assert.deepEqual([record.method, record.path], ['DELETE', '/admin/users']);
  });

  test('client-sent identity headers never reach the upstream on an anonymous allow', async () => {
    const answer = await viaNginx('/public/index.html', {
      'x-portcullis-subject': 'root', 'x-portcullis-groups': 'admins', 'x-app-view': 'admin',
    });
    assert.equal(answer.status, 200);
    const seen = upstreamSaw(answer.id);
    assert.ok(seen !== undefined);
    assert.deepEqual(seen.header('x-portcullis-subject'), []);
    assert.deepEqual(seen.header('x-portcullis-groups'), []);
    assert.deepEqual(seen.header('x-app-view'), []);
  });

  test('client identity headers beside a valid token: the upstream sees the answer\'s values only', async () => {
    // u-reader has no groups: the answer carries no X-Portcullis-Groups, so nginx sets it
    // empty, which removes the client's copy. The underscore spelling (which some servers
    // fold into the dashed name) is dropped by nginx's default ignore_invalid_headers.
    const answer = await viaNginx('/private/report', { authorization: `Bearer ${reader}`,
      'x-portcullis-subject': 'root', 'x-portcullis-credential': 'mtls',
      'x-portcullis-groups': 'admins', 'x-app-view': 'admin', 'x_portcullis_subject': 'root' });
    assert.equal(answer.status, 200);
    const seen = upstreamSaw(answer.id);
    assert.ok(seen !== undefined);
    assert.deepEqual(seen.header('x-portcullis-subject'), ['u-reader']);
    assert.deepEqual(seen.header('x-portcullis-credential'), ['jwt']);
    assert.deepEqual(seen.header('x-portcullis-groups'), []);
    assert.deepEqual(seen.header('x-app-view'), ['reader']);
    assert.deepEqual(seen.header('x_portcullis_subject'), []);
    assert.equal((await recordOf(answer.id)).principal?.subject, 'u-reader');
  });

  test('policy source conditions see the client nginx saw, not the ingress, nor a spoof', async () => {
    // A denied anonymous caller gets 401 (the engine cannot rule out that a credential helps).
    assert.equal((await viaNginx('/lan/printer')).status, 200, 'the client is 127.0.0.1');
    const fromPeer = await viaNginx('/ingress/x');
    assert.equal(fromPeer.status, 401, 'the ingress peer (127.0.0.2) is not the client');
    assert.equal((await recordOf(fromPeer.id)).decision, 'deny');
    const spoofed = await viaNginx('/ingress/x', { 'x-real-ip': '127.0.0.2',
      'x-forwarded-for': '127.0.0.2' });
    assert.equal(spoofed.status, 401, 'nginx writes X-Real-IP; the last X-Forwarded-For is its');
    const record = await recordOf(spoofed.id);
    assert.deepEqual([record.decision, record.sourceAddress], ['deny', '127.0.0.1']);
  });

  // Each original URI goes through canonicalizeTarget as on the proxy. nginx answers any
  // refusal other than 401/403 with 500, so those never pass either.
  const kTricks: ReadonlyArray<readonly [string, string, number, string | null, string | null]> = [
    ['an encoded slash climbing out of /public is refused, as on the proxy',
      '/public/..%2Fadmin/users', 500, 'IAM_ROUTING_ENCODED_SEPARATOR', null],
    ['a lone %2F is refused, as on the proxy', '/public/a%2Fb', 500,
      'IAM_ROUTING_ENCODED_SEPARATOR', null],
    ['encoded dot segments are decided where they lead (/admin), so an anonymous caller gets 401',
      '/public/%2e%2e/admin/users', 401, 'IAM_AUTHN_REQUIRED', '/admin/users'],
    ['dot segments into /public are decided, and forwarded, as /public/x',
      '/private/../public/x', 200, null, '/public/x'],
    ['merged slashes are decided and forwarded as the canonical path',
      '/public//a///b', 200, null, '/public/a/b'],
    ['a backslash is refused, as on the proxy', '/public/a\\b', 500, 'IAM_ROUTING_BACKSLASH',
      null],
  ];
  for (const [why, target, status, code, canonical] of kTricks) {
    test(`original URI ${target}: ${why}`, async () => {
      const answer = await viaNginx(target);
      assert.equal(answer.status, status);
      const record = await recordOf(answer.id);
      assert.equal(record.code, code);
      assert.equal(record.path, canonical);
      const seen = upstreamSaw(answer.id);
      if (status === 200) assert.equal(seen?.url, canonical, 'the upstream got the decided path');
      else assert.equal(seen, undefined, 'the upstream never sees it');
    });
  }

  test('a check from an untrusted peer is refused without a decision', async () => {
    const viaUnbound = await viaNginx('/untrusted/x', { authorization: `Bearer ${admin}` });
    assert.equal(viaUnbound.status, 403, 'nginx passes the 403 on');
    assert.equal(upstreamSaw(viaUnbound.id), undefined);
    const record = await recordOf(viaUnbound.id);
    assert.deepEqual([record.code, record.rule, record.principal, record.path],
      ['IAM_DECISION_PEER_UNTRUSTED', null, null, null]);

    const direct = await rawRequest(proxy.decisionPort ?? 0, 'GET /check HTTP/1.1\r\n'
      + 'Host: app.test\r\nX-Original-Method: GET\r\nX-Original-URI: /public/x\r\n'
      + 'X-Real-IP: 127.0.0.1\r\n\r\n');
    assert.equal(direct.status, 403);
    assert.deepEqual(direct.headers.get('x-portcullis-error'), ['IAM_DECISION_PEER_UNTRUSTED']);
  });
});
