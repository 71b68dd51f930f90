/**
 * networkservices v1 routes: one HttpRoute, GrpcRoute or TcpRoute per service port, attached to
 * the mesh, and the routes of each ingress Gateway. Pure.
 *
 * Features the API cannot express are absent here on purpose: the capability matrix marks them
 * `none`, so `renderWithTarget` refuses or drops them before this code runs, and what is left in
 * the model is skipped silently (HttpRoute has no method match, GrpcRoute has no per-try timeout,
 * header modifiers, mirroring or rewrites, TcpRoute matches only address and port).
 */
import type {
  Destination,
  Fault,
  Gateway,
  GatewayRoute,
  HeaderMatch,
  HeaderMutation,
  PathMatch,
  Protocol,
  QueryMatch,
  RetryEvent,
  Route,
  RoutePolicy,
  Service,
} from '../../model/types.js';
import { ENVOY_RETRY_ON } from '../envoy/retry-on.js';
import type { Json } from '../plan/types.js';
import {
  backendServiceRef,
  domainOf,
  primaryPort,
  type RenderContext,
  routePolicy,
  routesForPort,
  versionsOf,
} from './context.js';
import { googleDuration } from './durations.js';
import type { JsonObject } from './json.js';
import { ref, resourceName } from './names.js';

/** A route resource before labels and pruning. */
export interface RouteResource {
  readonly kind: 'HttpRoute' | 'GrpcRoute' | 'TcpRoute';
  readonly name: string;
  readonly body: JsonObject;
  readonly dependsOn: readonly string[];
}

const REDIRECT_CODES: Readonly<Record<number, string>> = {
  301: 'MOVED_PERMANENTLY_DEFAULT',
  302: 'FOUND',
  303: 'SEE_OTHER',
  307: 'TEMPORARY_REDIRECT',
  308: 'PERMANENT_REDIRECT',
};

/** The retry conditions GrpcRoute documents; other events have no GrpcRoute equivalent. */
const GRPC_RETRY_ON: ReadonlySet<RetryEvent> = new Set([
  'connect-failure',
  'refused-stream',
  'cancelled',
  'deadline-exceeded',
  'resource-exhausted',
  'unavailable',
]);

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

/**
 * Weighted destinations → one entry per backend service (service version). A destination
 * without a version spreads its weight equally over the versions; weights are scaled to integers
 * by the least common multiple of the version counts, then reduced by their common divisor.
 */
export function weightedBackends(
  ctx: RenderContext,
  ownService: string,
  destinations: readonly Destination[],
): { readonly serviceName: string; readonly weight: number }[] {
  const expanded = destinations.map((d) => {
    const service = d.service ?? ownService;
    const versions = d.version === undefined ? versionsOf(ctx.mesh, service) : [d.version];
    return { service, versions, weight: d.weight ?? 1 };
  });
  const lcm = expanded.reduce(
    (acc, d) => (d.versions.length === 0 ? acc : (acc * d.versions.length) / gcd(acc, d.versions.length)),
    1,
  );
  const weights = new Map<string, number>();
  for (const d of expanded) {
    for (const version of d.versions) {
      const key = backendServiceRef(ctx, d.service, version);
      weights.set(key, (weights.get(key) ?? 0) + (d.weight * lcm) / d.versions.length);
    }
  }
  const positive = [...weights.entries()].filter(([, w]) => w > 0);
  const divisor = positive.reduce((acc, [, w]) => gcd(acc, w), 0) || 1;
  return positive.map(([serviceName, w]) => ({ serviceName, weight: w / divisor }));
}

/** Every version of a service, equally weighted (gateway routes, ports without routes). */
function allVersions(
  ctx: RenderContext,
  service: string,
): { readonly serviceName: string; readonly weight: number }[] {
  return weightedBackends(ctx, service, [{ service }]);
}

function httpPathMatch(path: PathMatch | undefined): JsonObject {
  if (path === undefined) return {};
  switch (path.kind) {
    case 'exact':
      return { fullPathMatch: path.value };
    case 'prefix':
      return { prefixMatch: path.value };
    case 'regex':
      return { regexMatch: path.value };
  }
}

function httpHeaderMatch(match: HeaderMatch): JsonObject {
  const base = { header: match.name, invertMatch: match.invert === true };
  switch (match.kind) {
    case 'exact':
      return { ...base, exactMatch: match.value };
    case 'prefix':
      return { ...base, prefixMatch: match.value };
    case 'suffix':
      return { ...base, suffixMatch: match.value };
    case 'regex':
      return { ...base, regexMatch: match.value };
    case 'present':
      return { ...base, presentMatch: true };
    case 'range':
      return { ...base, rangeMatch: { start: match.start, end: match.end } };
  }
}

