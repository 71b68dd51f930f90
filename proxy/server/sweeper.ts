/**
 * Coarse connection deadlines. A timer per request (or `refresh()` on every read) is measurable on
 * the hot path; a proxy only needs second-level precision for header and idle timeouts, so one
 * interval walks the registered connections and fires those past their deadline.
 *
 * Registration is an array slot remembered on the item (swap-remove on delete): every request
 * registers and unregisters once, and a Set's hashing and table churn cost more than that.
 */

/** Something with a deadline (epoch ms, 0 = none) to expire. */
export interface Expirable {
  deadline: number;
  /** The sweeper's slot for this item; -1 (the initial value) while not registered. */
  sweepSlot: number;
  expire(now: number): void;
}

/** One sweeper per proxy; `tickMs` bounds how late a deadline can fire. */
export class Sweeper {
  private readonly items: Expirable[] = [];
  private timer: NodeJS.Timeout | undefined;

  constructor(private readonly tickMs = 250) {}

  add(item: Expirable): void {
    if (item.sweepSlot >= 0) return;
    item.sweepSlot = this.items.length;
    this.items.push(item);
    if (this.timer === undefined) {
      this.timer = setInterval(() => this.sweep(), this.tickMs);
      this.timer.unref();
    }
  }

  delete(item: Expirable): void {
    const slot = item.sweepSlot;
    const items = this.items;
    if (slot < 0 || items[slot] !== item) return;
    item.sweepSlot = -1;
    const last = items.pop() as Expirable;
    if (last !== item) {
      items[slot] = last;
      last.sweepSlot = slot;
    }
  }

  private sweep(): void {
    const now = Date.now();
    // A snapshot: expiring one item may register or remove others.
    for (const item of this.items.slice()) {
      if (item.sweepSlot >= 0 && item.deadline !== 0 && item.deadline <= now) {
        item.deadline = 0;
        item.expire(now);
      }
    }
  }

  /** Stops the interval. */
  close(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
    for (const item of this.items) item.sweepSlot = -1;
    this.items.length = 0;
  }
}
