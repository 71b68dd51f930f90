/**
 * HTTP filters (issue 6): builds the `http_filters` list of an HTTP connection manager into the
 * filters the pipeline runs before its router. Supported: `envoy.filters.http.local_ratelimit`,
 * `envoy.filters.http.fault` and the terminal `envoy.filters.http.router`; anything else stops
 * start-up naming the filter.
 *
 * Per-route configs (`typed_per_filter_config`, keyed by the filter's name) replace the filter's
 * settings for the routes that carry them, as in Envoy: a per-route local rate limit has its own
 * token bucket, a per-route fault config its own delay/abort. They are compiled with the route
 * configuration, never on first use: the listener's own route_config at start-up (a bad one stops
 * it, naming its path), an RDS update before it is applied ({@link precompilePerRouteConfigs}, from
 * proxy/xds/dynamic.ts; a bad one is NACKed naming its path and the last good one keeps serving).
 */
import { MeshError } from '../../errors/index.js';
import {
  FAULT_TYPE,
  type HttpFault,
  type HttpFilter as HttpFilterConfig,
  LOCAL_RATELIMIT_TYPE,
  type LocalRateLimit,
  ROUTER_TYPE,
  type RouteConfiguration,
} from '../config/envoy.js';
import type { StatsStore } from '../stats/store.js';
import { FaultFilter } from './fault.js';
import type { FilterCallbacks, FilterRequest, HttpFilter } from './filter.js';
import { LocalRateLimitFilter } from './local-ratelimit.js';

export { FaultFilter } from './fault.js';
export type { FilterCallbacks, FilterReply, FilterRequest, HttpFilter } from './filter.js';
export type { BucketFactory, BucketSpec, RateLimitBucket } from './local-ratelimit.js';
export { LocalRateLimitFilter, localBuckets, sharedBuckets, TokenBucketState } from './local-ratelimit.js';

/** Options for {@link compileHttpFilters}. */
export interface CompileFiltersOptions {
  /** The connection manager's stat_prefix (the fault filter's stats live under it). */
  readonly statPrefix: string;
  /** Random source in [0, 1) for percentages. @default Math.random */
  readonly random?: () => number;
  /**
   * The connection manager's inline route_config and its path, whose per-route filter configs are
   * compiled (and checked) at start-up. @default - none: per-route configs compile on first use
   */
  readonly routeConfig?: { readonly config: RouteConfiguration; readonly path: string };
  /** `node.cluster`: the value of the `source_cluster` rate limit action. @default '' */
  readonly localCluster?: string;
}

/** Builds the filter from its config, or from a per-route config (`perRoute`). */
type Builder = (typed: unknown, path: string, perRoute: boolean) => HttpFilter;

/** A configured filter that defers to a per-route config of the matched route when it has one. */
class PerRouteFilter implements HttpFilter {
  private readonly perRoute = new WeakMap<object, HttpFilter>();

  constructor(
    private readonly base: HttpFilter,
    private readonly type: string,
    private readonly build: Builder,
  ) {}

  get name(): string {
    return this.base.name;
  }

  /** Compiles one per-route config; throws MeshError when it is not this filter's type or invalid. */
  compile(typed: unknown, path: string): HttpFilter {
    const key = typed as object;
    const known = this.perRoute.get(key);
    if (known !== undefined) return known;
    const type = (typed as { '@type'?: unknown } | undefined)?.['@type'];
    if (type !== this.type) {
      throw new MeshError('PROXY_E_INVALID', `the per-route config of ${this.name} must be a ${this.type}`, {
        path: `${path}.@type`,
        value: type,
        allowed: this.type,
      });
    }
    const filter = this.build(typed, path, true);
    this.perRoute.set(key, filter);
    return filter;
  }

  onRequest(request: FilterRequest, callbacks: FilterCallbacks): 'continue' | 'stop' {
    const typed = request.perFilterConfig?.[this.name];
    if (typed === undefined || typed === null || typeof typed !== 'object')
      return this.base.onRequest(request, callbacks);
    // Every route configuration is compiled before it serves (see the module doc), so this finds
    // the config; were it missing, compiling here throws into the pipeline's guard (a 500), never a
    // silent fall-back to the filter's own settings.
    const filter = this.perRoute.get(typed) ?? this.compile(typed, `typed_per_filter_config.${this.name}`);
    return filter.onRequest(request, callbacks);
  }
}

