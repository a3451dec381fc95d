/**
 * Request smuggling, differentially (threats.md: "Request smuggling / ambiguous framing").
 *
 * Generated requests mix framing headers (duplicate, differing, odd Content-Length; chunked and
 * not-quite-chunked Transfer-Encoding; bad chunk sizes) and end with a pipelined second request.
 * The same bytes go to a node:http server directly (llhttp, the parser an upstream is likely to
 * run) and through the proxy to another node:http server. Property: every request the upstream
 * receives through the proxy is one llhttp also sees in the raw bytes, with the same body length.
 * A disagreement would mean the proxy and an upstream frame the stream differently. Both
 * listeners run the property: uWS (the proxy listener) and node:https (the mTLS listener, whose
 * own parser is llhttp, with the proxy's framing checks on top).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import tls from 'node:tls';
import { after, before, describe, test } from 'node:test';
import fc from 'fast-check';
import { startTestProxy, oneService, type TestProxy } from '../support/proxy-harness.js';
import { createTestPki } from '../support/test-pki.js';

interface Seen {
  readonly method: string;
  readonly url: string;
  readonly bodyBytes: number;
}

/** A node:http server that records (method, url, body length) per request. */
async function recorder(): Promise<{ server: http.Server; port: number; seen: Seen[] }> {
  const seen: Seen[] = [];
  const server = http.createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => {
      bytes += c.length;
    });
    req.on('end', () => {
      seen.push({ method: req.method ?? '', url: req.url ?? '', bodyBytes: bytes });
      res.end('ok');
    });
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as net.AddressInfo).port, seen };
}

/**
 * Writes `bytes` (over TLS with `secure`), then waits until the peer closes or `quietMs` pass
 * without new data.
 */
function exchange(port: number, bytes: Buffer, quietMs: number, secure?: tls.ConnectionOptions):
  Promise<void> {
  return new Promise((resolve) => {
    const socket = secure === undefined ? net.connect(port, '127.0.0.1', () => socket.write(bytes))
      : tls.connect({ ...secure, port, host: '127.0.0.1' }, () => socket.write(bytes));
    let timer = setTimeout(done, quietMs * 2);
    function done(): void {
      clearTimeout(timer);
      socket.destroy();
      resolve();
    }
    socket.on('data', () => {
      clearTimeout(timer);
      timer = setTimeout(done, quietMs);
    });
    socket.on('close', done);
    socket.on('error', done);
  });
}

const kFramingHeaders = [
  'Content-Length: 5', 'Content-Length: 6', 'Content-Length: 0', 'Content-Length:5',
  'Content-Length: 05', 'Content-Length: +5', 'Content-Length: 5, 5', 'Content-Length: 5 ',
  'Transfer-Encoding: chunked', 'Transfer-Encoding: Chunked', 'Transfer-Encoding: chunked, identity',
  'Transfer-Encoding: identity, chunked', 'Transfer-Encoding: xchunked', 'Transfer-Encoding:chunked',
  'Transfer-Encoding: gzip',
];
const kBodies = [
  'hello', '5\r\nhello\r\n0\r\n\r\n', '5;ext=1\r\nhello\r\n0\r\n\r\n', 'g\r\nhello\r\n0\r\n\r\n',
  '5\r\nhello\r\n0\r\nX-Trailer: 1\r\n\r\n', '05\r\nhello\r\n0\r\n\r\n', '', '0\r\n\r\n',
  'ffffffffffffffff1\r\nhello\r\n0\r\n\r\n', '-5\r\nhello\r\n0\r\n\r\n',
  '0x5\r\nhello\r\n0\r\n\r\n', '5\rhello\r\n0\r\n\r\n',
];

/**
 * Chunked bodies the uWS 20.30 request parser accepts although llhttp (rightly) refuses them: it
 * does not check the CRLF after chunk data, takes bare LF as a line end, allows a space after the
 * chunk size, and ends the body at the last-chunk line without its final CRLF. The proxy only sees decoded body bytes, so it cannot
 * refuse these itself (README, "Known limitations").
 */
const kLenientInUws = [
  '5\nhello\n0\n\n', '5\r\nhelloXX0\r\n\r\n', '5\r\nhello\r\n0\r\n', '5\r\nhello\n0\r\n\r\n',
  '5 \r\nhello\r\n0\r\n\r\n',
];

