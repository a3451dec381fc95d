/**
 * The policy commands: compile, sign, test, explain. Each returns an exit code: 0 success,
 * 1 the policy has errors or a test case failed, 2 a usage error (raised by args.ts).
 * Output goes to the given streams so tests can read it.
 */
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadEvaluator, PolicyEngine, pathSegments, principalRoles, whyNot } from '../authz/index.js';
import {
  type CompiledPolicy, compilePolicy, decodeBundle, formatDiagnostic, PolicyCompileError,
  readPolicyDir, signBundle,
} from '../policy/index.js';
import { CaseFileError, parseCases, type PolicyCase } from './policy-cases.js';

/** Where a command writes. */
export interface Output {
  out(text: string): void;
  err(text: string): void;
}

/** Compiles `dir` in memory, printing diagnostics; undefined when it has errors. */
async function compileDir(dir: string, o: Output, createdAtMs: number, compiler: string,
  policyVersion?: number): Promise<CompiledPolicy | undefined> {
  let files;
  try {
    files = await readPolicyDir(dir);
  } catch (err) {
    o.err(`portcullis: cannot read policy directory ${dir}: ${(err as Error).message}\n`);
    return undefined;
  }
  try {
    const compiled = compilePolicy(files, { createdAtMs, compiler, policyVersion });
    for (const d of compiled.diagnostics) o.err(`${formatDiagnostic(d)}\n`);
    return compiled;
  } catch (err) {
    if (!(err instanceof PolicyCompileError)) throw err;
    for (const d of err.diagnostics) o.err(`${formatDiagnostic(d)}\n`);
    const n = err.diagnostics.filter((d) => d.severity === 'error').length;
    o.err(`portcullis: IAM_POLICY_COMPILE_FAILED: ${n} error(s) in ${dir}\n`);
    return undefined;
  }
}

/** `portcullis compile DIR -o BUNDLE`. */
export async function runCompile(opts: { dir: string; out: string; createdAtMs: number;
  policyVersion: number | undefined; compiler: string }, o: Output): Promise<number> {
  const started = performance.now();
  const compiled = await compileDir(opts.dir, o, opts.createdAtMs, opts.compiler, opts.policyVersion);
  if (compiled === undefined) return 1;
  await writeFile(opts.out, compiled.bytes);
  const ms = (performance.now() - started).toFixed(0);
  o.out(`${opts.out}: policy version ${compiled.meta.policyVersion}, ` +
    `${compiled.policy.rules.length} rules, ${compiled.bytes.length} bytes, ` +
    `digest ${compiled.meta.sourceDigest}, ${ms} ms\n`);
  return 0;
}

/** `portcullis sign BUNDLE --key KEY [-o SIGNATURE]` (default BUNDLE.jws). */
export async function runSign(opts: { bundle: string; key: string; out: string | undefined;
  kid: string | undefined }, o: Output): Promise<number> {
  const bytes = await readFile(opts.bundle);
  // Refuse to sign something that is not a bundle this build can read.
  decodeBundle(bytes);
  const jws = await signBundle(bytes, await readFile(opts.key, 'utf8'), opts.kid);
  const out = opts.out ?? `${opts.bundle}.jws`;
  await writeFile(out, `${jws}\n`);
  o.out(`${out}: detached JWS (${JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url')
    .toString()).alg as string}) over ${bytes.length} bytes\n`);
  return 0;
}

async function readCases(dir: string, o: Output): Promise<PolicyCase[] | undefined> {
  let names: string[];
  try {
    names = (await readdir(dir)).filter((n) => /\.ya?ml$/.test(n)).sort();
  } catch {
    names = [];
  }
  const cases: PolicyCase[] = [];
  try {
    for (const name of names) {
      cases.push(...parseCases(await readFile(path.join(dir, name), 'utf8'), name));
    }
  } catch (err) {
    if (!(err instanceof CaseFileError)) throw err;
    o.err(`portcullis: ${err.message}\n`);
    return undefined;
  }
  return cases;
}

const outcome = (allow: boolean, rule: string | undefined): string =>
  `${allow ? 'allow' : 'deny'}${rule === undefined ? '' : ` by ${rule}`}`;

/** `portcullis test DIR [--cases CASES_DIR]`: every case against the WASM evaluator. */
export async function runTest(opts: { dir: string; cases: string | undefined }, o: Output):
  Promise<number> {
  const compiled = await compileDir(opts.dir, o, 0, 'portcullis test');
  if (compiled === undefined) return 1;
  const cases = await readCases(opts.cases ?? path.join(opts.dir, 'tests'), o);
  if (cases === undefined) return 1;
  if (cases.length === 0) {
    o.err(`portcullis: no test cases in ${opts.cases ?? path.join(opts.dir, 'tests')}\n`);
    return 1;
  }
  const engine = new PolicyEngine(await loadEvaluator(), decodeBundle(compiled.bytes));
  let failed = 0;
  for (const c of cases) {
    const d = engine.decide(c.request);
    const want = c.expect;
    const ok = want !== undefined && d.allow === want.allow
      && (want.rule === undefined || want.rule === d.ruleId);
    if (!ok) failed++;
    const expected = want === undefined ? 'no expectation' : outcome(want.allow, want.rule);
    o.out(ok ? `  ok    ${c.file}: ${c.name}\n`
      : `  FAIL  ${c.file}: ${c.name}\n        expected ${expected}, got ${outcome(d.allow, d.ruleId)}\n`);
  }
  o.out(`\n${cases.length - failed} passed, ${failed} failed\n`);
  return failed === 0 ? 0 : 1;
}

/** `portcullis explain DIR CASES_FILE [--name NAME]`: each rule, and why it did or did not apply. */
export async function runExplain(opts: { dir: string; casesFile: string; name: string | undefined },
  o: Output): Promise<number> {
  const compiled = await compileDir(opts.dir, o, 0, 'portcullis explain');
  if (compiled === undefined) return 1;
  let cases: PolicyCase[];
  try {
    cases = parseCases(await readFile(opts.casesFile, 'utf8'), path.basename(opts.casesFile));
  } catch (err) {
    if (!(err instanceof CaseFileError)) throw err;
    o.err(`portcullis: ${err.message}\n`);
    return 1;
  }
  if (opts.name !== undefined) cases = cases.filter((c) => c.name === opts.name);
  if (cases.length === 0) {
    o.err(`portcullis: no case${opts.name === undefined ? '' : ` named ${JSON.stringify(opts.name)}`}\n`);
    return 1;
  }
  const bundle = decodeBundle(compiled.bytes);
  const engine = new PolicyEngine(await loadEvaluator(), bundle);
  for (const c of cases) {
    const req = c.request;
    const roles = principalRoles(bundle.policy, req.principal);
    const segments = pathSegments(req.path);
    o.out(`${c.name}: ${req.method} ${req.service} ${req.path} as ${req.principal.kind}` +
      `${req.principal.subject === undefined ? '' : ` ${req.principal.subject}`}` +
      ` (roles: ${[...roles].sort().join(', ') || 'none'})\n`);
    for (const rule of bundle.policy.rules) {
      const why = whyNot(rule, req, segments, roles);
      o.out(`  ${why === undefined ? 'applies ' : 'no      '} ${rule.effect.padEnd(5)} ${rule.id}` +
        ` (${rule.pos.file}:${rule.pos.line})${why === undefined ? '' : `: ${why}`}\n`);
    }
    const d = engine.decide(req);
    o.out(`  decision: ${outcome(d.allow, d.ruleId)}\n\n`);
  }
  return 0;
}
