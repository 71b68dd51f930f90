/**
 * Coarse connection deadlines. A timer per request (or `refresh()` on every read) is measurable on
 * the hot path; a proxy only needs second-level precision for header and idle timeouts, so one
 * interval walks the registered connections and fires those past their deadline.
 */

/** Something with a deadline (epoch ms, 0 = none) to expire. */
export interface Expirable {
  deadline: number;
  expire(now: number): void;
}

/** One sweeper per proxy; `tickMs` bounds how late a deadline can fire. */
export class Sweeper {
  private readonly items = new Set<Expirable>();
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs = 250) {}

  add(item: Expirable): void {
    this.items.add(item);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      this.timer.unref();
    }
  }

  delete(item: Expirable): void {
    this.items.delete(item);
  }

  private sweep(): void {
    const now = Date.now();
    for (const item of this.items) {
      if (item.deadline !== 0 && item.deadline <= now) {
        item.deadline = 0;
        item.expire(now);
      }
    }
  }

  /** Stops the interval. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    this.items.clear();
  }
}
