/**
 * Loaded with `node --import` into a measured process when the CI gate injects a slowdown
 * (injection.ts): wraps `PolicyEngine.prototype.decide` and `Authenticator.prototype.authenticate`
 * of the very modules the proxy imports (same file URLs, so the same module instances). Worker
 * threads inherit the flag but decide and authenticate nothing, so they skip it. Bench code
 * only; the proxy never loads it unless told to on its command line.
 */
import { isMainThread } from 'node:worker_threads';

import { kInjectBusyUsEnv, kInjectRepeatEnv, readInjection } from './injection.js';

function spin(us: number): void {
  const end = performance.now() + us / 1000;
  while (performance.now() < end) {
    // Busy on purpose: the injected cost is CPU time on the request path.
  }
}

async function install(): Promise<void> {
  const { repeat, busyUs } = readInjection({}, process.env);
  const { Authenticator } = await import('../../src/authn/index.js');
  const { PolicyEngine } = await import('../../src/authz/index.js');

  const decide = PolicyEngine.prototype.decide;
  PolicyEngine.prototype.decide = function decideSlowly(this: InstanceType<typeof PolicyEngine>,
    req) {
    let decision = decide.call(this, req);
    for (let i = 1; i < repeat; i++) decision = decide.call(this, req);
    if (busyUs > 0) spin(busyUs);
    return decision;
  };

  const authenticate = Authenticator.prototype.authenticate;
  Authenticator.prototype.authenticate = function authenticateSlowly(
    this: InstanceType<typeof Authenticator>, header) {
    const result = authenticate.call(this, header);
    // Only the synchronous (cached) path repeats: a miss would submit the token twice.
    if (result instanceof Promise) return result;
    for (let i = 1; i < repeat; i++) authenticate.call(this, header);
    return result;
  };

  process.stderr.write(`bench: injected slowdown active (${kInjectRepeatEnv}=${repeat}, `
    + `${kInjectBusyUsEnv}=${busyUs})\n`);
}

if (isMainThread) await install();
