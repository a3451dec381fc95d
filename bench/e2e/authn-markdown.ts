/**
 * The authn bench's report: the data written as JSON, and its Markdown rendering (printed to
 * stdout and written next to the JSON in bench/results/). Same layout as the forwarding report:
 * headline tables, verdicts, noise warnings, commands, then every run.
 */
import type { AuthnFacts } from './authn-facts.js';
import type { CachedMicro } from './authn-micro.js';
import {
  type AuthnSummary, type TargetRecord, cachedDifference, fmtDifference, placementChoices,
} from './authn-summary.js';
import type { TokenSet } from './authn-tokens.js';
import {
  type TargetVerdict, fmtBytes, fmtMs, fmtPct, fmtRate, foreignLoad, kForeignLoadLimit,
} from './forwarding-summary.js';
import type { MachineFacts } from './machine.js';

/** Everything one invocation measured; serialized as-is to the .json file. */
export interface AuthnReport {
  startedAt: string;
  mode: 'full' | 'quick';
  machine: MachineFacts & AuthnFacts;
  pinning: { target: string; loadAndUpstream: string } | null;
  load: {
    threads: number; connections: number; seconds: number; rounds: number;
    warmupSeconds: number; cached: { seconds: number; rounds: number; warmupSeconds: number };
    maxReruns: number; wrkCommand: string[];
  };
  tokens: Omit<TokenSet, 'sample'>[];
  upstream: { command: string[]; conf: string };
  records: TargetRecord[];
  summaries: AuthnSummary[];
  micro?: CachedMicro;
  targets: TargetVerdict[];
}

/** Renders the report as Markdown. */
export function renderAuthnMarkdown(report: AuthnReport): string {
  const { machine: m, load } = report;
  const lines = [
    `# Authentication benchmark, ${report.startedAt.slice(0, 10)} (${report.mode}: `
      + `${load.rounds} round(s) x ${load.seconds} s; cached path ${load.cached.rounds} `
      + `round(s) x ${load.cached.seconds} s)`,
    '',
    `Machine: ${m.cpuModel}, ${m.cpus} CPUs (${m.cpusAvailable} available), ${m.kernel}, `
      + `Node ${m.node}, ${m.nginx}, HAProxy ${m.haproxy}, fastify ${m.fastify} + @fastify/jwt `
      + `${m.fastifyJwt} + @fastify/http-proxy ${m.fastifyHttpProxy}, wrk `
      + `${m.wrk.replace(/^wrk\s+/, '')}.`,
    report.pinning === null
      ? 'Pinning: none (fewer than two CPUs): the figures mix target, load and upstream.'
      : `Pinning: each target's whole process alone on CPU ${report.pinning.target} (taskset; `
        + 'for Portcullis that includes its Piscina threads and libuv\'s threads, where '
        + 'WebCrypto runs; HAProxy with `nbthread 1`); wrk and the upstream nginx on CPU '
        + `${report.pinning.loadAndUpstream}. Every target gets the same one core.`,
    `Load: \`${load.wrkCommand.join(' ')}\` after a ${load.warmupSeconds} s warm-up per run `
      + `(cached path: -d${load.cached.seconds}s after ${load.cached.warmupSeconds} s); rounds `
      + 'interleaved (the order rotates by one each round); medians across rounds. A run during '
      + `which others took more than ${fmtPct(kForeignLoadLimit)} of the target CPU is measured `
      + `again, up to ${load.maxReruns} times.`,
    `Tokens: ${report.tokens.map((t) => `${t.alg} ${t.runCount.toLocaleString('en-US')} `
      + `measured + ${t.warmCount.toLocaleString('en-US')} warm-up `
      + `(${t.isReused ? 'reused from bench/.cache' : `made in ${t.makeSeconds.toFixed(0)} s`})`)
      .join(', ')}, each distinct, valid until `
      + `${new Date((report.tokens[0]?.exp ?? 0) * 1000).toISOString()}.`,
    '',
    '## 1. Cached token',
    '',
    'One Portcullis process (default pool); the same load on a public route (without a token, '
      + 'and with the same header as the authenticated route) and on an authenticated route with '
      + 'one reused RS256 token (verified once, then answered by the verified-token cache, claims '
      + 'checked per request).',
    '',
    ...summaryTable(report.summaries.filter((s) => s.section === 'cached'), false),
    '',
    ...cachedLines(report),
    '',
    '## 2. Cold verification: every request a different token',
    '',
    'A fresh process per run (none sees a measured token twice); the wrk script sends the next '
      + 'token of a pre-made set with each request. Rows ending in `-2cores` are informational: '
      + 'the process may also use CPU 1 (what wrk and the upstream leave of it), so they are not '
      + 'comparable with the one-core peers; they show how pool and inline use a second core.',
    '',
  ];
  for (const alg of new Set(report.summaries.flatMap((s) => (s.alg === undefined ? [] : [s.alg])))) {
    lines.push(`### ${alg}`, '', ...summaryTable(report.summaries.filter((s) => s.alg === alg),
      true), '');
  }
  lines.push(
    'Inline against pool (default pool settings), by req/s:',
    '',
    ...placementChoices(report.summaries).map((c) => `- ${c.line}`),
    `- Shipped default of \`authn.pool.inlineAlgorithms\`: `
      + `\`[${report.machine.defaultInline.join(', ')}]\`.`,
    '',
    'Targets:',
    '',
    ...report.targets.map((v) => `- ${v.line}`),
    '',
    ...errorLines(report.records),
    ...noiseLines(report),
    'Commands:',
    '',
    `- upstream: \`${report.upstream.command.join(' ')}\``,
    ...report.records.map((r) => `- ${r.name}: `
      + (r.command.length === 0 ? '(not started)' : `\`${r.command.join(' ')}\``)),
    `- load, cached: \`${load.wrkCommand.join(' ')}\` plus `
      + '`-H "Authorization: Bearer <one RS256 token>"` on the authenticated route',
    '- load, cold: the same plus `-s unique-tokens.lua <url> -- <token file> /private/item` '
      + '(bench/e2e/wrk-token-script.ts)',
    ...(report.micro === undefined ? [] : [`- micro: \`${report.micro.command.join(' ')}\``]),
    '',
    ...runTable(report),
  );
  return `${lines.join('\n')}\n`;
}

