/**
 * What the engine needs from the router, the cluster manager and the access log, stated as
 * structural interfaces: the engine depends on these few members only, and `proxy/main.ts` passes
 * the real objects (`compileRouteConfiguration`, `ClusterManager`, `compileAccessLog`), so the
 * compiler checks the two sides agree. Tests can drive the engine with the same real objects.
 */
import type { HeaderList } from '../http/headers.js';
import type { PoolCluster, PoolHost } from './pools.js';

/** Input to route selection. */
export interface EngineRouteRequest {
  authority: string;
  path: string;
  method: string;
  scheme: 'http' | 'https';
  headers: HeaderList;
  sourceAddress: string;
}

/** A matched route's behaviour the engine applies. */
export interface EngineRoute {
  /** Applies route / vhost / route-config request header mutations. */
  applyRequestHeaders(headers: HeaderList, ...rest: never[]): void;
  /** Applies response header mutations. */
  applyResponseHeaders(headers: HeaderList, ...rest: never[]): void;
  /** Path after `prefix_rewrite` / `regex_rewrite`. */
  rewritePath(path: string): string;
  /** `host_rewrite_literal`, when set. */
  readonly hostRewrite?: string | undefined;
  /** Route timeout in ms; 0 disables. */
  readonly timeoutMs: number;
  /** Hash for RING_HASH / MAGLEV from the route's hash_policy. */
  hashKey(request: EngineRouteRequest): number | bigint | undefined;
}

/** The outcome of route selection. */
export type EngineRouteResult =
  | { readonly kind: 'cluster'; readonly clusterName: string; readonly route: EngineRoute }
  | {
      readonly kind: 'direct';
      readonly status: number;
      readonly body?: string | Buffer | undefined;
      readonly headers?: HeaderList | undefined;
    }
  | {
      readonly kind: 'redirect';
      readonly status: number;
      readonly location: string;
      readonly headers?: HeaderList;
    }
  | { readonly kind: 'none' };

/** A compiled RouteConfiguration. */
export interface EngineRouteTable {
  route(request: EngineRouteRequest): EngineRouteResult;
}

/** An upstream host as the engine uses it. */
export interface EngineHost extends PoolHost {
  /** In-flight requests (the engine increments and decrements it; LEAST_REQUEST reads it). */
  activeRequests: number;
}

/** A cluster as the engine uses it. */
export interface EngineCluster extends PoolCluster {
  chooseHost(context: { hashKey?: number | bigint; excluded?: Set<never> }): EngineHost | undefined;
}

/** The cluster manager as the engine uses it. */
export interface EngineClusterManager {
  get(name: string): EngineCluster | undefined;
}
