/**
 * The canonical form of a mesh: validated, every documented default filled in explicitly,
 * durations in their canonical spelling, keys sorted, frozen. Renderers receive this and never
 * apply a default themselves, so two targets cannot disagree about what an omitted field means.
 *
 * Rules (docs/model.md, "Canonical form"):
 * - scalar defaults and lists/maps whose default is "none" are filled (`[]`, `{}`);
 * - optional features whose default is "not used" (redirect, rewrite, fault, mirror, retries,
 *   rate limit, health check, outlier detection, connection pool, TLS, local run) stay absent;
 *   once present, their own defaulted fields are filled;
 * - policies are resolved: a service's `policy` is the mesh `defaults` with the service's own
 *   policy laid over it, and each route's `policy` is that with the route's laid over it. Layers
 *   replace whole policy objects, except `timeouts`, which merge field by field;
 * - a service without routes gets the documented `default` route.
 * Canonicalizing a canonical mesh returns an identical mesh.
 */
import { normalizeDuration } from './duration.js';
import type {
  AccessLog,
  Authorization,
  Destination,
  Fault,
  Gateway,
  GatewayRoute,
  HeaderMatch,
  HeaderMutation,
  HeaderMutations,
  HealthCheck,
  LoadBalancing,
  LocalRun,
  Mesh,
  MeshInput,
  Mirror,
  OutlierDetection,
  Protocol,
  RateLimit,
  Redirect,
  Retries,
  RetryEvent,
  Route,
  RouteMatch,
  RoutePolicy,
  Security,
  Service,
  ServicePolicy,
  ServiceVersion,
  Timeouts,
} from './types.js';
import { API_VERSION } from './types.js';
import { validate } from './validate.js';

/** Documented defaults, in one place (docs/model.md lists the same values). */
export const DEFAULTS = {
  requestTimeout: '15s',
  idleTimeout: '5m',
  retryOn: ['gateway-error', 'connect-failure', 'reset'] as readonly RetryEvent[],
  backoff: { base: '25ms', max: '250ms' },
  healthCheck: { interval: '5s', timeout: '2s', healthyThreshold: 2, unhealthyThreshold: 3 },
  expectedStatuses: [[200, 300]] as readonly (readonly [number, number])[],
  outlierDetection: { consecutive5xx: 5, interval: '10s', baseEjectionTime: '30s', maxEjectionPercent: 10 },
  accessLog: { enabled: false, path: '/dev/stdout', format: 'text' } as AccessLog,
  trustDomain: 'cluster.local',
  weight: 1,
  redirectStatus: 301,
  mirrorPercent: 100,
} as const;

const d = (text: string): string => normalizeDuration(text) ?? text;

/**
 * Validates `input` (throwing one MeshError with every problem) and returns its canonical form:
 * deeply frozen, keys sorted, every default explicit.
 */
export function canonicalize(input: unknown): Mesh {
  return inCanonicalOrder(build(validate(input)), true) as Mesh;
}

/** Deterministic JSON of a mesh: sorted keys, 2-space indent, trailing newline. */
export function toCanonicalJson(mesh: Mesh): string {
  return `${JSON.stringify(inCanonicalOrder(mesh, false), null, 2)}\n`;
}

