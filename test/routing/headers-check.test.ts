import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { ErrorCode } from '../../src/errors/index.js';
import {
  type HeaderLimits,
  type RequestFraming,
  checkRequestHeaders,
} from '../../src/routing/index.js';

const kLimits: HeaderLimits = { maxHeaderCount: 8, maxHeaderBytes: 256 };
const kHost = ['host', 'example.com'];

interface Case {
  readonly why: string;
  readonly flat: readonly string[];
  readonly limits?: HeaderLimits;
  readonly expected?: Partial<RequestFraming>;
  readonly code?: ErrorCode;
}

const kCases: readonly Case[] = [
  // Host.
  {
    why: 'a lone Host is enough and means no body',
    flat: kHost,
    expected: {
      host: { host: 'example.com', port: undefined },
      contentLength: -1,
      chunked: false,
      expectContinue: false,
      upgrade: undefined,
    },
  },
  {
    why: 'Host is normalized like every other host',
    flat: ['host', 'Example.COM.:0443'],
    expected: { host: { host: 'example.com', port: 443 } },
  },
  {
    why: 'optional whitespace around Host is not part of the value',
    flat: ['host', ' example.com\t'],
    expected: { host: { host: 'example.com', port: undefined } },
  },
  {
    why: 'a request without Host cannot be routed',
    flat: ['accept', '*/*'],
    code: 'IAM_ROUTING_HOST_MISSING',
  },
  {
    why: 'two equal Host headers are still a conflict',
    flat: [...kHost, ...kHost],
    code: 'IAM_ROUTING_HOST_CONFLICT',
  },
  {
    why: 'two different Host headers are a conflict',
    flat: [...kHost, 'host', 'evil.example'],
    code: 'IAM_ROUTING_HOST_CONFLICT',
  },
  { why: 'an empty Host is invalid', flat: ['host', ''], code: 'IAM_ROUTING_HOST_INVALID' },
  {
    why: 'userinfo in Host is invalid',
    flat: ['host', 'user@example.com'],
    code: 'IAM_ROUTING_HOST_INVALID',
  },
  {
    why: 'an underscore in Host is invalid',
    flat: ['host', 'a_b.example.com'],
    code: 'IAM_ROUTING_HOST_INVALID',
  },

  // Content-Length (uWS accepts duplicates and uses the first; Http11Probe PR #151).
  {
    why: 'a Content-Length gives the body size',
    flat: [...kHost, 'content-length', '42'],
    expected: { contentLength: 42 },
  },
  {
    why: 'OWS around Content-Length is trimmed',
    flat: [...kHost, 'content-length', ' 42 '],
    expected: { contentLength: 42 },
  },
  {
    why: 'Content-Length 0 is a valid empty body',
    flat: [...kHost, 'content-length', '0'],
    expected: { contentLength: 0 },
  },
  {
    why: 'fifteen digits is the longest accepted length',
    flat: [...kHost, 'content-length', '999999999999999'],
    expected: { contentLength: 999999999999999 },
  },
  {
    why: 'sixteen digits are refused',
    flat: [...kHost, 'content-length', '1000000000000000'],
    code: 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT',
  },
  {
    why: 'two equal Content-Length headers are refused',
    flat: [...kHost, 'content-length', '5', 'content-length', '5'],
    code: 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT',
  },
  {
    why: 'two differing Content-Length headers are refused',
    flat: [...kHost, 'content-length', '5', 'content-length', '50'],
    code: 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT',
  },
  {
    why: 'a Content-Length list is refused',
    flat: [...kHost, 'content-length', '5, 5'],
    code: 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT',
  },
  {
    why: 'a signed Content-Length is refused',
    flat: [...kHost, 'content-length', '+5'],
    code: 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT',
  },
  {
    why: 'a hex Content-Length is refused',
    flat: [...kHost, 'content-length', '0x10'],
    code: 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT',
  },
  {
    why: 'an empty Content-Length is refused',
    flat: [...kHost, 'content-length', ''],
    code: 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT',
  },
  {
    why: 'upper-case names are folded, so a node listener cannot slip a duplicate through',
    flat: [...kHost, 'Content-Length', '5', 'content-length', '6'],
    code: 'IAM_FRAMING_CONTENT_LENGTH_CONFLICT',
  },

  // Transfer-Encoding.
  {
    why: 'chunked is the one transfer coding accepted',
    flat: [...kHost, 'transfer-encoding', 'chunked'],
    expected: { chunked: true, contentLength: -1 },
  },
  {
    why: 'chunked compares case-insensitively with OWS trimmed',
    flat: [...kHost, 'transfer-encoding', ' Chunked '],
    expected: { chunked: true },
  },
  {
    why: 'Content-Length with Transfer-Encoding is ambiguous framing',
    flat: [...kHost, 'content-length', '5', 'transfer-encoding', 'chunked'],
    code: 'IAM_FRAMING_AMBIGUOUS',
  },
  {
    why: 'a coding list ending in chunked is not supported',
    flat: [...kHost, 'transfer-encoding', 'gzip, chunked'],
    code: 'IAM_FRAMING_TRANSFER_ENCODING_UNSUPPORTED',
  },
  {
    why: 'a repeated chunked list is not supported',
    flat: [...kHost, 'transfer-encoding', 'chunked, chunked'],
    code: 'IAM_FRAMING_TRANSFER_ENCODING_UNSUPPORTED',
  },
  {
    why: 'identity is not supported',
    flat: [...kHost, 'transfer-encoding', 'identity'],
    code: 'IAM_FRAMING_TRANSFER_ENCODING_UNSUPPORTED',
  },
  {
    why: 'two Transfer-Encoding headers are not supported',
    flat: [...kHost, 'transfer-encoding', 'chunked', 'transfer-encoding', 'chunked'],
    code: 'IAM_FRAMING_TRANSFER_ENCODING_UNSUPPORTED',
  },
  {
    why: 'a look-alike with a trailing letter is not chunked',
    flat: [...kHost, 'transfer-encoding', 'chunkedx'],
    code: 'IAM_FRAMING_TRANSFER_ENCODING_UNSUPPORTED',
  },

  // Expect.
  {
    why: '100-continue is understood',
    flat: [...kHost, 'expect', '100-continue'],
    expected: { expectContinue: true },
  },
  {
    why: 'Expect compares case-insensitively',
    flat: [...kHost, 'expect', '100-Continue'],
    expected: { expectContinue: true },
  },
  {
    why: 'any other expectation is refused',
    flat: [...kHost, 'expect', '200-ok'],
    code: 'IAM_REQUEST_EXPECT_UNSUPPORTED',
  },
  {
    why: 'two Expect headers are refused',
    flat: [...kHost, 'expect', '100-continue', 'expect', '100-continue'],
    code: 'IAM_REQUEST_EXPECT_UNSUPPORTED',
  },

  // Upgrade.
  {
    why: 'Connection: upgrade plus Upgrade names the protocol, lower-cased',
    flat: [...kHost, 'connection', 'keep-alive, Upgrade', 'upgrade', 'WebSocket'],
    expected: { upgrade: 'websocket' },
  },
  {
    why: 'Upgrade without the Connection token asks for nothing',
    flat: [...kHost, 'upgrade', 'websocket'],
    expected: { upgrade: undefined },
  },
  {
    why: 'the Connection token without Upgrade asks for nothing',
    flat: [...kHost, 'connection', 'upgrade'],
    expected: { upgrade: undefined },
  },
  {
    why: 'a token merely containing upgrade is not the upgrade token',
    flat: [...kHost, 'connection', 'upgraded', 'upgrade', 'h2c'],
    expected: { upgrade: undefined },
  },

  // Syntax.
  {
    why: 'a header name with a space is not a token',
    flat: [...kHost, 'x y', '1'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },
  {
    why: 'an empty header name is not a token',
    flat: [...kHost, '', '1'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },
  {
    why: 'a colon in a header name is not a token',
    flat: [...kHost, 'x:y', '1'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },
  {
    why: 'non-ASCII in a header name is not a token',
    flat: [...kHost, 'x-\u00e9', '1'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },
  {
    why: 'CRLF in a value could inject a header upstream',
    flat: [...kHost, 'x-a', 'v\r\nx-user: admin'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },
  {
    why: 'a bare LF in a value is refused',
    flat: [...kHost, 'x-a', 'v\nw'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },
  {
    why: 'NUL in a value is refused',
    flat: [...kHost, 'x-a', 'v\u0000'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },
  {
    why: 'DEL in a value is refused',
    flat: [...kHost, 'x-a', 'v\u007f'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },
  { why: 'HTAB inside a value is allowed', flat: [...kHost, 'x-a', 'a\tb'], expected: {} },
  { why: 'obs-text in a value is tolerated', flat: [...kHost, 'x-a', 'caf\u00e9'], expected: {} },
  {
    why: 'an odd-length array has a name without value',
    flat: [...kHost, 'x-a'],
    code: 'IAM_FRAMING_HEADER_INVALID',
  },

  // Limits.
  {
    why: 'one header over the count limit is refused',
    flat: Array.from({ length: 9 }, (_, i) => [`x-${i}`, 'v']).flat(),
    code: 'IAM_REQUEST_TOO_MANY_HEADERS',
  },
  {
    why: 'exactly the count limit is accepted',
    flat: [...kHost, ...Array.from({ length: 7 }, (_, i) => [`x-${i}`, 'v']).flat()],
    expected: {},
  },
  {
    why: 'headers over the byte limit are refused',
    flat: [...kHost, 'x-big', 'v'.repeat(256)],
    code: 'IAM_REQUEST_HEADERS_TOO_LARGE',
  },
  {
    why: 'headers exactly at the byte limit are accepted (name + value + 4 each)',
    flat: [...kHost, 'x-big', 'v'.repeat(256 - 19 - 9)],
    expected: {},
  },
];

describe('routing/headers-check table', () => {
  for (const c of kCases) {
    test(c.why, () => {
      const result = checkRequestHeaders(c.flat, c.limits ?? kLimits);
      if (c.code !== undefined) {
        assert.equal(result.ok ? undefined : result.code, c.code);
        return;
      }
      assert.ok(result.ok, result.ok ? '' : result.code);
      for (const [key, value] of Object.entries(c.expected ?? {})) {
        assert.deepEqual(result.value[key as keyof RequestFraming], value, key);
      }
    });
  }
});

describe('routing/headers-check value characters', () => {
  const limits = { maxHeaderCount: 8, maxHeaderBytes: 8192 };
  const check = (value: string) => checkRequestHeaders([...kHost, 'x-a', value], limits);

  test('every control character but HTAB, and DEL, is refused anywhere in a long value', () => {
    const token = `Bearer ${'eyJhbGciOiJSUzI1NiJ9'.repeat(32)}`;
    for (let c = 0; c < 0x20; c++) {
      if (c === 0x09) continue;
      const ch = String.fromCharCode(c);
      for (const value of [`${ch}${token}`, `${token.slice(0, 300)}${ch}${token.slice(300)}`,
        `${token}${ch}`]) {
        const result = check(value);
        assert.equal(result.ok ? 'accepted' : result.code, 'IAM_FRAMING_HEADER_INVALID',
          `0x${c.toString(16)} at ${value.indexOf(ch)}`);
      }
    }
    assert.equal(check(`${token}\u007f`).ok, false, 'DEL at the end');
  });

  test('HTAB, SP, visible ASCII and characters above 0x7F are accepted', () => {
    let visible = '';
    for (let c = 0x20; c <= 0x7e; c++) visible += String.fromCharCode(c);
    for (const value of ['', visible, '\ta b\t', 'caf\u00e9 \u00ff', '\u20ac', '\ud83d\ude00']) {
      const result = check(value);
      assert.ok(result.ok, `${JSON.stringify(value)}: ${result.ok ? '' : result.code}`);
    }
  });
});
