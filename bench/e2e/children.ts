/**
 * Child-process hygiene for the end-to-end benches: every child is killed when the bench ends,
 * whether it finishes, throws, is interrupted (SIGINT, SIGTERM) or hits its time limit.
 *
 * Two layers: async cleanups (graceful stops, LIFO) run by `runCleanup`, and a synchronous
 * SIGKILL sweep on process exit for anything still registered.
 */
import type { ChildProcess } from 'node:child_process';

const kLive = new Map<number, { isGroup: boolean }>();
const kCleanups: Array<() => Promise<void>> = [];
const kCleanupTimeoutMs = 15_000;
let isExitHookInstalled = false;
let cleaning: Promise<void> | undefined;

/**
 * Registers `child` for the exit sweep; `isGroup` when it was spawned `detached` (its own
 * process group, killed as a whole). Returns the function to call once the child has ended.
 */
export function killOnExit(child: ChildProcess, isGroup = false): () => void {
  const pid = child.pid;
  if (pid === undefined) return () => undefined;
  kLive.set(pid, { isGroup });
  installExitHook();
  return () => {
    kLive.delete(pid);
  };
}

/** Adds an async cleanup step; steps run last-registered first. */
export function onCleanup(step: () => Promise<void>): void {
  kCleanups.push(step);
}

/** Runs every cleanup step once (bounded to 15 s in all), then SIGKILLs what is left. */
export async function runCleanup(): Promise<void> {
  cleaning ??= (async () => {
    const steps = kCleanups.splice(0).reverse();
    const all = (async () => {
      for (const step of steps) {
        try {
          await step();
        } catch (err) {
          process.stderr.write(`cleanup step failed: ${String(err)}\n`);
        }
      }
    })();
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, kCleanupTimeoutMs);
    });
    await Promise.race([all, limit]);
    clearTimeout(timer);
    killAll();
  })();
  return cleaning;
}

/**
 * On SIGINT or SIGTERM: run the cleanup, then exit with 128 + the signal number. Also arms a
 * watchdog: after `limitMs` the bench is declared stuck, cleaned up, and exits 1.
 */
export function installInterruptHandlers(limitMs: number): void {
  const codes = { SIGINT: 130, SIGTERM: 143 } as const;
  for (const name of ['SIGINT', 'SIGTERM'] as const) {
    // `on`, not `once`: staying registered tells test/support/nginx.ts not to re-raise.
    process.on(name, () => {
      process.stderr.write(`\n${name}: stopping every child process\n`);
      void runCleanup().finally(() => process.exit(codes[name]));
    });
  }

  const watchdog = setTimeout(() => {
    process.stderr.write(`bench still running after ${Math.round(limitMs / 1000)} s: aborting\n`);
    void runCleanup().finally(() => process.exit(1));
  }, limitMs);
  // The watchdog must not keep a finished bench alive; pending children keep the loop alive.
  watchdog.unref();
}

function killAll(): void {
  for (const [pid, { isGroup }] of kLive) {
    try {
      process.kill(isGroup ? -pid : pid, 'SIGKILL');
    } catch {
      // ESRCH: already gone.
    }
  }
  kLive.clear();
}

function installExitHook(): void {
  if (isExitHookInstalled) return;
  isExitHookInstalled = true;
  process.on('exit', killAll);
}
