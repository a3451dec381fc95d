/**
 * The response parser on its own: each case is parsed whole, cut at every single position, and
 * cut into one-octet pieces; all three must agree, since the socket may split input anywhere.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runParser, type ParseOutcome } from './harness.js';

interface ParserCase {
  readonly name: string;
  readonly input: string;
  readonly why: string;
  readonly result: ParseOutcome['result'];
  readonly isHead?: boolean;
  readonly maxHead?: number;
  readonly status?: number;
  readonly kind?: string;
  readonly body?: string;
  readonly headers?: readonly string[];
  /** Where a complete response ends, when octets follow it. */
  readonly end?: number;
}

const kHead200 = 'HTTP/1.1 200 OK\r\n';
const kChunkedHead = `${kHead200}Transfer-Encoding: chunked\r\n\r\n`;

const kCases: readonly ParserCase[] = [
  {
    name: 'length',
    input: `${kHead200}Content-Length: 5\r\n\r\nhello`,
    result: 'complete',
    kind: 'length',
    body: 'hello',
    why: 'The body is exactly Content-Length octets.',
  },
  {
    name: 'length-zero',
    input: `${kHead200}Content-Length: 0\r\n\r\n`,
    result: 'complete',
    kind: 'length',
    body: '',
    why: 'A zero length completes with the head.',
  },
  {
    name: 'names-lower-cased',
    input: `${kHead200}X-Mixed: A b\r\nEmpty:\r\nObs: caf\xe9\r\nContent-Length: 0\r\n\r\n`,
    result: 'complete',
    headers: ['x-mixed', 'A b', 'empty', '', 'obs', 'caf\xe9'],
    why: 'Names are lower-cased, values trimmed of OWS and kept as latin1 octets.',
  },
  {
    name: 'bare-lf-fails-early',
    input: 'HTTP/1.1 200 OK\n',
    result: 'malformed',
    why: 'A bare LF is refused as soon as its line arrives, not after a timeout.',
  },
  {
    name: 'leading-lf',
    input: '\nHTTP/1.1 200 OK\r\n\r\n',
    result: 'malformed',
    why: 'A line may not start with LF.',
  },
  {
    name: 'leading-empty-line',
    input: `\r\n${kHead200}\r\n`,
    result: 'malformed',
    why: 'No empty line before the status line.',
  },
  {
    name: 'status-600',
    input: 'HTTP/1.1 600 X\r\n\r\n',
    result: 'malformed',
    why: 'Status codes are 100-599.',
  },
  {
    name: 'status-two-digits',
    input: 'HTTP/1.1 20 OK\r\n\r\n',
    result: 'malformed',
    why: 'Three digits exactly.',
  },
  {
    name: 'status-no-space',
    input: 'HTTP/1.1 200OK\r\n\r\n',
    result: 'malformed',
    why: 'SP must separate the reason.',
  },
  {
    name: 'lowercase-version',
    input: 'http/1.1 200 OK\r\n\r\n',
    result: 'malformed',
    why: 'HTTP-name is case-sensitive.',
  },
  {
    name: 'del-in-value',
    input: `${kHead200}X-A: a\x7fb\r\n\r\n`,
    result: 'malformed',
    why: 'DEL is a control octet.',
  },
  {
    name: 'colon-missing',
    input: `${kHead200}X-A a\r\n\r\n`,
    result: 'malformed',
    why: 'A field line needs a colon.',
  },
  {
    name: 'empty-name',
    input: `${kHead200}: a\r\n\r\n`,
    result: 'malformed',
    why: 'A field name is a non-empty token.',
  },
  {
    name: 'cl-16-digits',
    input: `${kHead200}Content-Length: 1000000000000000\r\n\r\n`,
    result: 'malformed',
    why: 'Lengths beyond 15 digits could lose precision.',
  },
  {
    name: 'cl-empty',
    input: `${kHead200}Content-Length:\r\n\r\n`,
    result: 'malformed',
    why: 'An empty length is not a number.',
  },
  {
    name: 'te-in-http-1.0',
    input: 'HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    result: 'malformed',
    why: 'Transfer-Encoding is undefined in HTTP/1.0 (RFC 9112 section 6.1).',
  },
  {
    name: 'te-empty',
    input: `${kHead200}Transfer-Encoding:\r\n\r\n`,
    result: 'malformed',
    why: 'No coding at all is not chunked.',
  },
  {
    name: 'te-case-insensitive',
    input: `${kHead200}Transfer-Encoding: Chunked\r\n\r\n0\r\n\r\n`,
    result: 'complete',
    kind: 'chunked',
    why: 'Coding names are case-insensitive.',
  },
  {
    name: 'connection-bad-token',
    input: `${kHead200}Connection: a b\r\nContent-Length: 0\r\n\r\n`,
    result: 'malformed',
    why: 'Connection options are tokens.',
  },
  {
    name: 'head-request',
    isHead: true,
    input: `${kHead200}Content-Length: 5\r\n\r\nhello`,
    result: 'complete',
    kind: 'none',
    end: 38,
    why: 'A HEAD response ends with its head; what follows is not its body.',
  },
  {
    name: '304-with-te',
    input: 'HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n',
    result: 'complete',
    kind: 'none',
    why: 'A 304 has no body whatever its fields say.',
  },
  {
    name: '1xx-ignores-length',
    input: `HTTP/1.1 100 Continue\r\nContent-Length: 5\r\n\r\n${kHead200}Content-Length: 2\r\n`
      + `\r\nok`,
    result: 'complete',
    status: 200,
    body: 'ok',
    why: 'An interim response never has a body.',
  },
  {
    name: '16-interim',
    input: `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(16)}${kHead200}Content-Length: 0\r\n\r\n`,
    result: 'complete',
    status: 200,
    why: 'Up to 16 interim responses are skipped.',
  },
  {
    name: '17-interim',
    input: `${'HTTP/1.1 100 Continue\r\n\r\n'.repeat(17)}${kHead200}Content-Length: 0\r\n\r\n`,
    result: 'malformed',
    why: 'An endless stream of interim responses is refused.',
  },
  {
    name: 'head-at-limit',
    maxHead: 40,
    input: `${kHead200}X: ${'a'.repeat(16)}\r\n\r\n`,
    result: 'complete',
    kind: 'close',
    why: 'A head of exactly maxHead octets is accepted (its body runs to the close).',
  },
  {
    name: 'head-over-limit',
    maxHead: 40,
    input: `${kHead200}X: ${'a'.repeat(17)}\r\n\r\n`,
    result: 'malformed',
    why: 'One octet over maxHead is refused, however the input is split.',
  },
  {
    name: 'chunked-basic',
    input: `${kChunkedHead}5\r\nhello\r\n1;ext\r\n!\r\n0\r\n\r\n`,
    result: 'complete',
    body: 'hello!',
    why: 'Chunks are concatenated, extensions ignored.',
  },
  {
    name: 'chunk-16-digits',
    input: `${kChunkedHead}0000000000000005\r\nhello\r\n0\r\n\r\n`,
    result: 'complete',
    body: 'hello',
    why: 'Sixteen digits with leading zeros are within the bound.',
  },
  {
    name: 'chunk-17-digits',
    input: `${kChunkedHead}00000000000000005\r\nhello\r\n0\r\n\r\n`,
    result: 'malformed',
    why: 'More than sixteen size digits are refused.',
  },
  {
    name: 'chunk-size-space',
    input: `${kChunkedHead}5 \r\nhello\r\n0\r\n\r\n`,
    result: 'malformed',
    why: 'Whitespace after the size is allowed only before a ";".',
  },
  {
    name: 'chunk-size-empty',
    input: `${kChunkedHead}\r\nhello\r\n0\r\n\r\n`,
    result: 'malformed',
    why: 'A size line needs a digit.',
  },
  {
    name: 'chunk-size-negative',
    input: `${kChunkedHead}-5\r\nhello\r\n0\r\n\r\n`,
    result: 'malformed',
    why: 'No sign.',
  },
  {
    name: 'chunk-ext-too-long',
    input: `${kChunkedHead}5;${'a'.repeat(1100)}\r\nhello\r\n0\r\n\r\n`,
    result: 'malformed',
    why: 'Extensions are bounded.',
  },
  {
    name: 'chunk-ext-bare-lf',
    input: `${kChunkedHead}5;a\nhello\r\n0\r\n\r\n`,
    result: 'malformed',
    why: 'The size line ends in CRLF.',
  },
  {
    name: 'chunk-data-cr-only',
    input: `${kChunkedHead}5\r\nhello\rX0\r\n\r\n`,
    result: 'malformed',
    why: 'A CR after data must be followed by LF.',
  },
  {
    name: 'chunk-size-cr-only',
    input: `${kChunkedHead}5\rXhello\r\n0\r\n\r\n`,
    result: 'malformed',
    why: 'A CR ending the size line must be followed by LF.',
  },
  {
    name: 'last-chunk-cr-only',
    input: `${kChunkedHead}0\r\n\rX`,
    result: 'malformed',
    why: 'The empty line ending the trailers is CRLF exactly.',
  },
  {
    name: 'chunk-data-lf-only',
    input: `${kChunkedHead}5\r\nhello\n0\r\n\r\n`,
    result: 'malformed',
    why: 'Data ends in CRLF.',
  },
  {
    name: 'trailers',
    input: `${kChunkedHead}2\r\nok\r\n0\r\nX-T: 1\r\nY: \r\n\r\n`,
    result: 'complete',
    body: 'ok',
    why: 'Trailer fields are checked and dropped.',
  },
  {
    name: 'trailer-obs-fold',
    input: `${kChunkedHead}0\r\nX-T: 1\r\n 2\r\n\r\n`,
    result: 'malformed',
    why: 'No folding in trailers.',
  },
  {
    name: 'trailer-no-colon',
    input: `${kChunkedHead}0\r\nX-T\r\n\r\n`,
    result: 'malformed',
    why: 'A trailer line needs a colon.',
  },
  {
    name: 'trailer-too-large',
    maxHead: 300,
    input: `${kChunkedHead}0\r\nX-T: ${'a'.repeat(300)}\r\n\r\n`,
    result: 'malformed',
    why: 'The trailer section is bounded like a head.',
  },
  {
    name: 'chunked-extra',
    input: `${kChunkedHead}0\r\n\r\nEXTRA`,
    result: 'complete',
    end: 52,
    why: 'The response ends at the last CRLF; later octets are reported, not consumed.',
  },
  {
    name: 'close-delimited',
    input: `${kHead200}\r\nall of it`,
    result: 'complete',
    kind: 'close',
    body: 'all of it',
    why: 'Without framing fields the body runs to the close.',
  },
  {
    name: 'truncated-length',
    input: `${kHead200}Content-Length: 5\r\n\r\nhel`,
    result: 'truncated',
    body: 'hel',
    why: 'A close before Content-Length octets is a truncation.',
  },
];

