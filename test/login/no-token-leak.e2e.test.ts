/**
 * IdP tokens never leave the proxy (threats.md, "Token leakage"), and the token request is the
 * proxy authenticating as a confidential client ("Client authentication gaps in OAuth
 * endpoints"). Logins, a bad callback, an XHR, logout and admin reads run against the real IdP,
 * whose token endpoint answers are recorded; then every response the proxy wrote (headers,
 * bodies, Location URLs), every audit record, every log line, everything the upstream received
 * and every admin answer is scanned for each authorization code, access token, ID token (and
 * its signature) and refresh token issued, and for the client secret.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { after, before, describe, test } from 'node:test';
import { Logger } from '../../src/telemetry/index.js';
import { type LoginHarness, startLoginHarness } from '../support/login-harness.js';
import type { TestBrowser } from '../support/test-browser.js';

const kDir = mkdtempSync(path.join(tmpdir(), 'portcullis-login-leak-'));
const kAuditFile = path.join(kDir, 'audit.log');
const kAdminEnv = 'PORTCULLIS_LOGIN_LEAK_ADMIN';
const kAdminToken = 'login-leak-admin-token-93be';
let h: LoginHarness;
let wrong: LoginHarness;
let logText = '';
let wrongLog = '';

function capture(into: (text: string) => void): Logger {
  const out = new PassThrough();
  out.on('data', (chunk: Buffer) => into(chunk.toString()));
  return new Logger('trace', out);
}

before(async () => {
  process.env[kAdminEnv] = kAdminToken;
  h = await startLoginHarness({
    logger: capture((t) => { logText += t; }),
    extraYaml: `admin: { token: { env: ${kAdminEnv} } }
audit:
  sink: file
  file: { path: '${kAuditFile}' }
  claims: [email, email_domain, name]`,
  });
  wrong = await startLoginHarness({ clientSecret: 'not-the-registered-secret-0000',
    logger: capture((t) => { wrongLog += t; }) });
});
after(async () => {
  await h.stop();
  await wrong.stop();
  rmSync(kDir, { recursive: true, force: true });
});

/** Every secret the IdP issued through the token endpoint, with a name for the message. */
function issuedSecrets(): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  for (const [i, exchange] of h.idp.tokenExchanges.entries()) {
    const body = JSON.parse(exchange.body) as Record<string, unknown>;
    for (const name of ['access_token', 'id_token', 'refresh_token']) {
      const value = body[name];
      if (typeof value !== 'string') continue;
      out.push([`${name} ${i}`, value]);
      if (value.split('.').length === 3) out.push([`${name} ${i} signature`, value.split('.')[2]!]);
    }
  }
  return out;
}

describe('login/no-token-leak e2e', () => {
  const browsers: TestBrowser[] = [];
  const adminBodies: string[] = [];
  const browser = (): TestBrowser => {
    const b = h.browser();
    browsers.push(b);
    return b;
  };

  test('login/no-token-leak traffic: logins, a replayed callback, an XHR, logout', async () => {
    const alice = browser();
    assert.equal((await h.login(alice, '/app/page')).status, 200);
    const xhr = await alice.request(`${h.origin}/app/x`, { headers: { accept: 'application/json' } });
    assert.equal(xhr.status, 200);
    const callback = alice.visited.find((u) => u.includes('/.portcullis/callback?'))!;
    assert.equal((await browser().request(callback)).status, 400, 'a replay without its cookie');
    assert.equal((await h.login(browser(), '/app/other', 'ines')).status, 200);
    assert.equal((await alice.request(`${h.origin}/.portcullis/logout`)).status, 302);
    for (const p of ['/sessions', '/config', '/metrics', '/revocations']) {
      adminBodies.push(await (await fetch(`http://127.0.0.1:${h.proxy.admin.port}${p}`,
        { headers: { authorization: `Bearer ${kAdminToken}` } })).text());
    }
    await h.proxy.audit.log.flush();
    assert.ok(h.idp.tokenExchanges.length >= 2, 'the IdP issued tokens');
  });

  test('login/no-token-leak no response, record, log line, upstream request or admin answer carries a token', () => {
    const proxyResponses = browsers.flatMap((b) => b.seen.filter((s) => s.startsWith(h.origin)))
      // The first line is the URL the browser asked for: the callback's own URL holds the code.
      .map((s) => s.slice(s.indexOf('\n') + 1));
    const records = readFileSync(kAuditFile, 'utf8');
    assert.ok(records.includes('"kind":"session"'), 'the records name session principals');
    const upstreamSeen = h.upstream.requests.map((r) => `${r.url}\n${r.rawHeaders.join('\n')}`);
    const haystacks: Array<[string, string]> = [
      ['proxy responses', proxyResponses.join('\n')], ['audit records', records],
      ['log lines', logText], ['upstream requests', upstreamSeen.join('\n')],
      ['admin answers', adminBodies.join('\n')],
    ];
    const codes = browsers.flatMap((b) => b.visited)
      .filter((u) => u.includes('/.portcullis/callback?'))
      .map((u) => new URL(u).searchParams.get('code')!);
    const needles: Array<[string, string]> = [...issuedSecrets(),
      ...codes.map((c, i): [string, string] => [`code ${i}`, c]),
      ['client secret', h.idp.loginClientSecret]];
    assert.ok(codes.length >= 2 && needles.length >= 7, 'codes, access and ID tokens to look for');
    assert.ok(browsers.flatMap((b) => b.visited).some((u) => u.includes(codes[0]!)),
      'the needles are real: the IdP put the code in its redirect to the callback');
    for (const [where, text] of haystacks) {
      assert.ok(text.length > 0, `${where} were captured`);
      for (const [what, needle] of needles) {
        assert.ok(!text.includes(needle), `${what} found in ${where}`);
      }
    }
  });

  test('login/no-token-leak the token request authenticated with client_secret_basic', () => {
    assert.ok(h.idp.tokenExchanges.length > 0);
    for (const exchange of h.idp.tokenExchanges) {
      assert.match(exchange.authorization ?? '', /^Basic /);
      const [id, secret] = Buffer.from(exchange.authorization!.slice(6), 'base64').toString()
        .split(':');
      assert.equal(decodeURIComponent(id!), h.idp.loginClientId);
      assert.equal(decodeURIComponent(secret!), h.idp.loginClientSecret);
    }
  });

  test('login/no-token-leak a wrong client secret fails closed: 502 IAM_LOGIN_CLIENT_AUTH_FAILED, no session', async () => {
    const browser = wrong.browser();
    const out = await wrong.login(browser, '/app/page');
    assert.equal(out.status, 502);
    assert.match(out.body, /x-portcullis-error: IAM_LOGIN_CLIENT_AUTH_FAILED/);
    assert.equal(browser.cookie('127.0.0.1', '__Host-portcullis-session'), undefined);
    assert.equal(wrong.idp.tokenExchanges.at(-1)?.status, 401, 'the IdP refused the client');
    assert.equal(wrong.upstream.requests.length, 0, 'nothing reached the service');
    const warning = wrongLog.split('\n').filter((l) => l.includes('IAM_LOGIN_CLIENT_AUTH_FAILED'));
    assert.equal(warning.length, 1, 'one rate-limited warning names the code');
    assert.match(warning[0]!, /"error":"invalid_client"/);
    assert.ok(!wrongLog.includes('not-the-registered-secret-0000'), 'the secret is never logged');
  });
});

