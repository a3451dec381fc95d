/**
 * CPU time and memory of a process and its descendants, read from /proc (Linux only).
 * nginx does its work in worker processes under the master; Node does it in threads of one
 * process. Summing over the process tree treats both alike.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';

/** Clock ticks per second of utime/stime in /proc/<pid>/stat (usually 100). */
export const kClockTicksPerSecond = readClockTicks();

function readClockTicks(): number {
  const out = spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout;
  const ticks = Number.parseInt(out ?? '', 10);
  return Number.isFinite(ticks) && ticks > 0 ? ticks : 100;
}

/** Fields of /proc/<pid>/stat after the command name, which may itself hold spaces. */
function statFields(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/** `rootPid` and every live descendant, found through each process's parent pid. */
export function processTree(rootPid: number): number[] {
  const parentOf = new Map<number, number>();
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid)) continue;
    const fields = statFields(pid);
    // Field 4 of stat (index 1 after the name) is the parent pid.
    if (fields !== undefined) parentOf.set(pid, Number(fields[1]));
  }

  const tree = [rootPid];
  for (let i = 0; i < tree.length; i++) {
    for (const [pid, ppid] of parentOf) {
      if (ppid === tree[i] && !tree.includes(pid)) tree.push(pid);
    }
  }
  return tree;
}

/** User plus system CPU seconds consumed so far by `pids` (all threads); gone pids count 0. */
export function cpuSeconds(pids: readonly number[]): number {
  let ticks = 0;
  for (const pid of pids) {
    const fields = statFields(pid);
    // Fields 14 and 15 of stat (indexes 11 and 12 here): utime and stime in clock ticks.
    if (fields !== undefined) ticks += Number(fields[11]) + Number(fields[12]);
  }
  return ticks / kClockTicksPerSecond;
}

/**
 * A /proc/<pid>/status memory field summed over `pids`, in bytes: 'VmHWM' is the peak
 * resident set since start, 'VmRSS' the current one. Pages shared between processes (nginx
 * master and worker) count once per process, so the sum is an upper bound.
 */
export function memoryBytes(pids: readonly number[], field: 'VmHWM' | 'VmRSS'): number {
  let kib = 0;
  for (const pid of pids) {
    try {
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status);
      kib += Number(match?.[1] ?? 0);
    } catch {
      // The process has exited: it holds no memory.
    }
  }
  return kib * 1024;
}

/** Jiffies per CPU from /proc/stat. */
export interface CoreTimes {
  /** Everything but idle and iowait: processes, interrupts, softirqs, hypervisor steal. */
  busy: number;
  /** user + nice + system: time spent running processes (softirqs and steal excluded). */
  tasks: number;
  total: number;
}

/** Current per-CPU times, indexed by CPU number. */
export function coreTimes(): CoreTimes[] {
  const cores: CoreTimes[] = [];
  for (const line of readFileSync('/proc/stat', 'utf8').split('\n')) {
    const match = /^cpu(\d+)\s+(.*)$/.exec(line);
    if (match === null) continue;
    // user nice system idle iowait irq softirq steal (guest times are already in user).
    const t = (match[2] ?? '').split(/\s+/).slice(0, 8).map(Number);
    const total = t.reduce((sum, v) => sum + v, 0);
    cores[Number(match[1])] = {
      busy: total - (t[3] ?? 0) - (t[4] ?? 0),
      tasks: (t[0] ?? 0) + (t[1] ?? 0) + (t[2] ?? 0),
      total,
    };
  }
  return cores;
}

/** Per-CPU fractions (0..1) between two `coreTimes()` readings. */
export interface CoreUse {
  busy: number[];
  tasks: number[];
}

/** Busy and task fractions of each CPU between two readings. */
export function coreUse(before: readonly CoreTimes[], after: readonly CoreTimes[]): CoreUse {
  const use: CoreUse = { busy: [], tasks: [] };
  after.forEach((a, cpu) => {
    const b = before[cpu] ?? { busy: 0, tasks: 0, total: 0 };
    const total = a.total - b.total;
    use.busy[cpu] = total > 0 ? (a.busy - b.busy) / total : 0;
    use.tasks[cpu] = total > 0 ? (a.tasks - b.tasks) / total : 0;
  });
  return use;
}