/**
 * Compiles every per-route config of `rc` for the filters that `compileHttpFilters` built, so a
 * route configuration (an RDS update) is checked whole before it is applied and its configs are
 * ready on the first request.
 * @throws MeshError naming the per-route config at fault (under `path`)
 */
export function precompilePerRouteConfigs(
  filters: readonly unknown[],
  rc: RouteConfiguration,
  path: string,
): void {
  const byName = new Map<string, PerRouteFilter>();
  for (const f of filters) if (f instanceof PerRouteFilter) byName.set(f.name, f);
  if (byName.size === 0) return;
  for (const [map, mp] of perFilterMaps(rc, path)) {
    for (const [name, typed] of Object.entries(map))
      byName.get(name)?.compile(typed, `${mp}[${JSON.stringify(name)}]`);
  }
}

/** Every `typed_per_filter_config` map of a route configuration, with its path. */
function perFilterMaps(
  rc: RouteConfiguration,
  path: string,
): Array<[Readonly<Record<string, unknown>>, string]> {
  const out: Array<[Readonly<Record<string, unknown>>, string]> = [];
  if (rc.typed_per_filter_config !== undefined)
    out.push([rc.typed_per_filter_config, `${path}.typed_per_filter_config`]);
  (rc.virtual_hosts ?? []).forEach((vh, i) => {
    const vp = `${path}.virtual_hosts[${i}]`;
    if (vh.typed_per_filter_config !== undefined)
      out.push([vh.typed_per_filter_config, `${vp}.typed_per_filter_config`]);
    (vh.routes ?? []).forEach((r, j) => {
      if (r.typed_per_filter_config !== undefined)
        out.push([r.typed_per_filter_config, `${vp}.routes[${j}].typed_per_filter_config`]);
    });
  });
  return out;
}

/**
 * Compiles the filters before the router, in config order. Disabled filters are skipped (they
 * could only be enabled per route, which is not supported). The router must be the last filter.
 * @throws MeshError naming the filter (or per-route config) at fault
 */
export function compileHttpFilters(
  configs: readonly HttpFilterConfig[],
  path: string,
  store: StatsStore,
  options: CompileFiltersOptions,
): HttpFilter[] {
  const out: HttpFilter[] = [];
  configs.forEach((f, i) => {
    const fp = `${path}[${i}]`;
    const type = f.typed_config?.['@type'];
    const isRouter = type === ROUTER_TYPE || (type === undefined && f.name === 'envoy.filters.http.router');
    if (isRouter) {
      if (i !== configs.length - 1) {
        throw new MeshError('PROXY_E_INVALID', 'the router must be the last HTTP filter', {
          path: `${fp}.name`,
          value: f.name,
          allowed: 'envoy.filters.http.router as the last entry of http_filters',
        });
      }
      return;
    }
    if (f.disabled === true) return;
    let build: Builder;
    if (type === LOCAL_RATELIMIT_TYPE) {
      build = (typed, p, perRoute) =>
        new LocalRateLimitFilter(typed as LocalRateLimit, store, p, {
          name: f.name,
          perRoute,
          ...(options.random === undefined ? {} : { random: options.random }),
          ...(options.localCluster === undefined ? {} : { localCluster: options.localCluster }),
        });
    } else if (type === FAULT_TYPE) {
      build = (typed, p) =>
        new FaultFilter(typed as HttpFault, store, options.statPrefix, p, options.random, f.name);
    } else {
      throw new MeshError('PROXY_E_UNSUPPORTED', `HTTP filter ${JSON.stringify(f.name)} is not supported`, {
        path: `${fp}.name`,
        value: f.name,
        allowed: 'envoy.filters.http.local_ratelimit, envoy.filters.http.fault, envoy.filters.http.router',
      });
    }
    const filter = new PerRouteFilter(build(f.typed_config, `${fp}.typed_config`, false), type, build);
    out.push(filter);
  });
  const rc = options.routeConfig;
  if (rc !== undefined) precompilePerRouteConfigs(out, rc.config, rc.path);
  return out;
}
