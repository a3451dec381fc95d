/**
 * An issuer's keys as a serving thread holds them: the main thread's key source sends every new
 * key-set version as a note, and an unknown `kid` asks the main thread for its one rate-limited
 * refetch (the source's own limit applies to all threads together). The note with the new keys
 * arrives before the answer to the refetch (one port keeps order).
 */
import type { IssuerKeySet, KeySetView } from '../authn/index.js';
import type { Channel } from './channel.js';
import type { ThreadRequest } from './protocol.js';

/** A serving thread's copy of one issuer's key set. */
export class KeySetReplica implements KeySetView {
  readonly #issuer: string;
  readonly #channel: Channel;
  #current: IssuerKeySet | undefined;

  constructor(issuer: string, channel: Channel) {
    this.#issuer = issuer;
    this.#channel = channel;
  }

  current(): IssuerKeySet | undefined {
    return this.#current;
  }

  /** Takes `keySet` when it is newer than the one held; returns whether it did. */
  update(keySet: IssuerKeySet): boolean {
    if (this.#current !== undefined && this.#current.version >= keySet.version) return false;
    this.#current = keySet;
    return true;
  }

  refreshForUnknownKid(kid: string): Promise<boolean> {
    const request: ThreadRequest = { kind: 'refetch', issuer: this.#issuer, kid };
    return this.#channel.request<boolean>(request).catch(() => false);
  }
}
