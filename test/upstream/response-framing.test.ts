/**
 * Byte-exact upstream responses, tricky and malformed, through a real socket and pool.
 * Each case then sends a second request: it must reuse the socket only when nothing about the
 * first response left the stream in doubt.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ErrorCode } from '../../src/errors/index.js';
import { UpstreamPool } from '../../src/upstream/index.js';
import { fetchOnce, getHead, kTestPool, startRawServer } from './harness.js';

interface FramingCase {
  readonly name: string;
  /** What the upstream writes for the first request (the second always gets a plain 200). */
  readonly response: string;
  readonly why: string;
  readonly method?: string;
  /** The upstream ends the socket after writing. */
  readonly closeAfter?: boolean;
  readonly error?: ErrorCode;
  readonly status?: number;
  readonly kind?: string;
  readonly body?: string;
  readonly headers?: readonly string[];
  readonly contentLength?: number;
  /** Whether the second request may use the same socket. */
  readonly reused?: boolean;
}

const kMalformed: ErrorCode = 'IAM_UPSTREAM_RESPONSE_MALFORMED';
const kOk = 'HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok';

const kCases: readonly FramingCase[] = [
  {
    name: 'cl-and-te',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n'
      + 'hello\r\n0\r\n\r\n',
    error: kMalformed,
    why: 'Content-Length with Transfer-Encoding is the classic smuggling signature: refuse, '
      + 'never pick one.',
  },
  {
    name: 'two-equal-cl',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello',
    error: kMalformed,
    why: 'Duplicate Content-Length fields are refused even when equal.',
  },
  {
    name: 'two-different-cl',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nhello!',
    error: kMalformed,
    why: 'Differing lengths leave the body end ambiguous.',
  },
  {
    name: 'cl-list',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5, 5\r\n\r\nhello',
    error: kMalformed,
    why: 'A list value is not a plain digit string.',
  },
  {
    name: 'cl-signed',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: +5\r\n\r\nhello',
    error: kMalformed,
    why: 'A sign is not a digit.',
  },
  {
    name: 'bad-chunk-size',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n',
    error: kMalformed,
    why: 'A chunk size must be hex digits.',
  },
  {
    name: 'chunk-size-0x',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x5\r\nhello\r\n0\r\n\r\n',
    error: kMalformed,
    why: 'A 0x prefix is not chunk-size syntax.',
  },
  {
    name: 'chunk-size-overflow',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffffff\r\n'
      + 'hello\r\n0\r\n\r\n',
    error: kMalformed,
    why: 'An oversized chunk size must not wrap around to a small one.',
  },
  {
    name: 'chunk-missing-crlf',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloX\r\n0\r\n\r\n',
    error: kMalformed,
    why: 'Chunk data must be followed by exactly CRLF.',
  },
  {
    name: 'te-gzip-chunked',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    error: kMalformed,
    why: 'A coding other than chunked cannot be relayed once Transfer-Encoding is removed.',
  },
  {
    name: 'te-chunked-twice',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n'
      + '\r\n0\r\n\r\n',
    error: kMalformed,
    why: 'Chunked applied twice is not a valid coding list.',
  },
  {
    name: 'te-not-final',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n',
    error: kMalformed,
    why: 'Chunked must be the final (and only) coding.',
  },
  {
    name: 'obs-fold',
    response: 'HTTP/1.1 200 OK\r\nX-A: one\r\n two\r\nContent-Length: 2\r\n\r\nok',
    error: kMalformed,
    why: 'Obsolete line folding is refused (RFC 9112 section 5.2).',
  },
  {
    name: 'space-before-colon',
    response: 'HTTP/1.1 200 OK\r\nContent-Length : 2\r\n\r\nok',
    error: kMalformed,
    why: 'Whitespace between name and colon is refused (RFC 9112 section 5.1).',
  },
  {
    name: 'bare-lf',
    response: 'HTTP/1.1 200 OK\nContent-Length: 2\n\nok',
    error: kMalformed,
    why: 'Bare LF line endings are refused at once, not left to a timeout.',
  },
  {
    name: 'bare-cr',
    response: 'HTTP/1.1 200 OK\r\nX-A: a\rb\r\nContent-Length: 2\r\n\r\nok',
    error: kMalformed,
    why: 'A CR not followed by LF is refused.',
  },
  {
    name: 'nul-in-value',
    response: 'HTTP/1.1 200 OK\r\nX-A: a\x00b\r\nContent-Length: 2\r\n\r\nok',
    error: kMalformed,
    why: 'NUL is never a field octet.',
  },
  {
    name: 'http-2-status-line',
    response: 'HTTP/2.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    error: kMalformed,
    why: 'Only HTTP/1.0 and HTTP/1.1 status lines are understood.',
  },
  {
    name: 'status-101',
    response: 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n',
    error: kMalformed,
    why: 'A 101 answers an Upgrade this client never sent.',
  },
  {
    name: 'head-too-large',
    response: `HTTP/1.1 200 OK\r\nX-Big: ${'a'.repeat(20_000)}\r\nContent-Length: 2\r\n\r\nok`,
    error: kMalformed,
    why: 'A head over maxResponseHeaderBytes is refused.',
  },
  {
    name: '304-with-cl',
    response: 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\nETag: "x"\r\n\r\n',
    status: 304,
    kind: 'none',
    body: '',
    reused: true,
    headers: ['etag', '"x"'],
    contentLength: 10,
    why: 'A 304 has no body whatever Content-Length says; it is not an error and the socket '
      + 'stays usable.',
  },
  {
    name: '204-then-bytes',
    response: 'HTTP/1.1 204 No Content\r\n\r\nsmuggled',
    status: 204,
    kind: 'none',
    body: '',
    reused: false,
    contentLength: -1,
    why: 'Octets after a bodiless response are never read as the next response: the socket is '
      + 'dropped.',
  },
  {
    name: '204-with-cl',
    response: 'HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n',
    status: 204,
    kind: 'none',
    contentLength: -1,
    reused: false,
    why: 'A 204 must not declare a length; one that does is relayed, then its socket is closed.',
  },
  {
    name: 'head-with-te',
    method: 'HEAD',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
    status: 200,
    kind: 'none',
    contentLength: -1,
    reused: true,
    why: 'A HEAD answer may say chunked (as GET would); it still has no body and no length.',
  },
  {
    name: 'head-with-cl',
    method: 'HEAD',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n',
    status: 200,
    kind: 'none',
    body: '',
    reused: true,
    contentLength: 1234,
    why: 'A HEAD response has no body; its Content-Length describes the GET.',
  },
  {
    name: '100-then-200',
    response: 'HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello',
    status: 200,
    kind: 'length',
    body: 'hello',
    reused: true,
    contentLength: 5,
    why: 'An interim 100 is consumed and skipped.',
  },
  {
    name: '103-then-200',
    response: 'HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 200 OK\r\n'
      + 'Content-Length: 5\r\n\r\nhello',
    status: 200,
    kind: 'length',
    body: 'hello',
    headers: [],
    reused: true,
    why: 'Early hints are skipped; their fields do not leak into the final head.',
  },
  {
    name: 'close-delimited',
    response: 'HTTP/1.1 200 OK\r\nX-A: 1\r\n\r\nuntil the end',
    closeAfter: true,
    status: 200,
    kind: 'close',
    body: 'until the end',
    reused: false,
    contentLength: -1,
    why: 'Without Content-Length or Transfer-Encoding the body runs to the close, and the '
      + 'socket is done.',
  },
  {
    name: 'connection-close',
    response: 'HTTP/1.1 200 OK\r\nConnection: close\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    kind: 'length',
    body: 'ok',
    reused: false,
    headers: [],
    why: 'Connection: close is honoured even if the upstream keeps the socket open.',
  },
  {
    name: 'connection-named-fields',
    response: 'HTTP/1.1 200 OK\r\nConnection: X-Secret\r\nX-Secret: 1\r\nX-Kept: 2\r\n'
      + 'Content-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    reused: true,
    headers: ['x-kept', '2'],
    why: 'Fields named in Connection are hop-by-hop and removed.',
  },
  {
    name: 'http-1.0',
    response: 'HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    kind: 'length',
    body: 'ok',
    reused: false,
    why: 'An HTTP/1.0 response is never reused.',
  },
  {
    name: 'extra-after-length',
    response: 'HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhelloHTTP/1.1 200 OK\r\n\r\n',
    status: 200,
    body: 'hello',
    reused: false,
    why: 'Octets past the declared end put the socket in doubt: dropped.',
  },
  {
    name: 'chunked-ext-trailers',
    response: 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;a=b\r\nhello\r\n'
      + '6 ;q="x"\r\n world\r\n0\r\nX-T: 1\r\n\r\n',
    status: 200,
    kind: 'chunked',
    body: 'hello world',
    reused: true,
    headers: [],
    why: 'Extensions are ignored and trailers dropped; the body is the decoded data.',
  },
  {
    name: 'no-reason-phrase',
    response: 'HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok',
    status: 200,
    body: 'ok',
    reused: true,
    why: 'The reason phrase is optional.',
  },
];

