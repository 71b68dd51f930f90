/**
 * Which model features a canonical mesh uses, and where. The capability check of every target
 * runs on this list, so it must name every use: a feature missing here would be dropped silently.
 *
 * Values equal to a documented default that matches the data planes' own default (request
 * timeout `15s`, idle timeout `5m`, retry backoff `25ms`/`250ms`, a per-try timeout equal to the
 * request timeout) are not counted as uses: a target that cannot set them still behaves that way.
 */
import { DEFAULTS } from './canonical.js';
import type { FeatureId, FeatureUse } from './features.js';
import { childPath } from './schema/check.js';
import type {
  AccessLog,
  HeaderMatch,
  Mesh,
  PathMatch,
  RoutePolicy,
  Service,
  ServicePolicy,
} from './types.js';

/** Every feature use in `mesh` (canonical), in document order. */
export function detectFeatures(mesh: Mesh): FeatureUse[] {
  const uses: FeatureUse[] = [];
  const use = (feature: FeatureId, path: string): void => {
    uses.push({ feature, path });
  };

  const pathMatch = (p: PathMatch | undefined, path: string): void => {
    if (p !== undefined) use(`route.match.path.${p.kind}`, path);
  };
  const headerMatches = (headers: readonly HeaderMatch[] | undefined, path: string): void => {
    (headers ?? []).forEach((h, i) => {
      use(`route.match.header.${h.kind}`, `${path}[${i}]`);
      if (h.invert === true) use('route.match.header.invert', `${path}[${i}].invert`);
    });
  };
  const accessLog = (log: AccessLog | undefined, path: string, inherited: AccessLog | undefined): void => {
    if (log === undefined || !log.enabled) return;
    if (inherited !== undefined && JSON.stringify(log) === JSON.stringify(inherited)) return;
    use('access-log', path);
    if (log.format === 'json') use('access-log.json', `${path}.format`);
  };
  const routePolicy = (
    policy: RoutePolicy | undefined,
    path: string,
    inherited: RoutePolicy | undefined,
  ): void => {
    if (policy === undefined) return;
    const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);
    const request = policy.timeouts?.request ?? DEFAULTS.requestTimeout;
    const idle = policy.timeouts?.idle ?? DEFAULTS.idleTimeout;
    const baseRequest = inherited?.timeouts?.request ?? DEFAULTS.requestTimeout;
    const baseIdle = inherited?.timeouts?.idle ?? DEFAULTS.idleTimeout;
    if (request !== baseRequest) use('policy.timeouts.request', `${path}.timeouts.request`);
    if (idle !== baseIdle) use('policy.timeouts.idle', `${path}.timeouts.idle`);
    const retries = policy.retries;
    if (retries !== undefined && !same(retries, inherited?.retries)) {
      use('policy.retries', `${path}.retries`);
      if (retries.perTryTimeout !== undefined && retries.perTryTimeout !== request) {
        use('policy.retries.per-try-timeout', `${path}.retries.perTryTimeout`);
      }
      if (retries.backoff !== undefined && !same(retries.backoff, DEFAULTS.backoff)) {
        use('policy.retries.backoff', `${path}.retries.backoff`);
      }
    }
    if (policy.rateLimit !== undefined && !same(policy.rateLimit, inherited?.rateLimit)) {
      use('policy.rate-limit', `${path}.rateLimit`);
    }
  };
  const servicePolicy = (policy: ServicePolicy | undefined, path: string): void => {
    if (policy === undefined) return;
    routePolicy(policy, path, undefined);
    if (policy.healthCheck !== undefined)
      use(`policy.health-check.${policy.healthCheck.kind}`, `${path}.healthCheck`);
    if (policy.outlierDetection !== undefined) use('policy.outlier-detection', `${path}.outlierDetection`);
    if (policy.connectionPool !== undefined) use('policy.connection-pool', `${path}.connectionPool`);
    use(`policy.load-balancing.${policy.loadBalancing?.kind ?? 'round-robin'}`, `${path}.loadBalancing`);
  };

  const service = (name: string, s: Service, sPath: string): void => {
    s.ports.forEach((p, i) => {
      use(`protocol.${p.protocol}`, `${sPath}.ports[${i}]`);
    });
    if (s.ports.length > 1) use('service.multiple-ports', `${sPath}.ports`);
    (s.routes ?? []).forEach((r, i) => {
      const rPath = `${sPath}.routes[${i}]`;
      const m = r.match;
      pathMatch(m?.path, `${rPath}.match.path`);
      headerMatches(m?.headers, `${rPath}.match.headers`);
      (m?.query ?? []).forEach((q, k) => {
        use(`route.match.query.${q.kind}`, `${rPath}.match.query[${k}]`);
      });
      if (m?.method !== undefined) use('route.match.method', `${rPath}.match.method`);
      if (m?.grpc !== undefined) use('route.match.grpc', `${rPath}.match.grpc`);
      const destinations = r.destinations ?? [];
      if (destinations.length > 1) use('route.destinations.weighted', `${rPath}.destinations`);
      destinations.forEach((d, k) => {
        if (d.service !== undefined && d.service !== name) {
          use('route.destinations.cross-service', `${rPath}.destinations[${k}].service`);
        }
      });
      if (r.redirect !== undefined) use('route.redirect', `${rPath}.redirect`);
      if (r.rewrite?.prefix !== undefined) use('route.rewrite.prefix', `${rPath}.rewrite.prefix`);
      if (r.rewrite?.path !== undefined) use('route.rewrite.path', `${rPath}.rewrite.path`);
      if (r.rewrite?.host !== undefined) use('route.rewrite.host', `${rPath}.rewrite.host`);
      const changes = (x: { add?: readonly unknown[]; remove?: readonly unknown[] } | undefined): boolean =>
        (x?.add?.length ?? 0) + (x?.remove?.length ?? 0) > 0;
      if (changes(r.headers?.request)) use('route.headers.request', `${rPath}.headers.request`);
      if (changes(r.headers?.response)) use('route.headers.response', `${rPath}.headers.response`);
      if (r.fault?.delay !== undefined) use('route.fault.delay', `${rPath}.fault.delay`);
      if (r.fault?.abort !== undefined) use('route.fault.abort', `${rPath}.fault.abort`);
      if (r.mirror !== undefined) use('route.mirror', `${rPath}.mirror`);
      if (r.priority !== undefined) use('route.priority', `${rPath}.priority`);
      routePolicy(r.policy, `${rPath}.policy`, s.policy);
    });
    servicePolicy(s.policy, `${sPath}.policy`);
    const auth = s.authorization;
    if (auth?.action === 'allow-listed') {
      use('authorization', `${sPath}.authorization`);
      (auth.rules ?? []).forEach((rule, k) => {
        if (rule.paths !== undefined) use('authorization.paths', `${sPath}.authorization.rules[${k}].paths`);
        if (rule.methods !== undefined)
          use('authorization.methods', `${sPath}.authorization.rules[${k}].methods`);
      });
    }
    accessLog(s.accessLog, `${sPath}.accessLog`, mesh.accessLog);
  };

  for (const [name, s] of Object.entries(mesh.services)) service(name, s, childPath('services', name));

  for (const [name, g] of Object.entries(mesh.gateways ?? {})) {
    const gPath = childPath('gateways', name);
    use('gateway', gPath);
    g.listeners.forEach((l, i) => {
      use(`protocol.${l.protocol}`, `${gPath}.listeners[${i}]`);
      if (l.tls !== undefined) use('gateway.tls', `${gPath}.listeners[${i}].tls`);
    });
    g.routes.forEach((r, i) => {
      const rPath = `${gPath}.routes[${i}]`;
      pathMatch(r.match?.path, `${rPath}.match.path`);
      if ((r.match?.headers?.length ?? 0) > 0) use('gateway.route.header-match', `${rPath}.match.headers`);
      headerMatches(r.match?.headers, `${rPath}.match.headers`);
      if (r.match?.grpcService !== undefined) use('route.match.grpc', `${rPath}.match.grpcService`);
      if (r.rewrite !== undefined) use('gateway.route.rewrite', `${rPath}.rewrite`);
    });
    accessLog(g.accessLog, `${gPath}.accessLog`, mesh.accessLog);
  }

  if (mesh.egress?.mode === 'deny-unknown') use('egress.deny-unknown', 'egress.mode');
  if ((mesh.egress?.hosts?.length ?? 0) > 0) use('egress.hosts', 'egress.hosts');
  if (mesh.security?.mtls === 'strict') use('security.mtls.strict', 'security.mtls');
  if (mesh.security?.mtls === 'permissive') use('security.mtls.permissive', 'security.mtls');
  accessLog(mesh.accessLog, 'accessLog', undefined);
  if (mesh.ipPreference !== undefined && mesh.ipPreference !== 'ipv4-preferred')
    use('ip-preference', 'ipPreference');
  return uses;
}