function summaryTable(summaries: readonly AuthnSummary[], isCold: boolean): string[] {
  const peer = (s: AuthnSummary, target: string): string => {
    const other = summaries.find((o) => o.target === target);
    return other === undefined ? '-' : `${(s.reqPerSec / other.reqPerSec).toFixed(2)}x`;
  };
  const rows = summaries.map((s) => {
    const mark = s.invalid === undefined ? '' : ' (invalid)';
    const cells = [`${s.target ?? s.name}${mark}`, fmtRate(s.reqPerSec), fmtMs(s.p50Us),
      fmtMs(s.p99Us), s.cpuUsPerRequest.toFixed(1), fmtBytes(s.peakRssBytes)];
    if (isCold) cells.push(peer(s, 'haproxy'), peer(s, 'fastify'));
    cells.push(`${s.runs}: ${fmtRate(s.reqPerSecMin)}-${fmtRate(s.reqPerSecMax)}`);
    return `| ${cells.join(' | ')} |`;
  });
  const head = ['target', 'req/s', 'p50', 'p99', 'CPU µs/req', 'peak RSS',
    ...(isCold ? ['req/s vs haproxy', 'req/s vs fastify'] : []), 'runs: req/s range'];
  return [`| ${head.join(' | ')} |`, `|---|${head.slice(1).map(() => '---:').join('|')}|`,
    ...rows];
}

