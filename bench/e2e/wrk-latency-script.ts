/**
 * The wrk Lua `done` hook that reports what `--latency` does not print: p99.9 and the maximum,
 * read from wrk's own latency histogram (`latency:percentile(99.9)`, microseconds) after the
 * run. Every wrk run of the benches carries it: alone as a script of its own when a run has no
 * script, or appended to the script it has (wrk-token-script.ts), since wrk takes one `-s`.
 *
 * A script that defines no `request` and no `response` keeps wrk on its static-request path, so
 * the hook costs nothing while the clock runs. Its line, parsed by `parseWrk`:
 *
 *   portcullis-latency-us p50=412 p99=1830 p99.9=4120 max=9810
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { rename, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** The marker that starts the hook's output line. */
export const kLatencyLineMarker = 'portcullis-latency-us';

/** The Lua `done` function; append it to a script that defines no `done` of its own. */
export const kLatencyDoneHook = `
-- Written by bench/e2e/wrk-latency-script.ts: percentiles that --latency does not print.
function done(summary, latency, requests)
  io.write(string.format("${kLatencyLineMarker} p50=%.0f p99=%.0f p99.9=%.0f max=%.0f\\n",
    latency:percentile(50), latency:percentile(99), latency:percentile(99.9), latency.max))
end
`;

const kDigest = createHash('sha256').update(kLatencyDoneHook).digest('hex').slice(0, 12);

/**
 * Path of the hook-only script: one file per hook text in the temp dir, shared by every bench
 * process (the name holds the text's digest, so a file there always has the right content).
 */
export function latencyScriptPath(): string {
  return join(tmpdir(), `portcullis-wrk-latency-${kDigest}.lua`);
}

/** Writes the hook-only script unless it exists (temp file, then rename: never half-written). */
export async function ensureLatencyScript(): Promise<string> {
  const path = latencyScriptPath();
  if (existsSync(path)) return path;
  const temp = `${path}.${process.pid}.tmp`;
  await writeFile(temp, kLatencyDoneHook);
  await rename(temp, path);
  return path;
}

/** Latencies read from the hook's line, in microseconds; undefined when the line is absent. */
export interface HookLatency {
  p50Us: number;
  p99Us: number;
  p999Us: number;
  maxUs: number;
}

/** Finds and parses the hook's line in wrk's output. */
export function parseLatencyLine(out: string): HookLatency | undefined {
  const match = new RegExp(`^${kLatencyLineMarker} p50=(\\d+) p99=(\\d+) p99\\.9=(\\d+) `
    + 'max=(\\d+)\\s*$', 'm').exec(out);
  if (match === null) return undefined;
  return {
    p50Us: Number(match[1]),
    p99Us: Number(match[2]),
    p999Us: Number(match[3]),
    maxUs: Number(match[4]),
  };
}
