/**
 * The front end refuses uWebSockets.js's slow JavaScript fallback unless the user allows it.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { PortcullisError } from '../../src/errors/index.js';
import { loadUWS } from '../../src/server/uws-loader.js';

describe('server/uws-loader', () => {
  test('the native build loads on this machine', () => {
    const loaded = loadUWS(false);
    assert.equal(loaded.isNative, true);
    assert.equal(typeof loaded.uws.App, 'function');
  });

  test('a missing native binary is a start-up error naming the file, not a silent fallback', () => {
    assert.throws(() => loadUWS(false, '/nonexistent/uws_test.node'), (err: unknown) => {
      assert.ok(err instanceof PortcullisError);
      assert.equal(err.code, 'IAM_SERVER_UWS_FALLBACK');
      assert.match(err.message, /uws_test\.node/);
      return true;
    });
  });

  test('with allowFallback the package loader is used and says whether it is native', () => {
    const loaded = loadUWS(true, '/nonexistent/uws_test.node');
    assert.equal(typeof loaded.uws.App, 'function');
    // The package's own loader finds the native binary for this platform, so it reports native;
    // on a platform without one it would hand back the fallback with isNative false.
    assert.equal(loaded.isNative, true);
  });
});
