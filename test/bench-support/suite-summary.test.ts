import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import type { AuthnRun } from '../../bench/e2e/authn-summary.js';
import type { SuiteRecord } from '../../bench/suite/rotation.js';
import { collectFailures } from '../../bench/suite/suite-report.js';
import {
  type SuiteSummary, medianRatio, rateRatio, summarizeSuite,
} from '../../bench/suite/suite-summary.js';
import { threadsUnavailable } from '../../bench/suite/suite-targets.js';
import { judgeSuite } from '../../bench/suite/suite-verdicts.js';

function run(round: number, reqPerSec: number, more: Partial<AuthnRun['wrk']> = {},
  peakRssBytes = 90e6): AuthnRun {
  return {
    round, position: 0, cpuUsPerRequest: 1e6 / reqPerSec, peakRssBytes, targetCpuShare: 1,
    cores: { busy: [1, 0.5], tasks: [1, 0.5] },
    wrk: { requests: reqPerSec * 8, durationSeconds: 8, reqPerSec, p50Us: 1000, p99Us: 4000,
      p999Us: 9000, non2xx: 0, socketErrors: { connect: 0, read: 0, write: 0, timeout: 0 },
      ...more },
  };
}

function record(name: string, runs: AuthnRun[], extra: Partial<SuiteRecord> = {}): SuiteRecord {
  return { name, summary: '', rotation: 'one-core', sections: ['forwarding'], command: [],
    conf: '', runs, ...extra };
}

function summary(name: string, reqPerSec: number, p99Us = 4000, peakRssBytes = 90e6):
  SuiteSummary {
  const s = summarizeSuite(record(name, [run(1, reqPerSec, { p99Us }, peakRssBytes)]), () => 0);
  assert.ok(s !== undefined);
  return s;
}

describe('bench-support/suite-summary', () => {
  it('takes medians over rounds, the largest RSS, and p99.9 from the hook', () => {
    const s = summarizeSuite(record('forward/portcullis', [run(1, 30_000),
      run(2, 36_000, { p999Us: 12_000 }, 120e6), run(3, 33_000)]), () => 0.02);
    assert.equal(s?.reqPerSec, 33_000);
    assert.equal(s?.reqPerSecMin, 30_000);
    assert.equal(s?.p999Us, 9_000);
    assert.equal(s?.peakRssBytes, 120e6);
    assert.equal(s?.othersMax, 0.02);
    assert.equal(s?.invalid, undefined);
  });

  it('marks refusals and used-up unique tokens invalid: a fast 401 must not look fast', () => {
    const refused = summarizeSuite(record('a', [run(1, 9e4, { non2xx: 3 })]), () => 0);
    assert.match(refused?.invalid ?? '', /3 non-2xx/);
    const exhausted = summarizeSuite(record('b', [{ ...run(1, 1e4), tokensAvailable: 10 }]),
      () => 0);
    assert.match(exhausted?.invalid ?? '', /used up their unique tokens/);
  });

  it('has no p99.9 (NaN, never 0) when no run carried the hook', () => {
    const s = summarizeSuite(record('a', [run(1, 1e4, { p999Us: undefined })]), () => 0);
    assert.ok(Number.isNaN(s?.p999Us));
  });

  it('computes median ratios and refuses to compare with an invalid side', () => {
    assert.equal(medianRatio([2, 9, 3], [1, 3, 1]), 3);
    assert.ok(Number.isNaN(medianRatio([1], [1, 2])), 'unpaired series');
    const ok = summary('x', 100);
    assert.deepEqual(rateRatio(ok, summary('y', 50), ['x', 'y']), { ratio: 2 });
    assert.deepEqual(rateRatio(ok, undefined, ['x', 'y']), { why: 'y was not measured' });
  });

  it('judges the issue\'s targets and says by how much a miss is', () => {
    const verdicts = judgeSuite([
      summary('forward/portcullis', 40_000),
      summary('authz/cached target=portcullis', 30_000, 5_000, 140e6),
      summary('authz/cached target=haproxy', 20_000, 6_000),
      summary('authz/cached target=fastify', 5_000, 90_000),
      summary('authz/unique target=portcullis', 8_000, 40_000, 230e6),
      summary('authz/unique target=haproxy', 16_000),
    ]);
    const line = (start: string) => verdicts.find((v) => v.target.startsWith(start))?.line ?? '';
    // 30k / 40k = 0.75x against 0.90x: needs 36k, misses by 1 - 30/36 = 16.7%.
    assert.match(line('cached JWT'), /^FAIL .* 0\.75x .*misses by 16\.7% \(needs 36\.0k/);
    assert.match(line('the same >= 2x'), /^FAIL .*1\.50x/);
    assert.match(line('the same >= 5x'), /^PASS .*6\.00x/);
    assert.match(line('the same p99 <= HAProxy'), /^PASS/);
    assert.match(line('unique RS256'), /^FAIL .*0\.50x/);
    assert.match(line('peak RSS'),
      /^FAIL .*authz\/unique target=portcullis 230\.0 MB; over by 80\.0 MB/);
  });

  it('counts as "could not run" a target without runs, but not one that is not built yet', () => {
    const draft = {
      loadResult: { records: [
        record('multicore/forward threads=2', [], { unavailable: 'not built yet' }),
        record('authz/cached target=haproxy', [], { error: 'haproxy: not found' }),
        record('forward/portcullis', [run(1, 1e4)]),
      ] },
      micro: { verify: { command: [], env: {}, seconds: 1, rows: [], notes: [], error: 'exit 1' } },
    } as unknown as Parameters<typeof collectFailures>[0];
    assert.deepEqual(collectFailures(draft), ['authz/cached target=haproxy: haproxy: not found',
      'micro verify: exit 1']);
  });

  it('reads "serve --threads" refused as a usage error as not available, nothing else', () => {
    const usage = 'Portcullis exited (2): `node bin/portcullis.js serve --config x --threads 2`\n'
      + '--- its output ---\nportcullis: unknown option for serve: "--threads"\n\nUsage: ...';
    assert.match(threadsUnavailable(usage) ?? '', /not built yet/);
    assert.equal(threadsUnavailable('Portcullis exited (1): `serve --threads 2`\nIAM_CONFIG'),
      undefined, 'a crash with the flag accepted is an error, not "not available"');
  });
});
