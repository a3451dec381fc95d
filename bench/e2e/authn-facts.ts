/**
 * What the authn report records besides the machine: the peers' versions, and Portcullis's
 * shipped default for `authn.pool.inlineAlgorithms` (read from the config schema itself, so the
 * report judges the verifier a user gets without configuring one).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { loadConfigText } from '../../src/config/index.js';

/** Versions of the peers and the default verifier placement. */
export interface AuthnFacts {
  haproxy: string;
  fastify: string;
  fastifyJwt: string;
  fastifyHttpProxy: string;
  /** The config default of `authn.pool.inlineAlgorithms`. */
  defaultInline: string[];
}

const kMinimalConfig = `services:
  - name: bench
    access: public
    upstream: { addresses: ['127.0.0.1:9'] }
`;

/** Reads the facts; a missing tool reads as 'not installed'. */
export async function authnFacts(repoRoot: string): Promise<AuthnFacts> {
  const config = await loadConfigText(kMinimalConfig, 'bench-defaults.yaml', tmpdir(), {});
  return {
    haproxy: haproxyVersion(),
    fastify: packageVersion(repoRoot, 'fastify'),
    fastifyJwt: packageVersion(repoRoot, '@fastify/jwt'),
    fastifyHttpProxy: packageVersion(repoRoot, '@fastify/http-proxy'),
    defaultInline: [...config.authn.pool.inlineAlgorithms],
  };
}

function haproxyVersion(): string {
  const out = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  if (out.error !== undefined) return 'not installed';
  return /HAProxy version (\S+)/.exec(out.stdout)?.[1] ?? 'unknown';
}

function packageVersion(repoRoot: string, name: string): string {
  try {
    const pkg = readFileSync(join(repoRoot, 'node_modules', name, 'package.json'), 'utf8');
    return (JSON.parse(pkg) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}
