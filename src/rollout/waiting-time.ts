/**
 * The time a driver spends waiting on others — an API server request, a poll interval, a dwell, an analysis
 * interval, a Prometheus query — as the union of those intervals (a Lease renewal during a wait counts once). What
 * is left of a stage's wall-clock time is the driver's own work: reading the plan's transition, deciding, writing
 * requests and reading answers (`timing` events; the benchmark's `rollout` phase holds it under 1 s per stage).
 */
export class WaitingTime {
  private active = 0;
  private since = 0;
  private total = 0;

  /** Awaits `work`, counted as waiting. */
  async during<T>(work: Promise<T>): Promise<T> {
    this.begin();
    try {
      return await work;
    } finally {
      this.end();
    }
  }

  /** Milliseconds spent waiting so far. */
  get milliseconds(): number {
    return this.total + (this.active > 0 ? performance.now() - this.since : 0);
  }

  private begin(): void {
    if (this.active++ === 0) {
      this.since = performance.now();
    }
  }

  private end(): void {
    if (--this.active === 0) {
      this.total += performance.now() - this.since;
    }
  }
}
