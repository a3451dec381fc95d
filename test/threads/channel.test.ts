/**
 * The request/note channel between the main thread and a serving thread, over a real
 * MessageChannel: answers reach the request that asked, notes arrive in order with replies, a
 * failing handler fails only its request, and closing fails whatever still waits.
 */
import assert from 'node:assert/strict';
import { MessageChannel } from 'node:worker_threads';
import { describe, test } from 'node:test';
import { Channel, ChannelError } from '../../src/threads/channel.js';

function pair(): [Channel, Channel, () => void] {
  const { port1, port2 } = new MessageChannel();
  return [new Channel(port1), new Channel(port2), () => {
    port1.close();
    port2.close();
  }];
}

describe('threads/channel', () => {
  test('each request gets its own answer, even when answers come back out of order', async () => {
    const [main, thread, close] = pair();
    thread.onRequest<{ kind: 'echo'; value: number; delayMs: number }>('echo', async (b) => {
      await new Promise((r) => setTimeout(r, b.delayMs));
      return b.value * 2;
    });
    const slow = main.request<number>({ kind: 'echo', value: 1, delayMs: 30 } as never);
    const fast = main.request<number>({ kind: 'echo', value: 2, delayMs: 0 } as never);
    assert.deepEqual(await Promise.all([slow, fast]), [2, 4]);
    assert.equal(main.pending, 0, 'nothing left waiting');
    close();
  });

  test('a note sent before a reply is handled before the reply arrives', async () => {
    const [main, thread, close] = pair();
    const order: string[] = [];
    main.onNote<{ kind: 'keys' }>('keys', () => order.push('note'));
    thread.onRequest<{ kind: 'refetch' }>('refetch', () => {
      thread.note({ kind: 'keys' });
      return true;
    });
    await main.request({ kind: 'refetch' });
    order.push('reply');
    assert.deepEqual(order, ['note', 'reply']);
    close();
  });

  test('a handler that throws fails its request with ChannelError, and no other', async () => {
    const [main, thread, close] = pair();
    thread.onRequest<{ kind: 'bad' }>('bad', () => {
      throw new Error('boom');
    });
    thread.onRequest<{ kind: 'good' }>('good', () => 'fine');
    await assert.rejects(main.request({ kind: 'bad' }), ChannelError);
    await assert.rejects(main.request({ kind: 'unknown' }), ChannelError,
      'a kind nobody handles is an error, not a hang');
    assert.equal(await main.request({ kind: 'good' }), 'fine');
    close();
  });

  test('closing fails every waiting request and refuses new ones', async () => {
    const [main, thread, close] = pair();
    thread.onRequest<{ kind: 'never' }>('never', () => new Promise(() => undefined));
    const waiting = main.request({ kind: 'never' });
    await new Promise((r) => setTimeout(r, 10));
    main.close('thread exited');
    await assert.rejects(waiting, ChannelError);
    await assert.rejects(main.request({ kind: 'never' }), ChannelError);
    close();
  });
});
