/**
 * The CI gate's report: the data written as JSON to bench/results/ci-gate-<date>[-injected].json
 * and its Markdown (printed, and written beside it).
 */
import { fmtRate } from '../e2e/forwarding-summary.js';
import type { MachineFacts } from '../e2e/machine.js';
import type { SuiteRecord } from '../suite/rotation.js';
import type { GateMicroRound } from './gate-micro.js';
import type { GateVerdict } from './gate-check.js';
import type { Injection } from './injection.js';

/** One `npm run bench:ci`. */
export interface GateReport {
  startedAt: string;
  durationSeconds: number;
  invocation: string;
  machine: MachineFacts;
  injection: Injection;
  /** Pairs of adjacent load runs (no-auth, authz), and their length. */
  load: { pairs: number; seconds: number; warmupSeconds: number; wrkCommand: string[] };
  records: SuiteRecord[];
  micro: { command: string[]; rounds: GateMicroRound[]; error?: string };
  verdicts: GateVerdict[];
  /** Why something could not be measured, when it could not (the gate fails). */
  errors: string[];
  /** What was left out without failing the gate (a pair with non-2xx answers). */
  warnings: string[];
}

/** The report as Markdown. */
export function renderGateMarkdown(report: GateReport): string {
  const m = report.machine;
  const injected = report.injection.repeat > 1 || report.injection.busyUs > 0;
  const passed = report.verdicts.every((v) => v.pass) && report.errors.length === 0;
  const lines = [
    `# CI benchmark gate, ${report.startedAt.slice(0, 10)}: ${passed ? 'PASS' : 'FAIL'}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (${m.cpusAvailable} available), Node ${m.node}. `
      + `Invoked as \`${report.invocation}\`; took ${report.durationSeconds.toFixed(0)} s.`,
    injected ? `**Injected slowdown**: every decision and cached authentication done `
      + `${report.injection.repeat} times, plus ${report.injection.busyUs} µs of spinning per `
      + 'decision, in the authz Portcullis and the micro-benchmark child (bench/ci/injection.ts).'
      : 'No injected slowdown.',
    '',
    '| gate | median | per round | floor | verdict | ratio of |',
    '|---|---:|---|---:|---|---|',
    ...report.verdicts.map((v) => `| ${v.name} | ${Number.isNaN(v.median) ? '-'
      : v.median.toFixed(3)} | ${v.perRound.map((r) => r.toFixed(3)).join(', ')} | ${v.floor} `
      + `| ${v.pass ? 'PASS' : 'FAIL'} | ${v.ratio} |`),
    '',
    ...report.verdicts.map((v) => `- ${v.line}`),
    ...report.errors.map((e) => `- could not measure: ${e.split('\n')[0]}`),
    ...report.warnings.map((w) => `- warning: ${w}`),
    '',
    `Load: \`${report.load.wrkCommand.join(' ')}\`, ${report.load.pairs} pairs, each run after a `
      + `${report.load.warmupSeconds} s warm-up, the pair's order alternating.`,
    '',
    '| target | round | req/s | CPU µs/req | p99 µs | non-2xx |',
    '|---|---:|---:|---:|---:|---:|',
    ...report.records.flatMap((r) => r.runs.map((run) => `| ${r.name} | ${run.round} `
      + `| ${fmtRate(run.wrk.reqPerSec)} | ${run.cpuUsPerRequest.toFixed(1)} | ${run.wrk.p99Us} `
      + `| ${run.wrk.non2xx} |`)),
    '',
    `Micro-benchmark: \`${report.micro.command.join(' ')}\`, µs per call by round:`,
    '',
    '| round | baseline loop | wasm decide | cached authn |',
    '|---:|---:|---:|---:|',
    ...report.micro.rounds.map((r, i) => `| ${i + 1} | ${r.baselineUs.toFixed(3)} `
      + `| ${r.wasmDecideUs.toFixed(3)} | ${r.cachedAuthnUs.toFixed(3)} |`),
    '',
    ...report.records.filter((r) => r.command.length > 0)
      .map((r) => `- ${r.name}: \`${r.command.join(' ')}\``),
  ];
  return `${lines.join('\n')}\n`;
}
