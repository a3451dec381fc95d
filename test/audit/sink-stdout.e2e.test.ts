/**
 * The default sink, stdout, in a real `portcullis serve` process whose stdout is a pipe: every
 * request's record arrives as its own line among the log lines, each line whole JSON, and the
 * records of the last requests are there after SIGTERM.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { startProxyProcess, writeConfig } from '../support/proxy-process.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

let upstream: RecordingUpstream;

before(async () => {
  upstream = await startRecordingUpstream();
});
after(async () => {
  await upstream?.close();
});

describe('audit/sink-stdout e2e', () => {
  test('records and log lines share stdout, one whole JSON object per line', async () => {
    const proc = await startProxyProcess(writeConfig(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
services:
  - name: app
    pathPrefix: /
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`));
    const ids = Array.from({ length: 300 }, (_, i) => `stdout-${i}`);
    for (const id of ids) {
      const res = await fetch(`http://127.0.0.1:${proc.port}/x`, { headers: { 'x-request-id': id } });
      await res.arrayBuffer();
    }
    assert.equal(await proc.stop('SIGTERM'), 0);
    const objects = proc.stdout.filter((l) => l !== '').map((l) => JSON.parse(l) as Record<string, unknown>);
    const records = objects.filter((o) => typeof o.requestId === 'string' && 'outcome' in o);
    // With serving threads (threads: auto) each thread's batches take turns on stdout, so the
    // records are in request order per thread only: compare the sets, and that none is twice.
    assert.equal(records.length, ids.length);
    assert.deepEqual(records.map((r) => r.requestId).sort(), [...ids].sort());
    assert.ok(objects.some((o) => o.msg === 'stopped'), 'the log lines are intact too');
  });
});
