/**
 * RDS: the outbound route configuration (what a caller's sidecar does with a request to
 * `<service>.<domain>`: matches, weighted versions, retries, timeouts, faults, mirrors, header
 * changes, rewrites, redirects, hash policies) and the inbound one (rate limits, then the local app).
 */
import type {
  Destination,
  HeaderMatch,
  HeaderMutations,
  Mesh,
  PathMatch,
  Redirect,
  Route,
  RouteMatch,
  ServicePort,
} from '../../model/types.js';
import { meshDomain, primaryPort, sortedKeys, versionCluster } from './names.js';
import { routePolicy, servicePolicy } from './policy.js';
import { envoyDuration, fractionalPercent, type Json } from './private/util.js';
import { ENVOY_RETRY_ON } from './retry-on.js';

const REDIRECT_CODE = {
  301: 'MOVED_PERMANENTLY',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
} as const;

/** Header name the caller's sidecar stamps with the caller's name (authorization without mTLS). */
export const SOURCE_HEADER = 'x-crossmesh-source';

/** Routes that apply to one port of a service, in the order they are tried. */
export function routesForPort(mesh: Mesh, serviceName: string, port: ServicePort): Route[] {
  const service = mesh.services[serviceName];
  if (service === undefined) return [];
  const primary = primaryPort(service).port;
  const routes = service.routes ?? [
    { name: 'default', destinations: [{ service: serviceName, weight: 1 }] } satisfies Route,
  ];
  return routes
    .map((route, index) => ({ route, index }))
    .filter(({ route }) => (route.port ?? primary) === port.port)
    .sort((a, b) => (a.route.priority ?? a.index) - (b.route.priority ?? b.index) || a.index - b.index)
    .map(({ route }) => route);
}

function pathSpecifier(path: PathMatch): Json {
  switch (path.kind) {
    case 'prefix':
      return { prefix: path.value };
    case 'exact':
      return { path: path.value };
    case 'regex':
      return { safe_regex: { regex: path.value } };
  }
}

/** An Envoy HeaderMatcher for one model header condition. */
export function headerMatcher(match: HeaderMatch): Json {
  const out: Json = { name: match.name };
  switch (match.kind) {
    case 'present':
      out.present_match = true;
      break;
    case 'range':
      out.range_match = { start: match.start, end: match.end };
      break;
    case 'regex':
      out.string_match = { safe_regex: { regex: match.value } };
      break;
    default:
      out.string_match = { [match.kind]: match.value };
  }
  if (match.invert === true) out.invert_match = true;
  return out;
}

/** An Envoy RouteMatch for a model match (gRPC service/method become a path condition). */
export function routeMatch(match: RouteMatch | undefined): Json {
  const grpc = match?.grpc;
  let out: Json;
  if (grpc?.service !== undefined) {
    out =
      grpc.method === undefined
        ? { prefix: `/${grpc.service}/` }
        : { path: `/${grpc.service}/${grpc.method}` };
  } else {
    out = match?.path === undefined ? { prefix: '/' } : pathSpecifier(match.path);
  }
  const headers = (match?.headers ?? []).map(headerMatcher);
  if (match?.method !== undefined) headers.push({ name: ':method', string_match: { exact: match.method } });
  if (headers.length > 0) out.headers = headers;
  if ((match?.query ?? []).length > 0) {
    out.query_parameters = (match?.query ?? []).map((q): Json => {
      if (q.kind === 'present') return { name: q.name, present_match: true };
      return {
        name: q.name,
        string_match: q.kind === 'exact' ? { exact: q.value } : { safe_regex: { regex: q.value } },
      };
    });
  }
  return out;
}