/** Returns plain data with object keys in code-unit order (arrays keep their order); never changes its argument. */
export function sortKeys(value: unknown): unknown {
  return inCanonicalOrder(value, false);
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

/**
 * Puts keys in code-unit order and drops `undefined` members. With `own` (data that `build` just
 * made, reachable by nobody else) it works in place and freezes as it goes, copying only objects
 * whose keys are out of order; otherwise it copies whatever it must change. A canonical mesh is
 * already in order, so serializing one copies nothing.
 */
function inCanonicalOrder(value: unknown, own: boolean): unknown {
  if (value === null || typeof value !== 'object') return value;
  const mutable = own && !Object.isFrozen(value);
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const next = inCanonicalOrder(item, own);
      if (copy !== undefined) copy.push(next);
      else if (next !== item) {
        if (mutable) value[i] = next;
        else copy = [...value.slice(0, i), next];
      }
    }
    const result = copy ?? value;
    return own ? Object.freeze(result) : result;
  }
  const source = value as Record<string, unknown>;
  const keys = Object.keys(source);
  let ordered = true;
  for (let i = 0; i < keys.length; i++) {
    const key = keys[i] as string;
    if (source[key] === undefined || (i > 0 && (keys[i - 1] as string) >= key)) {
      ordered = false;
      break;
    }
  }
  if (ordered) {
    let copy: Record<string, unknown> | undefined;
    for (const key of keys) {
      const child = source[key];
      const next = inCanonicalOrder(child, own);
      if (next !== child && copy === undefined) {
        if (mutable) setOwn(source, key, next);
        else copy = { ...source };
      }
      if (copy !== undefined) setOwn(copy, key, next);
    }
    const result = copy ?? source;
    return own ? Object.freeze(result) : result;
  }
  const out: Record<string, unknown> = {};
  for (const key of keys.sort()) {
    const child = source[key];
    if (child !== undefined) setOwn(out, key, inCanonicalOrder(child, own));
  }
  return own ? Object.freeze(out) : out;
}

function build(mesh: MeshInput): Mesh {
  const security: Security = {
    mtls: mesh.security?.mtls ?? 'off',
    trustDomain: mesh.security?.trustDomain ?? DEFAULTS.trustDomain,
  };
  const domain = mesh.domain ?? `${mesh.name}.mesh.local`;
  const accessLog = accessLogOf(mesh.accessLog) ?? DEFAULTS.accessLog;
  const defaults = mesh.defaults === undefined ? undefined : normalizePolicy(mesh.defaults);
  const services: Record<string, Service> = {};
  for (const [name, service] of Object.entries(mesh.services)) {
    put(services, name, serviceOf(name, service, { mesh, domain, security, accessLog, defaults }));
  }
  const gateways: Record<string, Gateway> = {};
  for (const [name, gateway] of Object.entries(mesh.gateways ?? {}))
    put(gateways, name, gatewayOf(gateway, accessLog));
  return {
    apiVersion: API_VERSION,
    name: mesh.name,
    domain,
    services,
    gateways,
    egress: { mode: mesh.egress?.mode ?? 'allow-all', hosts: [...(mesh.egress?.hosts ?? [])] },
    security,
    accessLog,
    ipPreference: mesh.ipPreference ?? 'ipv4-preferred',
    ...(defaults === undefined ? {} : { defaults }),
  };
}

function put<T>(target: Record<string, T>, key: string, value: T): void {
  setOwn(target as Record<string, unknown>, key, value);
}

interface MeshContext {
  readonly mesh: MeshInput;
  readonly domain: string;
  readonly security: Security;
  readonly accessLog: AccessLog;
  readonly defaults: ServicePolicy | undefined;
}

function accessLogOf(log: AccessLog | undefined): AccessLog | undefined {
  if (log === undefined) return undefined;
  return { enabled: log.enabled, format: log.format ?? 'text', path: log.path ?? DEFAULTS.accessLog.path };
}

function serviceOf(name: string, service: Service, ctx: MeshContext): Service {
  // Object literals below list keys in code-unit order: inCanonicalOrder then freezes them in place.
  const ports = service.ports.map((p) => ({
    name: p.name ?? `${p.protocol}-${p.port}`,
    port: p.port,
    protocol: p.protocol,
  }));
  const primary = ports[0];
  if (primary === undefined) throw new RangeError('validated service without ports');
  const protocolOf = (port: number): Protocol =>
    ports.find((p) => p.port === port)?.protocol ?? primary.protocol;
  const host = `${name}.${ctx.domain}`;
  const raw = layer(ctx.defaults ?? {}, normalizePolicy(service.policy ?? {}));
  const policy = resolveServicePolicy(raw, primary.port, host);
  const versions: Record<string, ServiceVersion> = {};
  for (const [versionName, version] of Object.entries(service.versions)) {
    put(versions, versionName, versionOf(versionName, version));
  }
  const routes =
    service.routes === undefined
      ? [
          {
            destinations: [{ service: name, weight: DEFAULTS.weight }],
            match: matchOf(undefined, primary.protocol),
            name: 'default',
            policy: resolveRoutePolicy(raw, {}, primary.protocol),
            port: primary.port,
          } satisfies Route,
        ]
      : service.routes.map((r) =>
          routeOf(r, name, raw, r.port ?? primary.port, protocolOf(r.port ?? primary.port)),
        );
  return {
    accessLog: accessLogOf(service.accessLog) ?? ctx.accessLog,
    authorization: authorizationOf(service.authorization),
    backends: [...(service.backends ?? [])],
    identity: service.identity ?? `spiffe://${ctx.security.trustDomain}/ns/${ctx.mesh.name}/sa/${name}`,
    policy,
    ports,
    routes,
    versions,
  };
}

