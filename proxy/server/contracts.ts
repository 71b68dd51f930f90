/**
 * What the engine needs from the cluster manager, stated as structural interfaces: the engine
 * depends on these few members only, and `proxy/main.ts` passes the real `ClusterManager`, so the
 * compiler checks the two sides agree.
 */
import type { PoolResources } from '../http/h1-upstream.js';
import type { HostStats } from '../upstream/index.js';
import type { PoolCluster, PoolHost } from './pools.js';

/** An upstream host as the engine uses it. */
export interface EngineHost extends PoolHost {
  /** Endpoint hostname (for `auto_host_rewrite`), when the config gives one. */
  readonly hostname?: string | undefined;
  /** In-flight requests (the engine increments and decrements it; LEAST_REQUEST reads it). */
  activeRequests: number;
  /** Per-host counters shown by `/clusters`. */
  readonly stats: HostStats;
}

/** A cluster as the engine uses it. */
export interface EngineCluster extends PoolCluster {
  /** Circuit-breaker limits by routing priority; the engine enforces `maxRequests`. */
  readonly circuitBreakers: {
    readonly default: { readonly maxRequests: number };
    readonly high: { readonly maxRequests: number };
  };
  chooseHost(context: {
    hashKey?: number | bigint;
    excluded?: Set<never>;
    /** Issue 6: host_selection_retry_max_attempts. */
    selectionRetries?: number;
  }): EngineHost | undefined;
  /**
   * Issue 6 (resilience): the retry circuit breaker (`max_retries` / `retry_budget`) per routing
   * priority. Optional so that a cluster without it simply never admits a retry past the policy.
   */
  readonly resources?: { readonly default: RetryResources; readonly high: RetryResources };
  /** Issue 6: the cluster's upstream max_stream_duration in ms (undefined: none). */
  readonly maxStreamDurationMs?: number | undefined;
  /** Issue 6: outlier detection, fed with every attempt's result. */
  readonly outlierDetector?: OutlierSink | undefined;
}

/**
 * Circuit-breaker resources of one priority (the upstream ResourceManager); the pools take
 * `connections` and `pendingRequests` from it.
 */
export interface RetryResources extends PoolResources {
  canRetry(activeRequests: number, pendingRequests: number): boolean;
  readonly retries: { inc(): void; dec(): void };
  /** `max_requests`: taken per upstream attempt, so `circuit_breakers.*.rq_open` / `remaining_rq` move. */
  readonly requests: { canCreate(): boolean; inc(): void; dec(): void };
}

/** Where the engine reports upstream results for outlier detection (the upstream OutlierDetector). */
export interface OutlierSink {
  reportResponse(host: EngineHost, status: number): void;
  reportLocalOrigin(host: EngineHost, result: 'connect_failed' | 'timeout' | 'reset' | 'success'): void;
}

/** The cluster manager as the engine uses it. */
export interface EngineClusterManager {
  get(name: string): EngineCluster | undefined;
}
