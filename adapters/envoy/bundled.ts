/**
 * What the bundled proxy cannot run yet, and the mesh without it. `crossmesh up` runs the bundled
 * proxy; the Envoy target itself renders everything (a real Envoy runs it all). Rather than fail
 * at start on the first field the proxy refuses, `up` removes these features from the mesh it
 * serves and prints every use it removed, with the reason: nothing is dropped silently.
 *
 * The list follows the proxy's supported subset (proxy/config/supported.ts: RBAC, SDS, retries
 * and the other resilience fields are not in it yet). When the proxy gains a feature, delete its
 * entry here and `up` serves it.
 */
import { detectFeatures } from '../../model/detect.js';
import type { FeatureId } from '../../model/features.js';
import type { DroppedFeature } from '../../model/target.js';
import type { Mesh, Route, RoutePolicy, Service, ServicePolicy } from '../../model/types.js';

/** Features the bundled proxy cannot run yet, with the reason `up` prints. */
export const BUNDLED_PROXY_GAPS: Readonly<Partial<Record<FeatureId, string>>> = {
  authorization: 'the bundled proxy has no RBAC filter yet: every caller is allowed under crossmesh up',
  'authorization.paths': 'the bundled proxy has no RBAC filter yet',
  'authorization.methods': 'the bundled proxy has no RBAC filter yet',
  'policy.retries': 'retries are planned for the bundled proxy (issue 6)',
  'policy.retries.per-try-timeout': 'retries are planned for the bundled proxy (issue 6)',
  'policy.retries.backoff': 'retries are planned for the bundled proxy (issue 6)',
  'policy.timeouts.idle': 'per-route idle timeouts are planned for the bundled proxy (issue 6)',
  'policy.outlier-detection': 'outlier detection is planned for the bundled proxy (issue 6)',
  'policy.connection-pool': 'circuit breakers are planned for the bundled proxy (issue 6)',
  'policy.rate-limit': 'the bundled proxy has no local_ratelimit filter yet',
  'route.fault.delay': 'the bundled proxy has no fault filter yet',
  'route.fault.abort': 'the bundled proxy has no fault filter yet',
  'route.mirror': 'the bundled proxy does not mirror requests yet',
  'route.rewrite.path': 'the bundled proxy has no regex_rewrite yet',
};

/** Every use of a gap in `mesh`, as dropped features (path, feature, reason). */
export function bundledProxyDrops(mesh: Mesh): DroppedFeature[] {
  return detectFeatures(mesh).flatMap((use) => {
    const reason = BUNDLED_PROXY_GAPS[use.feature];
    return reason === undefined ? [] : [{ ...use, reason }];
  });
}

function stripPolicy<T extends RoutePolicy | ServicePolicy>(policy: T | undefined): T | undefined {
  if (policy === undefined) return undefined;
  const {
    retries: _retries,
    rateLimit: _rateLimit,
    outlierDetection: _od,
    connectionPool: _pool,
    ...rest
  } = policy as ServicePolicy;
  const timeouts = rest.timeouts === undefined ? undefined : { ...rest.timeouts, idle: '5m' };
  return { ...rest, ...(timeouts === undefined ? {} : { timeouts }) } as T;
}

function stripRoute(route: Route): Route {
  const { fault: _fault, mirror: _mirror, ...rest } = route;
  const rewrite = rest.rewrite === undefined ? undefined : { ...rest.rewrite, path: undefined };
  const policy = stripPolicy(rest.policy);
  return {
    ...rest,
    ...(rewrite === undefined ? {} : { rewrite: JSON.parse(JSON.stringify(rewrite)) as Route['rewrite'] }),
    ...(policy === undefined ? {} : { policy }),
  };
}

/** The mesh without the features in {@link BUNDLED_PROXY_GAPS} (a new object; the input is not changed). */
export function withoutBundledProxyGaps(mesh: Mesh): Mesh {
  const services: Record<string, Service> = {};
  for (const [name, service] of Object.entries(mesh.services)) {
    const policy = stripPolicy(service.policy);
    services[name] = {
      ...service,
      ...(service.routes === undefined ? {} : { routes: service.routes.map(stripRoute) }),
      ...(policy === undefined ? {} : { policy }),
      authorization: { action: 'allow-all', rules: [] },
    };
  }
  const defaults = stripPolicy(mesh.defaults);
  return { ...mesh, services, ...(defaults === undefined ? {} : { defaults }) };
}