function queryMatch(match: QueryMatch): JsonObject {
  switch (match.kind) {
    case 'exact':
      return { queryParameter: match.name, exactMatch: match.value };
    case 'regex':
      return { queryParameter: match.name, regexMatch: match.value };
    case 'present':
      return { queryParameter: match.name, presentMatch: true };
  }
}

function headerModifier(mutation: HeaderMutation | undefined): JsonObject | undefined {
  if (mutation === undefined) return undefined;
  const set: Record<string, string> = {};
  const add: Record<string, string> = {};
  for (const header of mutation.add ?? []) {
    if (header.append === true) add[header.name] = header.value;
    else set[header.name] = header.value;
  }
  return { set, add, remove: [...(mutation.remove ?? [])] };
}

/**
 * gRPC statuses an HTTP abort produces, by the gRPC spec's HTTP-to-gRPC mapping (which Envoy
 * applies when it aborts a gRPC request with an HTTP status): the inverse, for gRPC-status aborts.
 */
const HTTP_FOR_GRPC_STATUS: Readonly<Record<number, number>> = {
  2: 500, // UNKNOWN
  7: 403, // PERMISSION_DENIED
  12: 404, // UNIMPLEMENTED
  13: 400, // INTERNAL
  14: 503, // UNAVAILABLE
  16: 401, // UNAUTHENTICATED
};

function faultPolicy(fault: Fault | undefined): JsonObject | undefined {
  if (fault === undefined) return undefined;
  const out: Record<string, Json> = {};
  if (fault.delay !== undefined) {
    out.delay = {
      fixedDelay: googleDuration(fault.delay.duration),
      percentage: Math.round(fault.delay.percent),
    };
  }
  // The API aborts with an HTTP status only: a gRPC status becomes the HTTP status that maps to
  // it; one no HTTP status maps to (e.g. DEADLINE_EXCEEDED) is dropped.
  const abort = fault.abort;
  const httpStatus =
    abort?.httpStatus ??
    (abort?.grpcStatus === undefined ? undefined : HTTP_FOR_GRPC_STATUS[abort.grpcStatus]);
  if (abort !== undefined && httpStatus !== undefined) {
    out.abort = { httpStatus, percentage: Math.round(abort.percent) };
  }
  return out;
}

function timeouts(policy: RoutePolicy): JsonObject {
  const request = policy.timeouts?.request;
  const idle = policy.timeouts?.idle;
  return {
    // `0s` disables the timeout in the model; the API has no "disabled", so it is left unset.
    ...(request === undefined || request === '0s' ? {} : { timeout: googleDuration(request) }),
    ...(idle === undefined || idle === '0s' ? {} : { idleTimeout: googleDuration(idle) }),
  };
}

function httpRetry(policy: RoutePolicy): JsonObject | undefined {
  const retries = policy.retries;
  if (retries === undefined || retries.attempts <= 0) return undefined;
  return {
    numRetries: retries.attempts,
    retryConditions: [...new Set((retries.on ?? []).map((event) => ENVOY_RETRY_ON[event]))],
    ...(retries.perTryTimeout === undefined ? {} : { perTryTimeout: googleDuration(retries.perTryTimeout) }),
  };
}

function grpcRetry(policy: RoutePolicy): JsonObject | undefined {
  const retries = policy.retries;
  if (retries === undefined || retries.attempts <= 0) return undefined;
  return {
    numRetries: retries.attempts,
    retryConditions: (retries.on ?? []).filter((event) => GRPC_RETRY_ON.has(event)),
  };
}

