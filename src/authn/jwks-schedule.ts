/**
 * When a JWKS source refreshes next: after a success, the server's Cache-Control lifetime clamped
 * to [minRefreshMs, maxRefreshMs]; after a failure, exponential backoff from `backoffBaseMs`,
 * capped at `minRefreshMs` so a failing issuer is retried at least as often as a healthy one.
 * One timer at a time, unref'd so it never holds the process open, and cleared by `stop()`.
 */

/** Refresh timing of a JWKS source, in milliseconds. */
export interface RefreshTimingOptions {
  /** Shortest time between background refreshes, whatever the server says. Default 5 min. */
  readonly minRefreshMs?: number;
  /** Longest time between background refreshes, whatever the server says. Default 24 h. */
  readonly maxRefreshMs?: number;
  /** Refresh interval when the server sends no max-age. Default 1 h, clamped as above. */
  readonly defaultRefreshMs?: number;
  /** First retry delay after a failure; doubles per consecutive failure. Default 1 s. */
  readonly backoffBaseMs?: number;
}

const kDefaultMinRefreshMs = 5 * 60_000;
const kDefaultMaxRefreshMs = 24 * 60 * 60_000;
const kDefaultRefreshMs = 60 * 60_000;
const kDefaultBackoffBaseMs = 1_000;
// 2^20 times the base is already past any sane cap; bounding the exponent keeps the math finite.
const kMaxBackoffExponent = 20;
// setTimeout fires at once for delays above 2^31-1 ms, so longer plans are cut to that.
const kMaxTimerMs = 2 ** 31 - 1;

/**
 * Plans the next background refresh of one source. A static source (`isStatic`) never schedules:
 * it reloads only on demand.
 */
export class RefreshSchedule {
  readonly #minMs: number;
  readonly #maxMs: number;
  readonly #defaultMs: number;
  readonly #backoffBaseMs: number;
  readonly #isStatic: boolean;
  readonly #onDue: () => void;
  #timer: NodeJS.Timeout | undefined;
  #isStopped = false;
  #nextDelayMs: number | undefined;

  /** `onDue` runs when a planned refresh is due; it must not throw. */
  constructor(options: RefreshTimingOptions, isStatic: boolean, onDue: () => void) {
    this.#minMs = options.minRefreshMs ?? kDefaultMinRefreshMs;
    this.#maxMs = Math.max(this.#minMs, options.maxRefreshMs ?? kDefaultMaxRefreshMs);
    this.#defaultMs = options.defaultRefreshMs ?? kDefaultRefreshMs;
    this.#backoffBaseMs = options.backoffBaseMs ?? kDefaultBackoffBaseMs;
    this.#isStatic = isStatic;
    this.#onDue = onDue;
  }

  /** The delay of the planned refresh in ms, or undefined if none is planned. */
  get nextDelayMs(): number | undefined {
    return this.#nextDelayMs;
  }

  /** Plan the next refresh after a successful load whose response allowed `maxAgeSec` caching. */
  afterSuccess(maxAgeSec: number | undefined): void {
    const wantedMs = maxAgeSec === undefined ? this.#defaultMs : maxAgeSec * 1000;
    this.#plan(Math.min(this.#maxMs, Math.max(this.#minMs, wantedMs)));
  }

  /** Plan a retry after the `consecutiveFailures`-th failed load in a row (1-based). */
  afterFailure(consecutiveFailures: number): void {
    const exponent = Math.min(kMaxBackoffExponent, Math.max(0, consecutiveFailures - 1));
    this.#plan(Math.min(this.#minMs, this.#backoffBaseMs * 2 ** exponent));
  }

  /** Cancel the planned refresh and refuse to plan more. */
  stop(): void {
    this.#isStopped = true;
    this.#nextDelayMs = undefined;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #plan(delayMs: number): void {
    if (this.#isStatic || this.#isStopped) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#nextDelayMs = Math.min(kMaxTimerMs, delayMs);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#nextDelayMs = undefined;
      this.#onDue();
    }, this.#nextDelayMs);
    this.#timer.unref();
  }
}
