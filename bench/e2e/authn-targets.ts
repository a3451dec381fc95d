/**
 * Starts the targets of the authn bench (Portcullis with a given verifier setup, HAProxy 2.6
 * with `jwt_verify`, fastify + @fastify/jwt), each in its own process group pinned as told,
 * and checks before any load that a target really authenticates: a valid token is forwarded
 * (200 with the upstream's exact body), a missing token and a token with a flipped signature
 * bit are refused with 401.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import { freePort, isPortOpen } from '../../test/support/free-port.js';
import {
  type AuthnAlgorithm, type PeerAuthz, type PortcullisVerifier, authnPortcullisConfig,
  haproxyConfig, kUpstreamBody,
} from '../scenarios.js';
import { killOnExit } from './children.js';
import { startPortcullis } from './portcullis-process.js';

/** A started target; `stop` ends its process group and removes its temp files. */
export interface AuthnTarget {
  pid: number;
  port: number;
  command: string[];
  conf: string;
  stop(): Promise<void>;
}

/** Where the target runs and what it trusts. */
export interface TargetContext {
  repoRoot: string;
  upstreamPort: number;
  cpus: string | undefined;
  jwksFile: string;
}

const kStopTimeoutMs = 5_000;
const kStartTimeoutMs = 20_000;

function pinned(cpus: string | undefined, argv: string[]): string[] {
  return cpus === undefined ? argv : ['taskset', '-c', cpus, ...argv];
}

/** Portcullis with `verifier` as its `authn.pool`. */
export async function startPortcullisTarget(ctx: TargetContext, verifier: PortcullisVerifier):
  Promise<AuthnTarget> {
  const proxy = await startPortcullis({
    repoRoot: ctx.repoRoot, upstreamPort: ctx.upstreamPort,
    ...(ctx.cpus === undefined ? {} : { cpus: ctx.cpus }),
    config: (proxyPort, adminPort) => authnPortcullisConfig({
      proxyPort, adminPort, upstreamPort: ctx.upstreamPort, jwksFile: ctx.jwksFile, verifier,
    }),
  });
  return { pid: proxy.pid, port: proxy.proxyPort, command: proxy.command, conf: proxy.config,
    stop: () => proxy.stop() };
}

/**
 * HAProxy (`haproxy -db -f <generated>`) checking `alg` tokens against `publicKeyPem`, and with
 * `authz` also the scope and path ACLs.
 */
export async function startHaproxyTarget(ctx: TargetContext, alg: AuthnAlgorithm,
  publicKeyPem: string, authz?: PeerAuthz): Promise<AuthnTarget> {
  const port = await unusedPort();
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-haproxy-'));
  const conf = haproxyConfig({ port, upstreamPort: ctx.upstreamPort, alg, publicKeyPem,
    ...(authz === undefined ? {} : { authz }) });
  await writeFile(join(dir, 'haproxy.cfg'), conf);
  const command = pinned(ctx.cpus, ['haproxy', '-db', '-f', join(dir, 'haproxy.cfg')]);
  return startServer(command, port, conf, ctx.repoRoot, dir);
}

/**
 * fastify + @fastify/jwt + @fastify/http-proxy (bench/e2e/fastify-jwt-server.ts), with `authz`
 * also checking the scope and the path.
 */
export async function startFastifyTarget(ctx: TargetContext, alg: AuthnAlgorithm,
  publicKeyPem: string, authz?: PeerAuthz): Promise<AuthnTarget> {
  const port = await unusedPort();
  const command = pinned(ctx.cpus, ['node', 'dist/bench/e2e/fastify-jwt-server.js', String(port),
    String(ctx.upstreamPort), alg, publicKeyPem,
    ...(authz === undefined ? [] : [authz.scope, authz.path])]);
  return startServer(command, port, '(see bench/e2e/fastify-jwt-server.ts)', ctx.repoRoot);
}

async function unusedPort(): Promise<number> {
  const port = await freePort();
  if (await isPortOpen(port)) throw new Error(`port ${port} is already open: stop that server`);
  return port;
}

/**
 * Spawns `command` (cwd `cwd`) in its own group; ready once `port` accepts connections (20 s
 * bound, else rejects with its output). `tempDir` is removed when it is stopped.
 */
export async function startServer(command: string[], port: number, conf: string, cwd: string,
  tempDir?: string): Promise<AuthnTarget> {
  const child = spawn(command[0] ?? 'false', command.slice(1), {
    cwd, detached: true, stdio: ['ignore', 'pipe', 'pipe'],
  });
  const forget = killOnExit(child, true);
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  let tail = '';
  const keep = (chunk: string): void => {
    tail = (tail + chunk).slice(-4_096);
  };
  child.stdout?.setEncoding('utf8').on('data', keep);
  child.stderr?.setEncoding('utf8').on('data', keep);
  child.once('error', (err) => keep(`\nspawn failed: ${err.message}`));

  const stop = async (): Promise<void> => {
    await stopGroup(child, closed);
    forget();
    if (tempDir !== undefined) await rm(tempDir, { recursive: true, force: true });
  };
  const deadline = Date.now() + kStartTimeoutMs;
  while (!await isPortOpen(port, 200)) {
    const hasExited = child.exitCode !== null || child.signalCode !== null;
    if (hasExited || Date.now() > deadline) {
      await stop();
      throw new Error(`\`${command.join(' ')}\` ${hasExited ? 'exited' : 'did not listen'}:\n`
        + tail);
    }
    await sleep(50);
  }
  return { pid: child.pid ?? -1, port, command, conf, stop };
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

/**
 * The checks before load: `token` on `path` answers 200 with the upstream's body; on an
 * authenticated path (`isProtected`), no token and a token with its signature altered answer
 * 401. Resolves undefined when all hold, else what went wrong.
 */
export async function checkAuthn(port: number, path: string, token: string | undefined,
  isProtected = token !== undefined): Promise<string | undefined> {
  const ok = await getWithToken(port, path, token);
  if (ok.status !== 200 || ok.body !== kUpstreamBody) {
    return `GET ${path} ${token === undefined ? 'without' : 'with a valid'} token answered `
      + `${ok.status} (${JSON.stringify(ok.body.slice(0, 120))}) instead of 200 and the upstream's body`;
  }
  if (token === undefined || !isProtected) return undefined;

  // The last signature character changed: same length, different bytes.
  const last = token.at(-1) === 'A' ? 'Q' : 'A';
  for (const [what, bad] of [['no', undefined], ['a tampered', `${token.slice(0, -1)}${last}`]]) {
    const refused = await getWithToken(port, path, bad);
    if (refused.status !== 401) return `GET ${path} with ${what} token answered ${refused.status}, not 401`;
  }
  return undefined;
}

/**
 * One GET of `path` over a fresh connection, with `Bearer token` when given (5 s bound; the
 * body's first 4 KB). Never rejects: a failure answers status -1 and the error's message.
 */
export function getWithToken(port: number, path: string, token: string | undefined):
  Promise<{ status: number; body: string }> {
  const headers = token === undefined ? {} : { authorization: `Bearer ${token}` };
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path, headers, agent: false, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4_096) body += chunk;
        });
        res.on('error', () => resolve({ status: -1, body }));
        res.on('end', () => resolve({ status: res.statusCode ?? -1, body }));
      });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (err) => resolve({ status: -1, body: err.message }));
    req.end();
  });
}
