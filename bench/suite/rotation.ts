/**
 * Measures a set of load targets against each other, round by round, the order rotating by one
 * each round (A B C, B C A, C A B) so drift on the machine falls on every target alike.
 *
 * A long-lived target is started and checked once, before the first round, and stopped after
 * the last; a fresh target (unique tokens) is started, checked, warmed, measured and stopped in
 * every run, so no measured token is one its process has seen. Each run waits for quiet CPUs and
 * is measured again once if others took the target core (authn-sections.ts `recordRun`).
 */
import { type RerunOptions, recordRun } from '../e2e/authn-sections.js';
import type { AuthnRun } from '../e2e/authn-summary.js';
import { measureRun } from '../e2e/measure.js';
import type { WrkOptions } from '../e2e/wrk.js';
import type { SuiteRotation, SuiteScenario, SuiteSection } from '../scenarios-suite.js';

/** A server a target runs; `stop` ends it and removes its temp files. */
export interface StartedServer {
  pid: number;
  port: number;
  command: string[];
  conf: string;
  stop(): Promise<void>;
}

/** What wrk sends to a started server: URL, headers, or a script (unique tokens). */
export type LoadShape = Pick<WrkOptions, 'url' | 'headers' | 'script'>;

/** One target, ready to start. */
export interface LoadTarget {
  scenario: SuiteScenario;
  /** taskset list when the target is not alone on the target core (multicore rows). */
  cpus?: string;
  start(): Promise<StartedServer>;
  /** The checks before load; undefined when they pass, else what is wrong. */
  check(server: StartedServer): Promise<string | undefined>;
  load(server: StartedServer, phase: 'warmup' | 'measured'): LoadShape;
  /** Unique tokens a measured run has; a run answering more requests is invalid. */
  tokensAvailable?: number;
  /** Classifies a start failure as "not available" (a feature not built yet), if it is one. */
  isUnavailable?(error: string): string | undefined;
}

/** Everything recorded for one target (serialized as-is into the suite's JSON). */
export interface SuiteRecord {
  name: string;
  summary: string;
  rotation: SuiteRotation;
  sections: readonly SuiteSection[];
  cpus?: string;
  command: string[];
  conf: string;
  runs: AuthnRun[];
  /** Set when the target could not start, answered wrong, or a run failed. */
  error?: string;
  /** Set instead of `error` when the feature the target needs is not built yet. */
  unavailable?: string;
}

/** Rounds, load and the disturbance rule of one rotation. */
export interface RotationOptions extends RerunOptions {
  rounds: number;
  wrkBase: WrkOptions;
  warmupSeconds: number;
  /** A new process per run (the `unique` rotation). */
  isFresh: boolean;
}

/** Measures `targets` for `opts.rounds` rounds; never rejects for one target's failure. */
export async function runRotation(targets: readonly LoadTarget[], opts: RotationOptions):
  Promise<SuiteRecord[]> {
  const records = targets.map((t): SuiteRecord => ({
    name: t.scenario.name, summary: t.scenario.summary, rotation: t.scenario.rotation,
    sections: t.scenario.sections, ...(t.cpus === undefined ? {} : { cpus: t.cpus }),
    command: [], conf: '', runs: [],
  }));
  const servers = new Map<number, StartedServer>();
  try {
    // 1. Long-lived targets: started and checked before any load.
    if (!opts.isFresh) {
      for (const [i, target] of targets.entries()) {
        const server = await startChecked(target, records[i] as SuiteRecord, opts.log);
        if (server !== undefined) servers.set(i, server);
      }
    }

    // 2. Rounds, rotating.
    for (let round = 1; round <= opts.rounds; round++) {
      for (let position = 0; position < targets.length; position++) {
        const i = (position + round - 1) % targets.length;
        const target = targets[i] as LoadTarget;
        const record = records[i] as SuiteRecord;
        const server = servers.get(i);
        if (record.error !== undefined || record.unavailable !== undefined) continue;
        if (!opts.isFresh && server === undefined) continue;
        opts.log(`${target.scenario.rotation}, round ${round}/${opts.rounds}: ${record.name}`);
        await recordRun(opts, record, round, position, () => (server === undefined
          ? freshRun(target, record, opts) : measured(target, server, opts)));
      }
    }
  } finally {
    for (const server of servers.values()) await server.stop();
  }
  return records;
}

/** Starts and checks `target`; on failure fills `record.error` or `unavailable`. */
async function startChecked(target: LoadTarget, record: SuiteRecord,
  log: (line: string) => void): Promise<StartedServer | undefined> {
  let server: StartedServer | undefined;
  try {
    server = await target.start();
    Object.assign(record, { command: server.command, conf: server.conf });
    const wrong = await target.check(server);
    if (wrong !== undefined) throw new Error(wrong);
    return server;
  } catch (err) {
    await server?.stop();
    const message = err instanceof Error ? err.message : String(err);
    const unavailable = target.isUnavailable?.(message);
    if (unavailable !== undefined) record.unavailable = unavailable;
    else record.error = message;
    log(`${record.name} ${unavailable === undefined ? 'cannot be measured' : 'is not available'}`
      + `: ${(unavailable ?? message).split('\n')[0]}`);
    return undefined;
  }
}

async function measured(target: LoadTarget, server: StartedServer, opts: RotationOptions):
  Promise<Omit<AuthnRun, 'round' | 'position'>> {
  const warmup = { ...opts.wrkBase, ...target.load(server, 'warmup'), seconds: opts.warmupSeconds };
  const run = await measureRun(server.pid, warmup, { ...opts.wrkBase,
    ...target.load(server, 'measured') });
  return target.tokensAvailable === undefined ? run
    : { ...run, tokensAvailable: target.tokensAvailable };
}

async function freshRun(target: LoadTarget, record: SuiteRecord, opts: RotationOptions):
  Promise<Omit<AuthnRun, 'round' | 'position'>> {
  const server = await target.start();
  try {
    Object.assign(record, { command: server.command, conf: server.conf });
    const wrong = await target.check(server);
    if (wrong !== undefined) throw new Error(wrong);
    return await measured(target, server, opts);
  } finally {
    await server.stop();
  }
}
