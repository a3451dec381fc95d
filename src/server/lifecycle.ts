/**
 * Tracks requests in flight so that shutdown can drain them.
 *
 * On SIGTERM/SIGINT the listeners stop accepting, new requests on open keep-alive connections get
 * 503 IAM_SERVER_DRAINING with `Connection: close`, and requests already in flight run to their
 * end until the drain deadline.
 */
export class Lifecycle {
  #inFlight = 0;
  #isDraining = false;
  #isClosed = false;
  #idleWaiters: Array<() => void> = [];

  /** Requests started and not yet finished (answered, failed or aborted). */
  get inFlight(): number {
    return this.#inFlight;
  }

  /** Whether shutdown has begun. */
  get isDraining(): boolean {
    return this.#isDraining;
  }

  /**
   * Whether the proxy has stopped taking requests for good: the drain is over and the audit
   * log is being flushed. A request that still arrives on an open connection is not read: its
   * connection is closed without an answer (and so without a record), as if the process had
   * already exited.
   */
  get isClosed(): boolean {
    return this.#isClosed;
  }

  /** Ends the drain for good (see `isClosed`); call after `drain` resolved. */
  close(): void {
    this.#isDraining = true;
    this.#isClosed = true;
  }

  /** Call when a request is admitted; pair with exactly one `end()`. */
  begin(): void {
    this.#inFlight++;
  }

  /** Call once when an admitted request is finished, whatever the outcome. */
  end(): void {
    this.#inFlight--;
    if (this.#inFlight === 0 && this.#idleWaiters.length > 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const wake of waiters) wake();
    }
  }

  /** Starts draining. Resolves true when nothing is in flight, false at the deadline. */
  drain(deadlineMs: number): Promise<boolean> {
    this.#isDraining = true;
    if (this.#inFlight === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = setTimeout(() => resolve(false), deadlineMs);
      this.#idleWaiters.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }
}
