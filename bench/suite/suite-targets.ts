/**
 * Turns the suite's scenarios (bench/scenarios-suite.ts) into load targets: how each server is
 * started and pinned, what is checked before load, and what wrk sends to it. The servers are
 * the ones the single-topic benches run (nginx targets, Portcullis, HAProxy, fastify), plus the
 * uWS.js hello world and Portcullis with the signed 50-rule bundle.
 */
import { freePort, isPortOpen } from '../../test/support/free-port.js';
import { startFastifyTarget, startHaproxyTarget, startServer } from '../e2e/authn-targets.js';
import type { TokenSet } from '../e2e/authn-tokens.js';
import { checkAnswer, startNginxTarget } from '../e2e/forward-targets.js';
import { startPortcullis } from '../e2e/portcullis-process.js';
import { kForwardScenarios } from '../scenarios.js';
import {
  type SuiteScenario, authzPortcullisConfig, decisionCheckHeaders, kAuthzPolicy,
} from '../scenarios-suite.js';
import { type CheckTokens, checkAuthz, checkDecision } from './answer-checks.js';
import type { AuthzBundle } from './authz-bundle.js';
import type { LoadShape, LoadTarget, StartedServer } from './rotation.js';

/** What every target needs to start. */
export interface SuiteContext {
  repoRoot: string;
  upstreamPort: number;
  /** taskset list of the target core; undefined when unpinned. */
  targetCpus: string | undefined;
  /** taskset list of the multicore rows. */
  multicoreCpus: string | undefined;
  jwksFile: string;
  bundle: AuthzBundle;
  rs256: TokenSet;
  /** `valid` is `rs256.sample` (warm-up slice): the reused token of the cached rows. */
  tokens: CheckTokens;
  /** The unique-token wrk script (wrk-token-script.ts). */
  tokenScript: string;
  /** Node flags and environment for the authz Portcullis (the CI gate's injected slowdown). */
  authzNodeArgs?: readonly string[];
  authzEnv?: Readonly<Record<string, string>>;
}

const kPeerAuthz = { scope: kAuthzPolicy.scope, path: kAuthzPolicy.path };

/** The load target of `scenario`. */
export function loadTarget(scenario: SuiteScenario, ctx: SuiteContext): LoadTarget {
  const cpus = scenario.threads === undefined ? ctx.targetCpus : ctx.multicoreCpus;
  const target: LoadTarget = {
    scenario,
    ...(scenario.threads === undefined || cpus === undefined ? {} : { cpus }),
    start: () => startFor(scenario, ctx, cpus),
    check: (server) => checkFor(scenario, ctx, server),
    load: (server, phase) => loadFor(scenario, ctx, server, phase),
  };
  if (scenario.token === 'unique') target.tokensAvailable = ctx.rs256.runCount;
  if (scenario.threads !== undefined) target.isUnavailable = threadsUnavailable;
  return target;
}

/**
 * `serve --threads` refused as a usage error (exit 2 with the usage text): the multi-core
 * front end is not built yet, so the row is reported as not available.
 */
export function threadsUnavailable(error: string): string | undefined {
  const isUsageError = /exited \(2\)/.test(error) && /--threads/.test(error)
    && /Usage:|unknown option/.test(error);
  return isUsageError ? '`serve --threads` is refused (usage error, exit 2): not built yet'
    : undefined;
}

