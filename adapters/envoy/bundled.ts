/**
 * What the bundled proxy cannot run yet, and the mesh without it. `crossmesh up` runs the bundled
 * proxy; the Envoy target itself renders everything (a real Envoy runs it all). Two kinds, both
 * following the proxy's own list (proxy/config/supported.ts), and both printed by `up` use by use,
 * so nothing is dropped or ignored silently:
 *
 * - {@link BUNDLED_PROXY_REFUSES}: the proxy refuses the config (no RBAC filter, no mirroring), so
 *   `up` serves the mesh without these features;
 * - {@link BUNDLED_PROXY_NOT_ENFORCED}: the proxy accepts the config but does not enforce it yet
 *   (issue 6, the resilience work), so `up` serves it as written: it takes effect the day the
 *   proxy enforces it.
 *
 * test/adapters/envoy/bundled.test.ts checks each entry against the proxy's loader: when the proxy
 * gains a feature, the test fails and the entry goes.
 */
import { detectFeatures } from '../../model/detect.js';
import type { FeatureId } from '../../model/features.js';
import type { DroppedFeature } from '../../model/target.js';
import type { Mesh, Route, Service } from '../../model/types.js';

/** Features the bundled proxy refuses; `up` leaves them out. */
export const BUNDLED_PROXY_REFUSES: Readonly<Partial<Record<FeatureId, string>>> = {
  authorization: 'the bundled proxy has no RBAC filter yet: every caller is allowed under crossmesh up',
  'authorization.paths': 'the bundled proxy has no RBAC filter yet',
  'authorization.methods': 'the bundled proxy has no RBAC filter yet',
  'route.mirror': 'the bundled proxy does not mirror requests yet',
};

/** Features the bundled proxy accepts but does not enforce yet; `up` serves them as written. */
export const BUNDLED_PROXY_NOT_ENFORCED: Readonly<Partial<Record<FeatureId, string>>> = {
  'policy.retries': 'retries are accepted, not enforced yet by the bundled proxy (issue 6)',
  'policy.retries.per-try-timeout': 'retries are accepted, not enforced yet by the bundled proxy (issue 6)',
  'policy.retries.backoff': 'retries are accepted, not enforced yet by the bundled proxy (issue 6)',
  'policy.timeouts.idle':
    'per-route idle timeouts are accepted, not enforced yet by the bundled proxy (issue 6)',
  'policy.outlier-detection':
    'outlier detection is accepted, not enforced yet by the bundled proxy (issue 6)',
  'policy.connection-pool':
    'maxRequests and maxRetries limits are accepted, not enforced yet by the bundled proxy (issue 6; connection limits are)',
  'policy.rate-limit': 'local rate limits are accepted, not enforced yet by the bundled proxy (issue 6)',
  'route.fault.delay': 'fault injection is accepted, not enforced yet by the bundled proxy (issue 6)',
  'route.fault.abort': 'fault injection is accepted, not enforced yet by the bundled proxy (issue 6)',
};

/** Every use in `mesh` of a feature the bundled proxy refuses (path, feature, reason). */
export function bundledProxyDrops(mesh: Mesh): DroppedFeature[] {
  return uses(mesh, BUNDLED_PROXY_REFUSES);
}

/** Every use in `mesh` of a feature the bundled proxy accepts without enforcing it yet. */
export function bundledProxyNotEnforced(mesh: Mesh): DroppedFeature[] {
  return uses(mesh, BUNDLED_PROXY_NOT_ENFORCED);
}

function uses(mesh: Mesh, table: Readonly<Partial<Record<FeatureId, string>>>): DroppedFeature[] {
  return detectFeatures(mesh).flatMap((use) => {
    const reason = table[use.feature];
    return reason === undefined ? [] : [{ ...use, reason }];
  });
}

function stripRoute(route: Route): Route {
  const { mirror: _mirror, ...rest } = route;
  return rest;
}

/** The mesh without the features in {@link BUNDLED_PROXY_REFUSES} (a new object; the input is not changed). */
export function withoutBundledProxyGaps(mesh: Mesh): Mesh {
  const services: Record<string, Service> = {};
  for (const [name, service] of Object.entries(mesh.services)) {
    services[name] = {
      ...service,
      ...(service.routes === undefined ? {} : { routes: service.routes.map(stripRoute) }),
      authorization: { action: 'allow-all', rules: [] },
    };
  }
  return { ...mesh, services };
}
