/**
 * Runs `portcullis serve` as a child process (the real CLI entry point), for tests that need a
 * separate process: signals, exit codes, and memory measured apart from the test runner.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Path of bin/portcullis.js in this checkout. */
export const kBin = fileURLToPath(new URL('../../../bin/portcullis.js', import.meta.url));

/** A proxy child process. */
export interface ProxyProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly adminPort: number;
  /** The mTLS listener's port, when the config has one. */
  readonly mtlsPort: number | undefined;
  /** Every stdout line so far (JSON log lines). */
  readonly stdout: string[];
  /** Everything written to stderr so far (the demo's hints, start-up failures). */
  stderr(): string;
  /** Resident set size in bytes, from /proc. */
  rssBytes(): number;
  /** Sends `signal` and resolves the exit code (null if killed). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Writes `yaml` to a temp file and returns its path; the file is removed when the process exits. */
export function writeConfig(yaml: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'portcullis-cfg-'));
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'portcullis.yaml');
  writeFileSync(file, yaml);
  return file;
}

/**
 * Starts `portcullis serve --config FILE` (or, with `configFile` undefined, the embedded demo)
 * and waits (at most 10 s) for its "listening" line.
 */
export function startProxyProcess(configFile: string | undefined, extraArgs: string[] = []):
  Promise<ProxyProcess> {
  const config = configFile === undefined ? [] : ['--config', configFile];
  const child = spawn(process.execPath, [kBin, 'serve', ...config, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout: string[] = [];
  let stderr = '';
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
  });
  // The status as a shell reports it: the exit code, or 128 + the signal's number when killed.
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code, signal) =>
    resolve(code ?? (signal === null ? null : 128 + constants.signals[signal]))));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`proxy did not start in 10 s: ${stderr}`));
    }, 10_000);
    let buffered = '';
    child.stdout!.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        stdout.push(line);
        const rec = JSON.parse(line) as {
          msg?: string; proxy?: string; admin?: string; mtls?: string;
        };
        if (rec.msg !== 'listening') continue;
        clearTimeout(timer);
        resolve({
          child,
          port: Number(rec.proxy?.split(':').pop()),
          adminPort: Number(rec.admin?.split(':').pop()),
          mtlsPort: rec.mtls === undefined ? undefined : Number(rec.mtls.split(':').pop()),
          stdout,
          stderr: () => stderr,
          rssBytes: () => {
            const status = readFileSync(`/proc/${child.pid}/status`, 'utf8');
            return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? '0') * 1024;
          },
          stop: (signal = 'SIGTERM') => {
            child.kill(signal);
            return exited;
          },
        });
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`proxy exited with ${code} before listening: ${stderr}`));
    });
  });
}
