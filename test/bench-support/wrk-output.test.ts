import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { parseWrk, wrkCommand } from '../../bench/e2e/wrk.js';
import {
  kLatencyDoneHook, latencyScriptPath, parseLatencyLine,
} from '../../bench/e2e/wrk-latency-script.js';

/** wrk 4.2 output with `--latency` and the bench's `done` hook line at the end. */
const kWithHook = `Running 3s test @ http://127.0.0.1:40111/
  1 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   702.91us  412.33us  12.10ms   91.20%
    Req/Sec    91.60k     3.10k   96.40k    72.00%
  Latency Distribution
     50%  640.00us
     75%  710.00us
     90%  820.00us
     99%    1.83ms
  273512 requests in 3.00s, 50.33MB read
Requests/sec:  91170.52
Transfer/sec:     16.78MB
portcullis-latency-us p50=640 p99=1830 p99.9=4120 max=12100
`;

/** The same run without the hook, with errors and refusals. */
const kWithoutHook = `  Latency Distribution
     50%    2.10ms
     75%    3.00ms
     90%    4.00ms
     99%    1.20s
  1200 requests in 2.00m, 1.00MB read
  Socket errors: connect 0, read 3, write 1, timeout 7
  Non-2xx or 3xx responses: 12
Requests/sec:     10.00
`;

describe('bench-support/wrk-output', () => {
  it('reads p99.9 and the maximum from the done hook, next to --latency figures', () => {
    const r = parseWrk(kWithHook);
    assert.equal(r.requests, 273512);
    assert.equal(r.durationSeconds, 3);
    assert.equal(r.reqPerSec, 91170.52);
    assert.equal(r.p50Us, 640);
    assert.equal(r.p99Us, 1830);
    assert.equal(r.p999Us, 4120);
    assert.equal(r.maxUs, 12100);
    assert.equal(r.non2xx, 0);
  });

  it('leaves p99.9 undefined when the hook did not run, and converts every unit', () => {
    const r = parseWrk(kWithoutHook);
    assert.equal(r.p999Us, undefined, 'no hook line: no p99.9, never a made-up one');
    assert.equal(r.p50Us, 2100);
    assert.equal(r.p99Us, 1.2e6);
    assert.equal(r.durationSeconds, 120);
    assert.deepEqual(r.socketErrors, { connect: 0, read: 3, write: 1, timeout: 7 });
    assert.equal(r.non2xx, 12);
  });

  it('refuses output without the required figures', () => {
    assert.throws(() => parseWrk('unable to connect to 127.0.0.1:1 Connection refused'));
  });

  it('ignores a hook line that is cut short (a killed wrk)', () => {
    assert.equal(parseLatencyLine('portcullis-latency-us p50=1 p99=2'), undefined);
  });

  it('passes the hook-only script when a run has none, and the given script otherwise', () => {
    const plain = wrkCommand({ url: 'http://127.0.0.1:1/', seconds: 1, threads: 1,
      connections: 2, cpus: '1' });
    assert.deepEqual(plain.slice(0, 3), ['taskset', '-c', '1']);
    assert.equal(plain[plain.indexOf('-s') + 1], latencyScriptPath());
    const scripted = wrkCommand({ url: 'http://127.0.0.1:1/', seconds: 1, threads: 1,
      connections: 2, script: { path: '/tmp/x.lua', args: ['a', 'b'] } });
    assert.equal(scripted[scripted.indexOf('-s') + 1], '/tmp/x.lua');
    assert.deepEqual(scripted.slice(-3), ['--', 'a', 'b']);
  });

  it('defines exactly one done function in the hook', () => {
    assert.equal(kLatencyDoneHook.match(/function done\(/g)?.length, 1);
  });
});
