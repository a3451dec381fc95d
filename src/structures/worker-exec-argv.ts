/**
 * The node flags a worker thread may be started with. A thread inherits the process's
 * `execArgv`, but node refuses to start a Worker whose execArgv holds a V8 option or a flag that
 * acts on the whole process (`node --max-old-space-size=96 bin/portcullis.js serve` failed with
 * "Initiated Worker with invalid execArgv flags"; so did `--expose-gc`): a thread gets its heap
 * limits from `resourceLimits` instead. Node decides which flags those are, so it is asked: a
 * Worker built with the flags throws, synchronously and before any thread starts, naming the
 * ones it refuses, and those are left out. Done once per process, and only when the process has
 * flags at all (the usual `node bin/portcullis.js` has none).
 */
import { Worker } from 'node:worker_threads';

const kRefusedPrefix = 'invalid execArgv flags:';
let kept: string[] | undefined;

/** The flags of `execArgv` node accepts for a Worker (computed once per process). */
function acceptedFlags(execArgv: readonly string[]): string[] {
  if (execArgv.length === 0) return [];
  try {
    // Valid flags: the probe runs an empty script and ends at once.
    const probe = new Worker('', { eval: true, execArgv: [...execArgv] });
    probe.unref();
    return [...execArgv];
  } catch (err) {
    const message = (err as Error).message;
    const at = message.indexOf(kRefusedPrefix);
    if (at < 0) throw err;
    const refused = new Set(message.slice(at + kRefusedPrefix.length).split(',')
      .map((flag) => flag.trim()));
    return execArgv.filter((flag) => !refused.has(flag));
  }
}

/**
 * The process's `execArgv` without the flags a Worker refuses, plus `extra`. The first call
 * may start (and end) one probe thread.
 */
export function workerExecArgv(execArgv: readonly string[], extra: readonly string[] = []):
  string[] {
  kept ??= acceptedFlags(execArgv);
  return [...kept, ...extra];
}
