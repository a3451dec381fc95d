/**
 * The suite's report in Markdown: where it ran, the verdicts, one table per load section, the
 * micro-benchmarks (suite-markdown-micro.ts), the exact commands and every run.
 */
import {
  fmtBytes, fmtMs, fmtPct, fmtRate, foreignLoad, kForeignLoadLimit,
} from '../e2e/forwarding-summary.js';
import type { SuiteSection } from '../scenarios-suite.js';
import { commandLines, microSections } from './suite-markdown-micro.js';
import type { SuiteReport } from './suite-report.js';
import type { SuiteSummary } from './suite-summary.js';

/** Each load section: its title, what it means, and the row its ratio column compares with. */
const kSections: ReadonlyArray<{ id: SuiteSection; title: string; note: string; base: string }> = [
  { id: 'serving', title: 'Serving limit', base: 'forward/direct',
    note: 'What one core serves with no work per request; the single wrk thread caps both.' },
  { id: 'forwarding', title: 'Forwarding', base: 'forward/nginx-proxy',
    note: 'Every target forwards to the same nginx upstream (on the load core).' },
  { id: 'authz-cached', title: 'Edge authorization, one reused RS256 token',
    base: 'authz/cached target=portcullis', note: 'Every request carries the same token: '
      + 'Portcullis verifies it once and then answers from its cache; HAProxy and fastify '
      + 'verify it every time (neither caches). All three check a role/scope and the path.' },
  { id: 'authz-unique', title: 'Edge authorization, a new RS256 token per request',
    base: 'authz/unique target=portcullis', note: 'Every request a token the process has '
      + 'never seen (a fresh process per run): signature verification on every request.' },
  { id: 'decision', title: 'Decision only', base: 'forward/portcullis', note: 'The decision '
      + 'listener answering nginx `auth_request` checks (200, nothing forwarded).' },
  { id: 'multicore', title: 'Multi-core', base: 'multicore/forward threads=1', note: 'The '
      + 'process may use CPUs 0 and 1, and wrk and the upstream also run on CPU 1: load and '
      + 'target share a core, so these rows are not comparable with the one-core rows.' },
];

