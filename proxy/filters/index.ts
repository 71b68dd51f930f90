/**
 * HTTP filters (issue 6): builds the `http_filters` list of an HTTP connection manager into the
 * filters the pipeline runs before its router. Supported: `envoy.filters.http.local_ratelimit`,
 * `envoy.filters.http.fault` and the terminal `envoy.filters.http.router`; anything else stops
 * start-up naming the filter.
 */
import { MeshError } from '../../errors/index.js';
import {
  FAULT_TYPE,
  type HttpFault,
  type HttpFilter as HttpFilterConfig,
  LOCAL_RATELIMIT_TYPE,
  type LocalRateLimit,
  ROUTER_TYPE,
} from '../config/envoy.js';
import type { StatsStore } from '../stats/store.js';
import { FaultFilter } from './fault.js';
import type { HttpFilter } from './filter.js';
import { LocalRateLimitFilter } from './local-ratelimit.js';

export { FaultFilter } from './fault.js';
export type { FilterCallbacks, FilterReply, FilterRequest, HttpFilter } from './filter.js';
export { LocalRateLimitFilter, TokenBucketState } from './local-ratelimit.js';

/** Options for {@link compileHttpFilters}. */
export interface CompileFiltersOptions {
  /** The connection manager's stat_prefix (the fault filter's stats live under it). */
  readonly statPrefix: string;
  /** Random source in [0, 1) for percentages. @default Math.random */
  readonly random?: () => number;
}

/**
 * Compiles the filters before the router, in config order. Disabled filters are skipped (they
 * could only be enabled per route, which is not supported). The router must be the last filter.
 * @throws MeshError naming the filter at fault
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
    const tp = `${fp}.typed_config`;
    if (type === LOCAL_RATELIMIT_TYPE) {
      out.push(new LocalRateLimitFilter(f.typed_config as LocalRateLimit, store, tp, options.random));
    } else if (type === FAULT_TYPE) {
      out.push(new FaultFilter(f.typed_config as HttpFault, store, options.statPrefix, tp, options.random));
    } else {
      throw new MeshError('PROXY_E_UNSUPPORTED', `HTTP filter ${JSON.stringify(f.name)} is not supported`, {
        path: `${fp}.name`,
        value: f.name,
        allowed: 'envoy.filters.http.local_ratelimit, envoy.filters.http.fault, envoy.filters.http.router',
      });
    }
  });
  return out;
}