function httpRule(ctx: RenderContext, serviceName: string, service: Service, route: Route): JsonObject {
  const policy = routePolicy(ctx.mesh, service, route);
  const match: JsonObject = {
    ...httpPathMatch(route.match?.path),
    headers: (route.match?.headers ?? []).map(httpHeaderMatch),
    queryParameters: (route.match?.query ?? []).map(queryMatch),
  };
  if (route.redirect !== undefined) {
    const r = route.redirect;
    return {
      matches: [match],
      action: {
        redirect: {
          responseCode: REDIRECT_CODES[r.status ?? 301] ?? 'MOVED_PERMANENTLY_DEFAULT',
          httpsRedirect: r.scheme === 'https',
          ...(r.host === undefined ? {} : { hostRedirect: r.host }),
          ...(r.port === undefined ? {} : { portRedirect: r.port }),
          ...(r.path === undefined ? {} : { pathRedirect: r.path }),
          ...(r.prefix === undefined ? {} : { prefixRewrite: r.prefix }),
        },
      },
    };
  }
  const mirror = route.mirror;
  const mirrorVersion =
    mirror === undefined ? undefined : (mirror.version ?? versionsOf(ctx.mesh, mirror.service)[0]);
  return {
    matches: [match],
    action: {
      destinations: weightedBackends(ctx, serviceName, route.destinations ?? [{}]),
      ...timeouts(policy),
      ...(httpRetry(policy) === undefined ? {} : { retryPolicy: httpRetry(policy) as JsonObject }),
      ...(faultPolicy(route.fault) === undefined
        ? {}
        : { faultInjectionPolicy: faultPolicy(route.fault) as JsonObject }),
      ...(mirror === undefined || mirrorVersion === undefined
        ? {}
        : {
            requestMirrorPolicy: {
              destination: { serviceName: backendServiceRef(ctx, mirror.service, mirrorVersion) },
              mirrorPercent: mirror.percent ?? 100,
            },
          }),
      ...(route.headers?.request === undefined
        ? {}
        : { requestHeaderModifier: headerModifier(route.headers.request) as JsonObject }),
      ...(route.headers?.response === undefined
        ? {}
        : { responseHeaderModifier: headerModifier(route.headers.response) as JsonObject }),
      ...(route.rewrite === undefined
        ? {}
        : {
            urlRewrite: {
              ...(route.rewrite.prefix === undefined ? {} : { pathPrefixRewrite: route.rewrite.prefix }),
              ...(route.rewrite.host === undefined ? {} : { hostRewrite: route.rewrite.host }),
            },
          }),
    },
  };
}

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function grpcHeaderMatches(headers: readonly HeaderMatch[]): JsonObject[] {
  // GrpcRoute matches headers exactly or by regular expression only, and cannot invert.
  return headers.flatMap((h): JsonObject[] => {
    if (h.invert === true) return [];
    if (h.kind === 'exact') return [{ key: h.name, value: h.value }];
    if (h.kind === 'regex') return [{ key: h.name, value: h.value, type: 'REGULAR_EXPRESSION' }];
    return [];
  });
}

function grpcMethodMatch(
  grpcService: string | undefined,
  method: string | undefined,
): JsonObject | undefined {
  if (grpcService === undefined) return undefined;
  // Both fields are required by the API: "any method of a service" is a regular expression match.
  return method === undefined
    ? { grpcService: escapeRegex(grpcService), grpcMethod: '.*', type: 'REGULAR_EXPRESSION' }
    : { grpcService, grpcMethod: method };
}

function grpcRule(ctx: RenderContext, serviceName: string, service: Service, route: Route): JsonObject {
  const policy = routePolicy(ctx.mesh, service, route);
  const method = grpcMethodMatch(route.match?.grpc?.service, route.match?.grpc?.method);
  const headers = grpcHeaderMatches(route.match?.headers ?? []);
  const retry = grpcRetry(policy);
  const fault = faultPolicy(route.fault);
  return {
    matches:
      method === undefined && headers.length === 0
        ? []
        : [{ ...(method === undefined ? {} : { method }), headers }],
    action: {
      destinations: weightedBackends(ctx, serviceName, route.destinations ?? [{}]),
      ...timeouts(policy),
      ...(retry === undefined ? {} : { retryPolicy: retry }),
      ...(fault === undefined ? {} : { faultInjectionPolicy: fault }),
    },
  };
}

function tcpRule(
  ctx: RenderContext,
  serviceName: string,
  service: Service,
  route: Route,
  port: number,
): JsonObject {
  const idle = routePolicy(ctx.mesh, service, route).timeouts?.idle;
  return {
    // The model has no service VIP: the rule matches the port on any address.
    matches: [{ address: '0.0.0.0/0', port: String(port) }],
    action: {
      destinations: weightedBackends(ctx, serviceName, route.destinations ?? [{}]),
      ...(idle === undefined || idle === '0s' ? {} : { idleTimeout: googleDuration(idle) }),
    },
  };
}

const KIND_OF: Readonly<Record<Protocol, RouteResource['kind']>> = {
  http: 'HttpRoute',
  http2: 'HttpRoute',
  grpc: 'GrpcRoute',
  tcp: 'TcpRoute',
};

