/**
 * compute v1 resources: one HealthCheck per service that declares an active health check (or
 * has NEG backends, which compute only accepts with one), and one BackendService per service
 * version (`INTERNAL_SELF_MANAGED`, the Traffic Director scheme).
 *
 * Compute is not proto3-JSON: the server echoes zeros and fills defaults (`sessionAffinity`,
 * `connectionDraining`, `port`...). So every field crossmesh manages is rendered explicitly, and
 * the provider's projection reads back exactly those fields.
 */
import type { HealthCheck, LoadBalancing, Protocol, Service } from '../../model/types.js';
import type { Json } from '../plan/types.js';
import {
  backendServiceName,
  domainOf,
  identityOf,
  primaryPort,
  type RenderContext,
  servicePolicy,
} from './context.js';
import { computeDuration, wholeSeconds } from './durations.js';
import type { JsonObject } from './json.js';
import { computeDescription, ref, relativeName, resourceName } from './names.js';
import type { TrafficDirectorOptions } from './types.js';

/** A compute resource before key sorting. */
export interface ComputeResource {
  readonly kind: 'HealthCheck' | 'BackendService';
  readonly name: string;
  readonly body: JsonObject;
  readonly dependsOn: readonly string[];
}

const BACKEND_PROTOCOL: Readonly<Record<Protocol, string>> = {
  http: 'HTTP',
  http2: 'HTTP2',
  grpc: 'GRPC',
  tcp: 'TCP',
};

/** Name of a service's HealthCheck. */
export function healthCheckName(ctx: RenderContext, service: string): string {
  return resourceName(ctx.mesh.name, service, 'hc');
}

/** Whether any version of the service has NEG backends. */
function hasBackends(options: TrafficDirectorOptions, serviceName: string, service: Service): boolean {
  return Object.keys(service.versions).some((v) => (options.negs?.[`${serviceName}/${v}`] ?? []).length > 0);
}

/**
 * The active health check of a service: its policy's, or, when it has none but has NEG backends,
 * a TCP connect check on the primary port, because compute refuses a backend service with zonal
 * NEG backends and no health check ("Backend services with instance group or zonal NEG backends
 * must have a health check", compute v1 BackendService.healthChecks).
 */
export function effectiveHealthCheck(
  ctx: RenderContext,
  options: TrafficDirectorOptions,
  serviceName: string,
  service: Service,
): HealthCheck | undefined {
  const declared = servicePolicy(ctx.mesh, service).healthCheck;
  if (declared !== undefined || !hasBackends(options, serviceName, service)) return declared;
  ctx.warnings.push(
    `service ${serviceName} declares no health check, which Traffic Director requires with NEG backends: a TCP check on port ${primaryPort(service)} is used`,
  );
  return { kind: 'tcp' };
}

/** The service's HealthCheck, when it has one (see {@link effectiveHealthCheck}). */
export function healthCheck(
  ctx: RenderContext,
  options: TrafficDirectorOptions,
  serviceName: string,
  service: Service,
): ComputeResource | undefined {
  const check = effectiveHealthCheck(ctx, options, serviceName, service);
  if (check === undefined) return undefined;
  const port = check.port ?? primaryPort(service);
  const interval = wholeSeconds(check.interval ?? '5s');
  const timing = {
    checkIntervalSec: interval,
    // The API requires timeoutSec <= checkIntervalSec.
    timeoutSec: Math.min(interval, wholeSeconds(check.timeout ?? '2s')),
    healthyThreshold: check.healthyThreshold ?? 2,
    unhealthyThreshold: check.unhealthyThreshold ?? 3,
  };
  let specific: JsonObject;
  switch (check.kind) {
    case 'http': {
      const portProtocol = service.ports.find((p) => p.port === port)?.protocol;
      const http = {
        port,
        requestPath: check.path,
        host: check.host ?? `${serviceName}.${domainOf(ctx.mesh)}`,
        proxyHeader: 'NONE',
      };
      specific =
        portProtocol === 'http2'
          ? { type: 'HTTP2', http2HealthCheck: http }
          : { type: 'HTTP', httpHealthCheck: http };
      break;
    }
    case 'grpc':
      specific = {
        type: 'GRPC',
        grpcHealthCheck: {
          port,
          ...(check.service === undefined || check.service === '' ? {} : { grpcServiceName: check.service }),
        },
      };
      break;
    case 'tcp':
      specific = { type: 'TCP', tcpHealthCheck: { port, proxyHeader: 'NONE' } };
      break;
  }
  return {
    kind: 'HealthCheck',
    name: healthCheckName(ctx, serviceName),
    body: { description: computeDescription(ctx.mesh.name), ...timing, ...specific },
    dependsOn: [],
  };
}

