/**
 * One measured wrk run against a target process: a warm-up run (discarded), then the measured
 * run with the CPU time of the target's process tree and the use of every CPU over it.
 */
import { setTimeout as sleep } from 'node:timers/promises';

import type { RunRecord } from './forwarding-summary.js';
import { coreTimes, coreUse, cpuSeconds, memoryBytes, processTree } from './proc-stats.js';
import { type WrkOptions, runWrk } from './wrk.js';

/** `warmup`, a 200 ms pause, then `measured`; rejects when the target exits meanwhile. */
export async function measureRun(pid: number, warmup: WrkOptions, measured: WrkOptions):
  Promise<Omit<RunRecord, 'round' | 'position'>> {
  await runWrk(warmup);
  await sleep(200);

  const pids = processTree(pid);
  const cpuBefore = cpuSeconds(pids);
  const coresBefore = coreTimes();
  const result = await runWrk(measured);
  const cpuUsed = cpuSeconds(pids) - cpuBefore;
  const cores = coreUse(coresBefore, coreTimes());
  if (!isAlive(pid)) throw new Error(`the target (pid ${pid}) exited during the run`);
  return {
    wrk: result,
    cores,
    targetCpuShare: cpuUsed / result.durationSeconds,
    cpuUsPerRequest: result.requests > 0 ? (cpuUsed * 1e6) / result.requests : Number.NaN,
    peakRssBytes: memoryBytes(processTree(pid), 'VmHWM'),
  };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}