for (const c of kCases) {
  test(`upstream/response-parser ${c.name}`, () => {
    const input = Buffer.from(c.input, 'latin1');
    const options = { isHead: c.isHead ?? false, maxHead: c.maxHead ?? 16 * 1024 };
    const whole = runParser(input, [], options);
    assert.equal(whole.result, c.result, c.why);
    if (c.status !== undefined) assert.equal(whole.status, c.status, c.why);
    if (c.kind !== undefined) assert.equal(whole.kind, c.kind, c.why);
    if (c.body !== undefined) assert.equal(whole.body.toString('latin1'), c.body, c.why);
    if (c.headers !== undefined) assert.deepEqual(whole.headers, c.headers, c.why);
    if (c.end !== undefined) assert.equal(whole.end, c.end, c.why);

    const everyOctet = Array.from({ length: input.length }, (_, i) => i);
    const variants = [everyOctet, ...everyOctet.map((i) => [i])];
    for (const cuts of variants) {
      const split = runParser(input, cuts, { ...options, pauseEvery: 2 });
      assert.deepEqual(
        { ...split, body: split.body.toString('latin1') },
        { ...whole, body: whole.body.toString('latin1') },
        `cut at ${cuts.length === 1 ? cuts[0] : 'every octet'}: ${c.why}`,
      );
    }
  });
}