/** The port a destination in `service` receives on: the route's port if it has it, else its primary. */
function destinationPort(mesh: Mesh, serviceName: string, port: number): number {
  const service = mesh.services[serviceName];
  if (service === undefined) return port;
  return service.ports.some((p) => p.port === port) ? port : primaryPort(service).port;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Integer cluster weights for a route's destinations. A destination without a version spreads its
 * weight evenly over every version; weights are scaled by the least common multiple of those
 * version counts so the split stays exact in integers (Envoy's weights are integers).
 */
export function clusterWeights(
  mesh: Mesh,
  serviceName: string,
  port: number,
  destinations: readonly Destination[],
): [string, number][] {
  const expanded = destinations.map((d) => {
    const target = d.service ?? serviceName;
    const versions = d.version === undefined ? sortedKeys(mesh.services[target]?.versions) : [d.version];
    return { target, versions, weight: d.weight ?? 1 };
  });
  const scale = expanded.reduce(
    (acc, d) => (d.versions.length === 0 ? acc : (acc * d.versions.length) / gcd(acc, d.versions.length)),
    1,
  );
  const weights = new Map<string, number>();
  for (const d of expanded) {
    const targetPort = destinationPort(mesh, d.target, port);
    for (const version of d.versions) {
      const name = versionCluster(mesh, d.target, version, targetPort);
      weights.set(name, (weights.get(name) ?? 0) + (d.weight * scale) / d.versions.length);
    }
  }
  const positive = [...weights].filter(([, w]) => w > 0);
  // Undo as much of the scaling as the weights allow, so dumps read the model's `90/10`, not `180/20`.
  const common =
    gcd(
      positive.reduce((acc, [, w]) => gcd(acc, w), 0),
      scale,
    ) || 1;
  return positive.map(([name, w]) => [name, w / common]);
}

function headerOptions(mutations: HeaderMutations | undefined): Json {
  const out: Json = {};
  const add = (list: HeaderMutations['request']) =>
    (list?.add ?? []).map((h) => ({
      header: { key: h.name, value: h.value },
      append_action: h.append === true ? 'APPEND_IF_EXISTS_OR_ADD' : 'OVERWRITE_IF_EXISTS_OR_ADD',
    }));
  if ((mutations?.request?.add ?? []).length > 0) out.request_headers_to_add = add(mutations?.request);
  if ((mutations?.request?.remove ?? []).length > 0)
    out.request_headers_to_remove = [...(mutations?.request?.remove ?? [])];
  if ((mutations?.response?.add ?? []).length > 0) out.response_headers_to_add = add(mutations?.response);
  if ((mutations?.response?.remove ?? []).length > 0) {
    out.response_headers_to_remove = [...(mutations?.response?.remove ?? [])];
  }
  return out;
}

function redirectAction(redirect: Redirect): Json {
  const out: Json = { response_code: REDIRECT_CODE[redirect.status ?? 301] };
  if (redirect.scheme !== undefined) out.scheme_redirect = redirect.scheme;
  if (redirect.host !== undefined) out.host_redirect = redirect.host;
  if (redirect.port !== undefined) out.port_redirect = redirect.port;
  if (redirect.path !== undefined) out.path_redirect = redirect.path;
  else if (redirect.prefix !== undefined) out.prefix_rewrite = redirect.prefix;
  return out;
}

/** The fault filter's per-route configuration. */
function faultConfig(route: Route): Json | undefined {
  const fault = route.fault;
  if (fault === undefined || (fault.delay === undefined && fault.abort === undefined)) return undefined;
  const out: Json = { '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' };
  if (fault.delay !== undefined) {
    out.delay = {
      fixed_delay: envoyDuration(fault.delay.duration),
      percentage: fractionalPercent(fault.delay.percent),
    };
  }
  if (fault.abort !== undefined) {
    out.abort = {
      ...(fault.abort.grpcStatus !== undefined
        ? { grpc_status: fault.abort.grpcStatus }
        : { http_status: fault.abort.httpStatus ?? 503 }),
      percentage: fractionalPercent(fault.abort.percent),
    };
  }
  return out;
}

/** Whether any route in the list injects faults (then the HCM needs the fault filter). */
export function usesFault(routes: readonly Json[]): boolean {
  return routes.some((r) => {
    const perFilter = r.typed_per_filter_config as Json | undefined;
    return perFilter !== undefined && 'envoy.filters.http.fault' in perFilter;
  });
}

/** One outbound Envoy route for a model route of `serviceName` on `port`. */
export function outboundRoute(
  mesh: Mesh,
  serviceName: string,
  port: ServicePort,
  route: Route,
  proxyless: boolean,
): Json {
  const out: Json = { name: route.name, match: routeMatch(route.match), ...headerOptions(route.headers) };
  const fault = faultConfig(route);
  if (fault !== undefined) out.typed_per_filter_config = { 'envoy.filters.http.fault': fault };
  if (route.redirect !== undefined) {
    out.redirect = redirectAction(route.redirect);
    return out;
  }
  const weights = clusterWeights(mesh, serviceName, port.port, route.destinations ?? [{}]);
  const action: Json =
    weights.length === 1 && weights[0] !== undefined
      ? { cluster: weights[0][0] }
      : { weighted_clusters: { clusters: weights.map(([name, weight]) => ({ name, weight })) } };
  const policy = routePolicy(mesh, serviceName, route);
  if (policy.timeouts?.request !== undefined) action.timeout = envoyDuration(policy.timeouts.request);
  // Envoy's stream idle timeout already defaults to 5 minutes, the model's default: say it only when
  // it differs, so dumps stay short and proxies without per-route idle timeouts run the default.
  const idle = policy.timeouts?.idle === undefined ? undefined : envoyDuration(policy.timeouts.idle);
  if (idle !== undefined && idle !== '300s' && !proxyless) action.idle_timeout = idle;
  if (policy.retries !== undefined && policy.retries.attempts > 0) {
    const backoff = policy.retries.backoff ?? { base: '25ms', max: '250ms' };
    action.retry_policy = {
      retry_on: (policy.retries.on ?? ['gateway-error', 'connect-failure', 'reset'])
        .map((e) => ENVOY_RETRY_ON[e])
        .join(','),
      num_retries: policy.retries.attempts,
      retry_back_off: {
        base_interval: envoyDuration(backoff.base),
        max_interval: envoyDuration(backoff.max),
      },
      ...(policy.retries.perTryTimeout === undefined
        ? {}
        : { per_try_timeout: envoyDuration(policy.retries.perTryTimeout) }),
    };
  }
  const rewrite = route.rewrite;
  if (rewrite?.prefix !== undefined) action.prefix_rewrite = rewrite.prefix;
  if (rewrite?.path !== undefined)
    action.regex_rewrite = { pattern: { regex: '^.*$' }, substitution: rewrite.path };
  if (rewrite?.host !== undefined) action.host_rewrite_literal = rewrite.host;
  const firstTarget = route.destinations?.[0]?.service ?? serviceName;
  const lb = servicePolicy(mesh, firstTarget).loadBalancing;
  if (lb?.kind === 'ring-hash') {
    const on = lb.hashOn;
    action.hash_policy = [
      on.kind === 'header'
        ? { header: { header_name: on.name } }
        : on.kind === 'cookie'
          ? { cookie: { name: on.name, ...(on.ttl === undefined ? {} : { ttl: envoyDuration(on.ttl) }) } }
          : { connection_properties: { source_ip: true } },
    ];
  }
  if (route.mirror !== undefined && !proxyless) {
    const target = route.mirror.service;
    const versions =
      route.mirror.version === undefined
        ? sortedKeys(mesh.services[target]?.versions)
        : [route.mirror.version];
    const percent = (route.mirror.percent ?? 100) / Math.max(versions.length, 1);
    action.request_mirror_policies = versions.map((v) => ({
      cluster: versionCluster(mesh, target, v, destinationPort(mesh, target, port.port)),
      runtime_fraction: { default_value: fractionalPercent(percent) },
    }));
  }
  out.route = action;
  return out;
}

/** Host names a service port answers to: `<svc>.<domain>` and `<svc>`, with `:port`, and bare on the primary port. */
export function serviceDomains(mesh: Mesh, serviceName: string, port: ServicePort): string[] {
  const service = mesh.services[serviceName];
  const names = [`${serviceName}.${meshDomain(mesh)}`, serviceName];
  const primary = service !== undefined && primaryPort(service).port === port.port;
  return [...(primary ? names : []), ...names.map((n) => `${n}:${port.port}`)];
}

/** Virtual hosts for every HTTP-family port of the given backend services. */
export function backendVirtualHosts(mesh: Mesh, backends: readonly string[], proxyless: boolean): Json[] {
  const hosts: Json[] = [];
  for (const backend of [...backends].sort()) {
    for (const port of mesh.services[backend]?.ports ?? []) {
      if (port.protocol === 'tcp') continue;
      hosts.push({
        name: `${backend}:${port.port}`,
        domains: serviceDomains(mesh, backend, port),
        routes: routesForPort(mesh, backend, port).map((r) =>
          outboundRoute(mesh, backend, port, r, proxyless),
        ),
      });
    }
  }
  return hosts;
}

/** The outbound RouteConfiguration of a sidecar (`outbound`) with the caller stamped for authorization. */
export function outboundRouteConfig(
  mesh: Mesh,
  name: string,
  caller: string,
  backends: readonly string[],
): Json {
  return {
    name,
    virtual_hosts: backendVirtualHosts(mesh, backends, false),
    request_headers_to_add: [
      { header: { key: SOURCE_HEADER, value: caller }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ],
  };
}

/** Per-route local rate limit config. */
export function rateLimitConfig(
  statPrefix: string,
  limit: { requests: number; per: string; burst?: number },
): Json {
  const always = {
    default_value: { numerator: 100, denominator: 'HUNDRED' },
    runtime_key: 'crossmesh.ratelimit',
  };
  return {
    '@type': 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
    stat_prefix: statPrefix,
    token_bucket: {
      max_tokens: limit.burst ?? limit.requests,
      tokens_per_fill: limit.requests,
      fill_interval: envoyDuration(limit.per),
    },
    filter_enabled: always,
    filter_enforced: always,
  };
}

/**
 * The inbound RouteConfiguration of a sidecar for one service port. The receiving sidecar
 * enforces rate limits: routes with their own limit come first (same matches as the outbound
 * routes), then a catch-all with the service's limit, all going to the local app. No timeout here:
 * the caller's sidecar owns the request timeout and retries.
 */
export function inboundRouteConfig(mesh: Mesh, serviceName: string, port: ServicePort, name: string): Json {
  const routes: Json[] = [];
  const base = servicePolicy(mesh, serviceName).rateLimit;
  for (const route of routesForPort(mesh, serviceName, port)) {
    const limit = route.policy?.rateLimit;
    if (limit === undefined) continue;
    routes.push({
      name: route.name,
      match: routeMatch(route.match),
      route: { cluster: `local|${port.port}`, timeout: '0s' },
      typed_per_filter_config: {
        'envoy.filters.http.local_ratelimit': rateLimitConfig(`route_${route.name}`, limit),
      },
    });
  }
  routes.push({
    name: 'local',
    match: { prefix: '/' },
    route: { cluster: `local|${port.port}`, timeout: '0s' },
    ...(base === undefined
      ? {}
      : {
          typed_per_filter_config: { 'envoy.filters.http.local_ratelimit': rateLimitConfig('service', base) },
        }),
  });
  return { name, virtual_hosts: [{ name: 'inbound', domains: ['*'], routes }] };
}
