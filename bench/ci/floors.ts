/**
 * The committed floors of `npm run bench:ci` (bench/ci/gate.ts). Each is a ratio measured in one
 * run against a yardstick of the same run, higher is better; the gate fails when a run's median
 * falls below the floor. Change a floor only with the measurements that justify it, written in
 * `chosen`.
 *
 * Where the figures come from: five healthy runs of the gate on the 2-core development VM
 * (Intel Xeon, Node 20.20, 2026-12-04) while another engineer's test suite shared the machine,
 * and injected runs (`--inject-repeat 2`, `--inject-busy-us 10`) recorded in
 * bench/results/ci-gate-2026-12-04-injected-*.md. "2x" below means the auth path costing twice
 * as much: at function level (decide and the cached authentication each done twice) for the
 * micro ratios, and end to end (Portcullis's extra CPU per request for the token and the
 * policy, about 9-10 µs here, doubled) for the load ratios.
 */
import type { GateFloor } from './gate-check.js';

/** The floors, in the order the gate prints them. */
export const kGateFloors: readonly GateFloor[] = [
  {
    name: 'e2e/authz-over-noauth rate',
    ratio: 'req/s of Portcullis with a cached RS256 token + the 50-rule policy, over req/s of '
      + 'Portcullis without authentication (same upstream, same wrk load, adjacent runs)',
    floor: 0.45,
    chosen: 'healthy medians 0.63-0.83 (single pairs 0.57-0.96: req/s moves with the load '
      + 'core, so this is the noisier of the two load ratios); floor 29% under the lowest '
      + 'median. Catches gross regressions (every request verified in the pool: ~0.25), not a '
      + '2x auth path (~0.55), which the cpu ratio and the micro ratios catch.',
  },
  {
    name: 'e2e/authz-over-noauth cpu',
    ratio: 'CPU µs per request of Portcullis without authentication, over that of Portcullis '
      + 'with the cached token + policy (process CPU from /proc)',
    floor: 0.6,
    chosen: 'healthy medians 0.715-0.768 (single pairs 0.657-0.784); floor 16% under the '
      + 'lowest median. A 2x auth path end to end (+10 µs on ~34 µs) gives about 0.57: FAIL.',
  },
  {
    name: 'micro/wasm-decide speed',
    ratio: 'time of the baseline loop (baseline-loop.ts), over time of one PolicyEngine.decide '
      + '(1,000 generated rules, request encoding included)',
    floor: 0.8,
    chosen: 'healthy medians 1.15-1.24 (single rounds 1.11-1.81); floor 30% under the lowest '
      + 'median, room for another CPU weighing wasm and JS differently. 2x decide gives about '
      + '0.6: FAIL; anything slower than about 1.45x fails.',
  },
  {
    name: 'micro/cached-authn speed',
    ratio: 'time of the baseline loop, over time of authenticating a cached RS256 token '
      + '(Authenticator.authenticate, claims checked)',
    floor: 0.38,
    chosen: 'healthy medians 0.526-0.589 (single rounds 0.51-0.78); floor 28% under the lowest '
      + 'median. 2x authenticate gives about 0.28: FAIL; slower than about 1.4x fails.',
  },
];