function loadBalancing(lb: LoadBalancing | undefined): JsonObject {
  switch (lb?.kind) {
    case undefined:
    case 'round-robin':
      return { localityLbPolicy: 'ROUND_ROBIN', sessionAffinity: 'NONE' };
    case 'least-request':
      return { localityLbPolicy: 'LEAST_REQUEST', sessionAffinity: 'NONE' };
    case 'random':
      return { localityLbPolicy: 'RANDOM', sessionAffinity: 'NONE' };
    case 'ring-hash': {
      // consistentHash applies only with a matching session affinity.
      const on = lb.hashOn;
      if (on.kind === 'header') {
        return {
          localityLbPolicy: 'RING_HASH',
          sessionAffinity: 'HEADER_FIELD',
          consistentHash: { httpHeaderName: on.name },
        };
      }
      if (on.kind === 'cookie') {
        const cookie: Record<string, Json> = { name: on.name };
        if (on.ttl !== undefined) cookie.ttl = computeDuration(on.ttl);
        return {
          localityLbPolicy: 'RING_HASH',
          sessionAffinity: 'HTTP_COOKIE',
          consistentHash: { httpCookie: cookie },
        };
      }
      return { localityLbPolicy: 'RING_HASH', sessionAffinity: 'CLIENT_IP' };
    }
  }
}

/** Name of the mesh's ClientTlsPolicy (shared with the security renderer). */
export function clientTlsPolicyName(ctx: RenderContext): string {
  return resourceName(ctx.mesh.name, 'mtls');
}

/** The BackendService of one service version. */
export function backendService(
  ctx: RenderContext,
  options: TrafficDirectorOptions,
  serviceName: string,
  service: Service,
  version: string,
): ComputeResource {
  const policy = servicePolicy(ctx.mesh, service);
  const name = backendServiceName(ctx.mesh, serviceName, version);
  const protocol = service.ports[0]?.protocol ?? 'http';
  const dependsOn: string[] = [];
  const body: Record<string, Json> = {
    description: computeDescription(ctx.mesh.name),
    loadBalancingScheme: 'INTERNAL_SELF_MANAGED',
    protocol: BACKEND_PROTOCOL[protocol],
    // `0s` disables the request timeout in the model; compute needs a number, so a day stands in.
    timeoutSec: policy.timeouts?.request === '0s' ? 86_400 : wholeSeconds(policy.timeouts?.request ?? '15s'),
    connectionDraining: { drainingTimeoutSec: options.drainingTimeoutSec ?? 0 },
    ...loadBalancing(policy.loadBalancing),
  };
  if (policy.healthCheck !== undefined || hasBackends(options, serviceName, service)) {
    const hc = healthCheckName(ctx, serviceName);
    body.healthChecks = [ref.compute(ctx.project, 'healthChecks', hc)];
    dependsOn.push(`HealthCheck/${hc}`);
  }
  const od = policy.outlierDetection;
  if (od !== undefined) {
    body.outlierDetection = {
      consecutiveErrors: od.consecutive5xx ?? 5,
      interval: computeDuration(od.interval ?? '10s'),
      baseEjectionTime: computeDuration(od.baseEjectionTime ?? '30s'),
      maxEjectionPercent: od.maxEjectionPercent ?? 10,
    };
  }
  const pool = policy.connectionPool;
  if (pool !== undefined && Object.values(pool).some((v) => v !== undefined)) {
    const breakers: Record<string, Json> = {};
    if (pool.maxConnections !== undefined) breakers.maxConnections = pool.maxConnections;
    if (pool.maxPendingRequests !== undefined) breakers.maxPendingRequests = pool.maxPendingRequests;
    if (pool.maxRequests !== undefined) breakers.maxRequests = pool.maxRequests;
    if (pool.maxRetries !== undefined) breakers.maxRetries = pool.maxRetries;
    body.circuitBreakers = breakers;
  }
  const mtls = ctx.mesh.security?.mtls ?? 'off';
  if (mtls !== 'off') {
    const tls = clientTlsPolicyName(ctx);
    body.securitySettings = {
      clientTlsPolicy: ref.global(ctx.project, 'clientTlsPolicies', tls),
      subjectAltNames: [identityOf(ctx.mesh, serviceName)],
    };
    dependsOn.push(`ClientTlsPolicy/${tls}`);
  }
  const negs = options.negs?.[`${serviceName}/${version}`] ?? [];
  if (negs.length > 0) {
    body.backends = [...new Set(negs.map(relativeName))].sort().map((group) => ({
      group,
      balancingMode: 'RATE',
      maxRatePerEndpoint: options.maxRatePerEndpoint ?? 1000,
      capacityScaler: 1,
    }));
  } else {
    ctx.warnings.push(
      `BackendService ${name} has no backends: supply network endpoint groups for ${serviceName}/${version} (target option negs)`,
    );
  }
  return { kind: 'BackendService', name, body, dependsOn: dependsOn.sort() };
}
