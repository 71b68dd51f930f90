/**
 * The App Mesh renderer: a pure function from a canonical mesh to App Mesh and Cloud Map
 * resources (see types.ts). Deterministic: arrays are sorted by resource name and every object's
 * keys are sorted, so rendering twice gives byte-identical JSON.
 *
 * Shape of the render (the decisions are explained in docs/targets/appmesh-notes.md):
 * - one Mesh; per service a VirtualService named by its hostname whose provider is the service's
 *   VirtualRouter (one listener per port) with one Route per model route; one VirtualNode per
 *   version; one VirtualGateway per gateway with its GatewayRoutes; and, with Cloud Map
 *   discovery, an HTTP namespace with one Cloud Map service per model service.
 * - Features whose capability is `none` are skipped here: `renderWithTarget` has already failed
 *   or reported them as dropped.
 */
import { MeshError, type Problem } from '../../errors/index.js';
import { toMs } from '../../model/duration.js';
import type {
  Gateway,
  GatewayListener,
  HeaderMatch,
  HealthCheck,
  Mesh,
  GatewayRoute as ModelGatewayRoute,
  PathMatch,
  Protocol,
  RetryEvent,
  Route,
  Service,
  ServicePolicy,
} from '../../model/types.js';
import {
  CLOUD_MAP_ATTRIBUTE_KEY,
  CLOUD_MAP_ATTRIBUTE_VALUE,
  CLOUD_MAP_HTTP_NAMESPACE,
  CLOUD_MAP_SERVICE_NAME,
  gatewayRouteName,
  isResourceName,
  RESOURCE_NAME_MAX,
  routeName,
  versionHostname,
  virtualNodeName,
  virtualRouterName,
  virtualServiceName,
} from './names.js';
import {
  amDuration,
  DEFAULT_RETRY_EVENTS,
  effectiveAccessLog,
  effectiveRetries,
  effectiveTimeouts,
  percentages,
  servicePolicy,
} from './policy.js';
import type {
  AmIpPreference,
  AppMeshOptions,
  AppMeshResources,
  Backend,
  ClientPolicy,
  CloudMapDnsConfig,
  GatewayRouteHostnameMatch,
  HttpRouteHeader,
  HttpRouteMatch,
  HttpTimeout,
  Listener,
  ListenerTls,
  Logging,
  RenderedGatewayRoute,
  RenderedRoute,
  RenderedVirtualNode,
  RetryPolicy,
  RouteSpec,
  ServiceDiscovery,
  TagRef,
  TlsCertificate,
  TlsTrust,
  VirtualGatewayListener,
  VirtualNodeConnectionPool,
  WeightedTarget,
} from './types.js';

/** Tag key marking a resource as managed by crossmesh. */
export const MANAGED_TAG = 'crossmesh:managed';
/** Tag key naming the mesh a managed resource belongs to. */
export const MESH_TAG = 'crossmesh:mesh';
/** Tag key recording the VPC of a private DNS namespace (Cloud Map does not report it). */
export const VPC_TAG = 'crossmesh:vpc';

/** App Mesh limits from the botocore model that a render can exceed. */
const LIMITS = { weightedTargets: 10, headers: 10, queryParameters: 10 } as const;

/**
 * The `json` access log: Envoy's default fields, one JSON object a line. `text` renders no format,
 * which App Mesh takes as Envoy's default text format (the aws-cdk-lib constructs do the same).
 */
