/**
 * The CI gate's yardstick: a small, fixed, deterministic JavaScript loop timed in the same
 * process as the code under test, so that a ratio of the two cancels the machine's speed (a
 * slower CI runner slows both alike). It does the kind of work a decision's host side does
 * (walk strings of a request, hash them, look them up in a Map), and nothing that depends on
 * the project's code: a change to the proxy never moves it.
 */

/** Strings of one request as the encoder sees them (service, method, path segments, headers). */
const kWords: readonly string[] = [
  'svc3', 'GET', 'res47', 't2', 'item318', 'host', 'api.example.com', 'accept', '*/*',
  'user-agent', 'bench/1.0', 'x-request-id', '9f8e7d6c5b4a', 'jwt', 'u-7-8-t2', 'bench',
  'read', 'g7', 'g8', 'tenant', '10.1.2.3', 'orders:read', 'orders:write', 'role7',
  'svc4', 'POST', 'res48', 't3', 'item319', 'content-type', 'application/json', 'role8',
];
const kIndex = new Map(kWords.map((word, i) => [word, i]));

/** One pass over the words: FNV-1a of each, plus its index from the Map. Returns a checksum. */
export function baselineOnce(): number {
  let sum = 0;
  for (const word of kWords) {
    let hash = 0x811c9dc5;
    for (let i = 0; i < word.length; i++) {
      hash ^= word.charCodeAt(i);
      hash = Math.imul(hash, 0x01000193);
    }
    sum = (sum + (hash >>> 0) + (kIndex.get(word) ?? 0)) | 0;
  }
  return sum;
}
