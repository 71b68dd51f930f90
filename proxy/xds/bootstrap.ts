/**
 * Reading a dynamic (xDS) bootstrap, and loading an xDS state as the static bootstrap the proxy runs.
 *
 * A dynamic bootstrap goes through the same strict loader as any other (proxy/config/load.ts):
 * `dynamic_resources` is checked there (ADS only, an HTTP/2 STATIC or STRICT_DNS cluster...), so
 * `crossmesh proxy -c`, the sidecar entry (main.ts) and `crossmesh up` accept and refuse exactly
 * the same bootstraps. This module only picks out what the xDS client needs.
 */
import { MeshError } from '../../errors/index.js';
import type { Bootstrap, Pipe, SocketAddress } from '../config/envoy.js';
import { type ConfigWarning, loadBootstrap } from '../config/load.js';
import type { LookupFn } from '../upstream/index.js';
import type { Resource, XdsNode, XdsState } from './client.js';
import { type BaseBootstrap, staticBootstrap } from './inline.js';

/** The value as a JSON object, if it is one. */
export function asObject(value: unknown): Resource | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Resource)
    : undefined;
}

/** What the xDS client needs from a dynamic bootstrap. */
export interface DynamicBootstrap {
  /** The parts of the bootstrap that stay in every state: node, admin, static resources. */
  readonly base: BaseBootstrap;
  /** The control plane as `host:port` (the host as written: a STRICT_DNS name is resolved later). */
  readonly server: string;
  /** The node sent on the ADS stream. */
  readonly node: XdsNode;
  /** `ads_config.api_type`: GRPC is state of the world, DELTA_GRPC incremental. */
  readonly protocol: 'sotw' | 'delta';
  /** `ads_config.set_node_on_first_message_only`. */
  readonly nodeOnFirstMessageOnly: boolean;
  /** The ADS cluster's discovery type, to know whether `server`'s host needs resolving. */
  readonly clusterType: 'STATIC' | 'STRICT_DNS';
}

/**
 * Loads a dynamic bootstrap given as a JSON value (a rendered sidecar bootstrap, a parsed file)
 * with the strict loader, then reads it as {@link dynamicParts} does.
 * @throws MeshError from the loader, each problem naming its field
 */
export function readDynamicBootstrap(
  json: unknown,
  onWarning?: (warning: ConfigWarning) => void,
): DynamicBootstrap {
  let text: string;
  try {
    text = JSON.stringify(json ?? null);
  } catch (error) {
    throw new MeshError('PROXY_E_INVALID', `bootstrap: not a JSON value (${(error as Error).message})`);
  }
  return dynamicParts(
    loadBootstrap(text, {
      format: 'json',
      source: 'bootstrap',
      ...(onWarning === undefined ? {} : { onWarning }),
    }),
  );
}

/**
 * What the xDS client needs from a loaded bootstrap: the node, the control plane address of the
 * static cluster `ads_config` names, and the static parts every state keeps.
 * @throws MeshError PROXY_E_INVALID when the bootstrap has no `dynamic_resources`
 */
export function dynamicParts(bootstrap: Bootstrap): DynamicBootstrap {
  const ads = bootstrap.dynamic_resources?.ads_config;
  const clusterName = ads?.grpc_services?.[0]?.envoy_grpc?.cluster_name;
  const cluster = bootstrap.static_resources?.clusters?.find((c) => c.name === clusterName);
  const endpoint = cluster?.load_assignment?.endpoints?.[0]?.lb_endpoints?.[0]?.endpoint;
  const socket = endpoint?.address?.socket_address;
  const pipe = endpoint?.address?.pipe;
  // The loader's semantic stage guarantees all of this for a bootstrap with dynamic_resources.
  if ((socket === undefined && pipe === undefined) || cluster === undefined) {
    throw new MeshError(
      'PROXY_E_INVALID',
      'dynamic_resources.ads_config: an xDS proxy needs dynamic_resources.ads_config naming a static cluster with one endpoint',
      { path: 'dynamic_resources.ads_config' },
    );
  }
  const node = bootstrap.node ?? {};
  // The typed interfaces are views of plain canonical JSON: the base is handled as JSON.
  const { listeners, clusters, secrets } = (bootstrap.static_resources ?? {}) as {
    readonly listeners?: readonly Resource[];
    readonly clusters?: readonly Resource[];
    readonly secrets?: readonly Resource[];
  };
  return {
    base: {
      node: node as Resource,
      ...(bootstrap.admin === undefined ? {} : { admin: bootstrap.admin as Resource }),
      static_resources: {
        ...(clusters === undefined ? {} : { clusters }),
        ...(listeners === undefined ? {} : { listeners }),
        ...(secrets === undefined ? {} : { secrets }),
      },
    },
    server: grpcTarget(socket, pipe),
    node: {
      id: node.id ?? '',
      cluster: node.cluster ?? '',
      ...(node.metadata === undefined ? {} : { metadata: node.metadata }),
      ...(node.locality === undefined ? {} : { locality: node.locality as Resource }),
    },
    protocol: ads?.api_type === 'DELTA_GRPC' ? 'delta' : 'sotw',
    nodeOnFirstMessageOnly: ads?.set_node_on_first_message_only === true,
    clusterType: cluster.type === 'STRICT_DNS' ? 'STRICT_DNS' : 'STATIC',
  };
}

/**
 * The gRPC target of the ADS cluster's endpoint: `host:port`, or grpc-js's `unix:PATH` /
 * `unix-abstract:NAME` for a pipe (Istio's sidecar bootstrap dials its agent over a Unix socket).
 */
function grpcTarget(socket: SocketAddress | undefined, pipe: Pipe | undefined): string {
  if (pipe !== undefined) {
    return pipe.path.startsWith('@') ? `unix-abstract:${pipe.path.slice(1)}` : `unix:${pipe.path}`;
  }
  const address = socket?.address ?? '';
  return `${address.includes(':') ? `[${address}]` : address}:${socket?.port_value ?? 0}`;
}

/**
 * The control plane address to dial: a STRICT_DNS cluster's host name goes through `lookup` when
 * one is given (tests map real configs' host names to loopback with it); otherwise gRPC resolves it.
 * @throws MeshError PROXY_E_INVALID when the lookup finds no address
 */
export async function resolveServer(parts: DynamicBootstrap, lookup?: LookupFn): Promise<string> {
  if (parts.clusterType !== 'STRICT_DNS' || lookup === undefined) return parts.server;
  const at = parts.server.lastIndexOf(':');
  const host = parts.server.slice(0, at);
  const [first] = await lookup(host);
  if (first === undefined) {
    throw new MeshError('PROXY_E_INVALID', `dynamic_resources.ads_config: ${host} resolves to no address`, {
      path: 'dynamic_resources.ads_config',
      value: host,
    });
  }
  const address = first.family === 6 ? `[${first.address}]` : first.address;
  return `${address}${parts.server.slice(at)}`;
}

/** The static bootstrap for a state, loaded strictly (throws MeshError: the xDS client NACKs it). */
export function loadState(
  base: BaseBootstrap,
  state: XdsState,
  onWarning?: (warning: ConfigWarning) => void,
): { text: string; bootstrap: Bootstrap } {
  const text = JSON.stringify(staticBootstrap(base, state));
  return {
    text,
    bootstrap: loadBootstrap(text, {
      format: 'json',
      source: 'xds',
      ...(onWarning === undefined ? {} : { onWarning }),
    }),
  };
}