function dependencies(body: JsonObject, extra: readonly string[]): string[] {
  const text = JSON.stringify(body);
  const services = [...text.matchAll(/global\/backendServices\/([a-z0-9-]+)/g)].map(
    (m) => `BackendService/${m[1]}`,
  );
  return [...new Set([...extra, ...services])].sort();
}

/**
 * The routes of one service, one per routable port. Hostnames follow what each route type accepts:
 * HttpRoute hostnames are bare host names (no port, and unique per mesh), so only the service's
 * first HTTP or HTTP/2 port is routable by name; further HTTP ports are skipped with a warning.
 * GrpcRoute hostnames may carry the port (`xds:///host:port`): every gRPC port gets `host:port`,
 * and the bare host too when no HttpRoute claims it and the port is the primary one.
 */
export function serviceRoutes(ctx: RenderContext, serviceName: string, service: Service): RouteResource[] {
  const host = `${serviceName}.${domainOf(ctx.mesh)}`;
  const primary = primaryPort(service);
  const meshRef = ref.global(ctx.project, 'meshes', ctx.mesh.name);
  const httpPort = service.ports.find((p) => p.protocol === 'http' || p.protocol === 'http2')?.port;
  const out: RouteResource[] = [];
  for (const port of service.ports) {
    const kind = KIND_OF[port.protocol];
    if (kind === 'HttpRoute' && port.port !== httpPort) {
      ctx.warnings.push(
        `service ${serviceName} port ${port.port} is not routed: HttpRoute hostnames carry no port, so only its first HTTP port (${httpPort}) is`,
      );
      continue;
    }
    const name = resourceName(ctx.mesh.name, serviceName, port.port);
    const declared = routesForPort(service, port.port);
    // A port without routes sends everything to every version, as the model's default route does.
    const routes: readonly Route[] = declared.length > 0 ? declared : [{ name: 'default' }];
    let body: JsonObject;
    if (kind === 'TcpRoute') {
      body = {
        meshes: [meshRef],
        rules: routes.map((r) => tcpRule(ctx, serviceName, service, r, port.port)),
      };
    } else if (kind === 'HttpRoute') {
      body = {
        meshes: [meshRef],
        hostnames: [host],
        rules: routes.map((r) => httpRule(ctx, serviceName, service, r)),
      };
    } else {
      const hostnames =
        port.port === primary && httpPort === undefined
          ? [host, `${host}:${port.port}`]
          : [`${host}:${port.port}`];
      // GrpcRoute cannot redirect; if nothing else is left the port keeps the default rule
      // (the API requires at least one rule).
      const forwarding = routes.filter((r) => r.redirect === undefined);
      const rules = (forwarding.length > 0 ? forwarding : [{ name: 'default' }]).map((r) =>
        grpcRule(ctx, serviceName, service, r),
      );
      body = { meshes: [meshRef], hostnames, rules };
    }
    out.push({ kind, name, body, dependsOn: dependencies(body, [`Mesh/${ctx.mesh.name}`]) });
  }
  return out;
}

/** Name of the Gateway resource of an ingress gateway. */
export function gatewayName(ctx: RenderContext, gateway: string): string {
  return resourceName(ctx.mesh.name, 'gw', gateway);
}

function gatewayHttpRule(ctx: RenderContext, route: GatewayRoute): JsonObject {
  return {
    matches: [
      {
        ...httpPathMatch(route.match?.path),
        headers: (route.match?.headers ?? []).map(httpHeaderMatch),
      },
    ],
    action: {
      destinations: allVersions(ctx, route.service),
      ...(route.rewrite === undefined
        ? {}
        : {
            urlRewrite: {
              ...(route.rewrite.prefix === undefined ? {} : { pathPrefixRewrite: route.rewrite.prefix }),
              ...(route.rewrite.host === undefined ? {} : { hostRewrite: route.rewrite.host }),
            },
          }),
    },
  };
}

function gatewayGrpcRule(ctx: RenderContext, route: GatewayRoute): JsonObject {
  const method = grpcMethodMatch(route.match?.grpcService, undefined);
  const headers = grpcHeaderMatches(route.match?.headers ?? []);
  return {
    matches:
      method === undefined && headers.length === 0
        ? []
        : [{ ...(method === undefined ? {} : { method }), headers }],
    action: { destinations: allVersions(ctx, route.service) },
  };
}

/** Whether a gateway route takes every request of its listener: no condition beyond `/`, no rewrite. */
function isCatchAll(route: GatewayRoute): boolean {
  const m = route.match;
  const path = m?.path;
  return (
    route.rewrite === undefined &&
    (path === undefined || (path.kind === 'prefix' && path.value === '/')) &&
    (m?.headers ?? []).length === 0 &&
    m?.grpcService === undefined
  );
}

