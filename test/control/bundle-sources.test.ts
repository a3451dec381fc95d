/**
 * Bundle sources and activation: the activator keeps the last good bundle on every refusal and
 * counts it; the file source picks up a rewritten file; the HTTP source revalidates with ETag
 * (a 304 changes nothing) and backs off while its server fails.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { type EvaluatorModule, loadEvaluator, PolicyHolder } from '../../src/authz/index.js';
import { BundleActivator, startFileSource, startHttpSource } from '../../src/control/index.js';
import { bundleVerifyKey } from '../../src/policy/index.js';
import { readFileSync } from 'node:fs';
import { createBundleSigner, type BundleSigner, type SignedBundle } from '../support/policy-bundles.js';

const text = (v: number): string =>
  `version: ${v}\nrules:\n  - { id: r${v}, effect: allow, who: anyone, paths: ['/v${v}'] }\n`;

let evaluator: EvaluatorModule;
let signer: BundleSigner;
const activatorFor = (holder: PolicyHolder): BundleActivator =>
  new BundleActivator(holder, evaluator, [bundleVerifyKey(readFileSync(signer.publicKeyFile, 'utf8'))]);

async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((done) => setTimeout(done, 20));
  }
}

before(async () => {
  evaluator = await loadEvaluator();
  signer = createBundleSigner();
});

describe('control/bundle-activator', () => {
  test('new, unchanged, then refusals that keep the last good bundle and are counted', async () => {
    const holder = new PolicyHolder();
    const activator = activatorFor(holder);
    const v2 = await signer.signText(text(2));
    assert.deepEqual(await activator.offer(v2.bytes, v2.signature, 't'),
      { ok: true, kind: 'activated', version: 2, digest: holder.engine!.digest });
    assert.equal((await activator.offer(v2.bytes, v2.signature, 't')).ok, true);
    const v1 = await signer.signText(text(1));
    const older = await activator.offer(v1.bytes, v1.signature, 't');
    assert.equal(older.ok ? 'activated' : older.code, 'IAM_BUNDLE_VERSION_OLDER');
    assert.equal((await activator.offer(v2.bytes, undefined, 't')).ok, false);
    assert.equal(holder.engine!.version, 2, 'the last good bundle stays');
    const stats = activator.stats();
    assert.deepEqual([stats.activated, stats.unchanged, stats.rejected], [1, 1,
      { IAM_BUNDLE_VERSION_OLDER: 1, IAM_BUNDLE_SIGNATURE_MISSING: 1 }]);
  });

  test('offers from two sources at once are serialized: the higher version ends active', async () => {
    const holder = new PolicyHolder();
    const activator = activatorFor(holder);
    const [a, b] = [await signer.signText(text(5)), await signer.signText(text(6))];
    const results = await Promise.all([activator.offer(b.bytes, b.signature, 'x'),
      activator.offer(a.bytes, a.signature, 'y')]);
    assert.deepEqual(results.map((r) => r.ok), [true, false]);
    assert.equal(holder.engine!.version, 6);
  });
});

describe('control/bundle-source-file', () => {
  test('the file is loaded at start and again when it is rewritten', async () => {
    const holder = new PolicyHolder();
    const file = path.join(signer.dir, 'watched.bundle');
    signer.write(file, await signer.signText(text(1)));
    const source = startFileSource({ path: file, intervalMs: 50, activator: activatorFor(holder) });
    try {
      assert.equal((await source.ready)?.ok, true);
      assert.equal(holder.engine?.version, 1);
      signer.write(file, await signer.signText(text(2)));
      await until(() => holder.engine?.version === 2);
    } finally {
      source.stop();
    }
  });
});

describe('control/bundle-source-http', () => {
  let served: SignedBundle;
  let requests: { url: string; ifNoneMatch: string | undefined }[] = [];
  let isFailing = false;
  let port = 0;

  before(async () => {
    served = await signer.signText(text(3));
    const server = http.createServer((req, res) => {
      requests.push({ url: req.url ?? '', ifNoneMatch: req.headers['if-none-match'] });
      if (isFailing) return void res.writeHead(500).end();
      const etag = `"v${served === undefined ? 0 : served.bytes.length}"`;
      if (req.url === '/bundle.jws') return void res.end(served.signature);
      if (req.headers['if-none-match'] === etag) return void res.writeHead(304).end();
      res.writeHead(200, { etag }).end(served.bytes);
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    server.unref();
    port = (server.address() as AddressInfo).port;
  });

  test('polls with If-None-Match; 304 changes nothing; failures back off up to the bound', async () => {
    const holder = new PolicyHolder();
    const source = startHttpSource({ url: `http://127.0.0.1:${port}/bundle`, intervalMs: 100,
      maxBackoffMs: 400, activator: activatorFor(holder) });
    try {
      assert.equal((await source.ready)?.ok, true);
      assert.equal(holder.engine?.version, 3);
      assert.deepEqual(requests.map((r) => r.url), ['/bundle', '/bundle.jws']);
      await until(() => source.stats().notModified >= 2);
      assert.ok(requests.slice(2).every((r) => r.url === '/bundle' && r.ifNoneMatch !== undefined));

      isFailing = true;
      await until(() => source.stats().failures >= 3);
      assert.equal(source.stats().currentDelayMs, 400, 'doubling stops at maxBackoffMs');
      assert.equal(holder.engine?.version, 3, 'failures keep the last good bundle');
      isFailing = false;
      requests = [];
      await until(() => source.stats().currentDelayMs === 100);
    } finally {
      source.stop();
    }
  });
});