async function startFor(scenario: SuiteScenario, ctx: SuiteContext, cpus: string | undefined):
  Promise<StartedServer> {
  const authnCtx = { repoRoot: ctx.repoRoot, upstreamPort: ctx.upstreamPort, cpus,
    jwksFile: ctx.jwksFile };
  switch (scenario.kind) {
    case 'uws-hello': {
      const port = await freePort();
      if (await isPortOpen(port)) throw new Error(`port ${port} is already open`);
      const argv = ['node', 'dist/bench/suite/uws-hello-server.js', String(port)];
      return startServer(cpus === undefined ? argv : ['taskset', '-c', cpus, ...argv], port,
        '(see bench/suite/uws-hello-server.ts)', ctx.repoRoot);
    }
    case 'nginx-direct':
    case 'nginx-proxy': {
      const name = scenario.kind === 'nginx-direct' ? 'forward/direct' : 'forward/nginx-proxy';
      const conf = kForwardScenarios.find((s) => s.name === name)?.nginxConf?.(ctx.upstreamPort)
        ?? '';
      // Stopped with every other nginx by the bench's cleanup (children.ts).
      const nginx = await startNginxTarget(scenario.name, conf, cpus);
      return { ...nginx, conf, stop: async () => undefined };
    }
    case 'haproxy-authz':
      return startHaproxyTarget(authnCtx, 'RS256', ctx.rs256.publicKeyPem, kPeerAuthz);
    case 'fastify-authz':
      return startFastifyTarget(authnCtx, 'RS256', ctx.rs256.publicKeyPem, kPeerAuthz);
    default:
      return startOurs(scenario, ctx, cpus);
  }
}

async function startOurs(scenario: SuiteScenario, ctx: SuiteContext, cpus: string | undefined):
  Promise<StartedServer> {
  const isPublic = scenario.kind === 'portcullis-public';
  const decisionPort = scenario.kind === 'portcullis-decision' ? await freePort() : undefined;
  if (decisionPort !== undefined && await isPortOpen(decisionPort)) {
    throw new Error(`port ${decisionPort} is already open: stop that server`);
  }
  const proxy = await startPortcullis({
    repoRoot: ctx.repoRoot, upstreamPort: ctx.upstreamPort,
    ...(cpus === undefined ? {} : { cpus }),
    ...(scenario.threads === undefined ? {}
      : { serveArgs: ['--threads', String(scenario.threads)] }),
    ...(isPublic ? {} : {
      nodeArgs: ctx.authzNodeArgs ?? [], env: ctx.authzEnv ?? {},
      config: (proxyPort: number, adminPort: number) => authzPortcullisConfig({
        proxyPort, adminPort, upstreamPort: ctx.upstreamPort, jwksFile: ctx.jwksFile,
        bundleFile: ctx.bundle.bundleFile, publicKeyFile: ctx.bundle.publicKeyFile,
        ...(decisionPort === undefined ? {} : { decisionPort }),
      }),
    }),
  });
  if (decisionPort !== undefined && !await waitForPort(decisionPort, 10_000)) {
    await proxy.stop();
    throw new Error(`the decision listener did not open port ${decisionPort}`);
  }
  return { pid: proxy.pid, port: decisionPort ?? proxy.proxyPort, command: proxy.command,
    conf: proxy.config, stop: () => proxy.stop() };
}

async function waitForPort(port: number, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await isPortOpen(port, 200)) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

function checkFor(scenario: SuiteScenario, ctx: SuiteContext, server: StartedServer):
  Promise<string | undefined> {
  if (scenario.kind === 'portcullis-decision') return checkDecision(server.port, ctx.tokens);
  if (scenario.token === 'none') return checkAnswer(server.port);
  // The valid token is the set's sample, from the warm-up slice: never a measured unique token.
  return checkAuthz(server.port, ctx.tokens);
}

function loadFor(scenario: SuiteScenario, ctx: SuiteContext, server: StartedServer,
  phase: 'warmup' | 'measured'): LoadShape {
  const base = `http://127.0.0.1:${server.port}`;
  if (scenario.kind === 'portcullis-decision') {
    return { url: `${base}/`, headers: decisionCheckHeaders(ctx.tokens.valid) };
  }
  if (scenario.token === 'none') return { url: `${base}/` };
  const url = `${base}${kAuthzPolicy.path}`;
  if (scenario.token === 'reused') {
    return { url, headers: [`Authorization: Bearer ${ctx.tokens.valid}`] };
  }
  const file = phase === 'warmup' ? ctx.rs256.warmFile : ctx.rs256.runFile;
  return { url, script: { path: ctx.tokenScript, args: [file, kAuthzPolicy.path] } };
}
