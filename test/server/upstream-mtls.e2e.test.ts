/**
 * Outbound mutual TLS: a service whose upstream requires a client certificate gets one from the
 * proxy (upstream.tls.certFile/keyFile), the proxy checks the upstream's certificate against
 * upstream.tls.caFile, and without a client certificate the upstream's refusal is a 502.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { after, before, describe, test } from 'node:test';
import { rawRequest } from '../support/raw-http.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { createTestPki, type Leaf, type TestPki } from '../support/test-pki.js';

let pki: TestPki;
let clientLeaf: Leaf;
let server: https.Server;
let proxy: TestProxy;
const seenClients: string[] = [];

before(async () => {
  pki = createTestPki();
  const serverLeaf = pki.leaf('upstream', 'localhost', 'DNS:localhost,IP:127.0.0.1', 'serverAuth');
  clientLeaf = pki.leaf('proxy-client', 'portcullis-proxy', 'DNS:portcullis-proxy', 'clientAuth');
  server = https.createServer({
    cert: readFileSync(serverLeaf.cert), key: readFileSync(serverLeaf.key),
    ca: readFileSync(pki.caCert), requestCert: true, rejectUnauthorized: true,
  }, (req, res) => {
    const peer = (req.socket as TLSSocket).getPeerCertificate();
    seenClients.push(String(peer.subject?.CN));
    res.end('secure');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const otherCa = createTestPki().caCert;
  proxy = await startTestProxy(`services:
  - name: with-cert
    pathPrefix: /with-cert
    access: public
    upstream:
      addresses: ['https://127.0.0.1:${port}']
      tls: { caFile: '${pki.caCert}', certFile: '${clientLeaf.cert}', keyFile: '${clientLeaf.key}',
             serverName: localhost }
  - name: without-cert
    pathPrefix: /without-cert
    access: public
    upstream:
      addresses: ['https://127.0.0.1:${port}']
      tls: { caFile: '${pki.caCert}', serverName: localhost }
  - name: wrong-ca
    pathPrefix: /wrong-ca
    access: public
    upstream:
      addresses: ['https://127.0.0.1:${port}']
      tls: { caFile: '${otherCa}', certFile: '${clientLeaf.cert}', keyFile: '${clientLeaf.key}',
             serverName: localhost }
`);
});

after(async () => {
  await proxy?.stop();
  server.closeAllConnections();
  server.close();
});

describe('server/upstream-mtls', () => {
  test('the proxy presents its client certificate and the upstream answers', async () => {
    const res = await rawRequest(proxy.port, 'GET /with-cert/x HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'secure');
    assert.equal(seenClients.at(-1), 'portcullis-proxy');
  });

  test('without a client certificate the upstream refuses and the client gets 502', async () => {
    const seen = seenClients.length;
    const res = await rawRequest(proxy.port, 'GET /without-cert/x HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(res.status, 502);
    assert.match(res.headers.get('x-portcullis-error')?.[0] ?? '', /^IAM_UPSTREAM_/);
    assert.equal(seenClients.length, seen, 'the upstream handler never ran');
  });

  test('an upstream certificate from another CA is refused by the proxy: 502', async () => {
    const seen = seenClients.length;
    const res = await rawRequest(proxy.port, 'GET /wrong-ca/x HTTP/1.1\r\nHost: a\r\n\r\n');
    assert.equal(res.status, 502);
    assert.equal(seenClients.length, seen);
  });
});
