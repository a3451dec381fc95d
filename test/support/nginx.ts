import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { chmod, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort, isPortOpen } from './free-port.js';

/** Options of `startNginx`. */
export interface NginxOptions {
  /**
   * The body of the `http {}` block: server blocks, upstreams. `{{port:NAME}}` placeholders are
   * replaced with free ports on 127.0.0.1, one per distinct NAME, readable through `port(NAME)`.
   */
  conf: string;
  /** `worker_processes`; default 1. */
  workerProcesses?: number;
  /** CPU list for `taskset -c` (e.g. '1'); nginx runs unpinned when absent. */
  cpus?: string;
  /** How long to wait for every port to accept a connection; default 10,000 ms. */
  startTimeoutMs?: number;
}

/** A running nginx started by `startNginx`. */
export interface NginxInstance {
  /** The port substituted for `{{port:name}}`; throws for a name the conf did not use. */
  port(name: string): number;
  /** SIGQUIT (graceful), SIGKILL to the whole process group after 5 s; removes the prefix. */
  stop(): Promise<void>;
  /** The temp directory holding nginx.conf, the pid file and the temp paths. */
  readonly prefix: string;
  /** Pid of the nginx master; its workers are its children and share its process group. */
  readonly pid: number;
}

const kPlaceholder = /\{\{port:([A-Za-z0-9_-]+)\}\}/g;
const kStopTimeoutMs = 5_000;
const kStderrTailChars = 8_192;
/** Running masters (pid, which is also their process group id) and their prefixes. */
const kLive = new Map<number, string>();
let isExitHookInstalled = false;

/**
 * Starts a real nginx (master plus `workerProcesses` workers, in the foreground) with every
 * path inside a fresh temp prefix, so it runs as root without touching /var. Resolves once
 * every placeholder port accepts TCP connections; rejects with nginx's stderr when nginx exits
 * or the ports stay closed past `startTimeoutMs`. Callers must `stop()` it; a process exit
 * without `stop()` still SIGKILLs it.
 */
export async function startNginx(opts: NginxOptions): Promise<NginxInstance> {
  const binary = nginxBinary();
  const ports = await allocatePorts(opts.conf);
  const conf = opts.conf.replace(kPlaceholder, (_m, name: string) => String(ports.get(name)));

  // 1. Prefix: 0755 so workers (user nobody when the master is root) can reach temp paths.
  const prefix = await mkdtemp(join(tmpdir(), 'portcullis-nginx-'));
  await chmod(prefix, 0o755);
  await mkdir(join(prefix, 'tmp'));
  await writeFile(join(prefix, 'nginx.conf'), renderConf(prefix, conf, opts.workerProcesses ?? 1));

  // 2. Spawn in its own process group, so one kill reaches the master and its workers.
  const nginxArgs = ['-p', `${prefix}/`, '-c', 'nginx.conf', '-e', 'stderr'];
  const [command, args] = opts.cpus === undefined
    ? [binary, nginxArgs]
    : ['taskset', ['-c', opts.cpus, binary, ...nginxArgs]];
  const child = spawn(command, args, { detached: true, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-kStderrTailChars);
  });
  // 'close' comes once the master has exited and every worker has closed the stderr pipe.
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  exited.then(() => kLive.delete(child.pid ?? -1), () => undefined);
  child.once('error', (err) => {
    stderr += `\nspawn failed: ${err.message}`;
  });
  track(child, prefix);

  // 3. Wait until every port accepts a connection.
  try {
    await waitForPorts(child, [...ports.values()], opts.startTimeoutMs ?? 10_000, () => stderr);
  } catch (err) {
    await stopChild(child, exited);
    await rm(prefix, { recursive: true, force: true });
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    prefix,
    pid: child.pid ?? -1,
    port(name: string): number {
      const port = ports.get(name);
      if (port === undefined) throw new Error(`nginx conf has no {{port:${name}}} placeholder`);
      return port;
    },
    stop(): Promise<void> {
      stopping ??= stopChild(child, exited)
        .then(() => rm(prefix, { recursive: true, force: true }));
      return stopping;
    },
  };
}