for (const c of kCases) {
  test(`upstream/framing ${c.name}`, { timeout: 5000 }, async () => {
    const server = await startRawServer((socket, _head, request) => {
      if (request > 0) return socket.write(kOk);
      socket.write(c.response, 'latin1');
      if (c.closeAfter === true) socket.end();
    });
    const pool = new UpstreamPool({ ...kTestPool, address: server.address, maxConnections: 1 });
    try {
      const first = await fetchOnce(pool, { ...getHead(), method: c.method ?? 'GET' });
      if (c.error !== undefined) {
        assert.equal(first.error, c.error, c.why);
        const endings = first.events.filter((e) => e === 'end' || e.startsWith('error:'));
        assert.equal(endings.length, 1, 'exactly one ending, and it is the error');
      } else {
        assert.equal(first.error, null, c.why);
        assert.deepEqual(first.events, ['head', 'end']);
        if (c.status !== undefined) assert.equal(first.status, c.status, c.why);
        if (c.kind !== undefined) assert.equal(first.kind, c.kind, c.why);
        if (c.body !== undefined) assert.equal(first.body.toString('latin1'), c.body, c.why);
        if (c.headers !== undefined) assert.deepEqual(first.headers, c.headers, c.why);
        if (c.contentLength !== undefined) {
          assert.equal(first.contentLength, c.contentLength, c.why);
        }
      }

      const second = await fetchOnce(pool);
      assert.equal(second.status, 200);
      assert.equal(second.body.toString(), 'ok');
      const reused = c.reused ?? false;
      assert.equal(server.connections(), reused ? 1 : 2, `socket reuse: ${c.why}`);
    } finally {
      await pool.close();
      await server.close();
    }
  });
}
