/** Reading a dynamic (xDS) bootstrap, and loading an xDS state as the static bootstrap the proxy runs. */
import { MeshError } from '../../errors/index.js';
import type { Bootstrap } from '../config/envoy.js';
import { type ConfigWarning, loadBootstrap } from '../config/load.js';
import type { Resource, XdsState } from './client.js';
import { type BaseBootstrap, staticBootstrap } from './inline.js';

function invalid(path: string, message: string, value?: unknown): MeshError {
  return new MeshError('PROXY_E_INVALID', `${path}: ${message}`, { path, value });
}

/** The value as a JSON object, if it is one. */
export function asObject(value: unknown): Resource | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
    ? (value as Resource)
    : undefined;
}

/**
 * Reads what the xDS client needs from a dynamic bootstrap: the node, and the control plane
 * address from the static cluster `ads_config` names.
 * @throws MeshError PROXY_E_INVALID naming the missing or wrong field
 */
export function readDynamicBootstrap(json: unknown): {
  base: BaseBootstrap;
  server: string;
  node: { id: string; cluster: string };
} {
  const root = asObject(json) ?? {};
  const node = asObject(root.node);
  if (typeof node?.id !== 'string' || node.id === '')
    throw invalid('node.id', 'an xDS proxy needs a node id', node?.id);
  const ads = asObject(asObject(root.dynamic_resources)?.ads_config);
  const services = ads?.grpc_services;
  const clusterName = asObject(
    asObject(Array.isArray(services) ? services[0] : undefined)?.envoy_grpc,
  )?.cluster_name;
  if (typeof clusterName !== 'string') {
    throw invalid(
      'dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name',
      'must name the static cluster of the control plane',
    );
  }
  const statics = asObject(root.static_resources) ?? {};
  const clusters = (Array.isArray(statics.clusters) ? statics.clusters : []) as Resource[];
  const cluster = clusters.find((c) => c.name === clusterName);
  const endpoints = asObject(cluster?.load_assignment)?.endpoints;
  const lb = (Array.isArray(endpoints) ? asObject(endpoints[0]) : undefined)?.lb_endpoints;
  const socket = asObject(
    asObject(asObject(asObject(Array.isArray(lb) ? lb[0] : undefined)?.endpoint)?.address)?.socket_address,
  );
  if (typeof socket?.address !== 'string' || typeof socket.port_value !== 'number') {
    throw invalid(
      `static_resources.clusters[${JSON.stringify(clusterName)}]`,
      'must have one endpoint with a socket address (the control plane)',
    );
  }
  return {
    base: {
      node,
      ...(asObject(root.admin) === undefined ? {} : { admin: asObject(root.admin) as Resource }),
      static_resources: {
        clusters,
        listeners: (Array.isArray(statics.listeners) ? statics.listeners : []) as Resource[],
      },
    },
    server: `${socket.address}:${socket.port_value}`,
    node: { id: node.id, cluster: typeof node.cluster === 'string' ? node.cluster : '' },
  };
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