async function allocatePorts(conf: string): Promise<Map<string, number>> {
  const ports = new Map<string, number>();
  for (const match of conf.matchAll(kPlaceholder)) {
    const name = match[1] ?? '';
    if (ports.has(name)) continue;
    // The kernel rarely hands out the same ephemeral port twice in a row; retry a few times.
    for (let attempt = 0; attempt < 5 && !ports.has(name); attempt++) {
      const port = await freePort();
      const isTaken = [...ports.values()].includes(port) || await isPortOpen(port);
      if (!isTaken) ports.set(name, port);
    }
    if (!ports.has(name)) throw new Error(`no free port found for {{port:${name}}}`);
  }
  return ports;
}

function renderConf(prefix: string, httpBody: string, workerProcesses: number): string {
  const tmp = join(prefix, 'tmp');
  return [
    'daemon off;',
    'master_process on;',
    `worker_processes ${workerProcesses};`,
    `pid ${join(prefix, 'nginx.pid')};`,
    `lock_file ${join(prefix, 'nginx.lock')};`,
    'error_log stderr warn;',
    'worker_rlimit_nofile 16384;',
    'events { worker_connections 8192; }',
    'http {',
    '  access_log off;',
    '  default_type text/plain;',
    `  client_body_temp_path ${join(tmp, 'body')};`,
    `  proxy_temp_path ${join(tmp, 'proxy')};`,
    `  fastcgi_temp_path ${join(tmp, 'fastcgi')};`,
    `  uwsgi_temp_path ${join(tmp, 'uwsgi')};`,
    `  scgi_temp_path ${join(tmp, 'scgi')};`,
    httpBody,
    '}',
    '',
  ].join('\n');
}

/**
 * Path of the nginx binary: $NGINX_BIN, else the first `nginx` on PATH, else /usr/sbin or
 * /usr/local/sbin (root's PATH on Debian has /usr/sbin; other users' may not). Throws when none.
 */
export function nginxBinary(): string {
  if (process.env['NGINX_BIN']) return process.env['NGINX_BIN'];
  const path = (process.env['PATH'] ?? '').split(delimiter);
  const dirs = [...path, '/usr/sbin', '/usr/local/sbin'];
  for (const dir of dirs) {
    const candidate = join(dir, 'nginx');
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not in this directory; keep looking.
    }
  }
  throw new Error('nginx not found on PATH or in /usr/sbin; install it (apt-get install nginx)');
}

async function waitForPorts(
  child: ChildProcess, ports: number[], timeoutMs: number, stderr: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) {
      const status = child.exitCode ?? child.signalCode ?? 'not spawned';
      throw new Error(`nginx exited (${status}) before it was ready:\n${stderr()}`);
    }
    const open = await Promise.all(ports.map((port) => isPortOpen(port, 200)));
    if (open.every(Boolean)) return;
    await sleep(25);
  }
  throw new Error(`nginx ports ${ports.join(', ')} not open after ${timeoutMs} ms:\n${stderr()}`);
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  const pid = child.pid;
  if (pid === undefined || !kLive.has(pid)) return;
  if (child.exitCode === null && child.signalCode === null) signal(pid, 'SIGQUIT');
  // A master that ignores SIGQUIT, or workers orphaned by a crashed master, still hold the
  // ports: after the grace period, kill the whole group.
  const timer = setTimeout(() => signal(-pid, 'SIGKILL'), kStopTimeoutMs);
  await exited;
  clearTimeout(timer);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // ESRCH: already gone.
  }
}

function killTracked(): void {
  for (const [pid, prefix] of kLive) {
    signal(-pid, 'SIGKILL');
    rmSync(prefix, { recursive: true, force: true });
  }
  kLive.clear();
}

/**
 * nginx runs in its own process group, so a terminal's Ctrl-C does not reach it: kill it on
 * exit, SIGINT and SIGTERM. When no one else listens for the signal, re-raise it so the
 * process still ends the default way; a caller with its own handler keeps control.
 */
function track(child: ChildProcess, prefix: string): void {
  if (child.pid === undefined) return;
  kLive.set(child.pid, prefix);
  if (isExitHookInstalled) return;
  isExitHookInstalled = true;
  process.on('exit', killTracked);
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    const onSignal = (): void => {
      killTracked();
      if (process.listenerCount(name) === 1) {
        process.removeListener(name, onSignal);
        process.kill(process.pid, name);
      }
    };
    process.on(name, onSignal);
  }
}
