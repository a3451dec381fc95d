/**
 * Property tests of the response parser (fast-check, fixed seeds, bounded runs):
 * 1. generated valid responses, cut anywhere and paused anywhere, give exactly their body and end
 *    exactly where they end;
 * 2. random mutations of them never throw and are parsed the same however they are cut: a
 *    parser whose answer depends on read boundaries is a desync (smuggling) vector.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { runParser } from './harness.js';

interface Generated {
  readonly bytes: Buffer;
  readonly status: number;
  readonly headers: readonly string[];
  readonly kind: 'length' | 'chunked' | 'close';
  readonly body: Buffer;
}

const kReserved = new Set([
  'connection', 'keep-alive', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade',
  'content-length',
]);

const kField = fc.record({
  name: fc.stringMatching(/^[A-Za-z][A-Za-z0-9!#$%&'*+.^_`|~-]{0,11}$/)
    .filter((name) => !kReserved.has(name.toLowerCase())),
  value: fc.stringMatching(/^([\x21-\x7e]([\x20-\x7e]{0,20}[\x21-\x7e])?)?$/),
  space: fc.constantFrom('', ' ', '  ', '\t'),
});

const kResponse: fc.Arbitrary<Generated> = fc.record({
  status: fc.integer({ min: 200, max: 599 }).filter((s) => s !== 204 && s !== 304),
  fields: fc.array(kField, { maxLength: 8 }),
  kind: fc.constantFrom('length' as const, 'chunked' as const, 'close' as const),
  body: fc.uint8Array({ maxLength: 2000 }),
  chunkCuts: fc.array(fc.integer({ min: 1, max: 1999 }), { maxLength: 6 }),
  extension: fc.constantFrom('', ';a', ';a=b', ' ;q="x y"'),
  trailers: fc.constantFrom('', 'X-T: 1\r\n', 'A: \r\nB:b\r\n'),
  interim: fc.constantFrom('', 'HTTP/1.1 100 Continue\r\n\r\n',
    'HTTP/1.1 103 Early Hints\r\nLink: </a.css>\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n'),
}).map((r) => {
  const body = Buffer.from(r.body);
  let text = `${r.interim}HTTP/1.1 ${r.status} Reason Phrase\r\n`;
  const headers: string[] = [];
  for (const f of r.fields) {
    text += `${f.name}:${f.space}${f.value}${f.space}\r\n`;
    headers.push(f.name.toLowerCase(), f.value);
  }
  if (r.kind === 'length') text += `Content-Length: ${body.length}\r\n`;
  if (r.kind === 'chunked') text += 'Transfer-Encoding: chunked\r\n';
  const parts: Buffer[] = [Buffer.from(`${text}\r\n`, 'latin1')];
  if (r.kind !== 'chunked') parts.push(body);
  else {
    const cuts = [...new Set(r.chunkCuts.filter((c) => c < body.length)), body.length].sort(
      (a, b) => a - b,
    );
    let from = 0;
    for (const to of cuts) {
      if (to === from) continue;
      parts.push(
        Buffer.from(`${(to - from).toString(16)}${r.extension}\r\n`),
        body.subarray(from, to),
        Buffer.from('\r\n'),
      );
      from = to;
    }
    parts.push(Buffer.from(`0${r.extension}\r\n${r.trailers}\r\n`));
  }
  return { bytes: Buffer.concat(parts), status: r.status, headers, kind: r.kind, body };
});

const kCuts = fc.array(fc.integer({ min: 1, max: 4000 }), { maxLength: 12 });
const kPause = fc.integer({ min: 0, max: 3 });

test('upstream/response-parser-fuzz valid responses cut anywhere', { timeout: 60_000 }, () => {
  const extraOctets = fc.uint8Array({ maxLength: 20 });
  fc.assert(fc.property(kResponse, kCuts, kPause, extraOctets, (r, cuts, pauseEvery, extra) => {
    // Octets after a length or chunked response must be left alone (they belong to no one).
    const trailing = r.kind === 'close' ? Buffer.alloc(0) : Buffer.from(extra);
    const outcome = runParser(Buffer.concat([r.bytes, trailing]), cuts, { pauseEvery });
    assert.equal(outcome.result, 'complete');
    assert.equal(outcome.status, r.status);
    assert.deepEqual(outcome.headers, r.headers);
    assert.equal(outcome.kind, r.kind);
    assert.ok(outcome.body.equals(r.body), 'exactly the body bytes');
    assert.equal(outcome.end, r.bytes.length, 'the response ends exactly where it was framed to');
  }), { numRuns: 1000, seed: 0x5eed });
});

const kInteresting = [0x0d, 0x0a, 0x00, 0x20, 0x09, 0x3a, 0x3b, 0x30, 0x31, 0x66, 0x7f, 0xff, 0x2c];
const kMutation = fc.record({
  at: fc.nat(),
  op: fc.constantFrom('replace', 'insert', 'delete', 'duplicate'),
  octet: fc.oneof(fc.constantFrom(...kInteresting), fc.integer({ min: 0, max: 255 })),
});

type Mutation = { readonly at: number; readonly op: string; readonly octet: number };

function mutate(input: Buffer, mutations: readonly Mutation[]): Buffer {
  let out = input;
  for (const m of mutations) {
    const at = out.length === 0 ? 0 : m.at % out.length;
    const octet = Buffer.of(m.octet);
    if (m.op === 'replace') out = Buffer.concat([out.subarray(0, at), octet, out.subarray(at + 1)]);
    else if (m.op === 'insert') out = Buffer.concat([out.subarray(0, at), octet, out.subarray(at)]);
    else if (m.op === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
    else out = Buffer.concat([out.subarray(0, at), out.subarray(at, at + 8), out.subarray(at)]);
  }
  return out;
}

test('upstream/response-parser-fuzz mutations are split-invariant', { timeout: 60_000 }, () => {
  fc.assert(fc.property(
    kResponse, fc.array(kMutation, { minLength: 1, maxLength: 4 }), kCuts, kPause, fc.boolean(),
    (r, mutations, cuts, pauseEvery, isHead) => {
      const input = mutate(r.bytes, mutations);
      const whole = runParser(input, [], { isHead, maxHead: 512 });
      const split = runParser(input, cuts, { isHead, maxHead: 512, pauseEvery });
      assert.deepEqual(
        { ...split, body: split.body.toString('hex') },
        { ...whole, body: whole.body.toString('hex') },
      );
      if (whole.result === 'complete' && whole.kind !== 'close' && whole.kind !== 'none') {
        assert.ok(whole.end <= input.length);
      }
    },
  ), { numRuns: 1000, seed: 0xf00d });
});
