/** Claim paths: a whole top-level name first, then a dot walk over own properties only. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { claimAt } from '../../src/authn/index.js';
import { kMaxClaimPathDepth } from '../../src/config/index.js';

describe('authn/claim-path', () => {
  const claims = JSON.parse(JSON.stringify({
    a: { b: { c: 'deep' } }, 'x.y': 'dotted', x: { y: 'nested' }, list: [{ k: 1 }],
  })) as Record<string, unknown>;
  const kCases: ReadonlyArray<readonly [string, string, unknown]> = [
    ['a nested path walks objects', 'a.b.c', 'deep'],
    ['a top-level name with a dot wins over the nested reading', 'x.y', 'dotted'],
    ['a missing step gives undefined', 'a.z.c', undefined],
    ['arrays are not walked into', 'list.0.k', undefined],
    ['inherited members are not claims', 'a.hasOwnProperty', undefined],
    ['a plain name is a top-level lookup', 'a', claims.a],
  ];
  for (const [why, path, expected] of kCases) {
    test(why, () => assert.deepEqual(claimAt(claims, path), expected));
  }

  test(`a path of more than ${kMaxClaimPathDepth} names finds nothing`, () => {
    let nested: Record<string, unknown> = { v: 'end' };
    for (let i = 0; i < kMaxClaimPathDepth; i++) nested = { n: nested };
    const path = `${'n.'.repeat(kMaxClaimPathDepth)}v`;
    assert.equal(claimAt(nested, path), undefined);
    assert.equal(claimAt(nested.n as Record<string, unknown>, path.slice(2)), 'end');
  });
});
