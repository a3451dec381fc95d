/**
 * The suite's report as data: everything one `npm run bench` measured and how, serialized as-is
 * to bench/results/suite-<date>[-quick][-partial].json and rendered to Markdown beside it.
 */
import type { AuthnFacts } from '../e2e/authn-facts.js';
import type { TargetVerdict } from '../e2e/forwarding-summary.js';
import type { MachineFacts } from '../e2e/machine.js';
import type { MicroResult } from './micro-runs.js';
import type { OpensslSpeed } from './openssl-speed.js';
import type { LoadResult } from './load-sections.js';
import type { SuiteSummary } from './suite-summary.js';

/** One invocation of the suite. */
export interface SuiteReport {
  /** ISO 8601 times and the wall time between them. */
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  mode: 'full' | 'quick';
  /** `--only` was given: some targets were left out on purpose. */
  isPartial: boolean;
  /** How the suite was invoked (`npm run bench -- ...` arguments). */
  invocation: string;
  machine: MachineFacts & AuthnFacts & { openssl: string };
  load: {
    threads: number; connections: number; seconds: number; rounds: number;
    warmupSeconds: number; maxReruns: number; wrkCommand: string[];
  };
  /** Left undefined when the load part did not run (`--only` without load targets). */
  loadResult?: LoadResult;
  summaries: SuiteSummary[];
  micro: { authz?: MicroResult; verify?: MicroResult };
  openssl?: OpensslSpeed;
  targets: TargetVerdict[];
  /**
   * Scenarios that could not run at all (a target that never measured, a micro-benchmark or
   * openssl that failed): these, and only these, make the exit code 1.
   */
  failures: string[];
}

/** Lists what could not run at all (see `SuiteReport.failures`). */
export function collectFailures(report: Omit<SuiteReport, 'failures'>): string[] {
  const failures: string[] = [];
  for (const record of report.loadResult?.records ?? []) {
    if (record.unavailable === undefined && record.runs.length === 0) {
      failures.push(`${record.name}: ${(record.error ?? 'no run').split('\n')[0]}`);
    }
  }
  for (const [name, micro] of Object.entries(report.micro)) {
    if (micro?.error !== undefined) {
      failures.push(`micro ${name}: ${micro.error.split('\n')[0]}`);
    }
  }
  if (report.openssl?.error !== undefined) {
    failures.push(`openssl speed: ${report.openssl.error.split('\n')[0]}`);
  }
  return failures;
}
