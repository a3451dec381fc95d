/**
 * Micro-benchmark of the upstream response parser: one complete response per call (head, field
 * checks, framing decision, body delimiting), fed as the socket would hand it over. Run after a
 * build with:
 *
 *   node dist/bench/micro/upstream/response-parser.bench.js
 *
 * Each task runs a batch of calls over a fixed input and reports the per-call mean of the batch
 * (`overriddenDuration`), because a single call is close to the timer's own overhead.
 */
import { cpus } from 'node:os';
import { Bench } from 'tinybench';
import { kParseComplete, ResponseParser } from '../../../src/upstream/index.js';

const kBatch = 256;
// The body of bench/scenarios.ts (kUpstreamBody), so the figures line up with the e2e bench.
const kBody97 = 'portcullis bench upstream: a fixed 97-byte body '
  + 'so every target moves the same bytes............!';

/** An nginx-like head with `count` fields (Content-Length included) and the 97-byte body. */
function response(count: number): Buffer {
  const fields = [
    'Server: nginx/1.24.0',
    'Date: Wed, 03 Dec 2025 18:00:00 GMT',
    'Content-Type: text/plain; charset=utf-8',
    `Content-Length: ${kBody97.length}`,
    'Connection: keep-alive',
    'Cache-Control: no-store, max-age=0',
    'X-Request-Id: 6f1c2b7e-5d4a-4c1b-9e8f-0a1b2c3d4e5f',
    'ETag: "5f3c-61a2b3c4d5e6f"',
  ];
  for (let i = fields.length; i < count; i++) {
    fields.push(`X-Custom-${i}: value-${i}-abcdefghijklmnop`);
  }
  const head = `HTTP/1.1 200 OK\r\n${fields.slice(0, count).join('\r\n')}\r\n\r\n`;
  return Buffer.from(`${head}${kBody97}`, 'latin1');
}

/** A chunked response of `size` octets in `chunks` equal chunks. */
function chunkedResponse(size: number, chunks: number): Buffer {
  const parts = [Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n'
    + 'Transfer-Encoding: chunked\r\n\r\n')];
  const each = size / chunks;
  for (let i = 0; i < chunks; i++) {
    parts.push(Buffer.from(`${each.toString(16)}\r\n`), Buffer.alloc(each, 0x61));
    parts.push(Buffer.from('\r\n'));
  }
  parts.push(Buffer.from('0\r\n\r\n'));
  return Buffer.concat(parts);
}

function lengthResponse(size: number): Buffer {
  const head = Buffer.from('HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n'
    + `Content-Length: ${size}\r\n\r\n`);
  return Buffer.concat([head, Buffer.alloc(size, 0x61)]);
}

let sink = 0; // consumed after the run so no call can be optimized away
const parser = new ResponseParser({
  onResponseHead: (head) => {
    sink += head.headers.length;
    return true;
  },
  onResponseBody: (chunk) => {
    sink += chunk.length;
    return true;
  },
}, 16 * 1024);

const bench = new Bench({ name: 'upstream', time: 500, warmupTime: 200 });

/** Adds a task that parses `pieces` (one response cut into reads) `kBatch` times per sample. */
function addCase(name: string, pieces: readonly Buffer[]): void {
  bench.add(name, () => {
    const start = bench.now();
    for (let i = 0; i < kBatch; i++) {
      parser.start(false);
      let result = 0;
      for (const piece of pieces) result = parser.execute(piece, 0);
      if (result !== kParseComplete) throw new Error(`${name}: response did not complete`);
    }
    const elapsed = bench.now() - start;
    return { overriddenDuration: elapsed / kBatch, overriddenIterationCost: elapsed };
  });
}

const head8 = response(8);
const split = head8.indexOf('Connection');
addCase('upstream/parse-head headers=8', [head8]);
addCase('upstream/parse-head headers=32', [response(32)]);
addCase('upstream/parse-head headers=8 reads=2', [head8.subarray(0, split), head8.subarray(split)]);
addCase('upstream/parse-body kind=length size=64KiB', [lengthResponse(64 * 1024)]);
addCase('upstream/parse-body kind=chunked size=64KiB chunks=16', [chunkedResponse(64 * 1024, 16)]);

await bench.run();
console.log(`node ${process.version}, ${cpus()[0]?.model ?? 'unknown CPU'} x${cpus().length}`);
console.log(`batch of ${kBatch} responses per sample, sink ${sink}`);
console.table(bench.table());
for (const task of bench.tasks) {
  const result = task.result;
  if (result.state !== 'completed') continue;
  const { latency } = result;
  const ns = (ms: number): string => (ms * 1e6).toFixed(0);
  console.log(`${task.name}: median ${ns(latency.p50)} ns, p99 ${ns(latency.p99)} ns, `
    + `${(1000 / latency.mean / 1e6).toFixed(2)} M/s, ${latency.df + 1} samples, `
    + `rme ±${latency.rme.toFixed(2)}%`);
}
