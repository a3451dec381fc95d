/**
 * The one logger. Structured JSON, one object per line, levels trace..fatal.
 *
 * Created once in main.ts and passed to the modules that need it; modules never make their own.
 * Nothing on the per-request path logs through it (the audit record is the only per-request line);
 * degraded states use `warnRateLimited` so a failing dependency cannot flood the output.
 */
import { type Writable } from 'node:stream';

/** Log levels in increasing severity; `silent` turns everything off. */
export const kLogLevels = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'] as const;
export type LogLevel = (typeof kLogLevels)[number];

const kSeverity: Record<LogLevel, number> = {
  trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: 100,
};

/** Extra structured fields; values must be JSON-serialisable and never carry tokens or keys. */
export type LogFields = Readonly<Record<string, unknown>>;

/** A structured logger bound to a component name. */
export class Logger {
  readonly #out: Writable;
  readonly #threshold: number;
  readonly #component: string | undefined;
  readonly #lastWarnMs: Map<string, number>;

  constructor(level: LogLevel, out: Writable = process.stdout, component?: string,
    lastWarnMs: Map<string, number> = new Map()) {
    this.#out = out;
    this.#threshold = kSeverity[level];
    this.#component = component;
    this.#lastWarnMs = lastWarnMs;
  }

  /** The level below which nothing is written. */
  get level(): LogLevel {
    return kLogLevels.find((l) => kSeverity[l] === this.#threshold) ?? 'info';
  }

  /** A logger with the same output and level that tags every line with `component`. */
  child(component: string): Logger {
    return new Logger(this.level, this.#out, component, this.#lastWarnMs);
  }

  /** Whether a line at `level` would be written (lets callers skip building fields). */
  isEnabled(level: LogLevel): boolean {
    return kSeverity[level] >= this.#threshold && level !== 'silent';
  }

  trace(msg: string, fields?: LogFields): void { this.#write('trace', msg, fields); }
  debug(msg: string, fields?: LogFields): void { this.#write('debug', msg, fields); }
  info(msg: string, fields?: LogFields): void { this.#write('info', msg, fields); }
  warn(msg: string, fields?: LogFields): void { this.#write('warn', msg, fields); }
  error(msg: string, fields?: LogFields): void { this.#write('error', msg, fields); }
  fatal(msg: string, fields?: LogFields): void { this.#write('fatal', msg, fields); }

  /**
   * Warn at most once per `intervalMs` for a given `key` (a degraded state that may repeat on
   * every request, such as an upstream refusing connections). Returns whether it wrote.
   */
  warnRateLimited(key: string, intervalMs: number, msg: string, fields?: LogFields): boolean {
    const now = Date.now();
    const last = this.#lastWarnMs.get(key);
    if (last !== undefined && now - last < intervalMs) return false;
    if (this.#lastWarnMs.size > 1024) this.#lastWarnMs.clear();
    this.#lastWarnMs.set(key, now);
    this.#write('warn', msg, fields);
    return true;
  }

  /**
   * Writes `lines` as they are: JSON lines another Logger already formatted and filtered at this
   * one's `level` (a serving thread's, src/threads), so every thread's lines share one output.
   */
  writeFormatted(lines: string): void {
    this.#out.write(lines);
  }

  #write(level: LogLevel, msg: string, fields: LogFields | undefined): void {
    if (!this.isEnabled(level)) return;
    const record: Record<string, unknown> = { time: new Date().toISOString(), level };
    if (this.#component !== undefined) record.component = this.#component;
    record.msg = msg;
    if (fields !== undefined) Object.assign(record, fields);
    this.#out.write(`${safeStringify(record)}\n`);
  }
}

function safeStringify(record: Record<string, unknown>): string {
  try {
    return JSON.stringify(record, (_key, value: unknown) =>
      value instanceof Error ? { name: value.name, message: value.message } : value);
  } catch {
    return JSON.stringify({ time: record.time, level: record.level, msg: record.msg });
  }
}

/** A logger that writes nothing (benchmarks, library use). */
export function silentLogger(): Logger {
  return new Logger('silent');
}