const JSON_LOG_FORMAT: readonly { readonly key: string; readonly value: string }[] = [
  { key: 'authority', value: '%REQ(:AUTHORITY)%' },
  { key: 'bytes_received', value: '%BYTES_RECEIVED%' },
  { key: 'bytes_sent', value: '%BYTES_SENT%' },
  { key: 'duration', value: '%DURATION%' },
  { key: 'method', value: '%REQ(:METHOD)%' },
  { key: 'path', value: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%' },
  { key: 'protocol', value: '%PROTOCOL%' },
  { key: 'request_id', value: '%REQ(X-REQUEST-ID)%' },
  { key: 'response_code', value: '%RESPONSE_CODE%' },
  { key: 'response_flags', value: '%RESPONSE_FLAGS%' },
  { key: 'start_time', value: '%START_TIME%' },
  { key: 'upstream_host', value: '%UPSTREAM_HOST%' },
  { key: 'user_agent', value: '%REQ(USER-AGENT)%' },
  { key: 'x_forwarded_for', value: '%REQ(X-FORWARDED-FOR)%' },
];

const IP_PREFERENCE: Readonly<Record<NonNullable<Mesh['ipPreference']>, AmIpPreference>> = {
  'ipv4-only': 'IPv4_ONLY',
  'ipv6-only': 'IPv6_ONLY',
  'ipv4-preferred': 'IPv4_PREFERRED',
  'ipv6-preferred': 'IPv6_PREFERRED',
};

/** Model retry events as App Mesh retry event lists. `reset` and `refused-stream` are Envoy stream errors. */
const HTTP_EVENTS: Partial<Record<RetryEvent, NonNullable<RetryPolicy['httpRetryEvents']>[number]>> = {
  'server-error': 'server-error',
  'gateway-error': 'gateway-error',
  'client-error': 'client-error',
  reset: 'stream-error',
  'refused-stream': 'stream-error',
};
const GRPC_EVENTS: Partial<Record<RetryEvent, NonNullable<RetryPolicy['grpcRetryEvents']>[number]>> = {
  cancelled: 'cancelled',
  'deadline-exceeded': 'deadline-exceeded',
  internal: 'internal',
  'resource-exhausted': 'resource-exhausted',
  unavailable: 'unavailable',
};

/** The mesh's DNS domain. */
export function meshDomain(mesh: Mesh): string {
  return mesh.domain ?? `${mesh.name}.mesh.local`;
}

/** The tags every resource of `mesh` carries. */
export function managedTags(meshName: string): TagRef[] {
  return [
    { key: MANAGED_TAG, value: 'true' },
    { key: MESH_TAG, value: meshName },
  ];
}

/** The SPIFFE identity of a service (model default `spiffe://<trustDomain>/ns/<mesh>/sa/<service>`). */
function identityOf(mesh: Mesh, name: string, service: Service | undefined): string {
  return service?.identity ?? `spiffe://${trustDomain(mesh)}/ns/${mesh.name}/sa/${name}`;
}

function trustDomain(mesh: Mesh): string {
  return mesh.security?.trustDomain ?? 'cluster.local';
}

function mtlsMode(mesh: Mesh): 'strict' | 'permissive' | 'off' {
  return mesh.security?.mtls ?? 'off';
}

/** Renders context shared by every resource: the mesh, options and the problems found so far. */
interface Ctx {
  readonly mesh: Mesh;
  readonly domain: string;
  readonly discovery: 'cloudmap' | 'dns';
  readonly namespace: string;
  readonly namespaceType: 'http' | 'private-dns';
  readonly vpc?: string;
  readonly certificates: 'sds' | 'file';
  readonly certificateDir: string;
  readonly problems: Problem[];
}

function problem(ctx: Ctx, path: string, message: string, value: unknown, allowed: string): void {
  ctx.problems.push({ code: 'TARGET_E_UNSUPPORTED', path, message, value, allowed });
}

const OPTION_KEYS = ['certificateDir', 'certificates', 'discovery', 'namespace', 'namespaceType', 'vpc'];

/** A VPC id as Cloud Map takes it (`ResourceId`, at most 64 characters). */
const VPC_ID = /^vpc-[0-9a-f]{1,60}$/;

function checkOptions(options: AppMeshOptions): Problem[] {
  const problems: Problem[] = [];
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) {
      problems.push({
        code: 'TARGET_E_OPTION',
        path: `options.${key}`,
        message: `App Mesh has no option ${JSON.stringify(key)}`,
        value: key,
        allowed: OPTION_KEYS.join(', '),
      });
    }
  }
  if (options.discovery !== undefined && options.discovery !== 'cloudmap' && options.discovery !== 'dns') {
    problems.push({
      code: 'TARGET_E_OPTION',
      path: 'options.discovery',
      message: `App Mesh discovery must be "cloudmap" or "dns", got ${JSON.stringify(options.discovery)}`,
      value: options.discovery,
      allowed: '"cloudmap" or "dns"',
    });
  }
  if (
    options.certificates !== undefined &&
    options.certificates !== 'sds' &&
    options.certificates !== 'file'
  ) {
    problems.push({
      code: 'TARGET_E_OPTION',
      path: 'options.certificates',
      message: `App Mesh certificates must be "sds" or "file", got ${JSON.stringify(options.certificates)}`,
      value: options.certificates,
      allowed: '"sds" or "file"',
    });
  }
  if (
    options.certificateDir !== undefined &&
    (typeof options.certificateDir !== 'string' || !/^\/[!-~]*$/.test(options.certificateDir))
  ) {
    problems.push({
      code: 'TARGET_E_OPTION',
      path: 'options.certificateDir',
      message: `App Mesh certificateDir must be an absolute path, got ${JSON.stringify(options.certificateDir)}`,
      value: options.certificateDir,
      allowed: 'an absolute path without spaces, e.g. "/etc/crossmesh/certs"',
    });
  }
  if (
    options.namespace !== undefined &&
    (typeof options.namespace !== 'string' || !CLOUD_MAP_HTTP_NAMESPACE.test(options.namespace))
  ) {
    problems.push({
      code: 'TARGET_E_OPTION',
      path: 'options.namespace',
      message: `Cloud Map namespace ${JSON.stringify(options.namespace)} is not a valid HTTP namespace name`,
      value: options.namespace,
      allowed: '1-1024 printable ASCII characters without spaces, not starting with "arn:"',
    });
  }
  if (
    options.namespaceType !== undefined &&
    options.namespaceType !== 'http' &&
    options.namespaceType !== 'private-dns'
  ) {
    problems.push({
      code: 'TARGET_E_OPTION',
      path: 'options.namespaceType',
      message: `Cloud Map namespace type must be "http" or "private-dns", got ${JSON.stringify(options.namespaceType)}`,
      value: options.namespaceType,
      allowed: '"http" or "private-dns"',
    });
  }
  if (
    options.namespaceType === 'private-dns' &&
    (typeof options.vpc !== 'string' || !VPC_ID.test(options.vpc))
  ) {
    problems.push({
      code: 'TARGET_E_OPTION',
      path: 'options.vpc',
      message: `a private-dns namespace needs the VPC it serves, got ${JSON.stringify(options.vpc)}`,
      value: options.vpc,
      allowed: 'a VPC id such as "vpc-0abc123"',
    });
  }
  return problems;
}

