/**
 * The dashboard in a real browser: Debian's chromium driven by playwright-core against a real
 * proxy. The operator signs in (a wrong token is refused), sees a live decision appear, sees the
 * caller's session, revokes it with the Revoke button, and the next request with that token is
 * denied, which the page shows too. The page must load without a Content-Security-Policy
 * violation or a script error. Skipped with a message when chromium is missing (outside CI).
 */
import assert from 'node:assert/strict';
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { type LocalIssuer, localIssuerYaml, startLocalIssuer } from '../support/local-issuer.js';
import { startTestProxy, type TestProxy } from '../support/proxy-harness.js';
import { type RecordingUpstream, startRecordingUpstream } from '../support/recording-upstream.js';

const kChromium = process.env['CHROMIUM_BIN'] ?? '/usr/bin/chromium';
const kAdminToken = 'admin-token-for-the-dashboard';
const kProfile = mkdtempSync(path.join(tmpdir(), 'portcullis-chromium-'));

function hasChromium(): boolean {
  try {
    accessSync(kChromium, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
const kSkip = !hasChromium() && process.env['CI'] === undefined
  ? `${kChromium} not found (apt-get install chromium; .ci/run installs it)` : false;

let upstream: RecordingUpstream;
let issuer: LocalIssuer;
let proxy: TestProxy;
let context: BrowserContext;
let page: Page;
const problems: string[] = [];

before(async () => {
  if (kSkip !== false) return;
  process.env['PORTCULLIS_DASHBOARD_TOKEN'] = kAdminToken;
  upstream = await startRecordingUpstream();
  issuer = await startLocalIssuer();
  proxy = await startTestProxy(`admin: { token: { env: PORTCULLIS_DASHBOARD_TOKEN } }
authn:
  issuers:
${localIssuerYaml(issuer)}services:
  - name: api
    pathPrefix: /api
    access: authenticated
    upstream: { addresses: ['127.0.0.1:${upstream.port}'] }
`);
  context = await chromium.launchPersistentContext(kProfile, {
    executablePath: kChromium,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') problems.push(m.text()); });
  page.on('pageerror', (err) => problems.push(err.message));
});

after(async () => {
  await context?.close();
  await proxy?.stop();
  await upstream?.close();
  rmSync(kProfile, { recursive: true, force: true });
});

async function call(token: string): Promise<{ status: number; code: string | null }> {
  const res = await fetch(`http://127.0.0.1:${proxy.port}/api/orders`,
    { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return { status: res.status, code: res.headers.get('x-portcullis-error') };
}

describe('audit/dashboard e2e (chromium)', { skip: kSkip }, () => {
  test('a wrong admin token is refused at sign-in', async () => {
    await page.goto(`http://127.0.0.1:${proxy.adminPort}/dashboard`, { timeout: 10_000 });
    await page.fill('#token', 'not-the-token');
    await page.click('#signIn');
    await page.locator('#loginError', { hasText: '401' }).waitFor({ timeout: 5_000 });
    assert.equal(await page.isVisible('#main'), false);
  });

  test('signs in, shows a live decision and the session, revokes it, shows the deny', async () => {
    problems.length = 0; // the refused sign-in above logged its 401 on purpose
    await page.fill('#token', kAdminToken);
    await page.click('#signIn');
    await page.locator('#status', { hasText: /^live$/ }).waitFor({ timeout: 5_000 });

    const token = await issuer.sign({ sub: 'zoe', sid: 'zoe-session', client_id: 'zoe-app' });
    assert.deepEqual(await call(token), { status: 200, code: null });
    const decision = page.locator('tr.decision', { hasText: '/api/orders' }).first();
    await decision.waitFor({ timeout: 5_000 });
    assert.match(await decision.textContent() ?? '', /allow/);
    assert.match(await decision.textContent() ?? '', /zoe/);

    const session = page.locator('tr.session', { hasText: 'zoe-session' });
    await session.waitFor({ timeout: 5_000 });
    await session.locator('button.revoke').click();
    await page.locator('#status', { hasText: 'revoked session zoe-session' })
      .waitFor({ timeout: 5_000 });

    assert.deepEqual(await call(token), { status: 401, code: 'IAM_AUTHN_REVOKED' });
    await page.locator('tr.decision', { hasText: 'deny' }).first().waitFor({ timeout: 5_000 });
    await page.locator('tr.revocation', { hasText: 'zoe-session' }).waitFor({ timeout: 5_000 });
    await page.locator('#topPrincipals', { hasText: 'zoe (2)' }).waitFor({ timeout: 5_000 });
    assert.equal(await page.textContent('#denyRate'), '50.0%', 'one allow and one deny');

    await page.screenshot({ path: path.join(tmpdir(), 'portcullis-dashboard.png'), fullPage: true });
    assert.deepEqual(problems, [], 'no CSP violation or script error');
  });
});
