/**
 * Bundle source: a local file, watched. The bundle is `path`, its signature `signaturePath`
 * (default `path + '.jws'`). Both are checked by stat every `intervalMs` (fs.watchFile, which
 * also sees atomic renames and works on every file system); when either changed, both are read
 * and offered once. A pair that fails to verify (say, the signature is not written yet) is
 * offered again when a file changes next.
 */
import { createHash } from 'node:crypto';
import { type Stats, unwatchFile, watchFile } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { ActivationResult, BundleActivator } from './bundle-activator.js';

/** A running source; `stop()` ends the watch. */
export interface BundleSource {
  /** Resolves after the first load attempt (whatever its outcome). */
  readonly ready: Promise<ActivationResult | undefined>;
  stop(): void;
}

/** Most bytes read from a bundle file (bounded like every input). */
export const kMaxBundleBytes = 64 * 1024 * 1024;

/** Watches `path` (and its signature) and offers each new version to `activator`. */
export function startFileSource(opts: { path: string; signaturePath?: string; intervalMs: number;
  activator: BundleActivator }): BundleSource {
  const sigPath = opts.signaturePath ?? `${opts.path}.jws`;
  let lastOffered = '';
  let isStopped = false;
  let pending: Promise<ActivationResult | undefined> | undefined;

  const load = async (): Promise<ActivationResult | undefined> => {
    let bytes: Buffer;
    let signature: string | undefined;
    try {
      bytes = await readFile(opts.path);
      signature = await readFile(sigPath, 'utf8').catch(() => undefined);
    } catch {
      return undefined;
    }
    if (bytes.length > kMaxBundleBytes || isStopped) return undefined;
    const key = createHash('sha256').update(bytes).update('\0').update(signature ?? '').digest('hex');
    if (key === lastOffered) return undefined;
    lastOffered = key;
    return opts.activator.offer(bytes, signature, `file:${opts.path}`);
  };
  const onChange = (current: Stats, previous: Stats): void => {
    if (current.mtimeMs === previous.mtimeMs && current.size === previous.size) return;
    pending = (pending ?? Promise.resolve(undefined)).then(load, load);
  };
  watchFile(opts.path, { interval: opts.intervalMs, persistent: false }, onChange);
  watchFile(sigPath, { interval: opts.intervalMs, persistent: false }, onChange);
  const ready = load();
  pending = ready;
  return {
    ready,
    stop: () => {
      isStopped = true;
      unwatchFile(opts.path, onChange);
      unwatchFile(sigPath, onChange);
    },
  };
}
