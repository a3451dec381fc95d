/**
 * The `portcullis` command: serve, check-config, --help, --version.
 *
 * Exit codes: 0 success (including a clean drain after SIGTERM/SIGINT), 1 a failure at run time,
 * 2 a usage error or an invalid configuration.
 */
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import {
  type Config, describeConfig, embeddedDefaultInput, formatDiagnostic, kEmbeddedDefaultLabel,
  loadConfigFile, loadConfigText, ConfigLoadError,
} from '../config/index.js';
import { PortcullisError } from '../errors/index.js';
import { startPortcullis } from '../main.js';
import type { ServingThreads } from '../threads/index.js';
import { Logger } from '../telemetry/index.js';
import { kUsage, parseArgs, resolveCreatedAt, UsageError, type Command } from './args.js';
import { runCompile, runExplain, runSign, runTest, type Output } from './policy-commands.js';
import { createDemoIssuer, type DemoIssuer } from './demo-issuer.js';

const kRequire = createRequire(import.meta.url);

function version(): string {
  return (kRequire('../../../package.json') as { version: string }).version;
}

async function loadOrExplain(path: string): Promise<Config | number> {
  try {
    return await loadConfigFile(path);
  } catch (err) {
    if (err instanceof ConfigLoadError) {
      for (const d of err.diagnostics) process.stderr.write(`${formatDiagnostic(d)}\n`);
      process.stderr.write(`portcullis: ${err.code}: ${path} is not a valid configuration\n`);
      return 2;
    }
    throw err;
  }
}

/**
 * The embedded demo: the default routes plus a token issuer whose key is made now, so that the
 * protected route can be seen both refusing and accepting. Loaded through the same schema as a
 * file (YAML accepts JSON text).
 */
async function demoConfig(cmd: Extract<Command, { kind: 'serve' }>, issuer: DemoIssuer):
  Promise<Config> {
  const input = embeddedDefaultInput({ proxyPort: cmd.proxyPort, adminPort: cmd.adminPort });
  const withIssuer = { ...input, authn: { issuers: [{
    issuer: issuer.issuer, jwksFile: issuer.jwksFile, audiences: [issuer.audience],
    algorithms: ['ES256'], typ: 'at+jwt',
  }] } };
  return loadConfigText(JSON.stringify(withIssuer), kEmbeddedDefaultLabel, tmpdir());
}

function demoHints(config: Config, proxyPort: number, adminPort: number, token: string): string {
  const base = `http://127.0.0.1:${proxyPort}`;
  return [
    '',
    `Portcullis demo: proxy ${base}, admin http://127.0.0.1:${adminPort}, demo upstream on ` +
      `127.0.0.1:${config.demo.port}. A token from the demo issuer (valid 1 h):`,
    `  export PORTCULLIS_DEMO_TOKEN=${token}`,
    'Try:',
    `  curl -i ${base}/public/hello            # forwarded; the upstream echoes what it got`,
    `  curl -i --path-as-is ${base}/public/a/%2e%2e/b   # normalised to /public/b before routing`,
    `  curl -i ${base}/public/a%2Fb            # 400: encoded slash is refused`,
    `  curl -i -H 'X-User: admin' ${base}/public/x   # the spoofed identity header is removed`,
    `  curl -i ${base}/private/data            # 401: protected route, no credential`,
    `  curl -i -H "Authorization: Bearer $PORTCULLIS_DEMO_TOKEN" ${base}/private/data   # 200`,
    `  curl -i -H 'Authorization: Bearer not.a.token' ${base}/private/data   # 401 malformed`,
    `  curl -i ${base}/elsewhere               # 404: no service registered`,
    `  curl -i http://127.0.0.1:${adminPort}/readyz`,
    '',
  ].join('\n');
}

/** How `serve` ended: the exit code, and the serving threads that may still be running. */
interface ServeOutcome {
  readonly code: number;
  readonly threads: ServingThreads | undefined;
}

