/**
 * CDS and EDS: one EDS cluster per service version and port (`<service>|<version>`), carrying the
 * service's connection policy, and its ClusterLoadAssignment listing the instances' sidecars.
 */
import type { HealthCheck, Mesh, Protocol, ServicePolicy } from '../../model/types.js';
import { meshDomain, sortedKeys, versionCluster } from './names.js';
import type { Placement } from './placement.js';
import { servicePolicy } from './policy.js';
import { type CertificateSource, mtlsOn, serviceIdentity, upstreamTls } from './private/tls.js';
import { adsSource, envoyDuration, type Json, socketAddress } from './private/util.js';

/** Envoy's lb_policy for the model's algorithm. */
const LB_POLICY = {
  'round-robin': 'ROUND_ROBIN',
  'least-request': 'LEAST_REQUEST',
  random: 'RANDOM',
  'ring-hash': 'RING_HASH',
} as const;

/** Whether the upstream speaks HTTP/2 (gRPC included). */
export function isH2(protocol: Protocol): boolean {
  return protocol === 'http2' || protocol === 'grpc';
}

/** Cluster options that force HTTP/2 upstream. */
export function h2Options(): Json {
  return {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  };
}

function healthCheck(check: HealthCheck, protocol: Protocol, host: string): Json {
  const interval = envoyDuration(check.interval ?? '5s');
  const timing: Json = {
    interval,
    // The model's interval holds whether or not the cluster carries traffic, as on App Mesh and
    // Traffic Director. Envoy would otherwise check an idle cluster only every 60 s: a host
    // whose first check ran before its service listened (crossmesh up starts the proxies first)
    // stayed failed for a minute in `crossmesh status`.
    no_traffic_interval: interval,
    timeout: envoyDuration(check.timeout ?? '2s'),
    healthy_threshold: check.healthyThreshold ?? 2,
    unhealthy_threshold: check.unhealthyThreshold ?? 3,
  };
  switch (check.kind) {
    case 'http':
      return {
        ...timing,
        http_health_check: {
          path: check.path,
          host: check.host ?? host,
          expected_statuses: (check.expectedStatuses ?? [[200, 300]]).map(([start, end]) => ({ start, end })),
          ...(isH2(protocol) ? { codec_client_type: 'HTTP2' } : {}),
        },
      };
    case 'grpc':
      return { ...timing, grpc_health_check: { service_name: check.service ?? '' } };
    case 'tcp':
      return { ...timing, tcp_health_check: {} };
  }
}

/** Connection policy shared by every cluster of a service. */
function policyFields(policy: ServicePolicy, protocol: Protocol, host: string, proxyless: boolean): Json {
  const out: Json = { lb_policy: LB_POLICY[policy.loadBalancing?.kind ?? 'round-robin'] };
  // Proxyless gRPC (grpc-js-xds) only balances ROUND_ROBIN or RING_HASH: keep the closest.
  if (proxyless && out.lb_policy !== 'RING_HASH') out.lb_policy = 'ROUND_ROBIN';
  const od = policy.outlierDetection;
  if (od !== undefined) {
    out.outlier_detection = {
      consecutive_5xx: od.consecutive5xx ?? 5,
      interval: envoyDuration(od.interval ?? '10s'),
      base_ejection_time: envoyDuration(od.baseEjectionTime ?? '30s'),
      max_ejection_percent: od.maxEjectionPercent ?? 10,
    };
  }
  const pool = policy.connectionPool;
  if (pool !== undefined) {
    const threshold: Json = { priority: 'DEFAULT' };
    if (pool.maxConnections !== undefined) threshold.max_connections = pool.maxConnections;
    if (pool.maxPendingRequests !== undefined) threshold.max_pending_requests = pool.maxPendingRequests;
    if (pool.maxRequests !== undefined) threshold.max_requests = pool.maxRequests;
    if (pool.maxRetries !== undefined) threshold.max_retries = pool.maxRetries;
    out.circuit_breakers = { thresholds: [threshold] };
  }
  // Proxyless clients do no active health checking; the sidecars do.
  if (policy.healthCheck !== undefined && !proxyless) {
    out.health_checks = [healthCheck(policy.healthCheck, protocol, host)];
  }
  if (isH2(protocol)) out.typed_extension_protocol_options = h2Options();
  return out;
}