/** Renders the whole report. */
export function renderSuiteMarkdown(report: SuiteReport): string {
  const m = report.machine;
  const load = report.load;
  const pinning = report.loadResult?.pinning;
  const lines = [
    `# Benchmark suite, ${report.startedAt.slice(0, 10)} (${report.mode}: ${load.rounds} `
      + `round(s) x ${load.seconds} s${report.isPartial ? ', partial' : ''})`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (${m.cpusAvailable} available), ${m.kernel}. `
      + `Node ${m.node}; ${m.nginx}; wrk ${m.wrk.replace(/^wrk\s+/, '')}; HAProxy ${m.haproxy}; `
      + `fastify ${m.fastify}, @fastify/jwt ${m.fastifyJwt}, @fastify/http-proxy `
      + `${m.fastifyHttpProxy}; ${m.openssl}.`,
    pinning === undefined || pinning === null
      ? 'Pinning: none (fewer than two CPUs, or no load part).'
      : `Pinning: each target alone on CPU ${pinning.target} (\`taskset -c ${pinning.target}\`); `
        + `wrk and the nginx upstream on CPU ${pinning.loadAndUpstream}; multi-core rows on `
        + `CPUs ${pinning.multicore}.`,
    (load.wrkCommand.length === 0 ? 'Load: none (no load target ran). '
      : `Load: \`${load.wrkCommand.join(' ')}\` after a ${load.warmupSeconds} s warm-up per run; `
        + 'rounds rotate the order; medians over rounds. p99.9 from wrk\'s histogram through a '
        + 'Lua `done` hook. ')
      + `Invoked as \`${report.invocation}\`; took `
      + `${(report.durationSeconds / 60).toFixed(1)} min.`,
    '',
    '## Targets',
    '',
    ...report.targets.map((v) => `- ${v.line}`),
    '',
    ...failureLines(report),
    ...kSections.flatMap((section) => sectionTable(report, section)),
    ...microSections(report),
    ...commandLines(report),
    ...runTable(report),
  ];
  return `${lines.join('\n')}\n`;
}

function failureLines(report: SuiteReport): string[] {
  if (report.failures.length === 0) return [];
  return ['Could not run (the exit code is 1):', '',
    ...report.failures.map((f) => `- ${f}`), ''];
}

function sectionTable(report: SuiteReport, section: (typeof kSections)[number]): string[] {
  const records = (report.loadResult?.records ?? []).filter((r) => r.sections.includes(section.id));
  if (records.length === 0) return [];
  const byName = new Map(report.summaries.map((s) => [s.name, s]));
  const base = byName.get(section.base);
  const rows = records.map((record) => {
    const s = byName.get(record.name);
    if (record.unavailable !== undefined) return `| ${record.name} | not available: `
      + `${record.unavailable} | | | | | | | |`;
    if (s === undefined) {
      return `| ${record.name} | not measured: ${(record.error ?? 'no run').split('\n')[0]} `
        + '| | | | | | | |';
    }
    return row(s, base);
  });
  return [
    `## ${section.title}`,
    '',
    section.note,
    '',
    `| target | req/s | p50 | p99 | p99.9 | CPU µs/req | peak RSS | req/s vs ${section.base} `
      + '| runs: req/s range, most others on CPU 0 |',
    '|---|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
  ];
}

function row(s: SuiteSummary, base: SuiteSummary | undefined): string {
  const mark = s.invalid === undefined ? '' : ` (invalid: ${s.invalid})`;
  const ratio = base === undefined ? '-' : `${(s.reqPerSec / base.reqPerSec).toFixed(2)}x`;
  const others = s.othersMax > kForeignLoadLimit ? `, **${fmtPct(s.othersMax)}**`
    : `, ${fmtPct(s.othersMax)}`;
  return `| ${s.name}${mark} | ${fmtRate(s.reqPerSec)} | ${fmtMs(s.p50Us)} | ${fmtMs(s.p99Us)} `
    + `| ${Number.isNaN(s.p999Us) ? '-' : fmtMs(s.p999Us)} | ${s.cpuUsPerRequest.toFixed(1)} `
    + `| ${fmtBytes(s.peakRssBytes)} | ${ratio} | ${s.runs}: ${fmtRate(s.reqPerSecMin)}-`
    + `${fmtRate(s.reqPerSecMax)}${others} |`;
}

function runTable(report: SuiteReport): string[] {
  const records = report.loadResult?.records ?? [];
  const cpu = report.loadResult?.pinning === null || report.loadResult === undefined ? undefined
    : Number(report.loadResult.pinning.target);
  const runs = records.flatMap((record) => record.runs.map((run) => ({ record, run })));
  if (runs.length === 0) return [];
  return [
    '## Every run',
    '',
    '| rotation | round | target | req/s | p99 | p99.9 | CPU µs/req | CPUs busy | others on '
      + 'CPU 0 | requests | non-2xx | socket errors | measured again after |',
    '|---|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---|---|',
    ...runs.map(({ record, run }) => {
      const e = run.wrk.socketErrors;
      const others = record.cpus === undefined ? foreignLoad(run, cpu) : undefined;
      const again = (run.discarded ?? []).map((d) => `${fmtRate(d.reqPerSec)} `
        + `(${fmtPct(d.othersShare)} others)`).join('; ');
      return `| ${record.rotation} | ${run.round} | ${record.name} | ${fmtRate(run.wrk.reqPerSec)} `
        + `| ${fmtMs(run.wrk.p99Us)} `
        + `| ${run.wrk.p999Us === undefined ? '-' : fmtMs(run.wrk.p999Us)} `
        + `| ${run.cpuUsPerRequest.toFixed(1)} `
        + `| ${run.cores.busy.map((f) => `${Math.round(f * 100)}%`).join(' ')} `
        + `| ${others === undefined ? '-' : fmtPct(others)} | ${run.wrk.requests} `
        + `| ${run.wrk.non2xx} | c${e.connect} r${e.read} w${e.write} t${e.timeout} | ${again} |`;
    }),
    '',
  ];
}
