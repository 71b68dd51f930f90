/**
 * Envoy's circuit breakers as resource counters: one per limit (connections, pending requests,
 * requests, retries) and routing priority, shared by everything of the cluster: the connection
 * pools of all its hosts take `connections` and `pendingRequests` (proxy/http/h1-upstream.ts,
 * h2-upstream.ts), the connection manager `requests`, the retry loop `retries`. Each asks
 * `canCreate()` before taking a resource (answering 503 with UO when it cannot) and calls
 * `inc()`/`dec()` around its use; the counters keep Envoy's `circuit_breakers.<priority>.*_open`
 * gauges (1 while at the limit) and, with `track_remaining`, the `remaining_*` gauges.
 *
 * A cluster updated over xDS keeps its managers (see {@link ResourceManager.configure}): its hosts'
 * pools carry over and keep counting against them.
 */
import { sanitizeStatName } from '../stats/scopes.js';
import type { Gauge, StatsStore } from '../stats/store.js';
import type { CircuitBreakerLimits } from './cluster.js';

/** One limited resource. */
export class ResourceLimit {
  private current = 0;
  private maximum: number;
  private remaining: Gauge | undefined;

  /** @internal built by {@link ResourceManager} */
  constructor(
    max: number,
    private readonly open: Gauge,
    remaining: Gauge | undefined,
  ) {
    this.maximum = max;
    this.remaining = remaining;
    this.update();
  }

  /** The configured maximum. */
  get max(): number {
    return this.maximum;
  }

  /** @internal a new configuration of the cluster (xDS update): new maximum, same count */
  reset(max: number, remaining: Gauge | undefined): void {
    this.maximum = max;
    this.remaining = remaining;
    this.update();
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
    this.open.set(this.current >= this.maximum ? 1 : 0);
    this.remaining?.set(Math.max(0, this.maximum - this.current));
  }
}

/** The resources of one routing priority of one cluster. */
export class ResourceManager {
  readonly connections: ResourceLimit;
  readonly pendingRequests: ResourceLimit;
  readonly requests: ResourceLimit;
  readonly retries: ResourceLimit;
  private retryBudget: CircuitBreakerLimits['retryBudget'];
  private readonly prefix: string;

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
    this.prefix = p;
    const limit = (max: number, open: string, remaining: string) =>
      new ResourceLimit(max, store.gauge(p + open), trackRemaining ? store.gauge(p + remaining) : undefined);
    this.connections = limit(limits.maxConnections, 'cx_open', 'remaining_cx');
    this.pendingRequests = limit(limits.maxPendingRequests, 'rq_pending_open', 'remaining_pending');
    this.requests = limit(limits.maxRequests, 'rq_open', 'remaining_rq');
    this.retries = limit(limits.maxRetries, 'rq_retry_open', 'remaining_retries');
    this.retryBudget = limits.retryBudget;
  }

  /**
   * Takes a new configuration of the same cluster (an xDS update) while keeping what is in use:
   * the connections and requests of the carried-over hosts' pools still count, against the new
   * limits. @returns false when the stat name differs (the caller then builds a new manager)
   */
  configure(
    store: StatsStore,
    statName: string,
    limits: CircuitBreakerLimits,
    trackRemaining: boolean,
  ): boolean {
    const p = this.prefix;
    if (!p.startsWith(`cluster.${sanitizeStatName(statName)}.circuit_breakers.`)) return false;
    const remaining = (name: string) => (trackRemaining ? store.gauge(p + name) : undefined);
    this.connections.reset(limits.maxConnections, remaining('remaining_cx'));
    this.pendingRequests.reset(limits.maxPendingRequests, remaining('remaining_pending'));
    this.requests.reset(limits.maxRequests, remaining('remaining_rq'));
    this.retries.reset(limits.maxRetries, remaining('remaining_retries'));
    this.retryBudget = limits.retryBudget;
    return true;
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
