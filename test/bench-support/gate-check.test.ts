import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { kGateFloors } from '../../bench/ci/floors.js';
import { type GateFloor, judgeGate, ratiosPerRound } from '../../bench/ci/gate-check.js';
import { injectionFor, readInjection } from '../../bench/ci/injection.js';

const kFloor: GateFloor = { name: 'micro/x speed', ratio: 'a over b', floor: 0.8,
  chosen: 'test' };

describe('bench-support/gate-check', () => {
  it('pairs rounds one to one and drops rounds that cannot give a ratio', () => {
    assert.deepEqual(ratiosPerRound([2, 3, 4], [1, 1, 2]), [2, 3, 2]);
    // A zero or NaN denominator is a round that did not measure, not an infinite ratio.
    assert.deepEqual(ratiosPerRound([2, 3, Number.NaN], [0, 1, 2]), [3]);
    assert.deepEqual(ratiosPerRound([1, 2, 3], [1]), [1], 'only rounds both sides have');
  });

  const cases: Array<{ why: string; rounds: number[]; pass: boolean; median: number }> = [
    { why: 'a median at the floor passes', rounds: [0.8, 0.5, 0.9], pass: true, median: 0.8 },
    { why: 'one bad round out of three does not fail a healthy run', rounds: [0.95, 0.2, 1],
      pass: true, median: 0.95 },
    { why: 'twice the cost halves the ratio: below the floor', rounds: [0.45, 0.5, 0.48],
      pass: false, median: 0.48 },
    { why: 'an even count takes the mean of the middle two', rounds: [0.7, 0.9, 1, 0.6],
      pass: true, median: 0.8 },
  ];
  for (const c of cases) {
    it(c.why, () => {
      const [verdict] = judgeGate([kFloor], new Map([[kFloor.name, c.rounds]]));
      assert.equal(verdict?.pass, c.pass);
      assert.ok(Math.abs((verdict?.median ?? Number.NaN) - c.median) < 1e-9);
      assert.match(verdict?.line ?? '', c.pass ? /^PASS / : /^FAIL .*below floor 0\.8 by 40\.0%$/);
    });
  }

  it('fails a floor that nothing measured, with the reason when one is known', () => {
    const [plain] = judgeGate([kFloor], new Map());
    assert.equal(plain?.pass, false);
    assert.match(plain?.line ?? '', /not measured/);
    const [why] = judgeGate([kFloor], new Map(), new Map([[kFloor.name, 'wrk missing']]));
    assert.match(why?.line ?? '', /wrk missing/);
  });

  it('commits floors with unique names, a positive value and how each was chosen', () => {
    const names = new Set(kGateFloors.map((f) => f.name));
    assert.equal(names.size, kGateFloors.length);
    for (const f of kGateFloors) {
      assert.ok(f.floor > 0 && f.floor < 10, `${f.name}: a ratio floor`);
      assert.ok(f.chosen.length > 40, `${f.name}: says how it was chosen`);
    }
  });

  it('reads the injected slowdown from flags first, then the environment', () => {
    const env = { PORTCULLIS_BENCH_INJECT_REPEAT: '3', PORTCULLIS_BENCH_INJECT_BUSY_US: '7' };
    assert.deepEqual(readInjection({}, env), { repeat: 3, busyUs: 7 });
    assert.deepEqual(readInjection({ repeat: '2' }, env), { repeat: 2, busyUs: 7 });
    assert.deepEqual(readInjection({}, {}), { repeat: 1, busyUs: 0 });
    assert.throws(() => readInjection({ repeat: '0' }, {}), 'no work at all is not a slowdown');
    assert.throws(() => readInjection({ busyUs: '1.5' }, {}));
  });

  it('loads the preload only when something is injected', () => {
    assert.deepEqual(injectionFor({ repeat: 1, busyUs: 0 }), { nodeArgs: [], env: {} });
    const on = injectionFor({ repeat: 2, busyUs: 0 });
    assert.equal(on.nodeArgs[0], '--import');
    assert.match(on.nodeArgs[1] ?? '', /inject-preload\.js$/);
    assert.equal(on.env['PORTCULLIS_BENCH_INJECT_REPEAT'], '2');
  });
});
