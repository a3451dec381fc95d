/**
 * Keys and tokens of the authn bench. Each algorithm gets one key pair and two token sets (the
 * warm-up slice and the measured slice), every token distinct (its own `sub` and `jti`), all
 * valid for `kAuthnLoad.tokenLifetimeSec`. RS256 signing is slow (a few thousand per second per
 * core), so the sets are kept under the gitignored bench/.cache/authn-tokens/ and reused while
 * they are large enough and at least `minTokenValiditySec` of validity remains; otherwise they
 * are made again, with a fresh key pair.
 *
 * Files per algorithm: meta.json (format, key id, expiry, counts), private.pem, public.pem
 * (the PEM HAProxy and fastify read), warm.txt and run.txt (one compact JWS per line, read by
 * the wrk script). jwks.json holds both public keys, for Portcullis's `jwksFile`.
 */
import {
  type KeyObject, createPrivateKey, createPublicKey, generateKeyPairSync, sign,
} from 'node:crypto';
import { mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

import { type AuthnAlgorithm, kAuthnLoad, kBenchAudience, kBenchIssuer } from '../scenarios.js';

/** Bumped when the token or file layout changes, so older caches are made again. */
const kFormat = 2;
/** Signatures in flight while making a set: node:crypto runs them on libuv's thread pool. */
const kSignConcurrency = 64;

/** One algorithm's key and token files, ready to use. */
export interface TokenSet {
  readonly alg: AuthnAlgorithm;
  readonly kid: string;
  readonly publicKeyPem: string;
  readonly warmFile: string;
  readonly runFile: string;
  readonly warmCount: number;
  readonly runCount: number;
  /** Expiry of every token (seconds since the epoch). */
  readonly exp: number;
  /** A valid token of this set (the first warm-up token), for answer checks and the cached path. */
  readonly sample: string;
  /** Whether the set came from the cache. */
  readonly isReused: boolean;
  /** Seconds spent making it (0 when reused). */
  readonly makeSeconds: number;
}

interface Meta {
  format: number;
  alg: AuthnAlgorithm;
  kid: string;
  exp: number;
  warmCount: number;
  runCount: number;
}

/**
 * The token set of `alg` with at least `warmCount` and `runCount` tokens valid for `runSeconds`
 * more seconds plus the validity margin: from `cacheDir` when it qualifies, else made now.
 */
export async function tokenSet(cacheDir: string, alg: AuthnAlgorithm, warmCount: number,
  runCount: number, runSeconds: number, log: (line: string) => void): Promise<TokenSet> {
  const dir = join(cacheDir, alg.toLowerCase());
  const nowSec = Math.floor(Date.now() / 1000);
  const meta = await readMeta(dir);
  const isUsable = meta !== undefined && meta.format === kFormat && meta.alg === alg
    && meta.warmCount >= warmCount && meta.runCount >= runCount
    && meta.exp - nowSec >= kAuthnLoad.minTokenValiditySec + runSeconds
    && await filesExist(dir);
  const started = performance.now();
  const held = isUsable ? meta : await makeSet(dir, alg, warmCount, runCount, nowSec, log);
  const sample = (await readFile(join(dir, 'warm.txt'), 'utf8')).slice(0, 8192).split('\n')[0];
  return {
    alg,
    kid: held.kid,
    publicKeyPem: join(dir, 'public.pem'),
    warmFile: join(dir, 'warm.txt'),
    runFile: join(dir, 'run.txt'),
    warmCount: held.warmCount,
    runCount: held.runCount,
    exp: held.exp,
    sample: sample ?? '',
    isReused: isUsable,
    makeSeconds: isUsable ? 0 : (performance.now() - started) / 1000,
  };
}

/** Writes `jwks.json` in `cacheDir` with the public keys of `sets`; returns its path. */
export async function writeJwks(cacheDir: string, sets: readonly TokenSet[]): Promise<string> {
  const keys = await Promise.all(sets.map(async (set) => ({
    ...createPublicKey(await readFile(set.publicKeyPem, 'utf8')).export({ format: 'jwk' }),
    kid: set.kid, alg: set.alg, use: 'sig',
  })));
  const path = join(cacheDir, 'jwks.json');
  await writeFile(path, `${JSON.stringify({ keys }, null, 2)}\n`);
  return path;
}

/**
 * One more token of `set`'s key with the usual claims, `overrides` applied on top (e.g. a scope
 * the policy does not grant), for the answer checks. Not part of the set's files.
 */
export async function signExtraToken(set: TokenSet, overrides: Record<string, unknown>):
  Promise<string> {
  const key = createPrivateKey(await readFile(join(dirname(set.publicKeyPem), 'private.pem')));
  const iat = Math.floor(Date.now() / 1000);
  const header = base64url(JSON.stringify({ alg: set.alg, typ: 'JWT', kid: set.kid }));
  const payload = base64url(JSON.stringify({
    iss: kBenchIssuer, sub: 'user-extra', aud: kBenchAudience, iat, exp: set.exp,
    scope: 'orders:read orders:write', client_id: 'bench-client', jti: `extra-${iat}`,
    ...overrides,
  }));
  const input = `${header}.${payload}`;
  return `${input}.${(await signAsync(set.alg, key, input)).toString('base64url')}`;
}

async function readMeta(dir: string): Promise<Meta | undefined> {
  try {
    return JSON.parse(await readFile(join(dir, 'meta.json'), 'utf8')) as Meta;
  } catch {
    return undefined;
  }
}

async function filesExist(dir: string): Promise<boolean> {
  try {
    for (const name of ['public.pem', 'private.pem', 'warm.txt', 'run.txt']) {
      if ((await stat(join(dir, name))).size === 0) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function makeSet(dir: string, alg: AuthnAlgorithm, warmCount: number, runCount: number,
  nowSec: number, log: (line: string) => void): Promise<Meta> {
  // 1. A fresh key pair; a made set never mixes with tokens of an older key.
  await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
  const pair = alg === 'RS256'
    ? generateKeyPairSync('rsa', { modulusLength: 2048 })
    : generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const kid = `bench-${alg.toLowerCase()}-${nowSec}`;
  await writeFile(join(dir, 'private.pem'), pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
  await writeFile(join(dir, 'public.pem'), pair.publicKey.export({ type: 'spki', format: 'pem' }));

  // 2. The two slices, then the meta file last: a half-made set is never taken for a whole one.
  const exp = nowSec + kAuthnLoad.tokenLifetimeSec;
  const header = base64url(JSON.stringify({ alg, typ: 'JWT', kid }));
  log(`making ${warmCount + runCount} ${alg} tokens (cached in bench/.cache for later runs)`);
  await writeFile(join(dir, 'warm.txt'),
    await signMany(alg, pair.privateKey, header, 0, warmCount, nowSec, exp));
  await writeFile(join(dir, 'run.txt'),
    await signMany(alg, pair.privateKey, header, warmCount, runCount, nowSec, exp));
  const meta: Meta = { format: kFormat, alg, kid, exp, warmCount, runCount };
  await writeFile(join(dir, 'meta.json'), `${JSON.stringify(meta)}\n`);
  return meta;
}

/** `count` tokens numbered from `first`, one per line. */
async function signMany(alg: AuthnAlgorithm, key: KeyObject, header: string, first: number,
  count: number, iat: number, exp: number): Promise<string> {
  const lines = new Array<string>(count);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      const i = next++;
      const payload = base64url(JSON.stringify({
        iss: kBenchIssuer, sub: `user-${first + i}`, aud: kBenchAudience, iat, exp,
        scope: 'orders:read orders:write', client_id: 'bench-client', jti: `t-${first + i}`,
      }));
      const input = `${header}.${payload}`;
      lines[i] = `${input}.${(await signAsync(alg, key, input)).toString('base64url')}`;
    }
  };
  await Promise.all(Array.from({ length: kSignConcurrency }, worker));
  return `${lines.join('\n')}\n`;
}

function signAsync(alg: AuthnAlgorithm, key: KeyObject, input: string): Promise<Buffer> {
  // JWS ES256 signatures are r || s (RFC 7518 section 3.4), not DER.
  const signer = alg === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' as const } : key;
  return new Promise((resolve, reject) => {
    sign('sha256', Buffer.from(input), signer, (err, sig) => (err ? reject(err) : resolve(sig)));
  });
}

function base64url(text: string): string {
  return Buffer.from(text).toString('base64url');
}

