import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';

import { countRules } from '../../bench/suite/authz-bundle.js';
import { parseAuthzTable, parseVerifyJson } from '../../bench/suite/micro-runs.js';
import { generatePolicy } from '../../bench/micro/authz/policy-gen.js';
import { benchPolicyYaml, kAuthzPolicy } from '../../bench/scenarios-suite.js';

/** The table decide-side-by-side.bench.ts prints, with the lines around it. */
const kSideBySide = `authz/decide rules=50: allows per engine portcullis wasm=547, casbin enforceSync=547
node v20.20.2, Intel(R) Xeon(R) Processor x2

| scenario | engine | median µs | p99 µs | samples | rme % |
|---|---|---:|---:|---:|---:|
| authz/decide rules=50 | portcullis wasm | 0.460 | 0.577 | 1070 | 0.62 |
| authz/decide rules=50 | casbin enforceSync | 152.004 | 469.120 | 3121 | 0.94 |
| authz/decide rules=1000 | portcullis wasm (again) | 0.505 | 0.638 | 967 | 0.64 |
sink 123
`;

describe('bench-support/micro-output', () => {
  it('reads every row of the side-by-side table, engine names with spaces included', () => {
    assert.deepEqual(parseAuthzTable(kSideBySide), [
      { name: 'authz/decide rules=50 engine=portcullis wasm', medianUs: 0.46, p99Us: 0.577,
        samples: 1070, rmePct: 0.62 },
      { name: 'authz/decide rules=50 engine=casbin enforceSync', medianUs: 152.004,
        p99Us: 469.12, samples: 3121, rmePct: 0.94 },
      { name: 'authz/decide rules=1000 engine=portcullis wasm (again)', medianUs: 0.505,
        p99Us: 0.638, samples: 967, rmePct: 0.64 },
    ]);
  });

  it('reads nothing from output without the table (a crashed child)', () => {
    assert.deepEqual(parseAuthzTable('RuntimeError: unreachable\n'), []);
  });

  it('reads the verify bench\'s JSON line among other output', () => {
    const row = { name: 'authn/verify alg=RS256 pool engine=node', medianUs: 32.9, p99Us: 97,
      rmePct: 3.4, samples: 421, mainThreadUs: 13.2 };
    const out = `warming up\n${JSON.stringify({ batch: 64, poolThreads: 2, rows: [row] })}\n`;
    assert.deepEqual(parseVerifyJson(out), [row]);
    assert.deepEqual(parseVerifyJson('no json here'), []);
  });

  it('counts the rules of the bench policy: the generated ones, their denies, and ours', () => {
    const generated = generatePolicy(kAuthzPolicy.generatedRules, 0, kAuthzPolicy.seed).yaml;
    // 47 allow rules, a deny override for rules 0 and 25, and the bench rule: 50.
    assert.equal(countRules([generated, benchPolicyYaml()]), 50);
    assert.equal(countRules([benchPolicyYaml()]), 1);
  });
});
