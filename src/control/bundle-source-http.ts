/**
 * Bundle source: an HTTP(S) URL, polled. Each poll sends `If-None-Match` with the last ETag; a
 * 304 changes nothing. A 200 brings the bundle; its signature is fetched from `signatureUrl`
 * (default: the URL with `.jws` appended) and both are offered. A failed poll (network error,
 * a status other than 200/304, an oversized body) waits twice as long as the previous one, up to
 * `maxBackoffMs`; a good poll returns to `intervalMs`. Timers never keep the process alive.
 */
import type { ActivationResult, BundleActivator } from './bundle-activator.js';
import { type BundleSource, kMaxBundleBytes } from './bundle-source-file.js';

/** Counters of one HTTP source. */
export interface HttpSourceStats {
  polls: number;
  notModified: number;
  failures: number;
  currentDelayMs: number;
}

async function readCapped(res: Response, max: number): Promise<Uint8Array | undefined> {
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > max) return undefined;
  const body = new Uint8Array(await res.arrayBuffer());
  return body.length > max ? undefined : body;
}

/** Polls `url` and offers each new bundle to `activator`. */
export function startHttpSource(opts: { url: string; signatureUrl?: string; intervalMs: number;
  maxBackoffMs: number; timeoutMs?: number; activator: BundleActivator }):
  BundleSource & { stats(): HttpSourceStats } {
  const sigUrl = opts.signatureUrl ?? `${opts.url}.jws`;
  const stats: HttpSourceStats = { polls: 0, notModified: 0, failures: 0,
    currentDelayMs: opts.intervalMs };
  let etag: string | undefined;
  let timer: NodeJS.Timeout | undefined;
  let isStopped = false;
  const timeoutMs = opts.timeoutMs ?? 10_000;

  const poll = async (): Promise<ActivationResult | undefined> => {
    stats.polls++;
    const res = await fetch(opts.url, {
      headers: etag === undefined ? {} : { 'if-none-match': etag },
      signal: AbortSignal.timeout(timeoutMs), redirect: 'error',
    });
    if (res.status === 304) {
      stats.notModified++;
      await res.body?.cancel();
      return undefined;
    }
    if (res.status !== 200) throw new Error(`bundle URL answered ${res.status}`);
    const bytes = await readCapped(res, kMaxBundleBytes);
    if (bytes === undefined) throw new Error('bundle larger than the limit');
    const sigRes = await fetch(sigUrl, { signal: AbortSignal.timeout(timeoutMs), redirect: 'error' });
    const signature = sigRes.status === 200 ? await sigRes.text() : undefined;
    if (sigRes.status !== 200) await sigRes.body?.cancel();
    const result = await opts.activator.offer(bytes, signature, `url:${opts.url}`);
    // Remember the ETag only for a bundle that was handled: a refused one is fetched again
    // after a backoff, in case its signature was published late.
    if (result.ok) etag = res.headers.get('etag') ?? undefined;
    else throw new Error(result.code);
    return result;
  };

  const schedule = (delayMs: number): void => {
    if (isStopped) return;
    stats.currentDelayMs = delayMs;
    timer = setTimeout(() => void run(), delayMs);
    timer.unref();
  };
  const run = async (): Promise<ActivationResult | undefined> => {
    try {
      const result = await poll();
      schedule(opts.intervalMs);
      return result;
    } catch {
      stats.failures++;
      schedule(Math.min(opts.maxBackoffMs, Math.max(opts.intervalMs, stats.currentDelayMs * 2)));
      return undefined;
    }
  };

  const ready = run();
  return {
    ready,
    stop: () => {
      isStopped = true;
      if (timer !== undefined) clearTimeout(timer);
    },
    stats: () => ({ ...stats }),
  };
}
