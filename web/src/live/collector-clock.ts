/**
 * The dashboard's estimate of the collector's clock. The environment-state rule compares "now" with the collector's
 * receive times, so the browser must not use its own clock, which may be minutes off. Observations: a heartbeat's
 * `time` (the collector's clock when it sent the frame, so the estimate lands within the network delay) and an HTTP
 * `Date` header (1 s resolution). A live event committed at `receivedAt` can only have arrived after it, so a
 * receive time ahead of the estimate raises it.
 */
export class CollectorClock {
  #offsetMs = 0;
  readonly #browserNow: () => number;

  constructor(browserNow: () => number = Date.now) {
    this.#browserNow = browserNow;
  }

  /** Collector time now. */
  now(): number {
    return this.#browserNow() + this.#offsetMs;
  }

  /** The collector said its clock reads `collectorTime` (a heartbeat, or an HTTP Date header) just now. */
  observe(collectorTime: number): void {
    if (Number.isFinite(collectorTime)) this.#offsetMs = collectorTime - this.#browserNow();
  }

  /**
   * An HTTP `Date` header: the collector's clock truncated to the second. Moves the estimate only when it is outside
   * that second, so a precise heartbeat observation is not replaced by a coarse one.
   */
  observeSecond(dateMs: number): void {
    const now = this.now();
    if (Number.isFinite(dateMs) && (now < dateMs || now >= dateMs + 1000))
      this.observe(dateMs + 500);
  }

  /** The collector committed something at `receivedAt`, so its clock reads at least that now. */
  atLeast(receivedAt: number): void {
    const lag = receivedAt - this.now();
    if (Number.isFinite(lag) && lag > 0) this.#offsetMs += lag;
  }
}
