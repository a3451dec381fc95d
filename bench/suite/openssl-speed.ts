/**
 * `openssl speed` on the target core: what the machine's OpenSSL does per second for the
 * signature checks the proxy makes (RSA-2048, ECDSA P-256 and Ed25519 verify) and for HMAC-SHA256
 * over a 300-byte input (about a JWT's signing input), the floor under every JWT figure.
 */
import { describeFailure, runToEnd } from '../e2e/child-output.js';

/** Verifications (or MACs) per second, one core, with the commands that measured them. */
export interface OpensslSpeed {
  version: string;
  commands: string[][];
  rsa2048VerifyPerSec: number;
  ecdsaP256VerifyPerSec: number;
  ed25519VerifyPerSec: number;
  /** HMAC-SHA256 over `hmacBytes` bytes, computed from openssl's kB/s. */
  hmacSha256PerSec: number;
  hmacBytes: number;
  error?: string;
}

const kHmacBytes = 300;

/**
 * Reads verify/s from `openssl speed rsa2048 ecdsap256 ed25519` output (OpenSSL 3.0 layout:
 * `rsa 2048 bits <sign s> <verify s> <sign/s> <verify/s>`, and the same for the curves).
 * NaN for a figure that is missing.
 */
export function parseSignatureSpeed(out: string):
  Pick<OpensslSpeed, 'rsa2048VerifyPerSec' | 'ecdsaP256VerifyPerSec' | 'ed25519VerifyPerSec'> {
  const lastNumber = (re: RegExp): number => {
    const line = re.exec(out)?.[0];
    const fields = line?.trim().split(/\s+/) ?? [];
    const value = Number(fields.at(-1));
    return fields.length > 0 && Number.isFinite(value) ? value : Number.NaN;
  };
  return {
    rsa2048VerifyPerSec: lastNumber(/^rsa\s+2048 bits\s.*$/m),
    ecdsaP256VerifyPerSec: lastNumber(/^\s*256 bits ecdsa \(nistp256\)\s.*$/m),
    ed25519VerifyPerSec: lastNumber(/^\s*253 bits EdDSA \(Ed25519\)\s.*$/m),
  };
}

/**
 * MACs per second from `openssl speed -bytes N -hmac sha256` output, whose figure is in 1000s
 * of bytes per second (`hmac(sha256)    999390.30k`). NaN when missing.
 */
export function parseHmacSpeed(out: string, bytes: number): number {
  const match = /^hmac\(sha256\)\s+([\d.]+)k\s*$/m.exec(out);
  return match === null ? Number.NaN : (Number(match[1]) * 1000) / bytes;
}

/** Runs both commands (about 8 s in all), pinned to `cpus` when given. Never rejects. */
export async function runOpensslSpeed(repoRoot: string, cpus: string | undefined):
  Promise<OpensslSpeed> {
  const pin = (argv: string[]): string[] => (cpus === undefined ? argv
    : ['taskset', '-c', cpus, ...argv]);
  const commands = [
    pin(['openssl', 'speed', '-seconds', '1', 'rsa2048', 'ecdsap256', 'ed25519']),
    pin(['openssl', 'speed', '-seconds', '1', '-bytes', String(kHmacBytes), '-hmac', 'sha256']),
  ];
  const version = await runToEnd(['openssl', 'version'], { cwd: repoRoot, timeoutMs: 10_000 });
  const result: OpensslSpeed = {
    version: version.code === 0 ? version.stdout.trim() : 'not installed', commands,
    rsa2048VerifyPerSec: Number.NaN, ecdsaP256VerifyPerSec: Number.NaN,
    ed25519VerifyPerSec: Number.NaN, hmacSha256PerSec: Number.NaN, hmacBytes: kHmacBytes,
  };

  const [signatures, hmac] = commands as [string[], string[]];
  const sigOut = await runToEnd(signatures, { cwd: repoRoot, timeoutMs: 120_000 });
  if (sigOut.code !== 0) return { ...result, error: describeFailure(signatures, sigOut) };
  const macOut = await runToEnd(hmac, { cwd: repoRoot, timeoutMs: 60_000 });
  if (macOut.code !== 0) return { ...result, error: describeFailure(hmac, macOut) };

  const parsed = { ...result, ...parseSignatureSpeed(sigOut.stdout),
    hmacSha256PerSec: parseHmacSpeed(macOut.stdout, kHmacBytes) };
  const missing = Object.entries(parsed).filter(([, v]) => typeof v === 'number'
    && Number.isNaN(v)).map(([k]) => k);
  return missing.length === 0 ? parsed
    : { ...parsed, error: `openssl speed output not understood for ${missing.join(', ')}` };
}
