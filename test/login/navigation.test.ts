/**
 * Which anonymous requests get a login redirect: top-level browser navigations only (the rule
 * in src/login/navigation.ts). Each case is one sentence saying why.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { isBrowserNavigation } from '../../src/login/index.js';

const kHtml = 'text/html,application/xhtml+xml;q=0.9,*/*;q=0.8';
const kCases: ReadonlyArray<readonly [string, string, string[], boolean]> = [
  ['a browser opening a page (Chrome, Firefox)', 'GET', ['accept', kHtml, 'sec-fetch-mode',
    'navigate', 'sec-fetch-dest', 'document'], true],
  ['an older browser that sends no Sec-Fetch headers', 'GET', ['accept', kHtml], true],
  ['header values are compared case-insensitively', 'GET', ['accept', 'Text/HTML',
    'sec-fetch-mode', 'Navigate'], true],
  ['a fetch() call: mode cors', 'GET', ['accept', kHtml, 'sec-fetch-mode', 'cors'], false],
  ['an iframe is a navigation but not top-level', 'GET', ['accept', kHtml, 'sec-fetch-mode',
    'navigate', 'sec-fetch-dest', 'iframe'], false],
  ['a JSON API call', 'GET', ['accept', 'application/json'], false],
  ['no Accept at all (curl)', 'GET', [], false],
  ['*/* alone is not asking for a page', 'GET', ['accept', '*/*'], false],
  ['text/html with q=0 means "not HTML"', 'GET', ['accept', 'text/html;q=0, */*'], false],
  ['an XHR library header', 'GET', ['accept', kHtml, 'x-requested-with', 'XMLHttpRequest'], false],
  ['a request with credentials is told they failed, not sent away', 'GET', ['accept', kHtml,
    'authorization', 'Basic eDp5'], false],
  ['a form POST is never replayed as a GET to the IdP', 'POST', ['accept', kHtml], false],
  ['HEAD is not a navigation', 'HEAD', ['accept', kHtml], false],
];

describe('login/navigation', () => {
  for (const [why, method, headers, expected] of kCases) {
    test(`login/navigation ${expected ? 'redirects' : 'keeps 401 for'} ${why}`, () => {
      assert.equal(isBrowserNavigation(method, headers), expected);
    });
  }
});
