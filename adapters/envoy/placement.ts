/**
 * Where every proxy of a mesh listens and where every instance is reached. The renderer is pure,
 * so addresses are an input: `crossmesh up` allocates free loopback ports and builds a placement;
 * `crossmesh render` and `crossmesh compose` use {@link staticPlacement}, which gives every
 * instance its own host name (a container) and fixed, well-known ports, the way Istio does
 * (15001 egress, 15006 inbound, 9901 admin).
 */
import type { Endpoint, Mesh } from '../../model/types.js';
import { sortedKeys } from './names.js';

/** One sidecar: the proxy next to one instance of one service version. */
export interface SidecarPlacement {
  /** Service name. */
  readonly service: string;
  /** Version name. */
  readonly version: string;
  /** Instance index, from 0. */
  readonly index: number;
  /** Address other proxies use to reach this sidecar's inbound listeners. */
  readonly host: string;
  /** Address the sidecar's inbound listeners bind. */
  readonly bindHost: string;
  /** Inbound listener port, by service port number. */
  readonly inboundPorts: Readonly<Record<number, number>>;
  /** Address the local application listens on, as seen from the sidecar. */
  readonly appHost: string;
  /** Port the local application listens on, by service port number. */
  readonly appPorts: Readonly<Record<number, number>>;
  /** Port of the outbound HTTP listener the application sends every mesh call to (bound on loopback). */
  readonly egressPort: number;
  /** Ports of outbound TCP listeners, by `<service>:<port>` of the TCP backend (bound on loopback). */
  readonly tcpEgressPorts: Readonly<Record<string, number>>;
  /** Admin interface port (bound on loopback). */
  readonly adminPort: number;
}

/** A version reached at fixed addresses, without a sidecar (`local.kind: 'endpoints'`). */
export interface ExternalPlacement {
  /** Service name. */
  readonly service: string;
  /** Version name. */
  readonly version: string;
  /** Where the instances answer (plain text). */
  readonly endpoints: readonly Endpoint[];
}

/** One gateway proxy instance. */
export interface GatewayPlacement {
  /** Gateway name. */
  readonly name: string;
  /** Instance index, from 0. */
  readonly index: number;
  /** Address the gateway's listeners bind. */
  readonly bindHost: string;
  /** Listener port, by the port declared in the model. */
  readonly listenerPorts: Readonly<Record<number, number>>;
  /** Port of the gateway's internal outbound listener (loopback), where mesh routing happens. */
  readonly egressPort: number;
  /** Admin interface port (bound on loopback). */
  readonly adminPort: number;
}

/** Every proxy and instance of a mesh. */
export interface Placement {
  /** Sidecars, one per running instance. */
  readonly sidecars: readonly SidecarPlacement[];
  /** Versions reached directly. */
  readonly external: readonly ExternalPlacement[];
  /** Gateway proxies. */
  readonly gateways: readonly GatewayPlacement[];
}

/** Well-known ports of the static placement. */
export const STATIC_PORTS = {
  /** Outbound HTTP listener. */
  egress: 15001,
  /** First inbound listener; a service's n-th port gets `inbound + n`. */
  inbound: 15006,
  /** First outbound TCP listener. */
  tcpEgress: 15100,
  /** Admin interface. */
  admin: 9901,
} as const;

/** Host name of a sidecar in the static placement (also its compose service name). */
export function staticSidecarHost(service: string, version: string, index: number): string {
  return `${service}-${version}-${index}`;
}

/** Host name of a gateway in the static placement. */
export function staticGatewayHost(name: string, index: number): string {
  return `gateway-${name}-${index}`;
}

/** Every `<service>:<port>` TCP backend a service may call, sorted: each gets an egress port. */
export function tcpBackends(mesh: Mesh, serviceName: string): string[] {
  const service = mesh.services[serviceName];
  const keys: string[] = [];
  for (const backend of [...(service?.backends ?? [])].sort()) {
    for (const port of mesh.services[backend]?.ports ?? []) {
      if (port.protocol === 'tcp') keys.push(`${backend}:${port.port}`);
    }
  }
  return keys;
}

/** Number of instances a version runs (`local.instances`, 1 otherwise). */
export function instanceCount(mesh: Mesh, service: string, version: string): number {
  const local = mesh.services[service]?.versions[version]?.local;
  return local?.kind === 'command' ? (local.instances ?? 1) : 1;
}