function cachedLines(report: AuthnReport): string[] {
  const diff = cachedDifference(report.records);
  const lines = [
    'CPU per request differences, paired by round (medians):',
    '',
    `- authenticated with the cached token minus public with the same header (what checking the `
      + `token costs, identity headers included): **${fmtDifference(diff.auth)}**`,
    `- authenticated minus public without a header (that plus carrying the header): `
      + fmtDifference(diff.carry),
    `- public measured twice (the noise floor): ${fmtDifference(diff.noise)}`,
  ];
  const micro = report.micro;
  if (micro !== undefined) {
    lines.push('', micro.error !== undefined ? `Micro-benchmark failed: ${micro.error}`
      : `Micro-benchmark \`${micro.name}\` (bearer extraction, cache lookup, key-set version, `
        + `every claim check; one thread on CPU ${report.pinning?.target ?? '-'}): `
        + `**${micro.medianUs.toFixed(2)} µs** median, mean ${micro.meanUs.toFixed(2)} µs, `
        + `p99 ${micro.p99Us.toFixed(2)} µs, ±${micro.rmePct.toFixed(1)}%, ${micro.samples} `
        + `samples of ${micro.callsPerSample} calls.`);
  }
  return lines;
}

function errorLines(records: readonly TargetRecord[]): string[] {
  const failed = records.filter((r) => r.error !== undefined);
  if (failed.length === 0) return [];
  return ['Errors:', '',
    ...failed.map((r) => `- ${r.name}: ${(r.error ?? '').split('\n').join('\n  ')}`), ''];
}

function targetCpu(report: AuthnReport): number | undefined {
  return report.pinning === null ? undefined : Number(report.pinning.target);
}

/** Warns when other processes took a noticeable share of the target CPU during some runs. */
function noiseLines(report: AuthnReport): string[] {
  const cpu = targetCpu(report);
  const runs = report.records.filter((r) => r.cpus === undefined).flatMap((r) => r.runs);
  const disturbed = runs.filter((run) => (foreignLoad(run, cpu) ?? 0) > kForeignLoadLimit);
  const rerun = runs.filter((run) => (run.discarded?.length ?? 0) > 0);
  const lines = rerun.length === 0 ? [] : [`${rerun.length} of ${runs.length} runs were measured `
    + `again because others took the target CPU (${rerun.reduce((n, r) => n + (r.discarded?.length
      ?? 0), 0)} attempts discarded, listed in the last column of "Every run").`, ''];
  if (disturbed.length === 0) return lines;
  return [...lines, `Warning: in ${disturbed.length} of ${runs.length} runs, other processes took `
    + `more than ${fmtPct(kForeignLoadLimit)} of the target CPU even after ${report.load.maxReruns} `
    + 'reruns (column "others on target CPU"): the machine was not quiet, and those figures '
    + 'understate the target. Rerun on a quiet machine.', ''];
}

function runTable(report: AuthnReport): string[] {
  const cpu = targetCpu(report);
  const runs = report.records.flatMap((record) => record.runs.map((run) => ({ record, run })));
  runs.sort((a, b) => (a.record.section === b.record.section ? 0
    : a.record.section === 'cached' ? -1 : 1) || a.run.round - b.run.round
    || a.run.position - b.run.position);
  return [
    'Every run:',
    '',
    '| round | target | req/s | p50 | p99 | CPU µs/req | CPUs busy | others on target CPU '
      + '| requests | tokens | non-2xx | socket errors | discarded before (req/s, others) |',
    '|---:|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---|---|',
    ...runs.map(({ record, run }) => {
      const e = run.wrk.socketErrors;
      const others = record.cpus === undefined ? foreignLoad(run, cpu) : undefined;
      return `| ${run.round} | ${record.name} | ${fmtRate(run.wrk.reqPerSec)} `
        + `| ${fmtMs(run.wrk.p50Us)} | ${fmtMs(run.wrk.p99Us)} | ${run.cpuUsPerRequest.toFixed(1)} `
        + `| ${run.cores.busy.map((f) => `${Math.round(f * 100)}%`).join(' ')} `
        + `| ${others === undefined ? '-' : `${Math.round(others * 100)}%`} `
        + `| ${run.wrk.requests} | ${run.tokensAvailable ?? '-'} | ${run.wrk.non2xx} `
        + `| c${e.connect} r${e.read} w${e.write} t${e.timeout} `
        + `| ${(run.discarded ?? []).map((d) => `${fmtRate(d.reqPerSec)}, `
          + `${Math.round(d.othersShare * 100)}%`).join('; ') || '-'} |`;
    }),
  ];
}
