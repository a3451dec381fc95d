/**
 * The CI gate's known slowdown, to show that the gate fails when the auth path gets slower.
 * `npm run bench:ci -- --inject-repeat N --inject-busy-us U` (or the environment variables
 * below) loads inject-preload.ts into the measured processes (the authz Portcullis and the
 * gate's micro-benchmark child, never the no-auth baseline): every `PolicyEngine.decide` and
 * every synchronous (cached) `Authenticator.authenticate` does its work N times, and every
 * decision also spins U µs. N = 2 is "the auth path costs twice as much".
 */
import { fileURLToPath } from 'node:url';

/** Environment variable the preload reads: how many times each call does its work (>= 1). */
export const kInjectRepeatEnv = 'PORTCULLIS_BENCH_INJECT_REPEAT';
/** Environment variable the preload reads: µs of spinning added to every decision (>= 0). */
export const kInjectBusyUsEnv = 'PORTCULLIS_BENCH_INJECT_BUSY_US';

/** An injected slowdown; `repeat` 1 and `busyUs` 0 is none. */
export interface Injection {
  repeat: number;
  busyUs: number;
}

/** Reads and checks an injection (flags win over the environment); throws on a bad value. */
export function readInjection(flags: { repeat?: string; busyUs?: string },
  env: NodeJS.ProcessEnv): Injection {
  const repeat = Number(flags.repeat ?? env[kInjectRepeatEnv] ?? 1);
  const busyUs = Number(flags.busyUs ?? env[kInjectBusyUsEnv] ?? 0);
  if (!Number.isInteger(repeat) || repeat < 1 || repeat > 100) {
    throw new Error('the injected repeat must be an integer from 1 to 100');
  }
  if (!Number.isInteger(busyUs) || busyUs < 0 || busyUs > 10_000) {
    throw new Error('the injected busy time must be an integer from 0 to 10000 µs');
  }
  return { repeat, busyUs };
}

/** Whether anything is injected. */
export function isInjecting(injection: Injection): boolean {
  return injection.repeat > 1 || injection.busyUs > 0;
}

/** Node flags and environment that load the preload into a child; empty when none. */
export function injectionFor(injection: Injection):
  { nodeArgs: string[]; env: Record<string, string> } {
  if (!isInjecting(injection)) return { nodeArgs: [], env: {} };
  const preload = fileURLToPath(new URL('./inject-preload.js', import.meta.url));
  return {
    nodeArgs: ['--import', preload],
    env: { [kInjectRepeatEnv]: String(injection.repeat),
      [kInjectBusyUsEnv]: String(injection.busyUs) },
  };
}
