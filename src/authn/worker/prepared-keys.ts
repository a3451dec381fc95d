/**
 * A bounded map of keys made ready for one engine, keyed by (issuer, key-set version, kid, alg):
 * each engine imports a JWK once per key-set version and reuses it for every token after. The
 * least recently used entry is dropped first. Per thread, so no locking.
 */
import type { JWK } from 'jose';
import type { IssuerKeySet } from '../key-set.js';

/** Prepared keys one engine keeps per thread. */
const kMaxPreparedKeys = 1024;

/** A bounded LRU of prepared keys (`null` remembers a JWK that cannot be made into a key). */
export class PreparedKeys<K> {
  readonly #entries = new Map<string, K | null>();

  /** The prepared key for (`ks`, `jwk`, `alg`), made with `make` on first use. */
  get(ks: IssuerKeySet, jwk: JWK, alg: string, make: (jwk: JWK) => K | null): K | null {
    const id = `${ks.issuer}\u0000${ks.version}\u0000${jwk.kid ?? ''}\u0000${alg}`;
    const held = this.#entries.get(id);
    if (held !== undefined) {
      this.#entries.delete(id);
      this.#entries.set(id, held);
      return held;
    }
    const made = make(jwk);
    this.#entries.set(id, made);
    if (this.#entries.size > kMaxPreparedKeys) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
    return made;
  }
}
