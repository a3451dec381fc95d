/**
 * Child process of the upstream-client bench (upstream-client.ts starts it, pinned to one CPU):
 * drives one client of client-drivers.ts against the bench upstream with a fixed number of
 * requests in flight, and measures its own CPU time over a fixed window after a warm-up.
 *
 *   node dist/bench/e2e/client-loops.js --client NAME --port N --in-flight 64
 *     --warmup-ms 1000 --measure-ms 6000
 *
 * Protocol: one JSON object per line on stdout: `{"event":"window-start"}` and
 * `{"event":"window-end"}` around the measured window (the parent reads /proc at those
 * moments), then `{"event":"result",...}` with a `ClientLoopResult`. Exits 0 after the result,
 * 2 on bad arguments. A wrong answer ends the run at once; the result then carries it.
 * Other modules import only types from this file: loading it starts a run.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';

import { kUpstreamBody } from '../scenarios.js';
import {
  type ClientName, type RequestDone, createDriver, isClientName, kClientNames,
} from './client-drivers.js';

/** What one child measured. CPU figures cover only the measured window. */
export interface ClientLoopResult {
  client: ClientName;
  /** Requests completed inside the window. */
  requests: number;
  /** Length of the window by the monotonic clock, in seconds. */
  windowSeconds: number;
  reqPerSec: number;
  /** process.cpuUsage() deltas over the window (all threads of the process), microseconds. */
  cpuUserUs: number;
  cpuSystemUs: number;
  /** (user + system) / requests. */
  cpuUsPerRequest: number;
  /** CPU seconds per wall second over the window (1 = one full core). */
  cpuShare: number;
  /** process.resourceUsage().maxRSS at the end, in bytes. */
  peakRssBytes: number;
  /** Answers, warm-up included, that were not 200 with the 97-byte body: any makes it invalid. */
  wrongAnswers: number;
  /** The first wrong answer, described. */
  firstWrongAnswer?: string;
}

const kExpectedBodyBytes = Buffer.byteLength(kUpstreamBody);

function emit(line: object): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** Runs the loop; resolves after the window, or as soon as an answer is wrong. */
async function runLoop(
  client: ClientName, port: number, inFlight: number, warmupMs: number, measureMs: number,
): Promise<ClientLoopResult> {
  const driver = createDriver(client, port, inFlight);
  const stop = new AbortController();
  let completed = 0;
  let wrongAnswers = 0;
  let firstWrongAnswer: string | undefined;

  // 1. Every completion sends the next request on the same slot, so `inFlight` stay in flight.
  const onDone: RequestDone = (status, bodyBytes, failure) => {
    completed++;
    if (failure !== undefined || status !== 200 || bodyBytes !== kExpectedBodyBytes) {
      wrongAnswers++;
      firstWrongAnswer ??= failure ?? `status ${status} with ${bodyBytes} body bytes`;
      stop.abort();
    }
    if (!stop.signal.aborted) driver.send(onDone);
  };
  for (let i = 0; i < inFlight; i++) driver.send(onDone);

  // 2. Warm-up (JIT, connections opened), then the measured window.
  let startCount = 0;
  let cpuStart = process.cpuUsage();
  let timeStart = process.hrtime.bigint();
  try {
    await sleep(warmupMs, undefined, { signal: stop.signal });
    emit({ event: 'window-start' });
    startCount = completed;
    cpuStart = process.cpuUsage();
    timeStart = process.hrtime.bigint();
    await sleep(measureMs, undefined, { signal: stop.signal });
  } catch {
    // Aborted by a wrong answer: the figures below are reported but the run is invalid.
  }

  // 3. Close the window before anything else costs CPU.
  const cpu = process.cpuUsage(cpuStart);
  const windowSeconds = Number(process.hrtime.bigint() - timeStart) / 1e9;
  const requests = completed - startCount;
  stop.abort();
  emit({ event: 'window-end' });

  const cpuUs = cpu.user + cpu.system;
  return {
    client,
    requests,
    windowSeconds,
    reqPerSec: requests / windowSeconds,
    cpuUserUs: cpu.user,
    cpuSystemUs: cpu.system,
    cpuUsPerRequest: requests > 0 ? cpuUs / requests : Number.NaN,
    cpuShare: cpuUs / 1e6 / windowSeconds,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    wrongAnswers,
    ...(firstWrongAnswer === undefined ? {} : { firstWrongAnswer }),
  };
}

function readArgs(argv: string[]) {
  const { values } = parseArgs({ args: argv, options: {
    'client': { type: 'string' },
    'port': { type: 'string' },
    'in-flight': { type: 'string', default: '64' },
    'warmup-ms': { type: 'string', default: '1000' },
    'measure-ms': { type: 'string', default: '6000' },
  } });
  const client = values.client ?? '';
  const numbers = [values.port, values['in-flight'], values['warmup-ms'], values['measure-ms']]
    .map(Number);
  if (!isClientName(client)) throw new Error(`--client must be one of: ${kClientNames.join(', ')}`);
  if (!numbers.every((n) => Number.isInteger(n) && n > 0 && n <= 600_000)) {
    throw new Error('--port, --in-flight, --warmup-ms and --measure-ms take positive integers');
  }
  const [port = 0, inFlight = 0, warmupMs = 0, measureMs = 0] = numbers;
  return { client, port, inFlight, warmupMs, measureMs };
}

function main(): void {
  let args: ReturnType<typeof readArgs>;
  try {
    args = readArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`client-loops: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(2);
  }
  runLoop(args.client, args.port, args.inFlight, args.warmupMs, args.measureMs).then(
    // Exit without closing the pools: the parent is waiting, and the sockets die with us.
    (result) => process.stdout.write(`${JSON.stringify({ event: 'result', ...result })}\n`,
      () => process.exit(0)),
    (err: unknown) => {
      process.stderr.write(`client-loops failed: ${err instanceof Error ? err.stack : err}\n`);
      process.exit(1);
    },
  );
}

main();
