/**
 * Longest path-prefix lookup on segment boundaries, with no allocation per lookup.
 *
 * Algorithm: every registered prefix ('/api', '/api/v2'; the root '/' is kept apart) is stored
 * under a 30-bit FNV-1a hash of its characters. For a request, one forward pass over the path
 * records each segment boundary (every '/' after the first character, and the end) together
 * with the running hash of the characters before it, into reusable typed arrays. A table then
 * walks those boundaries from the longest down, looks the hash up, and confirms a hit with
 * `startsWith`, so a collision can never produce a wrong match. Cost: O(path length up to the
 * longest prefix) once per request, plus one map lookup per boundary per host table tried.
 */

/** One registered prefix and what it maps to. */
export interface PrefixEntry<T> {
  readonly prefix: string;
  readonly value: T;
}

/**
 * Reusable scratch describing one path: `count` boundaries, the position of each (the length of
 * the prefix ending there) and the hash of that prefix. Owned by one registry and overwritten by
 * every {@link computeBoundaries} call, so it is only valid until the next call.
 */
export interface PathBoundaries {
  readonly positions: Int32Array;
  readonly hashes: Int32Array;
  count: number;
}

const kFnvOffset = 0x811c9dc5 | 0;
const kFnvPrime = 0x01000193;
const kHashMask = 0x3fffffff; // small integers stay unboxed (Smi), so Map.get never allocates
const kSlash = 0x2f;

/** Scratch able to describe any path up to `maxPrefixLength` characters of prefix. */
export function createBoundaries(maxPrefixLength: number): PathBoundaries {
  return {
    positions: new Int32Array(maxPrefixLength + 1),
    hashes: new Int32Array(maxPrefixLength + 1),
    count: 0,
  };
}

/**
 * Fill `out` with the segment boundaries of `path` that lie at most `maxPrefixLength`
 * characters in, in increasing order. `out` must come from {@link createBoundaries} with a
 * capacity of at least `maxPrefixLength`.
 */
export function computeBoundaries(
  path: string,
  maxPrefixLength: number,
  out: PathBoundaries,
): void {
  let hash = kFnvOffset;
  let count = 0;
  for (let i = 0; ; i++) {
    const isEnd = i === path.length;
    if (i >= 2 && (isEnd || path.charCodeAt(i) === kSlash)) {
      out.positions[count] = i;
      out.hashes[count] = hash & kHashMask;
      count++;
    }
    if (isEnd || i >= maxPrefixLength) break;
    hash = Math.imul(hash ^ path.charCodeAt(i), kFnvPrime);
  }
  out.count = count;
}

function hashOf(s: string): number {
  let hash = kFnvOffset;
  for (let i = 0; i < s.length; i++) hash = Math.imul(hash ^ s.charCodeAt(i), kFnvPrime);
  return hash & kHashMask;
}

/** The prefixes registered for one host pattern. */
export class PrefixTable<T> {
  #byHash = new Map<number, PrefixEntry<T>[]>();
  #root: PrefixEntry<T> | undefined;
  #maxLength = 1;

  /** Length of the longest prefix in this table (1 when only the root is registered). */
  get maxLength(): number {
    return this.#maxLength;
  }

  /**
   * Register a canonical prefix (validated by the caller). Returns false, and changes nothing,
   * when the prefix is already present.
   */
  add(prefix: string, value: T): boolean {
    const entry: PrefixEntry<T> = { prefix, value };
    if (prefix === '/') {
      if (this.#root !== undefined) return false;
      this.#root = entry;
      return true;
    }

    const hash = hashOf(prefix);
    const bucket = this.#byHash.get(hash);
    if (bucket === undefined) {
      this.#byHash.set(hash, [entry]);
    } else {
      if (bucket.some((other) => other.prefix === prefix)) return false;
      bucket.push(entry);
    }
    if (prefix.length > this.#maxLength) this.#maxLength = prefix.length;
    return true;
  }

  /** The longest prefix of `path` on a segment boundary, or the root entry, or `undefined`. */
  find(path: string, bounds: PathBoundaries): PrefixEntry<T> | undefined {
    for (let k = bounds.count - 1; k >= 0; k--) {
      const position = bounds.positions[k] as number;
      if (position > this.#maxLength) continue;
      const bucket = this.#byHash.get(bounds.hashes[k] as number);
      if (bucket === undefined) continue;
      for (let j = 0; j < bucket.length; j++) {
        const entry = bucket[j] as PrefixEntry<T>;
        if (entry.prefix.length === position && path.startsWith(entry.prefix)) return entry;
      }
    }
    return this.#root;
  }
}
