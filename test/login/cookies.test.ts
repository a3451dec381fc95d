/**
 * The proxy's cookies: sealed values that only this key opens, for this purpose and until they
 * expire; cookie lookup that trusts no duplicate; and the proxy's cookies never forwarded.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { CookieSealer, cookieValue, withoutProxyCookies } from '../../src/login/index.js';

describe('login/cookies sealing', () => {
  const sealer = new CookieSealer('a-key-of-at-least-thirty-two-characters!');
  const now = 1_800_000_000;

  test('login/cookies a sealed value opens with its key and purpose, before it expires', () => {
    const value = sealer.seal('login-state', { s: 'verifier-marker' }, now + 60);
    assert.match(value, /^v1\.[A-Za-z0-9_-]+$/);
    assert.equal(sealer.open('login-state', value, now)?.s, 'verifier-marker');
    const bytes = Buffer.from(value.slice(3), 'base64url').toString('latin1');
    assert.ok(!bytes.includes('verifier-marker'), 'the content is encrypted, not only signed');
  });

  const kRefused: ReadonlyArray<readonly [string, (v: string) => string, string, number]> = [
    ['another purpose', (v) => v, 'other-purpose', now],
    ['after its expiry', (v) => v, 'login-state', now + 61],
    ['a flipped character', (v) => `${v.slice(0, 10)}${v[10] === 'A' ? 'B' : 'A'}${v.slice(11)}`,
      'login-state', now],
    ['cut short', (v) => v.slice(0, -4), 'login-state', now],
    ['another version prefix', (v) => `v2.${v.slice(3)}`, 'login-state', now],
    ['oversized', (v) => `${v}${'A'.repeat(4000)}`, 'login-state', now],
  ];
  for (const [why, change, purpose, at] of kRefused) {
    test(`login/cookies a sealed value does not open: ${why}`, () => {
      const value = sealer.seal('login-state', { s: 'x' }, now + 60);
      assert.equal(sealer.open(purpose, change(value), at), undefined);
    });
  }

  test('login/cookies another key, or a random per-process key, opens nothing of this one', () => {
    const value = sealer.seal('login-state', { s: 'x' }, now + 60);
    assert.equal(new CookieSealer('another-key-of-at-least-thirty-two-chars').open('login-state',
      value, now), undefined);
    assert.equal(new CookieSealer(undefined).open('login-state', value, now), undefined);
  });
});

describe('login/cookies headers', () => {
  const kName = '__Host-portcullis-session';
  test('login/cookies the one value of a cookie, none when absent, empty or repeated', () => {
    assert.equal(cookieValue(['cookie', `a=1; ${kName}=abc; b=2`], kName), 'abc');
    assert.equal(cookieValue(['cookie', 'a=1'], kName), undefined);
    assert.equal(cookieValue(['cookie', `${kName}=`], kName), undefined);
    assert.equal(cookieValue(['cookie', `${kName}=a; ${kName}=b`], kName), undefined,
      'two copies: which one the browser meant cannot be told');
    assert.equal(cookieValue(['cookie', `${kName}=a`, 'cookie', `${kName}=b`], kName), undefined);
    assert.equal(cookieValue(['cookie', `x${kName}=a`], kName), undefined, 'names match exactly');
    assert.equal(cookieValue(['cookie', `${kName}x=a`], kName), undefined, 'a longer name is another');
    assert.equal(cookieValue(['cookie', `a=${kName}=b`], kName), undefined,
      'the name inside another cookie\'s value is no cookie');
    assert.equal(cookieValue(['cookie', `a=1;${kName} = v ;b=2`], kName), 'v',
      'spaces around the pair are allowed, as browsers and RFC 6265 parsers allow them');
  });

  test('login/cookies the proxy\'s cookies are taken out of what is forwarded', () => {
    const prefix = '__Host-portcullis-';
    const plain = ['accept', '*/*', 'cookie', 'a=1'];
    assert.equal(withoutProxyCookies(plain, prefix), plain, 'no copy when there is nothing to do');
    assert.deepEqual(withoutProxyCookies(['cookie', `a=1; ${kName}=s; b=2`, 'x', 'y'], prefix),
      ['cookie', 'a=1; b=2', 'x', 'y']);
    assert.deepEqual(withoutProxyCookies(['cookie', `${kName}=s;__Host-portcullis-login=l`],
      prefix), [], 'a cookie header left empty is dropped');
    assert.deepEqual(withoutProxyCookies(['cookie', 'a=1', 'cookie', ` ${kName}=s `], prefix),
      ['cookie', 'a=1']);
  });
});