function versionOf(name: string, version: ServiceVersion): ServiceVersion {
  return {
    labels: { ...(version.labels ?? { version: name }) },
    ...(version.local === undefined ? {} : { local: localOf(version.local) }),
  };
}

function localOf(local: LocalRun): LocalRun {
  if (local.kind === 'endpoints') {
    return { kind: 'endpoints', endpoints: local.endpoints.map((e) => ({ host: e.host, port: e.port })) };
  }
  return {
    kind: 'command',
    command: [...local.command],
    env: { ...(local.env ?? {}) },
    cwd: local.cwd ?? '.',
    instances: local.instances ?? 1,
  };
}

// ---------------------------------------------------------------------------------------------
// Policies

/** Normalizes durations and fills the defaults that do not depend on the service. */
function normalizePolicy(policy: ServicePolicy): ServicePolicy {
  const out: {
    -readonly [K in keyof ServicePolicy]: ServicePolicy[K];
  } = {};
  if (policy.timeouts !== undefined) {
    out.timeouts = {
      ...(policy.timeouts.request === undefined ? {} : { request: d(policy.timeouts.request) }),
      ...(policy.timeouts.idle === undefined ? {} : { idle: d(policy.timeouts.idle) }),
    };
  }
  if (policy.retries !== undefined) out.retries = retriesOf(policy.retries);
  if (policy.rateLimit !== undefined) out.rateLimit = rateLimitOf(policy.rateLimit);
  if (policy.healthCheck !== undefined) {
    // Port and host depend on the service; they are filled when a service resolves its policy.
    const h = policy.healthCheck;
    out.healthCheck = {
      ...h,
      ...(h.interval === undefined ? {} : { interval: d(h.interval) }),
      ...(h.timeout === undefined ? {} : { timeout: d(h.timeout) }),
    };
  }
  if (policy.outlierDetection !== undefined) out.outlierDetection = outlierOf(policy.outlierDetection);
  if (policy.connectionPool !== undefined) out.connectionPool = { ...policy.connectionPool };
  if (policy.loadBalancing !== undefined) out.loadBalancing = loadBalancingOf(policy.loadBalancing);
  return out;
}

/** Lays `upper` over `lower`: whole objects replace, timeouts merge field by field. */
function layer<P extends RoutePolicy>(lower: P, upper: P): P {
  const out: Record<string, unknown> = { ...(lower as Record<string, unknown>) };
  for (const [key, value] of Object.entries(upper)) {
    if (value !== undefined) out[key] = value;
  }
  if (lower.timeouts !== undefined || upper.timeouts !== undefined) {
    out.timeouts = { ...lower.timeouts, ...upper.timeouts };
  }
  return out as P;
}

function timeoutsOf(t: Timeouts | undefined): Required<Timeouts> {
  return { idle: t?.idle ?? DEFAULTS.idleTimeout, request: t?.request ?? DEFAULTS.requestTimeout };
}

/** A route's policy: the service's with the route's laid over it. TCP routes never retry, so they do not inherit retries. */
function resolveRoutePolicy(raw: RoutePolicy, route: RoutePolicy, protocol: Protocol): RoutePolicy {
  const merged = layer<RoutePolicy>(
    { timeouts: raw.timeouts, retries: raw.retries, rateLimit: raw.rateLimit },
    normalizePolicy(route),
  );
  const timeouts = timeoutsOf(merged.timeouts);
  const retries = protocol === 'tcp' ? undefined : merged.retries;
  return {
    ...(merged.rateLimit === undefined ? {} : { rateLimit: merged.rateLimit }),
    ...(retries === undefined ? {} : { retries: withPerTry(retries, timeouts.request) }),
    timeouts,
  };
}