/**
 * Renders a canonical mesh to App Mesh and Cloud Map resources. Pure and deterministic.
 * Throws one MeshError listing every problem (names App Mesh would refuse, limits exceeded).
 */
export function renderAppMesh(mesh: Mesh, options: AppMeshOptions = {}): AppMeshResources {
  const optionProblems = checkOptions(options);
  if (optionProblems.length > 0) throw MeshError.fromProblems(optionProblems);
  const domain = meshDomain(mesh);
  const ctx: Ctx = {
    mesh,
    domain,
    discovery: options.discovery ?? 'cloudmap',
    namespace: options.namespace ?? domain,
    namespaceType: options.namespaceType ?? 'http',
    ...(options.vpc === undefined ? {} : { vpc: options.vpc }),
    certificates: options.certificates ?? 'sds',
    certificateDir: (options.certificateDir ?? '/etc/crossmesh/certs').replace(/\/+$/, ''),
    problems: [],
  };
  checkName(ctx, 'name', mesh.name);

  const serviceNames = Object.keys(mesh.services).sort();
  const virtualNodes: RenderedVirtualNode[] = [];
  const routes: RenderedRoute[] = [];
  for (const name of serviceNames) {
    const service = mesh.services[name] as Service;
    for (const version of Object.keys(service.versions).sort()) {
      virtualNodes.push(renderVirtualNode(ctx, name, service, version));
    }
    routes.push(...renderRoutes(ctx, name, service));
  }
  const virtualRouters = serviceNames.map((name) => {
    const service = mesh.services[name] as Service;
    return {
      virtualRouterName: virtualRouterName(name),
      service: name,
      spec: {
        listeners: service.ports.map((p) => ({ portMapping: { port: p.port, protocol: p.protocol } })),
      },
    };
  });
  const virtualServices = serviceNames.map((name) => ({
    virtualServiceName: virtualServiceName(name, domain),
    service: name,
    spec: { provider: { virtualRouter: { virtualRouterName: virtualRouterName(name) } } },
  }));
  for (const vs of virtualServices) {
    if (vs.virtualServiceName.length > RESOURCE_NAME_MAX) {
      problem(
        ctx,
        `services.${vs.service}`,
        `virtual service name ${JSON.stringify(vs.virtualServiceName)} is longer than ${RESOURCE_NAME_MAX} characters`,
        vs.virtualServiceName,
        `a service name and domain of at most ${RESOURCE_NAME_MAX} characters together`,
      );
    }
  }

  const gatewayNames = Object.keys(mesh.gateways ?? {}).sort();
  const virtualGateways = gatewayNames.map((name) =>
    renderVirtualGateway(ctx, name, mesh.gateways?.[name] as Gateway),
  );
  const gatewayRoutes = gatewayNames.flatMap((name) =>
    renderGatewayRoutes(ctx, name, mesh.gateways?.[name] as Gateway),
  );

  const cloudMap = ctx.discovery === 'cloudmap' ? renderCloudMap(ctx, serviceNames) : undefined;
  checkUnique(
    ctx,
    'virtual node',
    virtualNodes.map((n) => [n.virtualNodeName, `services.${n.service}.versions.${n.version}`]),
  );
  checkUnique(
    ctx,
    'route',
    routes.map((r) => [`${r.virtualRouterName}/${r.routeName}`, `services.${r.service}.routes`]),
  );
  checkUnique(
    ctx,
    'gateway route',
    gatewayRoutes.map((r) => [
      `${r.virtualGatewayName}/${r.gatewayRouteName}`,
      `gateways.${r.gateway}.routes`,
    ]),
  );
  if (ctx.problems.length > 0) throw MeshError.fromProblems(ctx.problems);

  const byName =
    <T>(key: (item: T) => string) =>
    (a: T, b: T) =>
      key(a) < key(b) ? -1 : key(a) > key(b) ? 1 : 0;
  return sortKeys({
    tags: managedTags(mesh.name),
    mesh: {
      meshName: mesh.name,
      spec: {
        egressFilter: { type: mesh.egress?.mode === 'deny-unknown' ? 'DROP_ALL' : 'ALLOW_ALL' },
        serviceDiscovery: { ipPreference: IP_PREFERENCE[mesh.ipPreference ?? 'ipv4-preferred'] },
      },
    },
    ...(cloudMap === undefined ? {} : { cloudMap }),
    virtualNodes: virtualNodes.sort(byName((n) => n.virtualNodeName)),
    virtualRouters,
    routes: routes.sort(byName((r) => `${r.virtualRouterName}/${r.routeName}`)),
    virtualServices: virtualServices.sort(byName((v) => v.virtualServiceName)),
    virtualGateways,
    gatewayRoutes: gatewayRoutes.sort(byName((r) => `${r.virtualGatewayName}/${r.gatewayRouteName}`)),
  }) as AppMeshResources;
}

function checkName(ctx: Ctx, path: string, name: string): void {
  if (!isResourceName(name)) {
    problem(
      ctx,
      path,
      `App Mesh names are 1-${RESOURCE_NAME_MAX} characters, got ${name.length}`,
      name,
      `1-${RESOURCE_NAME_MAX} characters`,
    );
  }
}

