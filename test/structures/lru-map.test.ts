/**
 * LruMap: use order at O(1); the bounded tables (token cache, sessions) evict from its oldest end.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import fc from 'fast-check';
import { LruMap } from '../../src/structures/index.js';

function keysOf<K, V>(map: LruMap<K, V>): K[] {
  const out: K[] = [];
  map.forEach((_v, k) => out.push(k));
  return out;
}

describe('structures/lru-map', () => {
  test('entries are kept oldest first, in insertion order', () => {
    const map = new LruMap<string, number>();
    map.set('a', 1);
    map.set('b', 2);
    map.set('c', 3);
    assert.deepEqual(keysOf(map), ['a', 'b', 'c']);
    assert.equal(map.oldestKey(), 'a');
    assert.equal(map.oldestValue(), 1);
  });

  test('touch and set of a held key move it to the newest end; get does not', () => {
    const map = new LruMap<string, number>();
    for (const k of ['a', 'b', 'c']) map.set(k, 0);
    assert.equal(map.get('a'), 0);
    assert.deepEqual(keysOf(map), ['a', 'b', 'c']);
    assert.equal(map.touch('a'), true);
    assert.deepEqual(keysOf(map), ['b', 'c', 'a']);
    map.set('b', 9);
    assert.deepEqual(keysOf(map), ['c', 'a', 'b']);
    assert.equal(map.get('b'), 9);
    assert.equal(map.touch('zz'), false, 'a key not held cannot be touched');
  });

  test('delete unlinks from either end and the middle', () => {
    const map = new LruMap<string, number>();
    for (const k of ['a', 'b', 'c', 'd']) map.set(k, 0);
    assert.equal(map.delete('b'), true);
    assert.equal(map.delete('a'), true);
    assert.equal(map.delete('d'), true);
    assert.equal(map.delete('d'), false, 'a second delete finds nothing');
    assert.deepEqual(keysOf(map), ['c']);
    assert.equal(map.size, 1);
    map.clear();
    assert.equal(map.size, 0);
    assert.equal(map.oldestKey(), undefined);
  });

  test('a visit may delete the entry it is given (as sweeps do)', () => {
    const map = new LruMap<number, number>();
    for (let i = 0; i < 10; i++) map.set(i, i);
    map.forEach((v, k) => {
      if (v % 2 === 0) map.delete(k);
    });
    assert.deepEqual(keysOf(map), [1, 3, 5, 7, 9]);
  });

  test('matches a reference model (array in use order) over random operations', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('set' as const), key: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('touch' as const), key: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('delete' as const), key: fc.integer({ min: 0, max: 7 }) }),
      fc.record({ kind: fc.constant('evict' as const), key: fc.constant(0) }),
    );
    fc.assert(fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const map = new LruMap<number, number>();
      let model: number[] = [];
      ops.forEach(({ kind, key }, i) => {
        if (kind === 'set') {
          map.set(key, i);
          model = [...model.filter((k) => k !== key), key];
        } else if (kind === 'touch') {
          assert.equal(map.touch(key), model.includes(key));
          if (model.includes(key)) model = [...model.filter((k) => k !== key), key];
        } else if (kind === 'delete') {
          assert.equal(map.delete(key), model.includes(key));
          model = model.filter((k) => k !== key);
        } else {
          const oldest = map.oldestKey();
          assert.equal(oldest, model[0]);
          if (oldest !== undefined) map.delete(oldest);
          model = model.slice(1);
        }
        assert.deepEqual(keysOf(map), model);
        assert.equal(map.size, model.length);
      });
    }), { numRuns: 500 });
  });
});