let direct: Awaited<ReturnType<typeof recorder>>;
let behind: Awaited<ReturnType<typeof recorder>>;
let proxy: TestProxy;
let secure: tls.ConnectionOptions;

before(async () => {
  direct = await recorder();
  behind = await recorder();
  const pki = createTestPki();
  const server = pki.leaf('server', 'localhost', 'DNS:localhost', 'serverAuth');
  const caller = pki.issue('caller');
  secure = { ca: readFileSync(pki.caCert), servername: 'localhost',
    cert: readFileSync(caller.cert), key: readFileSync(caller.key) };
  proxy = await startTestProxy(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
  mtls: { host: 127.0.0.1, port: 0, certFile: '${server.cert}', keyFile: '${server.key}',
          caFiles: ['${pki.caCert}'] }
${oneService(behind.port)}`);
});

after(async () => {
  await proxy?.stop();
  direct.server.close();
  behind.server.close();
  direct.server.closeAllConnections();
  behind.server.closeAllConnections();
});

/** The property over one listener: `secure` undefined is uWS, else the mTLS listener. */
async function assertSameFraming(port: number, prefix: string, runs: number,
  minForwarded: number, secureOptions?: tls.ConnectionOptions): Promise<void> {
  let run = 0;
  let forwarded = 0;
  await fc.assert(fc.asyncProperty(
    fc.subarray(kFramingHeaders, { maxLength: 3 }),
    fc.constantFrom(...kBodies),
    async (framing, body) => {
      run++;
      const first = `POST /${prefix}${run}/first HTTP/1.1\r\nHost: t\r\n${framing.map((h) => `${h}\r\n`).join('')}\r\n${body}`;
      const second = `GET /${prefix}${run}/second HTTP/1.1\r\nHost: t\r\n\r\n`;
      const bytes = Buffer.from(first + second, 'latin1');
      await exchange(direct.port, bytes, 60);
      await exchange(port, bytes, 60, secureOptions);
      const mine = (s: Seen[]): Seen[] => s.filter((x) => x.url.startsWith(`/${prefix}${run}/`));
      const reference = mine(direct.seen);
      for (const got of mine(behind.seen)) {
        forwarded++;
        const twin = reference.find((r) => r.url === got.url && r.method === got.method);
        assert.ok(twin !== undefined, `${JSON.stringify(got)} is not a request llhttp sees in ${JSON.stringify(first)}`);
        assert.equal(got.bodyBytes, twin.bodyBytes, `body length differs for ${JSON.stringify(first)}`);
      }
    },
  ), { numRuns: runs, seed: 20261203 });
  // The property must not hold vacuously: unambiguous requests do get through.
  assert.ok(forwarded >= minForwarded, `only ${forwarded} requests were forwarded in ${run} runs`);
}

describe('server/smuggling differential', () => {
  test('the upstream behind the proxy never sees a request llhttp frames differently', async () => {
    await assertSameFraming(proxy.port, 'r', 150, 20);
  });

  test('the same holds on the mTLS listener', async () => {
    await assertSameFraming(proxy.mtlsPort as number, 'm', 100, 12, secure);
  });

  for (const body of kLenientInUws) {
    // TODO(security): uWS 20.30's chunked request parser accepts these; refusing them on the
    // proxy listener needs a stricter uWS (the mTLS listener's llhttp refuses them, below); the
    // README tracks it.
    test(`malformed chunked body ${JSON.stringify(body)} is refused`, {
      todo: 'uWS 20.30 accepts it (README, Known limitations)',
    }, async () => {
      const url = `/lenient/${kLenientInUws.indexOf(body)}`;
      await exchange(proxy.port, Buffer.from(`POST ${url} HTTP/1.1\r\nHost: t\r\n` +
        `Transfer-Encoding: chunked\r\n\r\n${body}`, 'latin1'), 60);
      assert.equal(behind.seen.some((x) => x.url === url), false);
    });

    test(`malformed chunked body ${JSON.stringify(body)} is refused by the mTLS listener`,
      async () => {
        const url = `/lenient-mtls/${kLenientInUws.indexOf(body)}`;
        await exchange(proxy.mtlsPort as number, Buffer.from(`POST ${url} HTTP/1.1\r\n` +
          `Host: t\r\nTransfer-Encoding: chunked\r\n\r\n${body}`, 'latin1'), 60, secure);
        assert.equal(behind.seen.some((x) => x.url === url), false);
      });
  }
});
