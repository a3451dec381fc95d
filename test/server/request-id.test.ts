/**
 * Request ids: propagate a safe inbound id, generate one otherwise.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isAcceptableRequestId, settleRequestId } from '../../src/server/request-id.js';

describe('server/request-id', () => {
  const kCases: ReadonlyArray<readonly [string, boolean, string]> = [
    ['abc-123', true, 'letters, digits and dashes are safe'],
    ['a.b_c:d', true, 'dots, underscores and colons are safe'],
    ['', false, 'an empty id is not an id'],
    ['a b', false, 'spaces would break log parsing'],
    ['a"b', false, 'quotes would break JSON bodies'],
    ['x'.repeat(129), false, 'more than 128 characters is too long'],
    ['é', false, 'non-ASCII is refused'],
  ];
  for (const [id, ok, why] of kCases) {
    test(`${JSON.stringify(id).slice(0, 20)}: ${why}`, () => {
      assert.equal(isAcceptableRequestId(id), ok);
      const settled = settleRequestId(id);
      if (ok) assert.equal(settled, id);
      else assert.match(settled, /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    });
  }

  test('a missing header gets a fresh id each time', () => {
    assert.notEqual(settleRequestId(undefined), settleRequestId(undefined));
  });
});
