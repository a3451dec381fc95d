/**
 * Starts a real redis-server (Debian's `redis-server`) on a free loopback port with its own
 * config file and data directory, for the revocation tests. Persistence is an append-only file
 * in that directory, so a stop and a restart on the same directory keep the data, as a real
 * deployment would. Callers must `stop()` it; a process exit without `stop()` still kills it.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, rmSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort, isPortOpen } from './free-port.js';

/** A running redis-server. */
export interface RedisInstance {
  readonly port: number;
  /** `redis://127.0.0.1:<port>` */
  readonly url: string;
  /** Its data directory (kept by `stop({ keepData: true })`). */
  readonly dir: string;
  readonly pid: number;
  /** SIGTERM (redis flushes its AOF), SIGKILL after 5 s; removes `dir` unless `keepData`. */
  stop(opts?: { keepData?: boolean }): Promise<void>;
}

const kLive = new Map<number, ChildProcess>();
let isExitHookInstalled = false;

/** Path of redis-server: $REDIS_SERVER_BIN, else PATH, else /usr/bin. Throws when missing. */
export function redisServerBinary(): string {
  if (process.env['REDIS_SERVER_BIN']) return process.env['REDIS_SERVER_BIN'];
  const dirs = [...(process.env['PATH'] ?? '').split(delimiter), '/usr/bin', '/usr/local/bin'];
  for (const dir of dirs) {
    try {
      accessSync(join(dir, 'redis-server'), constants.X_OK);
      return join(dir, 'redis-server');
    } catch {
      // Not here; keep looking.
    }
  }
  throw new Error('redis-server not found; install it (apt-get install redis-server)');
}

/**
 * Starts redis-server; `dir` reuses a data directory (a restart), `port` a port. Resolves when
 * it accepts connections (10 s at most), rejects with its output otherwise.
 */
export async function startRedis(opts: { dir?: string; port?: number } = {}):
  Promise<RedisInstance> {
  const port = opts.port ?? await freePort();
  if (await isPortOpen(port)) throw new Error(`port ${port} is already served`);
  const dir = opts.dir ?? await mkdtemp(join(tmpdir(), 'portcullis-redis-'));
  const conf = [
    'bind 127.0.0.1', `port ${port}`, `dir ${dir}`, 'daemonize no', 'save ""',
    'appendonly yes', 'appendfsync always', 'protected-mode yes', 'loglevel warning',
    'logfile ""', '',
  ].join('\n');
  await writeFile(join(dir, 'redis.conf'), conf);

  const child = spawn(redisServerBinary(), [join(dir, 'redis.conf')],
    { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-8192); });
  child.stderr?.on('data', (d: Buffer) => { output = (output + d.toString()).slice(-8192); });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  track(child);

  const deadline = Date.now() + 10_000;
  while (!(await isPortOpen(port, 200))) {
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`redis-server did not start on ${port}:\n${output}`);
    }
    await sleep(25);
  }

  return {
    port, dir, pid: child.pid ?? -1, url: `redis://127.0.0.1:${port}`,
    async stop(stopOpts = {}) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
      kLive.delete(child.pid ?? -1);
      if (stopOpts.keepData !== true) await rm(dir, { recursive: true, force: true });
    },
  };
}

function track(child: ChildProcess): void {
  if (child.pid === undefined) return;
  kLive.set(child.pid, child);
  if (isExitHookInstalled) return;
  isExitHookInstalled = true;
  process.on('exit', () => {
    for (const live of kLive.values()) live.kill('SIGKILL');
  });
}

/** Removes a data directory left by `stop({ keepData: true })`. */
export function removeRedisDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
