import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { type KeyObject, generateKeyPairSync, sign } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';

import {
  type AuthnTarget, startFastifyTarget, startHaproxyTarget,
} from '../../bench/e2e/authn-targets.js';
import {
  type AuthnAlgorithm, kBenchAudience, kBenchIssuer, kPrivatePath, kUpstreamBody, upstreamConf,
} from '../../bench/scenarios.js';
import { type NginxInstance, startNginx } from '../support/nginx.js';

/**
 * The peers of the authn bench must check what Portcullis checks, or the comparison flatters
 * them: HAProxy's `jwt_verify` checks only the signature, so its iss/aud/exp/alg ACLs are tested
 * here, and so is the fastify peer's verifier setup. Real haproxy, real fastify, real nginx.
 * Skipped with the reason when haproxy or nginx is missing, except under CI, where .ci/run
 * installs them and a missing binary fails.
 */
function missingTools(): string | false {
  for (const tool of ['haproxy', 'nginx']) {
    if (spawnSync(tool, ['-v'], { stdio: 'ignore' }).error !== undefined) {
      if (process.env['CI'] === 'true') throw new Error(`${tool} is not installed`);
      return `${tool} is not installed (needed by the benches only)`;
    }
  }
  return false;
}

const kRepoRoot = fileURLToPath(new URL('../../../', import.meta.url));

interface Keys {
  readonly privateKey: KeyObject;
  readonly pem: string;
}

function keysFor(alg: AuthnAlgorithm): { privateKey: KeyObject; publicKey: KeyObject } {
  return alg === 'RS256' ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
}

/** A compact JWS over `claims`, signed with `key` under header `alg` (which may lie). */
function token(alg: string, key: KeyObject, claims: Record<string, unknown>): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const input = `${part({ alg, typ: 'JWT' })}.${part(claims)}`;
  const isEc = key.asymmetricKeyType === 'ec';
  const sig = sign('sha256', Buffer.from(input), isEc ? { key, dsaEncoding: 'ieee-p1363' } : key);
  return `${input}.${sig.toString('base64url')}`;
}

function get(port: number, bearer: string | undefined): Promise<{ status: number; body: string }> {
  const headers = bearer === undefined ? {} : { authorization: `Bearer ${bearer}` };
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: kPrivatePath, headers, agent: false,
      timeout: 5_000 }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('no answer within 5 s')));
    req.on('error', reject);
    req.end();
  });
}

const kPeers = [
  { name: 'haproxy', start: startHaproxyTarget },
  { name: 'fastify', start: startFastifyTarget },
] as const;

describe('bench-support/authn-peers', { timeout: 120_000, skip: missingTools() }, () => {
  let dir = '';
  let upstream: NginxInstance | undefined;
  const keys = new Map<AuthnAlgorithm, Keys>();
  let stranger: KeyObject;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-authn-peers-'));
    upstream = await startNginx({ conf: upstreamConf() });
    for (const alg of ['RS256', 'ES256'] as const) {
      const pair = keysFor(alg);
      const pem = join(dir, `${alg}.pem`);
      await writeFile(pem, pair.publicKey.export({ type: 'spki', format: 'pem' }));
      keys.set(alg, { privateKey: pair.privateKey, pem });
    }
    stranger = keysFor('RS256').privateKey;
  });

  after(async () => {
    await upstream?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  for (const peer of kPeers) {
    for (const alg of ['RS256', 'ES256'] as const) {
      it(`bench-support/authn-peers peer=${peer.name} alg=${alg} forwards only valid tokens`,
        async () => {
          const { privateKey, pem } = keys.get(alg) as Keys;
          const now = Math.floor(Date.now() / 1000);
          const good = { iss: kBenchIssuer, aud: kBenchAudience, sub: 'u', iat: now, exp: now + 600 };
          const other: AuthnAlgorithm = alg === 'RS256' ? 'ES256' : 'RS256';
          const otherKey = (keys.get(other) as Keys).privateKey;
          const valid = token(alg, privateKey, good);
          const cases: Array<{ why: string; bearer: string | undefined; status: number }> = [
            { why: 'a valid token is forwarded to the upstream', bearer: valid, status: 200 },
            { why: 'no token is refused', bearer: undefined, status: 401 },
            { why: 'an expired token is refused (exp is an ACL, not part of jwt_verify)',
              bearer: token(alg, privateKey, { ...good, exp: now - 60 }), status: 401 },
            { why: 'another issuer is refused', bearer: token(alg, privateKey,
              { ...good, iss: 'https://evil.example' }), status: 401 },
            { why: 'another audience is refused', bearer: token(alg, privateKey,
              { ...good, aud: 'other-api' }), status: 401 },
            { why: 'an altered payload under the original signature is refused',
              bearer: `${valid.split('.')[0]}.${Buffer.from(JSON.stringify({ ...good, sub: 'admin' }))
                .toString('base64url')}.${valid.split('.')[2]}`, status: 401 },
            { why: 'a signature by a key the peer does not trust is refused',
              bearer: token(alg, alg === 'RS256' ? stranger : keysFor('ES256').privateKey, good),
              status: 401 },
            { why: 'a token of the other algorithm is refused (the algorithm is pinned)',
              bearer: token(other, otherKey, good), status: 401 },
          ];

          const ctx = { repoRoot: kRepoRoot, upstreamPort: upstream?.port('target') ?? 0,
            cpus: undefined, jwksFile: '' };
          let target: AuthnTarget | undefined;
          try {
            target = await peer.start(ctx, alg, pem);
            for (const c of cases) {
              const answer = await get(target.port, c.bearer);
              assert.equal(answer.status, c.status, c.why);
              if (c.status === 200) assert.equal(answer.body, kUpstreamBody, c.why);
            }
          } finally {
            await target?.stop();
          }
        });
    }
  }
});
