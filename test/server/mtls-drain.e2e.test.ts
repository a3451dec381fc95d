/**
 * Graceful shutdown covers both listeners: on SIGTERM the uWS and the mTLS listener stop
 * accepting, requests in flight on either finish, a new request on an open mTLS keep-alive
 * connection gets 503 IAM_SERVER_DRAINING, and the process exits 0 once drained.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import tls from 'node:tls';
import { describe, test } from 'node:test';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream } from '../support/recording-upstream.js';
import { startProxyProcess, writeConfig } from '../support/proxy-process.js';
import { createTestPki } from '../support/test-pki.js';

/** A TLS connection that collects what it receives. */
function openTls(port: number, secure: tls.ConnectionOptions): {
  socket: tls.TLSSocket; text(): string; isClosed(): boolean;
  until(done: () => boolean): Promise<void>;
} {
  const socket = tls.connect({ ...secure, port, host: '127.0.0.1' });
  let text = '';
  let isClosed = false;
  socket.on('data', (d: Buffer) => {
    text += d.toString('latin1');
  });
  socket.on('close', () => {
    isClosed = true;
  });
  socket.on('error', () => {});
  return {
    socket,
    text: () => text,
    isClosed: () => isClosed,
    async until(done) {
      for (let i = 0; i < 150 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
    },
  };
}

describe('server/mtls-drain', () => {
  test('SIGTERM drains in-flight requests on both listeners and refuses new ones', async () => {
    const pki = createTestPki();
    const server = pki.leaf('server', 'localhost', 'DNS:localhost', 'serverAuth');
    const caller = pki.issue('caller', { san: 'URI:spiffe://t.acme/caller' });
    const secure: tls.ConnectionOptions = { ca: readFileSync(pki.caCert), servername: 'localhost',
      cert: readFileSync(caller.cert), key: readFileSync(caller.key) };
    const upstream = await startRecordingUpstream();
    const proxy = await startProxyProcess(writeConfig(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls: { host: 127.0.0.1, port: 0, certFile: '${server.cert}', keyFile: '${server.key}',
          caFiles: ['${pki.caCert}'] }
shutdown: { drainTimeoutMs: 5000 }
services:
  - name: app
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`));
    const mtlsPort = proxy.mtlsPort as number;

    // Two mTLS keep-alive connections: one idle, one busy with a slow request.
    const idle = openTls(mtlsPort, secure);
    idle.socket.write('GET /status?code=204 HTTP/1.1\r\nHost: t\r\n\r\n');
    await idle.until(() => idle.text().includes('\r\n\r\n'));
    assert.match(idle.text(), /^HTTP\/1\.1 204 /);
    const busy = openTls(mtlsPort, secure);
    busy.socket.write('GET /slow-head?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n');
    const slowUws = rawRequest(proxy.port, 'GET /slow-head?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n',
      { timeoutMs: 5000 });
    await new Promise((r) => setTimeout(r, 200));
    const exited = proxy.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));

    // During the drain: no new connections on either listener; node closes the idle one at
    // once; a request behind the busy one's is answered 503 and the connection closes.
    const lateUws = await rawRequest(proxy.port, 'GET /late HTTP/1.1\r\nHost: t\r\n\r\n');
    const lateMtls = await rawRequest(mtlsPort, 'GET /late HTTP/1.1\r\nHost: t\r\n\r\n',
      { tls: secure });
    busy.socket.write('GET /during-drain HTTP/1.1\r\nHost: t\r\n\r\n');
    await busy.until(() => busy.isClosed());
    await idle.until(() => idle.isClosed());

    assert.equal((await slowUws).status, 200, 'the in-flight uWS request completed');
    assert.match(busy.text(), /^HTTP\/1\.1 200 [^]*slow/, 'the in-flight mTLS request completed');
    const during = busy.text().slice(busy.text().indexOf('HTTP/1.1', 10));
    assert.match(during, /^HTTP\/1\.1 503 /, JSON.stringify(busy.text()));
    assert.match(during, /x-portcullis-error: IAM_SERVER_DRAINING/);
    assert.equal(busy.isClosed(), true);
    assert.equal(idle.isClosed(), true, 'the idle mTLS connection was closed');
    assert.equal(lateUws.status, 0, 'the uWS listener no longer accepts connections');
    assert.equal(lateMtls.status, 0, 'the mTLS listener no longer accepts connections');
    assert.equal(await exited, 0);
    assert.ok(proxy.stdout.some((l) => l.includes('"msg":"stopped"') &&
      l.includes('"drained":true')));
    assert.equal(upstream.requests.some((r) => r.url === '/during-drain'), false);
    idle.socket.destroy();
    busy.socket.destroy();
    await upstream.close();
  });
});
