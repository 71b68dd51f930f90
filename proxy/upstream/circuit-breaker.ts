/**
 * Envoy's circuit breakers as resource counters: one per limit (connections, pending requests,
 * requests, retries) and routing priority. The engine asks `canCreate()` before taking a resource
 * (answering 503 with UO when it cannot) and calls `inc()`/`dec()` around its use; the counters keep
 * Envoy's `circuit_breakers.<priority>.*_open` gauges (1 while at the limit) and, with
 * `track_remaining`, the `remaining_*` gauges.
 */
import { sanitizeStatName } from '../stats/scopes.js';
import type { Gauge, StatsStore } from '../stats/store.js';
import type { CircuitBreakerLimits } from './cluster.js';

/** One limited resource. */
export class ResourceLimit {
  private current = 0;

  /** @internal built by {@link ResourceManager} */
  constructor(
    /** The configured maximum. */
    readonly max: number,
    private readonly open: Gauge,
    private readonly remaining: Gauge | undefined,
  ) {
    this.remaining?.set(max);
  }

  /** In use now. */
  get count(): number {
    return this.current;
  }

  /** True while another one may be taken. */
  canCreate(): boolean {
    return this.current < this.max;
  }

  /** Takes one (call only after `canCreate()`). */
  inc(): void {
    this.current++;
    this.update();
  }

  /** Gives one back. */
  dec(): void {
    if (this.current > 0) this.current--;
    this.update();
  }

  private update(): void {
    this.open.set(this.current >= this.max ? 1 : 0);
    this.remaining?.set(Math.max(0, this.max - this.current));
  }
}

/** The resources of one routing priority of one cluster. */
export class ResourceManager {
  readonly connections: ResourceLimit;
  readonly pendingRequests: ResourceLimit;
  readonly requests: ResourceLimit;
  readonly retries: ResourceLimit;
  private readonly retryBudget: CircuitBreakerLimits['retryBudget'];

  /**
   * @param statName the cluster's stat name
   * @param priority `default` or `high`, as in Envoy's stat names
   */
  constructor(
    store: StatsStore,
    statName: string,
    priority: 'default' | 'high',
    limits: CircuitBreakerLimits,
    trackRemaining: boolean,
  ) {
    const p = `cluster.${sanitizeStatName(statName)}.circuit_breakers.${priority}.`;
    const limit = (max: number, open: string, remaining: string) =>
      new ResourceLimit(max, store.gauge(p + open), trackRemaining ? store.gauge(p + remaining) : undefined);
    this.connections = limit(limits.maxConnections, 'cx_open', 'remaining_cx');
    this.pendingRequests = limit(limits.maxPendingRequests, 'rq_pending_open', 'remaining_pending');
    this.requests = limit(limits.maxRequests, 'rq_open', 'remaining_rq');
    this.retries = limit(limits.maxRetries, 'rq_retry_open', 'remaining_retries');
    this.retryBudget = limits.retryBudget;
  }

  /**
   * May one more retry start? With a `retry_budget`, concurrent retries stay below
   * `budget_percent` of the active plus pending requests (at least `min_retry_concurrency`);
   * otherwise below `max_retries`. (Issue 6: the engine's retry loop asks this.)
   */
  canRetry(activeRequests: number, pendingRequests: number): boolean {
    const b = this.retryBudget;
    if (b === undefined) return this.retries.canCreate();
    const budget = Math.max(
      b.minRetryConcurrency,
      (b.budgetPercent / 100) * (activeRequests + pendingRequests),
    );
    return this.retries.count < budget;
  }
}