/**
 * The service's own rules for a catch-all gateway route: the rules of the service's route resource
 * of the same kind (its first HTTP port, or its primary gRPC port). Undefined when the route is
 * not a catch-all or the service has no such port.
 */
function delegatedRules(
  ctx: RenderContext,
  kind: 'HttpRoute' | 'GrpcRoute',
  route: GatewayRoute,
): JsonObject[] | undefined {
  const service = ctx.mesh.services[route.service];
  if (service === undefined || !isCatchAll(route)) return undefined;
  const port = service.ports.find((p) => KIND_OF[p.protocol] === kind)?.port;
  if (port === undefined) return undefined;
  const declared = routesForPort(service, port);
  if (declared.length === 0) return undefined;
  if (kind === 'HttpRoute') return declared.map((r) => httpRule(ctx, route.service, service, r));
  const forwarding = declared.filter((r) => r.redirect === undefined);
  return forwarding.length === 0
    ? undefined
    : forwarding.map((r) => grpcRule(ctx, route.service, service, r));
}

/**
 * The routes attached to one ingress gateway: HttpRoutes for HTTP listeners, GrpcRoutes for gRPC
 * ones. Host names belong to route resources, not rules, so a gateway route that matches a host
 * gets its own route resource for that host, holding its rules and, after them, the gateway's
 * host-less rules (so other paths of that host still route); the host-less rules keep the
 * gateway's own hosts. Rules keep their declaration order in every resource.
 */
export function gatewayRoutes(ctx: RenderContext, gatewayKey: string, gateway: Gateway): RouteResource[] {
  const gwName = gatewayName(ctx, gatewayKey);
  const gatewayRef = ref.global(ctx.project, 'gateways', gwName);
  const protocols = new Set(gateway.listeners.map((l) => l.protocol));
  // A gateway route is gRPC when it matches a gRPC service or leads to a gRPC service.
  const isGrpc = (r: GatewayRoute) =>
    r.match?.grpcService !== undefined || ctx.mesh.services[r.service]?.ports[0]?.protocol === 'grpc';
  const out: RouteResource[] = [];
  const emit = (kind: 'HttpRoute' | 'GrpcRoute', suffix: string, routes: readonly GatewayRoute[]) => {
    // A catch-all gateway route without rewrite hands over to the service's own rules (its
    // canaries, retries, faults): the same rules its route resource has. Any other gateway route
    // forwards to every version of the service, since route resources do not chain.
    const rule = (r: GatewayRoute): JsonObject[] => {
      const delegated = delegatedRules(ctx, kind, r);
      if (delegated !== undefined) return delegated;
      return [kind === 'HttpRoute' ? gatewayHttpRule(ctx, r) : gatewayGrpcRule(ctx, r)];
    };
    const specific = [...new Set(routes.flatMap((r) => (r.match?.host === undefined ? [] : [r.match.host])))];
    const general = routes.filter((r) => r.match?.host === undefined);
    const groups: {
      readonly name: string;
      readonly hostnames: string[];
      readonly rules: readonly GatewayRoute[];
    }[] = [];
    const gatewayHosts = (gateway.hosts ?? ['*']).filter((h) => !specific.includes(h));
    if (general.length > 0 && gatewayHosts.length > 0) {
      groups.push({
        name: resourceName(ctx.mesh.name, 'gw', gatewayKey, suffix),
        hostnames: gatewayHosts,
        rules: general,
      });
    }
    for (const host of specific) {
      groups.push({
        name: resourceName(ctx.mesh.name, 'gw', gatewayKey, suffix, host.replace(/^\*\./, 'any.')),
        hostnames: [host],
        rules: routes.filter((r) => r.match?.host === host || r.match?.host === undefined),
      });
    }
    for (const group of groups) {
      const body = { gateways: [gatewayRef], hostnames: group.hostnames, rules: group.rules.flatMap(rule) };
      out.push({ kind, name: group.name, body, dependsOn: dependencies(body, [`Gateway/${gwName}`]) });
    }
  };
  if (protocols.has('http') || protocols.has('http2')) {
    emit(
      'HttpRoute',
      'http',
      gateway.routes.filter((r) => !isGrpc(r)),
    );
  }
  if (protocols.has('grpc')) emit('GrpcRoute', 'grpc', gateway.routes.filter(isGrpc));
  return out;
}
