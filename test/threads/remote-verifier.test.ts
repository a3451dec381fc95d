/**
 * A serving thread's verifier relays to the main thread's real Piscina pool over a
 * MessageChannel: tokens of one event-loop turn go in one request, results come back to the
 * right callers, a bound on outstanding tokens answers OVERLOADED, and a channel that fails
 * fails the tokens closed (IAM_AUTHN_VERIFIER_FAILED), never open.
 */
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { after, before, describe, test } from 'node:test';
import { VerifierPool } from '../../src/authn/index.js';
import { Channel } from '../../src/threads/channel.js';
import type { VerifyItem } from '../../src/threads/protocol.js';
import { RemoteVerifier } from '../../src/threads/remote-verifier.js';
import { kIssuer, makeKey, signToken, type TestKey } from '../authn/support-keys.js';

let key: TestKey;
let pool: VerifierPool;

before(async () => {
  key = await makeKey('ES256', 'remote-1');
  pool = new VerifierPool({ threads: 1, maxQueue: 64, batchMaxItems: 16, batchMaxWaitUs: 0 });
  pool.setKeySet({ issuer: kIssuer, version: 1, keys: [key.jwk] });
});

after(async () => {
  await pool.close();
});

/** A main side answering `verify` with the real pool, counting requests. */
function mainWithPool(): { thread: Channel; requests: number[]; close(): void } {
  const { port1, port2 } = new MessageChannel();
  const main = new Channel(port1);
  const requests: number[] = [];
  main.onRequest<{ kind: 'verify'; items: VerifyItem[] }>('verify', (r) => {
    requests.push(r.items.length);
    return Promise.all(r.items.map(([t, i, a]) => pool.verify(t, i, a)));
  });
  return { thread: new Channel(port2), requests, close: () => {
    port1.close();
    port2.close();
  } };
}

describe('threads/remote-verifier', () => {
  test('tokens of one turn share one request; each caller gets its own result', async () => {
    const side = mainWithPool();
    const verifier = new RemoteVerifier(side.thread, 64);
    const good = await signToken(key, {}, { sub: 'good' });
    const forged = `${good.slice(0, good.lastIndexOf('.') + 1)}${'A'.repeat(86)}`;
    const results = await Promise.all([
      verifier.verify(good, kIssuer, ['ES256']),
      verifier.verify(forged, kIssuer, ['ES256']),
      verifier.verify(good, kIssuer, ['RS256']),
    ]);
    assert.deepEqual(side.requests, [3], 'one message for the three tokens');
    assert.equal(results[0]?.ok === true && results[0].claims.sub, 'good');
    assert.equal(results[1]?.ok === false && results[1].code, 'IAM_AUTHN_SIGNATURE_INVALID');
    assert.equal(results[2]?.ok === false && results[2].code, 'IAM_AUTHN_ALG_NOT_ALLOWED');
    side.close();
  });

  test('past maxQueue outstanding tokens, verify answers OVERLOADED at once', async () => {
    const side = mainWithPool();
    const verifier = new RemoteVerifier(side.thread, 2);
    const token = await signToken(key);
    const results = await Promise.all([1, 2, 3].map(() => verifier.verify(token, kIssuer, ['ES256'])));
    assert.deepEqual(results.map((r) => r.ok || r.code), [true, true, 'IAM_AUTHN_VERIFIER_OVERLOADED']);
    side.close();
  });

  test('when the main thread is gone, tokens fail closed with VERIFIER_FAILED', async () => {
    const side = mainWithPool();
    const verifier = new RemoteVerifier(side.thread, 64);
    side.thread.close('thread exited');
    const result = await verifier.verify(await signToken(key), kIssuer, ['ES256']);
    assert.equal(result.ok === false && result.code, 'IAM_AUTHN_VERIFIER_FAILED');
    side.close();
  });
});
