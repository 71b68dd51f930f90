/**
 * Names shared by every Envoy resource the renderer emits, and by the control plane and
 * `crossmesh up` that look resources up by name. One place, so a cluster named by a route is
 * always the cluster CDS sends.
 */
import type { Mesh, Service, ServicePort } from '../../model/types.js';

/** Type URLs of the resources the renderer emits (xDS v3). */
export const TYPE_URLS = {
  cluster: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoint: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listener: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  route: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  secret: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

/** The mesh's DNS domain (`<name>.mesh.local` unless set). */
export function meshDomain(mesh: Mesh): string {
  return mesh.domain ?? `${mesh.name}.mesh.local`;
}

/** The primary (first) port of a service. */
export function primaryPort(service: Service): ServicePort {
  const [first] = service.ports;
  if (first === undefined) throw new RangeError('a service has at least one port (validated by the model)');
  return first;
}

/**
 * Cluster (and EDS service) name of one version of a service on one port: `<service>|<version>`
 * on the primary port, `<service>|<version>|<port>` on the others, so the common single-port
 * case reads the way App Mesh and Istio operators expect.
 */
export function versionCluster(mesh: Mesh, serviceName: string, version: string, port?: number): string {
  const service = mesh.services[serviceName];
  if (service === undefined || port === undefined || port === primaryPort(service).port) {
    return `${serviceName}|${version}`;
  }
  return `${serviceName}|${version}|${port}`;
}

/** Node id of a sidecar: `sidecar/<service>/<version>/<instance>`. */
export function sidecarNodeId(service: string, version: string, index: number): string {
  return `sidecar/${service}/${version}/${index}`;
}

/** Node id of a gateway proxy: `gateway/<name>/<instance>`. */
export function gatewayNodeId(name: string, index: number): string {
  return `gateway/${name}/${index}`;
}

/**
 * Key of the snapshot served to proxyless gRPC clients (any node id the renderer did not emit):
 * they subscribe to `xds:///<service>` listeners by name, so one shared snapshot serves them all.
 */
export const PROXYLESS_NODE = 'proxyless';

/** Sorted record keys, so every loop over a record is deterministic. */
export function sortedKeys<T>(record: Readonly<Record<string, T>> | undefined): string[] {
  return Object.keys(record ?? {}).sort();
}
