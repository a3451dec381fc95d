/**
 * The file sink on a real file system: appends whole batches, rotates by size and by age
 * without losing or splitting a line, keeps at most maxFiles rotated files, and fails to open
 * with the file system's error.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, test } from 'node:test';
import { AuditQueue, AuditRecord, FileSink } from '../../src/audit/index.js';

const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-sink-file-'));
after(() => rmSync(kDir, { recursive: true, force: true }));


/** Every line of the live file and its rotated siblings, oldest file first. */
function allLines(dir: string): string[] {
  const files = readdirSync(dir).filter((n) => n.startsWith('audit.log')).sort((a, b) => {
    if (a === 'audit.log') return 1;
    if (b === 'audit.log') return -1;
    return a < b ? -1 : 1;
  });
  return files.flatMap((f) => readFileSync(path.join(dir, f), 'utf8').split('\n'))
    .filter((l) => l !== '');
}

describe('audit/sink-file', () => {
  test('appends to an existing file with mode 0600 for a new one', async () => {
    const dir = mkdtempSync(path.join(kDir, 'append-'));
    const file = path.join(dir, 'audit.log');
    const sink = await FileSink.open({ path: file, maxFileBytes: 0, maxFileAgeMs: 0, maxFiles: 0 });
    await sink.write(Buffer.from('a\n'));
    await sink.close();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const again = await FileSink.open({ path: file, maxFileBytes: 0, maxFileAgeMs: 0, maxFiles: 0 });
    await again.write(Buffer.from('b\n'));
    await again.close();
    assert.equal(readFileSync(file, 'utf8'), 'a\nb\n');
  });

  test('rotates by size between batches: every line survives, none is split', async () => {
    const dir = mkdtempSync(path.join(kDir, 'size-'));
    const sink = await FileSink.open({ path: path.join(dir, 'audit.log'), maxFileBytes: 1000,
      maxFileAgeMs: 0, maxFiles: 0 });
    const q = new AuditQueue({ sink, format: (r) => `{"id":"${r.requestId}","pad":"${'x'.repeat(40)}"}\n`,
      maxRecords: 10_000, batchMaxRecords: 7, flushIntervalMs: 1, overload: 'drop' });
    for (let i = 0; i < 2_000; i++) q.push(new AuditRecord('proxy', `r${i}`, '127.0.0.1', 'GET', 0, 0));
    assert.equal(await q.close(10_000), 0);
    assert.ok(sink.rotations >= 100, `rotated ${sink.rotations} times`);
    const lines = allLines(dir);
    assert.deepEqual(lines.map((l) => (JSON.parse(l) as { id: string }).id),
      Array.from({ length: 2_000 }, (_, i) => `r${i}`));
    for (const name of readdirSync(dir)) {
      assert.ok(statSync(path.join(dir, name)).size <= 1000, `${name} stays within the size`);
    }
  });

  test('rotates by age: a write after maxFileAgeMs starts a new file', async () => {
    const dir = mkdtempSync(path.join(kDir, 'age-'));
    let now = Date.UTC(2026, 0, 1);
    const sink = await FileSink.open({ path: path.join(dir, 'audit.log'), maxFileBytes: 0,
      maxFileAgeMs: 60_000, maxFiles: 0, nowMs: () => now });
    await sink.write(Buffer.from('one\n'));
    now += 59_999;
    await sink.write(Buffer.from('two\n'));
    now += 1;
    await sink.write(Buffer.from('three\n'));
    await sink.close();
    assert.deepEqual(readdirSync(dir).sort(), ['audit.log', 'audit.log.20260101T000100000Z'], 'named by the time it was rotated');
    assert.equal(readFileSync(path.join(dir, 'audit.log'), 'utf8'), 'three\n');
  });

  test('keeps at most maxFiles rotated files, deleting the oldest', async () => {
    const dir = mkdtempSync(path.join(kDir, 'keep-'));
    writeFileSync(path.join(dir, 'audit.log.notes'), 'not a rotated file: never deleted');
    let now = Date.UTC(2026, 0, 1);
    const sink = await FileSink.open({ path: path.join(dir, 'audit.log'), maxFileBytes: 0,
      maxFileAgeMs: 1_000, maxFiles: 2, nowMs: () => now });
    for (let i = 0; i < 5; i++) {
      await sink.write(Buffer.from(`${i}\n`));
      now += 1_000;
    }
    await sink.close();
    const names = readdirSync(dir).sort();
    assert.equal(names.filter((n) => /^audit\.log\.\d{8}T/.test(n)).length, 2);
    assert.ok(names.includes('audit.log.notes'));
    assert.deepEqual(allLines(dir).filter((l) => /^\d$/.test(l)), ['2', '3', '4']);
  });

  test('a batch larger than a file is split at line ends; only an oversized line stands alone',
    async () => {
      const dir = mkdtempSync(path.join(kDir, 'split-'));
      const sink = await FileSink.open({ path: path.join(dir, 'audit.log'), maxFileBytes: 10,
        maxFileAgeMs: 0, maxFiles: 0 });
      await sink.write(Buffer.from('aaaa\nbbbb\ncccc\ndddddddddddddddd\ne\n'));
      await sink.close();
      const contents = readdirSync(dir).sort((a, b) => (a === 'audit.log' ? 1 : b === 'audit.log' ? -1
        : a < b ? -1 : 1)).map((n) => readFileSync(path.join(dir, n), 'utf8'));
      assert.deepEqual(contents, ['aaaa\nbbbb\n', 'cccc\n', 'dddddddddddddddd\n', 'e\n']);
    });

  test('opening in a missing directory rejects with the file system error', async () => {
    await assert.rejects(FileSink.open({ path: path.join(kDir, 'missing', 'audit.log'),
      maxFileBytes: 0, maxFileAgeMs: 0, maxFiles: 0 }), { code: 'ENOENT' });
  });
});