function resolveServicePolicy(raw: ServicePolicy, primaryPort: number, host: string): ServicePolicy {
  const timeouts = timeoutsOf(raw.timeouts);
  return {
    ...(raw.connectionPool === undefined ? {} : { connectionPool: raw.connectionPool }),
    ...(raw.healthCheck === undefined
      ? {}
      : { healthCheck: healthCheckOf(raw.healthCheck, primaryPort, host) }),
    loadBalancing: raw.loadBalancing ?? { kind: 'round-robin' },
    ...(raw.outlierDetection === undefined ? {} : { outlierDetection: raw.outlierDetection }),
    ...(raw.rateLimit === undefined ? {} : { rateLimit: raw.rateLimit }),
    ...(raw.retries === undefined ? {} : { retries: withPerTry(raw.retries, timeouts.request) }),
    timeouts,
  };
}

/** The per-try timeout defaults to the request timeout, unless that is `0s` (disabled). */
function withPerTry(retries: Retries, requestTimeout: string): Retries {
  if (retries.perTryTimeout !== undefined || requestTimeout === '0s') return retries;
  return { ...retries, perTryTimeout: requestTimeout };
}

function retriesOf(r: Retries): Retries {
  const backoff = r.backoff ?? DEFAULTS.backoff;
  return {
    attempts: r.attempts,
    backoff: { base: d(backoff.base), max: d(backoff.max) },
    on: [...(r.on ?? DEFAULTS.retryOn)],
    ...(r.perTryTimeout === undefined ? {} : { perTryTimeout: d(r.perTryTimeout) }),
  };
}

function rateLimitOf(r: RateLimit): RateLimit {
  return { requests: r.requests, per: d(r.per), burst: r.burst ?? r.requests };
}

function outlierOf(o: OutlierDetection): OutlierDetection {
  const x = DEFAULTS.outlierDetection;
  return {
    baseEjectionTime: d(o.baseEjectionTime ?? x.baseEjectionTime),
    consecutive5xx: o.consecutive5xx ?? x.consecutive5xx,
    interval: d(o.interval ?? x.interval),
    maxEjectionPercent: o.maxEjectionPercent ?? x.maxEjectionPercent,
  };
}

function loadBalancingOf(lb: LoadBalancing): LoadBalancing {
  if (lb.kind !== 'ring-hash') return { kind: lb.kind };
  const h = lb.hashOn;
  if (h.kind === 'cookie') {
    return {
      kind: 'ring-hash',
      hashOn: { kind: 'cookie', name: h.name, ...(h.ttl === undefined ? {} : { ttl: d(h.ttl) }) },
    };
  }
  return {
    kind: 'ring-hash',
    hashOn: h.kind === 'header' ? { kind: 'header', name: h.name } : { kind: 'source-ip' },
  };
}

function healthCheckOf(h: HealthCheck, primaryPort: number, host: string): HealthCheck {
  const x = DEFAULTS.healthCheck;
  const timing = {
    interval: d(h.interval ?? x.interval),
    timeout: d(h.timeout ?? x.timeout),
    healthyThreshold: h.healthyThreshold ?? x.healthyThreshold,
    unhealthyThreshold: h.unhealthyThreshold ?? x.unhealthyThreshold,
    port: h.port ?? primaryPort,
  };
  switch (h.kind) {
    case 'http':
      return {
        kind: 'http',
        ...timing,
        path: h.path,
        expectedStatuses: (h.expectedStatuses ?? DEFAULTS.expectedStatuses).map(([a, b]) => [a, b] as const),
        host: h.host ?? host,
      };
    case 'grpc':
      return { kind: 'grpc', ...timing, service: h.service ?? '' };
    case 'tcp':
      return { kind: 'tcp', ...timing };
  }
}

// ---------------------------------------------------------------------------------------------
// Routes

