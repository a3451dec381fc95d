/**
 * Starts the servers of the forwarding bench (the upstream and the targets of
 * bench/scenarios.ts), each pinned as peers.md describes, and checks that a target answers
 * exactly what the upstream sends before any load is put on it.
 */
import { request } from 'node:http';

import { startNginx } from '../../test/support/nginx.js';
import { type ForwardScenario, type ForwardScenarioName, kUpstreamBody } from '../scenarios.js';
import { onCleanup } from './children.js';
import { startPortcullis } from './portcullis-process.js';

/** A target ready for load. */
export interface RunningTarget {
  name: ForwardScenarioName;
  /** Root of the process tree whose CPU and memory are measured. */
  pid: number;
  /** Port wrk drives on 127.0.0.1. */
  port: number;
  /** How it was started, for the report (temp paths shown as they were). */
  command: string[];
  /** Its nginx http{} body or Portcullis YAML. */
  conf: string;
}

/** The upstream and the nginx targets are nginx with one worker. */
function nginxCommand(prefix: string, cpus: string | undefined): string[] {
  const nginx = ['nginx', '-p', `${prefix}/`, '-c', 'nginx.conf', '-e', 'stderr'];
  return cpus === undefined ? nginx : ['taskset', '-c', cpus, ...nginx];
}

/** Starts an nginx from `conf` (one worker), registered for cleanup. */
export async function startNginxTarget(
  name: string, conf: string, cpus: string | undefined,
): Promise<{ pid: number; port: number; command: string[] }> {
  const nginx = await startNginx(cpus === undefined ? { conf } : { conf, cpus });
  onCleanup(() => nginx.stop());
  process.stderr.write(`started ${name}: nginx pid ${nginx.pid} on port ${nginx.port('target')}\n`);
  return { pid: nginx.pid, port: nginx.port('target'), command: nginxCommand(nginx.prefix, cpus) };
}

/** Starts one scenario's target in front of `upstreamPort`; rejects with a clear reason. */
export async function startTarget(
  scenario: ForwardScenario, upstreamPort: number, repoRoot: string, cpus: string | undefined,
): Promise<RunningTarget> {
  if (scenario.kind === 'nginx') {
    const conf = scenario.nginxConf?.(upstreamPort) ?? '';
    const started = await startNginxTarget(scenario.name, conf, cpus);
    return { name: scenario.name, ...started, conf };
  }

  const proxy = await startPortcullis(
    cpus === undefined ? { repoRoot, upstreamPort } : { repoRoot, upstreamPort, cpus });
  onCleanup(() => proxy.stop());
  process.stderr.write(`started ${scenario.name}: pid ${proxy.pid} on port ${proxy.proxyPort}\n`);
  return {
    name: scenario.name,
    pid: proxy.pid,
    port: proxy.proxyPort,
    command: proxy.command,
    conf: proxy.config,
  };
}

/**
 * One GET / to the target over a fresh connection (5 s bound). Resolves undefined when it
 * answers 200 with the upstream's exact body, else the reason it does not.
 */
export async function checkAnswer(port: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: '127.0.0.1', port, path: '/', agent: false, timeout: 5_000 },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          if (body.length < 4_096) body += chunk;
        });
        res.on('error', (err) => resolve(`reading the answer failed: ${err.message}`));
        res.on('end', () => {
          if (res.statusCode === 200 && body === kUpstreamBody) return resolve(undefined);
          resolve(`GET / answered ${res.statusCode} with ${body.length} body bytes `
            + `(${JSON.stringify(body.slice(0, 120))}) instead of 200 with the upstream's body`);
        });
      });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', (err) => resolve(`GET / failed: ${err.message}`));
    req.end();
  });
}