/**
 * The placement of `crossmesh render` and `crossmesh compose`: each instance is its own host
 * (`<service>-<version>-<index>`, or what `hostOf` says given the sidecar's ordinal `n`) with the
 * application on its declared ports and the sidecar on the well-known ones. Versions declared as
 * fixed endpoints are reached directly.
 */
export function staticPlacement(
  mesh: Mesh,
  hostOf: (service: string, version: string, index: number, n: number) => string = staticSidecarHost,
): Placement {
  const sidecars: SidecarPlacement[] = [];
  const external: ExternalPlacement[] = [];
  for (const serviceName of sortedKeys(mesh.services)) {
    const service = mesh.services[serviceName];
    if (service === undefined) continue;
    const tcpEgressPorts = Object.fromEntries(
      tcpBackends(mesh, serviceName).map((key, i) => [key, STATIC_PORTS.tcpEgress + i]),
    );
    for (const versionName of sortedKeys(service.versions)) {
      const local = service.versions[versionName]?.local;
      if (local?.kind === 'endpoints') {
        external.push({ service: serviceName, version: versionName, endpoints: local.endpoints });
        continue;
      }
      for (let index = 0; index < instanceCount(mesh, serviceName, versionName); index++) {
        sidecars.push({
          service: serviceName,
          version: versionName,
          index,
          host: hostOf(serviceName, versionName, index, sidecars.length),
          bindHost: '0.0.0.0',
          inboundPorts: Object.fromEntries(service.ports.map((p, i) => [p.port, STATIC_PORTS.inbound + i])),
          appHost: '127.0.0.1',
          appPorts: Object.fromEntries(service.ports.map((p) => [p.port, p.port])),
          egressPort: STATIC_PORTS.egress,
          tcpEgressPorts,
          adminPort: STATIC_PORTS.admin,
        });
      }
    }
  }
  const gateways = sortedKeys(mesh.gateways).map((name) => ({
    name,
    index: 0,
    bindHost: '0.0.0.0',
    listenerPorts: Object.fromEntries((mesh.gateways?.[name]?.listeners ?? []).map((l) => [l.port, l.port])),
    egressPort: STATIC_PORTS.egress,
    adminPort: STATIC_PORTS.admin,
  }));
  return { sidecars, external, gateways };
}

/**
 * The placement of `crossmesh up`: everything on loopback, every port taken from `nextPort`
 * (the caller hands out free ports; this function stays pure). Versions with a local command get
 * one sidecar per instance; versions at fixed endpoints are reached directly; versions with
 * neither are not runnable and get no endpoints. Gateways keep their declared listener ports:
 * they are the mesh's front door, the port a user types.
 */
export function localPlacement(mesh: Mesh, nextPort: () => number): Placement {
  const sidecars: SidecarPlacement[] = [];
  const external: ExternalPlacement[] = [];
  for (const serviceName of sortedKeys(mesh.services)) {
    const service = mesh.services[serviceName];
    if (service === undefined) continue;
    for (const versionName of sortedKeys(service.versions)) {
      const local = service.versions[versionName]?.local;
      if (local?.kind === 'endpoints') {
        external.push({ service: serviceName, version: versionName, endpoints: local.endpoints });
        continue;
      }
      if (local?.kind !== 'command') continue;
      for (let index = 0; index < (local.instances ?? 1); index++) {
        sidecars.push({
          service: serviceName,
          version: versionName,
          index,
          host: '127.0.0.1',
          bindHost: '127.0.0.1',
          inboundPorts: Object.fromEntries(service.ports.map((p) => [p.port, nextPort()])),
          appHost: '127.0.0.1',
          appPorts: Object.fromEntries(service.ports.map((p) => [p.port, nextPort()])),
          egressPort: nextPort(),
          tcpEgressPorts: Object.fromEntries(tcpBackends(mesh, serviceName).map((key) => [key, nextPort()])),
          adminPort: nextPort(),
        });
      }
    }
  }
  const gateways = sortedKeys(mesh.gateways).map((name) => ({
    name,
    index: 0,
    bindHost: '127.0.0.1',
    listenerPorts: Object.fromEntries((mesh.gateways?.[name]?.listeners ?? []).map((l) => [l.port, l.port])),
    egressPort: nextPort(),
    adminPort: nextPort(),
  }));
  return { sidecars, external, gateways };
}

/** How many ports {@link localPlacement} takes from `nextPort` for a mesh. */
export function localPortCount(mesh: Mesh): number {
  let count = 0;
  localPlacement(mesh, () => {
    count += 1;
    return 0;
  });
  return count;
}
