/** Bootstraps: what a proxy needs before its first xDS response (node, admin, the xDS server). */
import { h2Options } from './clusters.js';
import { adsSource, type Json, socketAddress } from './private/util.js';

/** Where the control plane answers. */
export interface ControlPlaneAddress {
  /** Host name or IP address. */
  readonly host: string;
  /** gRPC port. */
  readonly port: number;
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/;

/**
 * An Envoy v3 bootstrap that takes everything from ADS: `dynamic_resources.ads_config` for LDS and
 * CDS (RDS and EDS follow from them), one static `xds` cluster pointing at the control plane.
 */
export function envoyBootstrap(
  nodeId: string,
  nodeCluster: string,
  adminPort: number,
  cp: ControlPlaneAddress,
): Json {
  return {
    node: { id: nodeId, cluster: nodeCluster, locality: {} },
    admin: { address: socketAddress('127.0.0.1', adminPort) },
    dynamic_resources: {
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }],
        set_node_on_first_message_only: true,
      },
      cds_config: adsSource(),
      lds_config: adsSource(),
    },
    static_resources: {
      clusters: [
        {
          name: 'xds',
          // An IP needs no resolution; a host name (compose) is resolved by DNS.
          type: IPV4.test(cp.host) ? 'STATIC' : 'STRICT_DNS',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'xds',
            endpoints: [{ lb_endpoints: [{ endpoint: { address: socketAddress(cp.host, cp.port) } }] }],
          },
          typed_extension_protocol_options: h2Options(),
        },
      ],
    },
  };
}

/** A gRPC xDS bootstrap (`GRPC_XDS_BOOTSTRAP_CONFIG`) for a proxyless client of the control plane. */
export function proxylessBootstrap(nodeId: string, cp: ControlPlaneAddress): Json {
  return {
    xds_servers: [
      {
        server_uri: `${cp.host}:${cp.port}`,
        channel_creds: [{ type: 'insecure' }],
        server_features: ['xds_v3'],
      },
    ],
    node: { id: nodeId, locality: {} },
  };
}
