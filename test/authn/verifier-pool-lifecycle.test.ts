import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { describe, test } from 'node:test';
import { VerifierPool } from '../../src/authn/index.js';
import { kIssuer, makeKey, signToken } from './support-keys.js';

const kAlgs = ['RS256', 'ES256'];
const kCrashTask = fileURLToPath(new URL('./fixtures/crash-task.js', import.meta.url));
const kSlowTask = fileURLToPath(new URL('./fixtures/slow-task.js', import.meta.url));

/** The batch size the slow task reported for a result. */
function batchSize(result: Awaited<ReturnType<VerifierPool['verify']>> | 'late'): unknown {
  if (result === 'late') return result;
  return result.ok ? result.claims.batchSize : result.code;
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/**
 * Runs `use` on a one-thread pool of the slow task whose batch wait (a minute) never ends a
 * test, so only a free thread or `batchMaxItems` sends a batch; closes it afterwards.
 */
async function withSlowPool(batchMaxItems: number,
  use: (pool: VerifierPool) => Promise<void>): Promise<void> {
  const pool = new VerifierPool({ threads: 1, maxQueue: 100, batchMaxItems,
    batchMaxWaitUs: 60_000_000, workerFile: kSlowTask });
  try {
    pool.setKeySet({ issuer: kIssuer, version: 1, keys: [] });
    await use(pool);
  } finally {
    await pool.close();
  }
}

describe('authn/verifier-pool lifecycle', () => {
  test('50 concurrent verifies travel in far fewer than 50 tasks and all verify', async () => {
    const key = await makeKey('ES256', 'ec-1');
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) =>
      signToken(key, {}, { n: i })));
    const pool = new VerifierPool({
      threads: 2, maxQueue: 100, batchMaxItems: 16, batchMaxWaitUs: 500,
    });
    try {
      pool.setKeySet({ issuer: kIssuer, version: 1, keys: [key.jwk] });
      const results = await Promise.all(tokens.map((t) => pool.verify(t, kIssuer, kAlgs)));
      assert.equal(results.filter((r) => r.ok).length, 50);
      // Four batches of at most 16, plus at most one key-fetch resend per batch.
      assert.ok(pool.stats.tasks <= 8, `tasks = ${pool.stats.tasks}`);
      assert.equal(pool.stats.queued, 0);
    } finally {
      await pool.close();
    }
  });

  test('after rotation the new key verifies and the old version is no longer used', async () => {
    const [oldKey, newKey, reusedKid] = await Promise.all([
      makeKey('RS256', 'k-old'), makeKey('RS256', 'k-new'), makeKey('RS256', 'k-old')]);
    const pool = new VerifierPool({
      threads: 1, maxQueue: 100, batchMaxItems: 8, batchMaxWaitUs: 0,
    });
    try {
      pool.setKeySet({ issuer: kIssuer, version: 1, keys: [oldKey.jwk] });
      const oldToken = await signToken(oldKey);
      assert.equal((await pool.verify(oldToken, kIssuer, kAlgs)).ok, true, 'v1 verifies its key');

      pool.setKeySet({ issuer: kIssuer, version: 2, keys: [newKey.jwk] });
      const newToken = await signToken(newKey);
      assert.equal((await pool.verify(newToken, kIssuer, kAlgs)).ok, true, 'v2 key verifies');
      assert.deepEqual(await pool.verify(oldToken, kIssuer, kAlgs),
        { ok: false, code: 'IAM_AUTHN_KEY_UNKNOWN' }, 'the removed key is gone');

      // v3 reuses the old kid for a different key: the worker's imported v1 key must not answer.
      pool.setKeySet({ issuer: kIssuer, version: 3, keys: [reusedKid.jwk] });
      assert.deepEqual(await pool.verify(oldToken, kIssuer, kAlgs),
        { ok: false, code: 'IAM_AUTHN_SIGNATURE_INVALID' }, 'a reused kid gets the new key');

      // An older version arriving late is ignored.
      pool.setKeySet({ issuer: kIssuer, version: 1, keys: [oldKey.jwk] });
      assert.equal((await pool.verify(await signToken(reusedKid), kIssuer, kAlgs)).ok, true);
    } finally {
      await pool.close();
    }
  });

  test('past maxQueue verifies answer overloaded at once and the rest still verify', async () => {
    const key = await makeKey('ES256', 'ec-1');
    const token = await signToken(key);
    const pool = new VerifierPool({
      threads: 1, maxQueue: 4, batchMaxItems: 100, batchMaxWaitUs: 20_000,
    });
    try {
      pool.setKeySet({ issuer: kIssuer, version: 1, keys: [key.jwk] });
      const pending = Array.from({ length: 6 }, () => pool.verify(token, kIssuer, kAlgs));
      assert.equal(pool.stats.queued, 4);
      const results = await Promise.all(pending);
      assert.deepEqual(results.map((r) => (r.ok ? 'ok' : r.code)), [
        'ok', 'ok', 'ok', 'ok', 'IAM_AUTHN_VERIFIER_OVERLOADED', 'IAM_AUTHN_VERIFIER_OVERLOADED',
      ]);
    } finally {
      await pool.close();
    }
  });

  test('close() answers verifies already queued, then later verifies fail', async () => {
    const key = await makeKey('EdDSA', 'ed-1');
    const token = await signToken(key);
    const pool = new VerifierPool({
      threads: 1, maxQueue: 10, batchMaxItems: 10, batchMaxWaitUs: 1_000_000,
    });
    pool.setKeySet({ issuer: kIssuer, version: 1, keys: [key.jwk] });
    const queued = pool.verify(token, kIssuer, ['EdDSA']);
    await pool.close();
    assert.equal((await queued).ok, true, 'the open batch is sent on close, not dropped');
    assert.deepEqual(await pool.verify(token, kIssuer, ['EdDSA']),
      { ok: false, code: 'IAM_AUTHN_VERIFIER_FAILED' });
  });

  test('a crashed worker fails its batch with verifier-failed, never a thrown error', async () => {
    const key = await makeKey('ES256', 'ec-1');
    const token = await signToken(key);
    const pool = new VerifierPool({
      threads: 1, maxQueue: 10, batchMaxItems: 3, batchMaxWaitUs: 0, workerFile: kCrashTask,
    });
    try {
      pool.setKeySet({ issuer: kIssuer, version: 1, keys: [key.jwk] });
      const results = await Promise.all([1, 2, 3].map(() => pool.verify(token, kIssuer, kAlgs)));
      for (const r of results) {
        assert.deepEqual(r, { ok: false, code: 'IAM_AUTHN_VERIFIER_FAILED' });
      }
      assert.equal(pool.stats.queued, 0);
    } finally {
      await pool.close();
    }
  });

  test('a lone token goes at the next turn when a thread is free, not after batchMaxWaitUs', () =>
    withSlowPool(16, async (pool) => {
      const lone = pool.verify('lone.token.x', kIssuer, kAlgs);
      const late = new Promise<'late'>((resolve) => setTimeout(() => resolve('late'), 30_000).unref());
      assert.equal(batchSize(await Promise.race([lone, late])), 1, 'sent alone, at once');
      assert.equal(pool.stats.tasks, 1);
    }));

  test('while every thread is busy, tokens of later turns wait and travel together', () =>
    withSlowPool(16, async (pool) => {
      const first = pool.verify('first.token.x', kIssuer, kAlgs);
      await nextTurn();
      await nextTurn();
      // The first task holds the only thread for 150 ms: these arrive over five later turns.
      const later = [];
      for (let i = 0; i < 5; i++) {
        later.push(pool.verify(`later-${i}.token.x`, kIssuer, kAlgs));
        await nextTurn();
      }
      assert.equal(batchSize(await first), 1);
      assert.deepEqual((await Promise.all(later)).map(batchSize), [5, 5, 5, 5, 5]);
      assert.equal(pool.stats.tasks, 2, 'two tasks for six tokens');
    }));

  test('batchMaxItems sends a full batch even while every thread is busy', () =>
    withSlowPool(4, async (pool) => {
      const results = await Promise.all(Array.from({ length: 9 }, (_, i) =>
        pool.verify(`t-${i}.token.x`, kIssuer, kAlgs)));
      assert.deepEqual(results.map(batchSize), [4, 4, 4, 4, 4, 4, 4, 4, 1]);
    }));

  test('invalid sizing is refused at construction', () => {
    assert.throws(() => new VerifierPool({
      threads: 0, maxQueue: 1, batchMaxItems: 1, batchMaxWaitUs: 0 }), RangeError);
  });
});
