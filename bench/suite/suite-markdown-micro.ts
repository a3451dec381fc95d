/**
 * The suite report's micro-benchmark sections (policy engines; JWT verification next to
 * `openssl speed`) and its list of exact commands.
 */
import { kAuthzPolicy } from '../scenarios-suite.js';
import type { MicroResult, MicroRow } from './micro-runs.js';
import type { SuiteReport } from './suite-report.js';

/** The micro-benchmark sections, each with its command. */
export function microSections(report: SuiteReport): string[] {
  return [...authzSection(report.micro.authz), ...verifySection(report)];
}

function authzSection(micro: MicroResult | undefined): string[] {
  if (micro === undefined) return [];
  const head = ['## Policy engines (micro)', '', 'Per decision over 1,000 generated requests, the '
    + 'same policy for every engine (bench/micro/authz/policy-gen.ts); WASM includes encoding '
    + 'the request. "WASM again" is the same task twice: the noise floor.', ''];
  if (micro.error !== undefined) return [...head, `Not measured: ${firstLine(micro.error)}`, ''];
  const wasm = new Map(micro.rows.filter((r) => r.name.endsWith('engine=portcullis wasm'))
    .map((r) => [rulesOf(r), r.medianUs]));
  return [
    ...head,
    '| rules | engine | median µs | p99 µs | x WASM | samples | rme % |',
    '|---:|---|---:|---:|---:|---:|---:|',
    ...micro.rows.map((r) => {
      const base = wasm.get(rulesOf(r));
      const ratio = base === undefined ? '-' : `${(r.medianUs / base).toFixed(r.medianUs / base
        >= 10 ? 0 : 2)}x`;
      return `| ${rulesOf(r).toLocaleString('en-US')} | ${r.name.split(' engine=')[1] ?? r.name} `
        + `| ${fmtUs(r.medianUs)} | ${fmtUs(r.p99Us)} | ${ratio} | ${r.samples} `
        + `| ${r.rmePct.toFixed(2)} |`;
    }),
    '',
    ...micro.notes.map((n) => `- ${n}`),
    '',
  ];
}

function verifySection(report: SuiteReport): string[] {
  const micro = report.micro.verify;
  const ossl = report.openssl;
  if (micro === undefined && ossl === undefined) return [];
  const lines = ['## JWT verification (micro), next to openssl speed', '',
    'Per token with 64 tokens in flight (pool: Piscina, batches of 16, as the proxy\'s pool; '
      + 'inline: on the main thread), and the main thread\'s busy time per token. HS256 is '
      + 'bench-only code: Portcullis refuses HMAC tokens by design. The child runs on CPU 0 '
      + 'alone, pool threads included. openssl: `openssl speed` on CPU 0, µs = 1 / rate.', ''];
  if (micro?.error !== undefined) {
    lines.push(`Micro-benchmark not measured: ${firstLine(micro.error)}`, '');
  }
  if (ossl?.error !== undefined) lines.push(`openssl speed not measured: ${firstLine(ossl.error)}`,
    '');

  const opensslUs: Record<string, [string, number]> = {
    RS256: ['rsa2048 verify', ossl?.rsa2048VerifyPerSec ?? Number.NaN],
    ES256: ['ecdsap256 verify', ossl?.ecdsaP256VerifyPerSec ?? Number.NaN],
    EdDSA: ['ed25519 verify', ossl?.ed25519VerifyPerSec ?? Number.NaN],
    HS256: [`hmac(sha256) ${ossl?.hmacBytes ?? 300} bytes`, ossl?.hmacSha256PerSec ?? Number.NaN],
  };
  lines.push('| alg | how | µs per token | p99 µs | main-thread µs | samples |',
    '|---|---|---:|---:|---:|---:|');
  for (const alg of ['RS256', 'ES256', 'EdDSA', 'HS256']) {
    for (const r of (micro?.rows ?? []).filter((x) => x.name.includes(`alg=${alg} `))) {
      lines.push(`| ${alg} | ${r.name.split(`alg=${alg} `)[1] ?? r.name} | ${fmtUs(r.medianUs)} `
        + `| ${fmtUs(r.p99Us)} | ${fmtUs(r.mainThreadUs ?? Number.NaN)} | ${r.samples} |`);
    }
    const [what, perSec] = opensslUs[alg] as [string, number];
    lines.push(`| ${alg} | openssl ${what}: ${Number.isNaN(perSec) ? '-' : `${Math.round(perSec)
      .toLocaleString('en-US')}/s`} | ${fmtUs(1e6 / perSec)} | | | |`);
  }
  lines.push('');
  return lines;
}

/** The exact commands of the run: servers, load, policy CLI, micro-benchmarks, openssl. */
export function commandLines(report: SuiteReport): string[] {
  const load = report.loadResult;
  const lines = ['## Commands', '', `- suite: \`${report.invocation}\``];
  if (load !== undefined) {
    lines.push(`- upstream: \`${load.upstream.command.join(' ')}\``);
    for (const record of load.records) {
      lines.push(`- ${record.name}: ${record.command.length === 0 ? '(not started)'
        : `\`${record.command.join(' ')}\``}`);
    }
    lines.push(`- load: \`${load.wrkCommand.join(' ')}\` (unique tokens: \`-s `
      + `unique-tokens.lua <url> -- <token file> ${kAuthzPolicy.path}\`)`);
    for (const argv of load.bundle.commands) lines.push(`- policy: \`${argv.join(' ')}\``);
    lines.push(`- tokens: ${load.tokens.runCount.toLocaleString('en-US')} measured and `
      + `${load.tokens.warmCount.toLocaleString('en-US')} warm-up RS256 tokens, key `
      + `${load.tokens.kid}${load.tokens.isReused ? ' (reused from bench/.cache)' : ''}`);
  }
  for (const micro of Object.values(report.micro)) {
    if (micro === undefined) continue;
    const env = Object.entries(micro.env).map(([k, v]) => `${k}=${v} `).join('');
    lines.push(`- micro: \`${env}${micro.command.join(' ')}\` (${micro.seconds.toFixed(0)} s)`);
  }
  for (const argv of report.openssl?.commands ?? []) lines.push(`- openssl: \`${argv.join(' ')}\``);
  lines.push('', ...configBlocks(report), '');
  return lines;
}

function configBlocks(report: SuiteReport): string[] {
  const seen = new Set<string>();
  const blocks: string[] = [];
  for (const record of report.loadResult?.records ?? []) {
    const name = record.name.replace(/^authz\/(cached|unique) /, 'authz ');
    if (record.conf === '' || record.conf.startsWith('(see') || seen.has(name)) continue;
    seen.add(name);
    blocks.push(`<details><summary>${name}: config</summary>`, '', '```', record.conf.trim(),
      '```', '', '</details>', '');
  }
  return blocks;
}

function rulesOf(row: MicroRow): number {
  return Number(/rules=(\d+)/.exec(row.name)?.[1] ?? Number.NaN);
}

function fmtUs(us: number): string {
  if (!Number.isFinite(us)) return '-';
  return us >= 100 ? us.toFixed(0) : us >= 1 ? us.toFixed(1) : us.toFixed(3);
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? text;
}
