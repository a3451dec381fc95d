/**
 * The `portcullis` command as a user runs it: exit codes, messages, config errors, the embedded
 * demo, and graceful drain on SIGTERM/SIGINT.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import http from 'node:http';
import { describe, test } from 'node:test';
import { rawRequest } from '../support/raw-http.js';
import { startRecordingUpstream } from '../support/recording-upstream.js';
import {
  kBin, type ProxyProcess, startProxyProcess, writeConfig,
} from '../support/proxy-process.js';

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [kBin, ...args], { encoding: 'utf8', timeout: 15_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const kValid = `services:
  - name: app
    access: public
    upstream: { addresses: ['127.0.0.1:9'] }
`;

describe('cli/usage', () => {
  test('--help prints the usage and exits 0', () => {
    const r = run(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^Usage: portcullis/);
  });

  test('--version prints the package version and exits 0', () => {
    const r = run(['--version']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /^portcullis \d+\.\d+\.\d+/);
  });

  const kUsageErrors: ReadonlyArray<readonly [string[], RegExp, string]> = [
    [['frobnicate'], /unknown command "frobnicate"/, 'an unknown command is a usage error'],
    [['serve', '--colour'], /unknown option for serve: "--colour"/, 'an unknown flag is named'],
    [['serve', '--port', 'eighty'], /--port expects a port/, 'a bad port value is explained'],
    [['check-config'], /check-config needs a FILE/, 'check-config without a file says so'],
  ];
  for (const [args, message, why] of kUsageErrors) {
    test(`${args.join(' ')}: ${why}, exit 2`, () => {
      const r = run(args);
      assert.equal(r.status, 2);
      assert.match(r.stderr, message);
    });
  }
});

describe('cli/check-config', () => {
  test('a valid file prints the effective config with defaults and exits 0', () => {
    const r = run(['check-config', writeConfig(kValid)]);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /maxConnections: 128/);
  });

  const kBad: ReadonlyArray<readonly [string, string, RegExp]> = [
    ['a port out of range', `listeners:\n  proxy:\n    port: 70000\n${kValid}`,
      /portcullis\.yaml:3:\d+: listeners\.proxy\.port: /],
    ['a typo in a key', `${kValid}    acess: public\n`,
      /portcullis\.yaml:\d+:\d+: services\[0\]/],
    ['a YAML syntax error', 'services: [\n', /portcullis\.yaml:\d+:\d+:/],
    ['an inline secret', `admin:\n  token: hunter2\n${kValid}`,
      /portcullis\.yaml:2:\d+: admin\.token: /],
  ];
  for (const [why, text, message] of kBad) {
    test(`${why} is reported with file:line:column and field, exit 2`, () => {
      const r = run(['check-config', writeConfig(text)]);
      assert.equal(r.status, 2);
      assert.match(r.stderr, message);
      assert.doesNotMatch(r.stderr, /hunter2/, 'a secret is never echoed back');
    });
  }

  test('serve with an invalid config exits 2 before binding anything', () => {
    const r = run(['serve', '--config', writeConfig('services: 5\n')]);
    assert.equal(r.status, 2);
    assert.match(r.stderr, /services/);
  });
});

/** A config file for one public service on free ports, with the given drain deadline. */
function drainConfig(upstreamPort: number, drainTimeoutMs: number): string {
  return writeConfig(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
shutdown: { drainTimeoutMs: ${drainTimeoutMs} }
services:
  - name: app
    access: public
    upstream: { addresses: ['127.0.0.1:${upstreamPort}'] }
`);
}

describe('cli/serve', () => {
  test('SIGTERM drains in-flight requests, refuses new ones, and exits 0', async () => {
    const upstream = await startRecordingUpstream();
    const proxy = await startProxyProcess(drainConfig(upstream.port, 5000));
    const inFlight = rawRequest(proxy.port, 'GET /slow-head?ms=800 HTTP/1.1\r\nHost: t\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    const exited = proxy.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    const late = await rawRequest(proxy.port, 'GET /late HTTP/1.1\r\nHost: t\r\n\r\n');
    const slow = await inFlight;
    assert.equal(slow.status, 200, 'the in-flight request completed');
    assert.equal(slow.body.toString(), 'slow');
    assert.equal(late.status, 0, 'the listener no longer accepts connections');
    assert.equal(await exited, 0);
    assert.ok(proxy.stdout.some((l) => l.includes('"msg":"stopped"') && l.includes('"drained":true')));
    await upstream.close();
  });

  test('a second signal during the drain exits at once with 1', async () => {
    const upstream = await startRecordingUpstream();
    const proxy = await startProxyProcess(drainConfig(upstream.port, 10000), ['--threads', '1']);
    const inFlight = rawRequest(proxy.port, 'GET /slow-head?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n');
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const exited = proxy.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    proxy.child.kill('SIGTERM');
    assert.equal(await exited, 1);
    assert.ok(Date.now() - started < 2000, 'did not wait for the 10 s drain deadline');
    await inFlight;
    await upstream.close();
  });

  test('with serving threads, a second signal ends the process at once by SIGKILL (137)', async () => {
    // A serving thread that still holds a uWS connection cannot end without aborting node
    // (src/threads/README.md), so the process kills itself instead of exiting with 1.
    const upstream = await startRecordingUpstream();
    const proxy = await startProxyProcess(drainConfig(upstream.port, 10000), ['--threads', '2']);
    // Twelve connections: the serving thread has requests in flight unless all twelve landed
    // on the main thread (2^-12).
    const inFlight = Promise.all(Array.from({ length: 12 }, () =>
      rawRequest(proxy.port, 'GET /slow-head?ms=3000 HTTP/1.1\r\nHost: t\r\n\r\n')));
    await new Promise((r) => setTimeout(r, 200));
    const started = Date.now();
    const exited = proxy.stop('SIGTERM');
    await new Promise((r) => setTimeout(r, 100));
    proxy.child.kill('SIGTERM');
    assert.equal(await exited, 137);
    assert.ok(Date.now() - started < 2000, 'did not wait for the 10 s drain deadline');
    await inFlight.catch(() => undefined);
    await upstream.close();
  });

  test('SIGINT right after start-up still drains and exits 0 (handlers come first)', async () => {
    const proxy = await startProxyProcess(writeConfig(`listeners:
  proxy: { host: 127.0.0.1, port: 0 }
  admin: { host: 127.0.0.1, port: 0 }
${kValid}`));
    assert.equal(await proxy.stop('SIGINT'), 0);
  });

  test('the embedded default serves the demo: public forwarded, private needs the printed token, rest 404', async () => {
    const demo = await startDemoProcess();
    try {
      const pub = await getJSON(demo.port, '/public/hello');
      assert.equal(pub.status, 200);
      assert.equal((pub.json as { path: string }).path, '/public/hello');
      assert.equal((await getJSON(demo.port, '/private/data')).status, 401);
      const token = await demo.token;
      const priv = await getJSON(demo.port, '/private/data', `Bearer ${token}`);
      assert.equal(priv.status, 200, 'the token the demo printed opens the protected route');
      assert.equal((await getJSON(demo.port, '/private/data', `Bearer ${token}x`)).status, 401);
      assert.equal((await getJSON(demo.port, '/')).status, 404);
      assert.equal((await getJSON(demo.adminPort, '/readyz')).status, 200);
    } finally {
      assert.equal(await demo.stop(), 0);
    }
  });
});

/** The embedded demo on free proxy/admin ports (its upstream keeps 8081), and its token. */
async function startDemoProcess(): Promise<ProxyProcess & { token: Promise<string> }> {
  const proxy = await startProxyProcess(undefined, ['--port', '0', '--admin-port', '0']);
  const token = (async (): Promise<string> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const m = /PORTCULLIS_DEMO_TOKEN=(\S+)/.exec(proxy.stderr());
      if (m !== null) return m[1]!;
      if (Date.now() > deadline) throw new Error('the demo printed no token');
      await new Promise((r) => setTimeout(r, 20));
    }
  })();
  return { ...proxy, token };
}

function getJSON(port: number, path: string, authorization?: string):
  Promise<{ status: number; json: unknown }> {
  return new Promise((resolve, reject) => {
    const headers = authorization === undefined ? {} : { authorization };
    http.get({ host: '127.0.0.1', port, path, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
    }).on('error', reject);
  });
}
