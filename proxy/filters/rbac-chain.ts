/**
 * The HTTP filter list with RBAC: `envoy.filters.http.rbac` entries become {@link RbacFilter}s in
 * their place, every other entry is compiled by {@link compileHttpFilters} (the resilience
 * filters' module, which stays the one place that knows them and checks the router is last).
 *
 * How the two lists are merged: the RBAC entries are handed to `compileHttpFilters` marked
 * `disabled` (which it skips, after its router-position check), so it returns exactly one filter
 * per remaining enabled, non-router entry, in order, with error paths naming the real index.
 */
import type { HttpFilter as HttpFilterConfig, Rbac } from '../config/envoy.js';
import { RBAC_TYPE, ROUTER_TYPE } from '../config/envoy.js';
import type { StatsStore } from '../stats/store.js';
import type { HttpFilter } from './filter.js';
import { type CompileFiltersOptions, compileHttpFilters } from './index.js';
import { RbacFilter } from './rbac.js';

function isRbac(f: HttpFilterConfig): boolean {
  const type = f.typed_config?.['@type'];
  return type === RBAC_TYPE;
}

function isRouter(f: HttpFilterConfig): boolean {
  const type = f.typed_config?.['@type'];
  return type === ROUTER_TYPE || (type === undefined && f.name === 'envoy.filters.http.router');
}

/**
 * Compiles an HCM's `http_filters` (all but the router), RBAC included, in config order.
 * @throws MeshError naming the filter at fault
 */
export function compileHttpFiltersWithRbac(
  configs: readonly HttpFilterConfig[],
  path: string,
  store: StatsStore,
  options: CompileFiltersOptions,
): HttpFilter[] {
  if (!configs.some(isRbac)) return compileHttpFilters(configs, path, store, options);
  const others = compileHttpFilters(
    configs.map((f) => (isRbac(f) ? { ...f, disabled: true } : f)),
    path,
    store,
    options,
  );
  const out: HttpFilter[] = [];
  let next = 0;
  configs.forEach((f, i) => {
    if (f.disabled === true || isRouter(f)) return;
    if (isRbac(f)) {
      out.push(
        new RbacFilter(f.typed_config as Rbac, store, options.statPrefix, `${path}[${i}].typed_config`),
      );
      return;
    }
    const compiled = others[next];
    next += 1;
    if (compiled !== undefined) out.push(compiled);
  });
  return out;
}