function routeOf(route: Route, service: string, raw: ServicePolicy, port: number, protocol: Protocol): Route {
  return {
    ...(route.destinations === undefined
      ? {}
      : { destinations: route.destinations.map((x) => destinationOf(x, service)) }),
    ...(route.fault === undefined ? {} : { fault: faultOf(route.fault) }),
    ...(route.headers === undefined ? {} : { headers: headersOf(route.headers) }),
    match: matchOf(route.match, protocol),
    ...(route.mirror === undefined ? {} : { mirror: mirrorOf(route.mirror) }),
    name: route.name,
    policy: resolveRoutePolicy(raw, route.policy ?? {}, protocol),
    port,
    ...(route.priority === undefined ? {} : { priority: route.priority }),
    ...(route.redirect === undefined ? {} : { redirect: redirectOf(route.redirect) }),
    ...(route.rewrite === undefined ? {} : { rewrite: { ...route.rewrite } }),
  };
}

function matchOf(match: RouteMatch | undefined, protocol: Protocol): RouteMatch {
  if (protocol === 'tcp') return {};
  return {
    ...(match?.grpc === undefined ? {} : { grpc: { ...match.grpc } }),
    headers: (match?.headers ?? []).map(headerMatchOf),
    ...(match?.method === undefined ? {} : { method: match.method }),
    path: match?.path === undefined ? { kind: 'prefix', value: '/' } : { ...match.path },
    query: (match?.query ?? []).map((q) => ({ ...q })),
  };
}

function headerMatchOf(h: HeaderMatch): HeaderMatch {
  return { ...h, invert: h.invert ?? false };
}

function destinationOf(x: Destination, service: string): Destination {
  return {
    service: x.service ?? service,
    ...(x.version === undefined ? {} : { version: x.version }),
    weight: x.weight ?? DEFAULTS.weight,
  };
}

function redirectOf(r: Redirect): Redirect {
  return { ...r, status: r.status ?? DEFAULTS.redirectStatus };
}

function mutationOf(m: HeaderMutation | undefined): HeaderMutation {
  return {
    add: (m?.add ?? []).map((h) => ({ name: h.name, value: h.value, append: h.append ?? false })),
    remove: [...(m?.remove ?? [])],
  };
}

function headersOf(h: HeaderMutations): HeaderMutations {
  return { request: mutationOf(h.request), response: mutationOf(h.response) };
}

function faultOf(f: Fault): Fault {
  return {
    ...(f.delay === undefined ? {} : { delay: { duration: d(f.delay.duration), percent: f.delay.percent } }),
    ...(f.abort === undefined ? {} : { abort: { ...f.abort } }),
  };
}

function mirrorOf(m: Mirror): Mirror {
  return {
    service: m.service,
    ...(m.version === undefined ? {} : { version: m.version }),
    percent: m.percent ?? DEFAULTS.mirrorPercent,
  };
}

function authorizationOf(a: Authorization | undefined): Authorization {
  if (a === undefined) return { action: 'allow-all', rules: [] };
  return {
    action: a.action,
    rules: (a.rules ?? []).map((r) => ({
      from: [...r.from],
      ...(r.paths === undefined ? {} : { paths: r.paths.map((p) => ({ ...p })) }),
      ...(r.methods === undefined ? {} : { methods: [...r.methods] }),
    })),
  };
}

// ---------------------------------------------------------------------------------------------
// Gateways

function gatewayOf(g: Gateway, meshLog: AccessLog): Gateway {
  return {
    listeners: g.listeners.map((l) => ({
      port: l.port,
      protocol: l.protocol,
      ...(l.tls === undefined ? {} : { tls: { ...l.tls } }),
    })),
    hosts: [...(g.hosts ?? ['*'])],
    routes: g.routes.map(gatewayRouteOf),
    accessLog: accessLogOf(g.accessLog) ?? meshLog,
  };
}

function gatewayRouteOf(r: GatewayRoute): GatewayRoute {
  const m = r.match;
  const path =
    m?.path ?? (m?.grpcService === undefined ? { kind: 'prefix' as const, value: '/' } : undefined);
  return {
    name: r.name,
    match: {
      ...(path === undefined ? {} : { path: { ...path } }),
      ...(m?.host === undefined ? {} : { host: m.host }),
      headers: (m?.headers ?? []).map(headerMatchOf),
      ...(m?.grpcService === undefined ? {} : { grpcService: m.grpcService }),
    },
    service: r.service,
    ...(r.rewrite === undefined ? {} : { rewrite: { ...r.rewrite } }),
  };
}
