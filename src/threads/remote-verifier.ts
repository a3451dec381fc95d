/**
 * A serving thread's signature checks, sent to the main thread's Piscina pool: the tokens a
 * thread sees in one turn of its event loop go in one request, so a busy thread pays one message
 * for many tokens, and the pool batches them again with everyone else's.
 */
import type { SignatureVerifier, VerifyResult } from '../authn/index.js';
import type { Channel } from './channel.js';
import type { ThreadRequest, VerifyAnswer, VerifyItem } from './protocol.js';

const kFailed: VerifyResult = Object.freeze({ ok: false, code: 'IAM_AUTHN_VERIFIER_FAILED' });
const kOverloaded: VerifyResult = Object.freeze({
  ok: false, code: 'IAM_AUTHN_VERIFIER_OVERLOADED' });

/** Relays to the shared pool. Never rejects (the pool's contract). */
export class RemoteVerifier implements SignatureVerifier {
  readonly #channel: Channel;
  readonly #maxQueue: number;
  #items: VerifyItem[] = [];
  #waiters: Array<(r: VerifyResult) => void> = [];
  #queued = 0;
  #isArmed = false;

  /** `maxQueue`: most tokens sent and not answered (`authn.pool.maxQueue`); more are OVERLOADED. */
  constructor(channel: Channel, maxQueue: number) {
    this.#channel = channel;
    this.#maxQueue = maxQueue;
  }

  verify(token: string, issuer: string, algorithms: readonly string[]): Promise<VerifyResult> {
    if (this.#queued >= this.#maxQueue) return Promise.resolve(kOverloaded);
    this.#queued++;
    return new Promise<VerifyResult>((resolve) => {
      this.#items.push([token, issuer, algorithms]);
      this.#waiters.push(resolve);
      if (!this.#isArmed) {
        this.#isArmed = true;
        setImmediate(this.#send);
      }
    });
  }

  readonly #send = (): void => {
    this.#isArmed = false;
    const items = this.#items;
    const waiters = this.#waiters;
    this.#items = [];
    this.#waiters = [];
    const request: ThreadRequest = { kind: 'verify', items };
    void this.#channel.request<VerifyAnswer>(request).then(
      (results) => waiters.forEach((wake, i) => wake(results[i] ?? kFailed)),
      () => waiters.forEach((wake) => wake(kFailed)),
    ).finally(() => {
      this.#queued -= waiters.length;
    });
  };
}
