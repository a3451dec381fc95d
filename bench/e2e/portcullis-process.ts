/**
 * Starts `node bin/portcullis.js serve --config <file>` as a separate process, the way an
 * operator runs it, and stops it with SIGTERM. Readiness: the proxy port accepts connections,
 * and so does the admin port or a JSON log line on stdout says "listening" (the bench runs at
 * log level warn, which may hide that info-level line).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort, isPortOpen } from '../../test/support/free-port.js';
import { portcullisConfig } from '../scenarios.js';
import { killOnExit } from './children.js';

/** A running Portcullis started by `startPortcullis`. */
export interface PortcullisProcess {
  readonly pid: number;
  readonly proxyPort: number;
  readonly adminPort: number;
  /** The argv that started it, for reports (the config path is a temp file). */
  readonly command: string[];
  /** The generated config file's text. */
  readonly config: string;
  /** SIGTERM, SIGKILL to its process group after 5 s; removes the temp config. */
  stop(): Promise<void>;
}

const kTailChars = 4_096;
const kStopTimeoutMs = 5_000;

/**
 * Spawns Portcullis from `repoRoot` (built: `npm run build`), forwarding every request to
 * 127.0.0.1:`upstreamPort`, or with the YAML `config` returns for the ports chosen. Refuses ports that already answer (uWS shares a port with a
 * leftover server). Rejects with the process's own output when it exits or is not ready
 * within `startTimeoutMs`.
 */
export async function startPortcullis(opts: {
  repoRoot: string; upstreamPort: number; cpus?: string; startTimeoutMs?: number;
  config?: (proxyPort: number, adminPort: number) => string;
  /** More `serve` arguments (`--threads N`), and node flags and environment for this process. */
  serveArgs?: readonly string[]; nodeArgs?: readonly string[];
  env?: Readonly<Record<string, string>>;
}): Promise<PortcullisProcess> {
  const proxyPort = await freePort();
  let adminPort = await freePort();
  if (adminPort === proxyPort) adminPort = await freePort();
  for (const port of [proxyPort, adminPort]) {
    if (await isPortOpen(port)) throw new Error(`port ${port} is already open: stop that server`);
  }

  // 1. Config in a temp dir, then the process in its own group.
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-bench-'));
  const configPath = join(dir, 'portcullis.yaml');
  const config = opts.config?.(proxyPort, adminPort)
    ?? portcullisConfig(proxyPort, adminPort, opts.upstreamPort);
  await writeFile(configPath, config);
  // PORTCULLIS_BENCH_NODE_ARGS: node flags for the proxy only (e.g. `--cpu-prof
  // --cpu-prof-dir=/tmp/prof`), which NODE_OPTIONS refuses or would give every process.
  const nodeArgs = (process.env.PORTCULLIS_BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
  const node = ['node', ...nodeArgs, ...opts.nodeArgs ?? [], 'bin/portcullis.js', 'serve',
    '--config', configPath, ...opts.serveArgs ?? []];
  const command = opts.cpus === undefined ? node : ['taskset', '-c', opts.cpus, ...node];
  const child = spawn(command[0] ?? 'node', command.slice(1), {
    cwd: opts.repoRoot, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
    env: opts.env === undefined ? process.env : { ...process.env, ...opts.env },
  });
  const forget = killOnExit(child, true);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));

  // 2. Watch its output for the ready line; keep a tail for error messages.
  let tail = '';
  let isListening = false;
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-kTailChars);
    if (!isListening && /"[^"]*listening/i.test(tail)) isListening = true;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    tail = (tail + chunk).slice(-kTailChars);
  });
  child.once('error', (err) => (tail += `\nspawn failed: ${err.message}`));

  const stop = async (): Promise<void> => {
    await stopGroup(child, closed);
    forget();
    await rm(dir, { recursive: true, force: true });
  };

  // 3. Ready when it has said so and the proxy port answers; bounded.
  const deadline = Date.now() + (opts.startTimeoutMs ?? 20_000);
  const isReady = async (): Promise<boolean> => await isPortOpen(proxyPort, 200)
    && (isListening || await isPortOpen(adminPort, 200));
  while (!await isReady()) {
    const hasExited = child.pid === undefined || child.exitCode !== null
      || child.signalCode !== null;
    if (hasExited || Date.now() > deadline) {
      await stop();
      const why = hasExited ? `exited (${child.exitCode ?? child.signalCode ?? 'not spawned'})`
        : `was not ready after ${opts.startTimeoutMs ?? 20_000} ms`;
      throw new Error(`Portcullis ${why}: \`${command.join(' ')}\`\n--- its output ---\n${tail}`);
    }
    await sleep(50);
  }

  return { pid: child.pid ?? -1, proxyPort, adminPort, command, config, stop };
}

async function stopGroup(child: ChildProcess, closed: Promise<void>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined) return;
  if (child.exitCode === null && child.signalCode === null) signal(pid, 'SIGTERM');
  const timer = setTimeout(() => signal(-pid, 'SIGKILL'), kStopTimeoutMs);
  await closed;
  clearTimeout(timer);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: already gone.
  }
}
