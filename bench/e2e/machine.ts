/**
 * Facts about the machine and tools a benchmark ran on, captured with every report: absolute
 * figures move from machine to machine, so a result is read together with these.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism, release } from 'node:os';

import { nginxBinary } from '../../test/support/nginx.js';
import { kClockTicksPerSecond } from './proc-stats.js';
import { wrkVersion } from './wrk.js';

/** What the report records about where it ran. */
export interface MachineFacts {
  /** `model name` from /proc/cpuinfo. */
  cpuModel: string;
  /** Logical CPUs listed in /proc/cpuinfo. */
  cpus: number;
  /** CPUs this process may run on (affinity mask), from os.availableParallelism(). */
  cpusAvailable: number;
  kernel: string;
  node: string;
  nginx: string;
  wrk: string;
  /** Ticks per second of /proc CPU times: the resolution of the CPU-per-request figure. */
  clockTicksPerSecond: number;
}

/** Reads the machine facts; tools that are missing read as 'not installed'. */
export async function machineFacts(): Promise<MachineFacts> {
  let cpuinfo = '';
  try {
    cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    // Not Linux: the fields below read as unknown.
  }
  return {
    cpuModel: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? 'unknown',
    cpus: cpuinfo.match(/^processor\s*:/gm)?.length ?? 0,
    cpusAvailable: availableParallelism(),
    kernel: `Linux ${release()}`,
    node: process.version,
    nginx: nginxVersion(),
    wrk: await wrkVersion(),
    clockTicksPerSecond: kClockTicksPerSecond,
  };
}

function nginxVersion(): string {
  try {
    // nginx prints its version on stderr: "nginx version: nginx/1.22.1".
    const out = spawnSync(nginxBinary(), ['-v'], { encoding: 'utf8' });
    return out.stderr.replace(/^nginx version:\s*/, '').trim() || 'unknown';
  } catch {
    return 'not installed';
  }
}
