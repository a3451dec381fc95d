/**
 * Nothing lost: a real `portcullis serve` process with the file sink under bounded load from
 * 32 keep-alive connections, every request with its own x-request-id. SIGTERM in the middle of
 * the load: every request that got an answer has exactly one record, and the process exits 0.
 * Rotation by size under load: the records across all files equal the requests answered, each
 * once, and the files stay within the size.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Pool } from 'undici';
import { byRequestId, readRecords } from '../support/audit-files.js';
import { startProxyProcess, writeConfig } from '../support/proxy-process.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-no-loss-'));
let upstream: RecordingUpstream;

before(async () => {
  upstream = await startRecordingUpstream();
});
after(async () => {
  await upstream?.close();
  rmSync(kDir, { recursive: true, force: true });
});

function config(file: string, maxFileBytes: number): string {
  return `listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
log: { level: info }
shutdown: { drainTimeoutMs: 5000 }
audit:
  sink: file
  file: { path: '${file}', maxFileBytes: ${maxFileBytes}, maxFiles: 0 }
services:
  - name: app
    pathPrefix: /
    access: public
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`;
}

interface Load {
  /** Request ids that got an answer, and their status. */
  readonly answered: Map<string, number>;
  /** Request ids whose request failed without an answer. */
  readonly failed: Set<string>;
}

/**
 * Keeps `connections` requests in flight until `maxRequests` were sent, `maxMs` passed or
 * `stop()` says so; a connection error after SIGTERM ends that worker.
 */
async function drive(port: number, prefix: string, opts: { connections: number;
  maxRequests: number; maxMs: number; stop?: () => boolean;
  onAnswer?: (answeredCount: number) => void }): Promise<Load> {
  const pool = new Pool(`http://127.0.0.1:${port}`, { connections: opts.connections });
  const answered = new Map<string, number>();
  const failed = new Set<string>();
  const deadline = Date.now() + opts.maxMs;
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < opts.maxRequests && Date.now() < deadline && !(opts.stop?.() ?? false)) {
      const id = `${prefix}-${next++}`;
      try {
        const res = await pool.request({ method: 'GET', path: `/load/${id}`,
          headers: { 'x-request-id': id } });
        await res.body.dump();
        answered.set(id, res.statusCode);
        opts.onAnswer?.(answered.size);
      } catch {
        failed.add(id);
        if (failed.size > opts.connections * 4) return;
      }
    }
  };
  await Promise.all(Array.from({ length: opts.connections }, worker));
  await pool.close().catch(() => undefined);
  return { answered, failed };
}

describe('audit/no-loss e2e', () => {
  test('SIGTERM during load: every answered request has exactly one record', async () => {
    const file = path.join(kDir, 'sigterm.log');
    const proc = await startProxyProcess(writeConfig(config(file, 0)));
    let isTerminated = false;
    let exit: Promise<number | null> | undefined;
    // The signal goes once 600 requests were answered (a count, not a time, so a slow machine
    // still signals mid-load), or after 10 s at the latest.
    const terminate = (): void => {
      if (isTerminated) return;
      isTerminated = true;
      exit = proc.stop('SIGTERM');
    };
    const load = drive(proc.port, 'term', { connections: 32, maxRequests: 200_000, maxMs: 20_000,
      stop: () => isTerminated && exit !== undefined && proc.child.exitCode !== null,
      onAnswer: (count) => { if (count >= 600) terminate(); } });
    const signalAfter = setTimeout(terminate, 10_000);
    const { answered, failed } = await load;
    clearTimeout(signalAfter);
    assert.equal(await exit, 0, 'a clean drain exits 0');

    const records = byRequestId(readRecords(file));
    const ok = [...answered.values()].filter((s) => s === 200).length;
    assert.ok(ok > 500, `load ran before the signal (${ok} answered 200)`);
    for (const [id, status] of answered) {
      assert.equal(records.get(id)?.status, status, `the record of ${id}`);
    }
    for (const id of records.keys()) {
      assert.ok(answered.has(id) || failed.has(id), `${id} was sent by this test`);
    }
    assert.ok(records.size >= answered.size);
  });

  test('rotation under load loses nothing: all files together hold every request once', async () => {
    const file = path.join(kDir, 'rotate.log');
    const proc = await startProxyProcess(writeConfig(config(file, 256 * 1024)));
    const { answered, failed } = await drive(proc.port, 'rot', { connections: 32,
      maxRequests: 20_000, maxMs: 20_000 });
    assert.equal(await proc.stop('SIGTERM'), 0);
    assert.equal(failed.size, 0);
    const files = readdirSync(kDir).filter((n) => n.startsWith('rotate.log'));
    assert.ok(files.length >= 5, `rotated into ${files.length} files`);
    for (const name of files) assert.ok(statSync(path.join(kDir, name)).size <= 256 * 1024, name);
    const records = byRequestId(readRecords(file));
    assert.equal(records.size, answered.size);
    for (const id of answered.keys()) assert.ok(records.has(id), id);
  });
});