function checkUnique(ctx: Ctx, what: string, entries: readonly (readonly [string, string])[]): void {
  const seen = new Map<string, string>();
  for (const [name, path] of entries) {
    checkName(ctx, path, name.includes('/') ? (name.split('/')[1] as string) : name);
    const first = seen.get(name);
    if (first !== undefined) {
      problem(
        ctx,
        path,
        `${what} name ${JSON.stringify(name)} is generated twice (also by ${first}); App Mesh names must be unique`,
        name,
        'service, version, route and gateway names whose hyphenated combinations do not collide',
      );
    } else {
      seen.set(name, path);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Cloud Map

function renderCloudMap(ctx: Ctx, serviceNames: readonly string[]): AppMeshResources['cloudMap'] {
  for (const name of serviceNames) {
    if (!CLOUD_MAP_SERVICE_NAME.test(name)) {
      problem(
        ctx,
        `services.${name}`,
        `${JSON.stringify(name)} is not a valid Cloud Map service name`,
        name,
        'a DNS label',
      );
    }
  }
  const privateDns = ctx.namespaceType === 'private-dns';
  if (privateDns && ctx.namespace !== ctx.domain) {
    problem(
      ctx,
      'options.namespace',
      `a private-dns namespace publishes <service>.${ctx.namespace}, but virtual services are named <service>.${ctx.domain}`,
      ctx.namespace,
      `the mesh domain ${JSON.stringify(ctx.domain)} (or no namespace option)`,
    );
  }
  const dns = privateDns ? dnsConfig(ctx.mesh.ipPreference ?? 'ipv4-preferred') : undefined;
  return {
    namespace: {
      name: ctx.namespace,
      description: `crossmesh mesh ${ctx.mesh.name}`,
      type: ctx.namespaceType,
      ...(privateDns && ctx.vpc !== undefined ? { vpc: ctx.vpc } : {}),
    },
    services: serviceNames.map((name) => ({
      name,
      namespace: ctx.namespace,
      description: `crossmesh service ${name} of mesh ${ctx.mesh.name}`,
      ...(dns === undefined ? {} : { dns }),
    })),
  };
}

/**
 * Records of the IP families the mesh prefers (both for `ipv6-preferred`, so IPv4-only clients
 * still resolve), multivalue so each answer lists several healthy instances. A short TTL keeps
 * answers fresh as tasks come and go; the sidecar does the real load balancing anyway.
 */
function dnsConfig(preference: NonNullable<Mesh['ipPreference']>): CloudMapDnsConfig {
  const types: ('A' | 'AAAA')[] =
    preference === 'ipv6-only' ? ['AAAA'] : preference === 'ipv6-preferred' ? ['AAAA', 'A'] : ['A'];
  return { records: types.map((type) => ({ ttl: 10, type })), routingPolicy: 'MULTIVALUE' };
}

// ---------------------------------------------------------------------------------------------
// Virtual nodes

function renderVirtualNode(ctx: Ctx, name: string, service: Service, version: string): RenderedVirtualNode {
  const path = `services.${name}`;
  const policy = servicePolicy(ctx.mesh, service);
  const primary = service.ports[0]?.port;
  const hc = policy.healthCheck;
  const hcPort = hc?.port ?? primary;
  const hcOnListener = service.ports.some((p) => p.port === hcPort) ? hcPort : primary;
  const tls = listenerTls(ctx, name, service);
  const listeners: Listener[] = service.ports.map((port) => ({
    portMapping: { port: port.port, protocol: port.protocol },
    ...(hc !== undefined && port.port === hcOnListener
      ? {
          healthCheck: healthCheck(hc, port.protocol, hcPort === port.port ? undefined : hcPort),
        }
      : {}),
    ...outlierDetection(policy),
    ...connectionPool(policy, port.protocol),
    timeout: listenerTimeout(policy, port.protocol),
    ...(tls === undefined ? {} : { tls }),
  }));

  // Backends, destinations and gateway targets name existing services: the model validates references.
  const backends: Backend[] = [...(service.backends ?? [])].sort().map((backend) => ({
    virtualService: { virtualServiceName: virtualServiceName(backend, ctx.domain) },
  }));

  const labels = service.versions[version]?.labels ?? { version };
  const discovery: ServiceDiscovery =
    ctx.discovery === 'cloudmap'
      ? {
          awsCloudMap: {
            attributes: Object.keys(labels)
              .sort()
              .map((key) => {
                const value = labels[key] as string;
                if (
                  !CLOUD_MAP_ATTRIBUTE_KEY.test(key) ||
                  key.length > 255 ||
                  !CLOUD_MAP_ATTRIBUTE_VALUE.test(value) ||
                  value.length > 1024 ||
                  value.length === 0
                ) {
                  problem(
                    ctx,
                    `${path}.versions.${version}.labels.${key}`,
                    `label ${key}=${JSON.stringify(value)} is not a valid Cloud Map instance attribute`,
                    value,
                    'printable ASCII keys (1-255) and values (1-1024)',
                  );
                }
                return { key, value };
              }),
            namespaceName: ctx.namespace,
            serviceName: name,
          },
        }
      : { dns: { hostname: versionHostname(name, version, ctx.domain) } };

  const clientPolicy = backendClientPolicy(ctx, name, service);
  const logging = renderLogging(ctx, service.accessLog);
  return {
    virtualNodeName: virtualNodeName(name, version),
    service: name,
    version,
    spec: {
      ...(clientPolicy === undefined ? {} : { backendDefaults: { clientPolicy } }),
      ...(backends.length === 0 ? {} : { backends }),
      listeners,
      ...(logging === undefined ? {} : { logging }),
      serviceDiscovery: discovery,
    },
  };
}

/**
 * App Mesh takes health check intervals of 5s-300s and timeouts of 2s-60s; model values outside
 * are moved to the nearest bound (capability `partial`, documented) rather than refused, since the
 * check still runs and a slightly longer timeout only delays marking an instance unhealthy.
 */
const HC_INTERVAL_MS = [5000, 300_000] as const;
const HC_TIMEOUT_MS = [2000, 60_000] as const;

function clamp(value: number, [min, max]: readonly [number, number]): number {
  return Math.min(Math.max(value, min), max);
}

function healthCheck(hc: HealthCheck, protocol: Protocol, port: number | undefined) {
  const hcProtocol = hc.kind === 'http' ? (protocol === 'http2' ? 'http2' : 'http') : hc.kind;
  return {
    healthyThreshold: hc.healthyThreshold ?? 2,
    intervalMillis: clamp(toMs(hc.interval ?? '5s'), HC_INTERVAL_MS),
    ...(hc.kind === 'http' ? { path: hc.path } : {}),
    ...(port === undefined ? {} : { port }),
    protocol: hcProtocol,
    timeoutMillis: clamp(toMs(hc.timeout ?? '2s'), HC_TIMEOUT_MS),
    unhealthyThreshold: hc.unhealthyThreshold ?? 3,
  } as const;
}

function outlierDetection(policy: ServicePolicy): Pick<Listener, 'outlierDetection'> {
  const od = policy.outlierDetection;
  if (od === undefined) return {};
  return {
    outlierDetection: {
      baseEjectionDuration: amDuration(od.baseEjectionTime ?? '30s'),
      interval: amDuration(od.interval ?? '10s'),
      maxEjectionPercent: od.maxEjectionPercent ?? 10,
      maxServerErrors: od.consecutive5xx ?? 5,
    },
  };
}

/**
 * App Mesh has one connection-pool shape per protocol, each with a required member; a model pool
 * without that member (e.g. only `maxPendingRequests` on HTTP/1) cannot be expressed and is left out.
 */
function connectionPool(policy: ServicePolicy, protocol: Protocol): Pick<Listener, 'connectionPool'> {
  const cp = policy.connectionPool;
  if (cp === undefined) return {};
  let pool: VirtualNodeConnectionPool | undefined;
  if (protocol === 'http' && cp.maxConnections !== undefined) {
    pool = {
      http: {
        maxConnections: cp.maxConnections,
        ...(cp.maxPendingRequests === undefined ? {} : { maxPendingRequests: cp.maxPendingRequests }),
      },
    };
  } else if (protocol === 'http2' && cp.maxRequests !== undefined) {
    pool = { http2: { maxRequests: cp.maxRequests } };
  } else if (protocol === 'grpc' && cp.maxRequests !== undefined) {
    pool = { grpc: { maxRequests: cp.maxRequests } };
  } else if (protocol === 'tcp' && cp.maxConnections !== undefined) {
    pool = { tcp: { maxConnections: cp.maxConnections } };
  }
  return pool === undefined ? {} : { connectionPool: pool };
}

function httpTimeout(timeouts: { readonly request: string; readonly idle: string }): HttpTimeout {
  return { idle: amDuration(timeouts.idle), perRequest: amDuration(timeouts.request) };
}

function listenerTimeout(policy: ServicePolicy, protocol: Protocol): NonNullable<Listener['timeout']> {
  const timeouts = effectiveTimeouts(policy);
  switch (protocol) {
    case 'http':
      return { http: httpTimeout(timeouts) };
    case 'http2':
      return { http2: httpTimeout(timeouts) };
    case 'grpc':
      return { grpc: httpTimeout(timeouts) };
    case 'tcp':
      return { tcp: { idle: amDuration(timeouts.idle) } };
  }
}

function certificate(ctx: Ctx, name: string, identity: string): TlsCertificate {
  return ctx.certificates === 'sds'
    ? { sds: { secretName: identity } }
    : {
        file: {
          certificateChain: `${ctx.certificateDir}/${name}/cert-chain.pem`,
          privateKey: `${ctx.certificateDir}/${name}/key.pem`,
        },
      };
}

function trust(ctx: Ctx): TlsTrust {
  return ctx.certificates === 'sds'
    ? { sds: { secretName: `spiffe://${trustDomain(ctx.mesh)}` } }
    : { file: { certificateChain: `${ctx.certificateDir}/ca.pem` } };
}

/**
 * Server side of mTLS. `strict` → STRICT, `permissive` → PERMISSIVE (plain text still accepted).
 * A validation context makes it mutual; with an allow-listed authorization its subject
 * alternative names are the callers' SPIFFE ids, the only caller check App Mesh can enforce.
 */
function listenerTls(ctx: Ctx, name: string, service: Service): ListenerTls | undefined {
  const mode = mtlsMode(ctx.mesh);
  const authz = service.authorization;
  const allowListed = authz?.action === 'allow-listed';
  if (mode === 'off') {
    if (allowListed) {
      problem(
        ctx,
        `services.${name}.authorization`,
        'App Mesh can restrict callers only by their mTLS certificate, and security.mtls is "off"',
        authz?.action,
        'security.mtls "strict" (or "permissive") with an allow-listed authorization, or action "allow-all"',
      );
    }
    return undefined;
  }
  const callers = new Set((authz?.rules ?? []).flatMap((rule) => rule.from));
  const sans =
    allowListed && !callers.has('*')
      ? [...callers].map((caller) => identityOf(ctx.mesh, caller, ctx.mesh.services[caller])).sort()
      : [];
  return {
    certificate: certificate(ctx, name, identityOf(ctx.mesh, name, service)),
    mode: mode === 'strict' ? 'STRICT' : 'PERMISSIVE',
    validation: {
      ...(allowListed && !callers.has('*') ? { subjectAlternativeNames: { match: { exact: sans } } } : {}),
      trust: trust(ctx),
    },
  };
}

/** Client side of mTLS: every backend call presents the caller's certificate and checks the mesh CA. */
function backendClientPolicy(ctx: Ctx, name: string, service: Service | undefined): ClientPolicy | undefined {
  if (mtlsMode(ctx.mesh) === 'off') return undefined;
  return {
    tls: {
      certificate: certificate(ctx, name, identityOf(ctx.mesh, name, service)),
      enforce: true,
      validation: { trust: trust(ctx) },
    },
  };
}

function renderLogging(ctx: Ctx, own: Service['accessLog']): Logging | undefined {
  const log = effectiveAccessLog(ctx.mesh, own);
  if (log === undefined) return undefined;
  return {
    accessLog: {
      file: {
        ...(log.format === 'json' ? { format: { json: JSON_LOG_FORMAT } } : {}),
        path: log.path ?? '/dev/stdout',
      },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Routes

function renderRoutes(ctx: Ctx, name: string, service: Service): RenderedRoute[] {
  const policy = servicePolicy(ctx.mesh, service);
  const primary = service.ports[0];
  const routes: readonly Route[] = service.routes ?? [{ name: 'default' }];
  const multiPort = service.ports.length > 1;
  // App Mesh leaves the order of equal priorities undefined; the model keeps declaration order.
  // Priorities are rendered as written unless two are equal; then each route gets its rank in
  // (priority, position) order, which keeps the model's order exactly.
  const effective = routes.map((route, index) => route.priority ?? index);
  const tied = new Set(effective).size !== effective.length;
  const rank = new Map(
    effective
      .map((priority, index) => ({ index, priority }))
      .sort((a, b) => a.priority - b.priority || a.index - b.index)
      .map((entry, position) => [entry.index, position]),
  );
  return routes.flatMap((route, index) => {
    // A redirect route has no App Mesh form (capability none): it is not rendered at all.
    if (route.destinations === undefined && route.redirect !== undefined) return [];
    const path = `services.${name}.routes[${index}]`;
    const portNumber = route.port ?? primary?.port ?? 0;
    const port = service.ports.find((p) => p.port === portNumber) ?? primary;
    const targets = weightedTargets(ctx, path, name, route, portNumber);
    const priority = tied ? (rank.get(index) ?? index) : (effective[index] ?? index);
    const protocol = port?.protocol ?? 'http';
    const spec: RouteSpec =
      protocol === 'tcp'
        ? {
            priority,
            tcpRoute: {
              action: { weightedTargets: targets },
              ...(multiPort ? { match: { port: portNumber } } : {}),
              timeout: { idle: amDuration(effectiveTimeouts(policy, route).idle) },
            },
          }
        : protocol === 'grpc'
          ? {
              grpcRoute: {
                action: { weightedTargets: targets },
                match: grpcMatch(ctx, path, route, multiPort ? portNumber : undefined, portNumber),
                ...retryPolicy(policy, route, 'grpc'),
                timeout: httpTimeout(effectiveTimeouts(policy, route)),
              },
              priority,
            }
          : {
              [protocol === 'http2' ? 'http2Route' : 'httpRoute']: {
                action: { weightedTargets: targets },
                match: httpMatch(ctx, path, route, multiPort ? portNumber : undefined),
                ...retryPolicy(policy, route, 'http'),
                timeout: httpTimeout(effectiveTimeouts(policy, route)),
              },
              priority,
            };
    return {
      routeName: routeName(name, route.name),
      virtualRouterName: virtualRouterName(name),
      service: name,
      route: route.name,
      spec,
    };
  });
}

/**
 * Expands model destinations (a service, optionally one version, a relative weight) to weighted
 * virtual nodes and converts the weights to integer percentages summing to 100.
 */
function weightedTargets(ctx: Ctx, path: string, own: string, route: Route, port: number): WeightedTarget[] {
  const weights = new Map<string, { weight: number; port: number | undefined }>();
  for (const destination of route.destinations ?? [{}]) {
    const serviceName = destination.service ?? own;
    const service = ctx.mesh.services[serviceName];
    if (service === undefined) continue;
    const versions =
      destination.version === undefined ? Object.keys(service.versions).sort() : [destination.version];
    const share = (destination.weight ?? 1) / Math.max(versions.length, 1);
    // A weighted target names a listener port only when the node has several listeners.
    const targetPort =
      service.ports.length > 1
        ? (service.ports.find((p) => p.port === port)?.port ?? service.ports[0]?.port)
        : undefined;
    for (const version of versions) {
      const node = virtualNodeName(serviceName, version);
      const current = weights.get(node);
      weights.set(node, { weight: (current?.weight ?? 0) + share, port: targetPort });
    }
  }
  const nodes = [...weights.keys()].sort();
  if (nodes.length > LIMITS.weightedTargets) {
    problem(
      ctx,
      `${path}.destinations`,
      `App Mesh routes have at most ${LIMITS.weightedTargets} weighted targets, this route expands to ${nodes.length} versions`,
      nodes.length,
      `at most ${LIMITS.weightedTargets} versions across the destinations`,
    );
  }
  const percent = percentages(nodes.map((n) => weights.get(n)?.weight ?? 0));
  if (nodes.length > 0 && percent.every((p) => p === 0)) {
    problem(
      ctx,
      `${path}.destinations`,
      'the destination weights add up to 0',
      0,
      'weights with a positive sum',
    );
  }
  return nodes.map((node, i) => {
    const target = weights.get(node);
    return {
      ...(target?.port === undefined ? {} : { port: target.port }),
      virtualNode: node,
      weight: percent[i] ?? 0,
    };
  });
}

function headerMatch(header: HeaderMatch): HttpRouteHeader {
  const invert = header.invert === true ? { invert: true } : {};
  switch (header.kind) {
    case 'present':
      return { ...invert, name: header.name };
    case 'range':
      return { ...invert, match: { range: { end: header.end, start: header.start } }, name: header.name };
    default:
      return {
        ...invert,
        match: { [header.kind]: header.value } as HttpRouteHeader['match'],
        name: header.name,
      };
  }
}

function headers(
  ctx: Ctx,
  path: string,
  list: readonly HeaderMatch[] | undefined,
): readonly HttpRouteHeader[] | undefined {
  if (list === undefined || list.length === 0) return undefined;
  if (list.length > LIMITS.headers) {
    problem(
      ctx,
      path,
      `App Mesh matches at most ${LIMITS.headers} headers per route, got ${list.length}`,
      list.length,
      `at most ${LIMITS.headers}`,
    );
  }
  return list.map(headerMatch);
}

function pathMatch(path: PathMatch | undefined): Pick<HttpRouteMatch, 'path' | 'prefix'> {
  if (path === undefined) return { prefix: '/' };
  if (path.kind === 'prefix') return { prefix: path.value };
  return { path: path.kind === 'exact' ? { exact: path.value } : { regex: path.value } };
}

function httpMatch(ctx: Ctx, path: string, route: Route, port: number | undefined): HttpRouteMatch {
  const match = route.match ?? {};
  const hs = headers(ctx, `${path}.match.headers`, match.headers);
  // Query regex has no App Mesh form (capability none): such conditions are skipped here.
  const query = (match.query ?? []).filter((q) => q.kind !== 'regex');
  if (query.length > LIMITS.queryParameters) {
    problem(
      ctx,
      `${path}.match.query`,
      `App Mesh matches at most ${LIMITS.queryParameters} query parameters`,
      query.length,
      `at most ${LIMITS.queryParameters}`,
    );
  }
  return {
    ...(hs === undefined ? {} : { headers: hs }),
    ...(match.method === undefined ? {} : { method: match.method }),
    ...pathMatch(match.path),
    ...(port === undefined ? {} : { port }),
    ...(query.length === 0
      ? {}
      : {
          queryParameters: query.map((q) =>
            q.kind === 'exact' ? { match: { exact: q.value }, name: q.name } : { name: q.name },
          ),
        }),
  };
}

/**
 * App Mesh needs at least one gRPC match condition (as aws-cdk-lib also checks); a match-all
 * route matches on its port, which every request to that listener has.
 */
function grpcMatch(ctx: Ctx, path: string, route: Route, port: number | undefined, routePort: number) {
  const match = route.match ?? {};
  const metadata = headers(ctx, `${path}.match.headers`, match.headers);
  const matchAll =
    metadata === undefined && match.grpc?.method === undefined && match.grpc?.service === undefined;
  const portMatch = port ?? (matchAll ? routePort : undefined);
  return {
    ...(metadata === undefined ? {} : { metadata }),
    ...(match.grpc?.method === undefined ? {} : { methodName: match.grpc.method }),
    ...(portMatch === undefined ? {} : { port: portMatch }),
    ...(match.grpc?.service === undefined ? {} : { serviceName: match.grpc.service }),
  };
}

/**
 * Maps model retry events onto App Mesh's lists. HTTP routes take the HTTP and TCP events; gRPC
 * routes also take the gRPC status events. Backoff is Envoy's fixed default in App Mesh.
 */
function retryPolicy(
  policy: ServicePolicy,
  route: Route,
  kind: 'http' | 'grpc',
): { retryPolicy?: RetryPolicy } {
  const retries = effectiveRetries(policy, route);
  if (retries === undefined) return {};
  const on = retries.on ?? DEFAULT_RETRY_EVENTS;
  const http = [...new Set(on.flatMap((e) => HTTP_EVENTS[e] ?? []))].sort();
  const grpc = kind === 'grpc' ? [...new Set(on.flatMap((e) => GRPC_EVENTS[e] ?? []))].sort() : [];
  const tcp = on.includes('connect-failure') ? (['connection-error'] as const) : [];
  if (http.length + grpc.length + tcp.length === 0) return {};
  return {
    retryPolicy: {
      ...(grpc.length === 0 ? {} : { grpcRetryEvents: grpc }),
      ...(http.length === 0 ? {} : { httpRetryEvents: http }),
      maxRetries: retries.attempts,
      perRetryTimeout: amDuration(retries.perTryTimeout ?? effectiveTimeouts(policy, route).request),
      ...(tcp.length === 0 ? {} : { tcpRetryEvents: tcp }),
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Gateways

function renderVirtualGateway(ctx: Ctx, name: string, gateway: Gateway) {
  const listeners: VirtualGatewayListener[] = gateway.listeners.map((l) => ({
    portMapping: { port: l.port, protocol: l.protocol },
    ...(l.tls === undefined
      ? {}
      : {
          tls: {
            certificate: {
              file: { certificateChain: l.tls.certificateFile, privateKey: l.tls.privateKeyFile },
            },
            mode: 'STRICT' as const,
          },
        }),
  }));
  const clientPolicy = backendClientPolicy(ctx, name, undefined);
  const logging = renderLogging(ctx, gateway.accessLog);
  checkName(ctx, `gateways.${name}`, name);
  return {
    virtualGatewayName: name,
    gateway: name,
    spec: {
      ...(clientPolicy === undefined ? {} : { backendDefaults: { clientPolicy } }),
      listeners,
      ...(logging === undefined ? {} : { logging }),
    },
  };
}

function hostnameMatch(host: string | undefined): { hostname?: GatewayRouteHostnameMatch } {
  if (host === undefined || host === '*') return {};
  return host.startsWith('*.') ? { hostname: { suffix: host.slice(1) } } : { hostname: { exact: host } };
}

/**
 * One gateway route per model route, listener and host: App Mesh matches one hostname per route,
 * so a route without its own host condition on a gateway restricted to several `hosts` is
 * rendered once per host (the copies are disjoint, so they share the route's priority).
 */
function renderGatewayRoutes(ctx: Ctx, name: string, gateway: Gateway): RenderedGatewayRoute[] {
  const several = gateway.listeners.length > 1;
  const gatewayHosts = gateway.hosts ?? ['*'];
  return gateway.routes.flatMap((route, index) => {
    const own = route.match?.host;
    const hosts: readonly (string | undefined)[] =
      own !== undefined ? [own] : gatewayHosts.includes('*') ? [undefined] : gatewayHosts;
    return gateway.listeners.flatMap((listener) =>
      hosts.map((host, h) => ({
        gatewayRouteName: gatewayRouteName(
          name,
          route.name,
          several ? listener.port : undefined,
          hosts.length > 1 ? h : undefined,
        ),
        virtualGatewayName: name,
        gateway: name,
        route: route.name,
        spec: gatewayRouteSpec(
          ctx,
          `gateways.${name}.routes[${index}]`,
          route,
          listener,
          several,
          host,
          index,
        ),
      })),
    );
  });
}

function gatewayRouteSpec(
  ctx: Ctx,
  path: string,
  route: ModelGatewayRoute,
  listener: GatewayListener,
  several: boolean,
  host: string | undefined,
  priority: number,
) {
  const protocol = listener.protocol;
  const service = ctx.mesh.services[route.service];
  const target = {
    ...(service !== undefined && service.ports.length > 1 ? { port: service.ports[0]?.port } : {}),
    virtualService: { virtualServiceName: virtualServiceName(route.service, ctx.domain) },
  };
  const match = route.match ?? {};
  const hs = headers(ctx, `${path}.match.headers`, match.headers);
  const portMatch = several ? { port: listener.port } : {};
  if (protocol === 'grpc') {
    // As on service routes, a gRPC gateway route needs one condition: match-all matches the port.
    const matchAll = host === undefined || host === '*';
    const grpcPort =
      several || (matchAll && hs === undefined && match.grpcService === undefined)
        ? { port: listener.port }
        : {};
    return {
      grpcRoute: {
        action: { target },
        match: {
          ...hostnameMatch(host),
          ...(hs === undefined ? {} : { metadata: hs }),
          ...grpcPort,
          ...(match.grpcService === undefined ? {} : { serviceName: match.grpcService }),
        },
      },
      priority,
    };
  }
  const prefixRewrite = route.rewrite?.prefix;
  if (prefixRewrite !== undefined && !/^\/(.*\/)?$/.test(prefixRewrite)) {
    problem(
      ctx,
      `${path}.rewrite.prefix`,
      `App Mesh gateway prefix rewrites must start and end with "/", got ${JSON.stringify(prefixRewrite)}`,
      prefixRewrite,
      'a prefix that starts and ends with "/", e.g. "/" or "/v2/"',
    );
  }
  return {
    [protocol === 'http2' ? 'http2Route' : 'httpRoute']: {
      action: {
        ...(prefixRewrite === undefined ? {} : { rewrite: { prefix: { value: prefixRewrite } } }),
        target,
      },
      match: {
        ...(hs === undefined ? {} : { headers: hs }),
        ...hostnameMatch(host),
        ...pathMatch(match.path),
        ...portMatch,
      },
    },
    priority,
  };
}

// ---------------------------------------------------------------------------------------------

/** Returns a copy with every object's keys sorted (arrays keep their order). */
export function sortKeys<T>(value: T): T {
  if (Array.isArray(value)) return value.map((item) => sortKeys(item)) as T;
  if (typeof value === 'object' && value !== null) {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const item = (value as Record<string, unknown>)[key];
      if (item !== undefined) out[key] = sortKeys(item);
    }
    return out as T;
  }
  return value;
}