async function serve(cmd: Extract<Command, { kind: 'serve' }>): Promise<ServeOutcome> {
  // Step 1: the configuration, from a file or the embedded demo, plus command-line overrides.
  let config: Config;
  let demoIssuer: DemoIssuer | undefined;
  if (cmd.configPath === undefined) {
    demoIssuer = await createDemoIssuer();
    const issuer = demoIssuer;
    process.once('exit', () => issuer.dispose());
    config = await demoConfig(cmd, demoIssuer);
  } else {
    const loaded = await loadOrExplain(cmd.configPath);
    if (typeof loaded === 'number') return { code: loaded, threads: undefined };
    config = loaded;
    if (cmd.proxyPort !== undefined || cmd.adminPort !== undefined) {
      config = { ...config, listeners: {
        proxy: { ...config.listeners.proxy, port: cmd.proxyPort ?? config.listeners.proxy.port },
        admin: { ...config.listeners.admin, port: cmd.adminPort ?? config.listeners.admin.port },
      } };
    }
  }
  if (cmd.allowUwsFallback) config = { ...config, uws: { ...config.uws, allowFallback: true } };
  if (cmd.threads !== undefined) config = { ...config, threads: cmd.threads };
  const logger = new Logger(config.log.level);

  // Step 2: catch SIGTERM/SIGINT before anything is announced: a signal that arrives while no
  // handler is installed would kill the process without a drain.
  const signals = new ShutdownSignals();

  // Step 3: start, or explain why not.
  let running;
  try {
    running = await startPortcullis(config, logger);
  } catch (err) {
    signals.dispose();
    const code = err instanceof PortcullisError ? err.code : 'IAM_SERVER_INTERNAL';
    logger.fatal('start-up failed', { code, detail: (err as Error).message });
    if (!logger.isEnabled('fatal')) process.stderr.write(`portcullis: ${(err as Error).message}\n`);
    return { code: 1, threads: undefined };
  }
  logger.info('listening', {
    proxy: `${running.proxy.host}:${running.proxy.port}`,
    threads: 1 + (running.threads?.size ?? 0),
    admin: `${running.admin.host}:${running.admin.port}`,
    ...(running.mtls === undefined ? {} : { mtls: `${running.mtls.host}:${running.mtls.port}` }),
    ...(running.decision === undefined ? {}
      : { decision: `${running.decision.host}:${running.decision.port}` }),
    services: config.services.map((s) => s.name),
    version: version(),
  });
  if (demoIssuer !== undefined) {
    const token = await demoIssuer.mint('demo-user', 'read');
    process.stderr.write(demoHints(config, running.proxy.port, running.admin.port, token));
  }

  // Step 4: run until SIGTERM or SIGINT, then drain; a second signal stops at once.
  const first = await signals.next();
  logger.info('draining', { signal: first, inFlight: running.lifecycle.inFlight,
    deadlineMs: config.shutdown.drainTimeoutMs });
  const second = signals.next();
  const outcome = await Promise.race([running.stop(), second]);
  if (typeof outcome === 'string') {
    logger.warn('second signal, exiting without waiting', { signal: outcome });
    return { code: 1, threads: running.threads };
  }
  logger.info('stopped', { drained: outcome, inFlight: running.lifecycle.inFlight });
  return { code: 0, threads: running.threads };
}

/**
 * Ends the process. A serving thread that still holds a uWS connection cannot be torn down
 * (uWebSockets.js 20.30 has no way to close it, and node aborts the process when a thread ends
 * with open handles: src/threads/README.md), so while one runs the process ends by SIGKILL.
 */
function exitProcess(code: number, threads: ServingThreads | undefined): never {
  if (threads !== undefined && threads.alive > 0) process.kill(process.pid, 'SIGKILL');
  process.exit(code);
}

/** SIGTERM and SIGINT, queued from construction on, handed out one `next()` at a time. */
class ShutdownSignals {
  readonly #queue: NodeJS.Signals[] = [];
  #waiter: ((signal: NodeJS.Signals) => void) | undefined;
  readonly #onSignal = (signal: NodeJS.Signals): void => {
    const waiter = this.#waiter;
    this.#waiter = undefined;
    if (waiter !== undefined) waiter(signal);
    else this.#queue.push(signal);
  };

  constructor() {
    process.on('SIGTERM', this.#onSignal);
    process.on('SIGINT', this.#onSignal);
  }

  /** The next signal (one already received is returned at once). */
  next(): Promise<NodeJS.Signals> {
    const queued = this.#queue.shift();
    if (queued !== undefined) return Promise.resolve(queued);
    return new Promise((resolve) => {
      this.#waiter = resolve;
    });
  }

  /** Removes the handlers (start-up failed; the default signal behaviour returns). */
  dispose(): void {
    process.off('SIGTERM', this.#onSignal);
    process.off('SIGINT', this.#onSignal);
  }
}

const kStdio: Output = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

async function runPolicyCommand(cmd: Extract<Command, { kind: 'compile' | 'sign' | 'test' | 'explain' }>):
  Promise<number> {
  try {
    switch (cmd.kind) {
      case 'compile':
        return await runCompile({ dir: cmd.dir, out: cmd.out, policyVersion: cmd.policyVersion,
          createdAtMs: resolveCreatedAt(cmd.createdAt, process.env, Date.now()),
          compiler: `portcullis ${version()}` }, kStdio);
      case 'sign':
        return await runSign(cmd, kStdio);
      case 'test':
        return await runTest(cmd, kStdio);
      case 'explain':
        return await runExplain(cmd, kStdio);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`portcullis: ${err.message}\n`);
      return 2;
    }
    const code = err instanceof PortcullisError ? `${err.code}: ` : '';
    process.stderr.write(`portcullis: ${code}${(err as Error).message}\n`);
    return 1;
  }
}

/** Runs the CLI with `argv` (without node and script path). Resolves the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  let cmd: Command;
  try {
    cmd = parseArgs(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`portcullis: ${err.message}\n\n${kUsage}`);
    return 2;
  }

  switch (cmd.kind) {
    case 'help':
      process.stdout.write(kUsage);
      return 0;
    case 'version':
      process.stdout.write(`portcullis ${version()}\n`);
      return 0;
    case 'check-config': {
      const loaded = await loadOrExplain(cmd.configPath);
      if (typeof loaded === 'number') return loaded;
      process.stdout.write(describeConfig(loaded));
      return 0;
    }
    case 'compile':
    case 'sign':
    case 'test':
    case 'explain':
      return runPolicyCommand(cmd);
    case 'serve': {
      const { code, threads } = await serve(cmd);
      // uWS keeps its sockets open; the process ends here once the drain is done.
      await new Promise<void>((done) => process.stdout.write('', () => done()));
      exitProcess(code, threads);
    }
  }
}