/** Who is calling: the workload whose certificate the cluster presents (mTLS). */
export interface Caller {
  /** Workload name used for its certificate: a service name, or `gateway-<name>`. */
  readonly workload: string;
  /** Proxyless gRPC client (no TLS, reduced policy set). */
  readonly proxyless: boolean;
  /** Where the caller's certificate is and how it is delivered. */
  readonly certificates: CertificateSource;
}

/** Every EDS cluster a caller may use: each version and port of each service it can reach. */
export function meshClusters(
  mesh: Mesh,
  placement: Placement,
  services: readonly string[],
  caller: Caller,
): Json[] {
  const external = new Set(placement.external.map((e) => `${e.service}|${e.version}`));
  const clusters: Json[] = [];
  for (const serviceName of [...services].sort()) {
    const service = mesh.services[serviceName];
    if (service === undefined) continue;
    const policy = servicePolicy(mesh, serviceName);
    const host = `${serviceName}.${meshDomain(mesh)}`;
    for (const version of sortedKeys(service.versions)) {
      for (const port of service.ports) {
        const name = versionCluster(mesh, serviceName, version, port.port);
        const cluster: Json = {
          name,
          type: 'EDS',
          eds_cluster_config: { eds_config: adsSource(), service_name: name },
          connect_timeout: '5s',
          ...policyFields(policy, port.protocol, host, caller.proxyless),
        };
        if (mtlsOn(mesh) && !caller.proxyless && !external.has(`${serviceName}|${version}`)) {
          cluster.transport_socket = upstreamTls(
            mesh,
            caller.workload,
            serviceIdentity(mesh, serviceName),
            host,
            caller.certificates,
          );
        }
        clusters.push(cluster);
      }
    }
  }
  return clusters;
}

/** The ClusterLoadAssignment of every cluster {@link meshClusters} emits for `services`. */
export function meshEndpoints(mesh: Mesh, placement: Placement, services: readonly string[]): Json[] {
  const out: Json[] = [];
  for (const serviceName of [...services].sort()) {
    const service = mesh.services[serviceName];
    if (service === undefined) continue;
    for (const version of sortedKeys(service.versions)) {
      for (const [portIndex, port] of service.ports.entries()) {
        const addresses: Json[] = [];
        for (const sidecar of placement.sidecars) {
          if (sidecar.service !== serviceName || sidecar.version !== version) continue;
          const inbound = sidecar.inboundPorts[port.port];
          if (inbound !== undefined) addresses.push(socketAddress(sidecar.host, inbound));
        }
        for (const ext of placement.external) {
          if (ext.service !== serviceName || ext.version !== version) continue;
          // Fixed endpoints name the primary port; other ports are the same hosts on their own numbers.
          for (const ep of ext.endpoints)
            addresses.push(socketAddress(ep.host, portIndex === 0 ? ep.port : port.port));
        }
        const name = versionCluster(mesh, serviceName, version, port.port);
        out.push({
          cluster_name: name,
          endpoints:
            addresses.length === 0
              ? []
              : [
                  {
                    // grpc-js-xds ignores localities without a weight (gRFC A27); Envoy ignores the weight
                    // unless locality-weighted balancing is on, so setting it costs nothing.
                    locality: {},
                    load_balancing_weight: 1,
                    lb_endpoints: addresses.map((address) => ({ endpoint: { address } })),
                  },
                ],
        });
      }
    }
  }
  return out;
}

/** A STATIC cluster to the local application behind a sidecar: `local|<service port>`. */
export function localAppCluster(servicePort: number, protocol: Protocol, host: string, port: number): Json {
  const name = `local|${servicePort}`;
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(host, port) } }] }],
    },
    ...(isH2(protocol) ? { typed_extension_protocol_options: h2Options() } : {}),
  };
}

/** A LOGICAL_DNS cluster to an allow-listed external host, port 80 (the outbound listener speaks plain HTTP). */
export function egressHostCluster(mesh: Mesh, host: string): Json {
  const name = `egress|${host}`;
  return {
    name,
    type: 'LOGICAL_DNS',
    connect_timeout: '5s',
    dns_lookup_family: dnsLookupFamily(mesh),
    load_assignment: {
      cluster_name: name,
      endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(host, 80) } }] }],
    },
  };
}

/** Envoy's name for the mesh's IP family preference. */
export function dnsLookupFamily(mesh: Mesh): string {
  const map = {
    'ipv4-only': 'V4_ONLY',
    'ipv6-only': 'V6_ONLY',
    'ipv4-preferred': 'V4_PREFERRED',
    'ipv6-preferred': 'AUTO',
  };
  return map[mesh.ipPreference ?? 'ipv4-preferred'];
}
