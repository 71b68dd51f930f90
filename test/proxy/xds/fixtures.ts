// Shared fixtures for the xDS tests (test/proxy/xds/**, test/proxy/tls/sds.test.ts): the Envoy
// resources they push (RDS listeners, tagged route configurations, EDS and STATIC clusters), the
// dynamic bootstrap that points a proxy at the control plane, a control plane on loopback port 0,
// plain HTTP GETs through the proxy or its admin, and the `crossmesh proxy` CLI as a child process.
// Each was copied between those files; one copy keeps what they push and how they call alike.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { get, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import { type AddressInfo, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SnapshotCache } from '../../../controlplane/cache.js';
import { type ControlPlaneCallbacks, XdsServer } from '../../../controlplane/server.js';
import type { Snapshot } from '../../../controlplane/snapshot.js';
import type { Closer } from '../e2e/helpers.js';

type Json = Record<string, unknown>;

/** The `crossmesh` CLI entry, run with `node` (CROSSMESH_DEV loads the TypeScript sources). */
export const CLI = fileURLToPath(new URL('../../../bin/crossmesh.js', import.meta.url));
/** Type URL of the HTTP connection manager's typed_config. */
export const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
/** Type URL of the router filter's typed_config. */
export const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
/** A config source that means "over the ADS stream". */
export const ADS = { ads: {}, resource_api_version: 'V3' };
/** The router as the (last) HTTP filter. */
export const ROUTER_FILTER = { name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } };
/** HTTP/2 to the control plane through the v3 protocol options (the form Envoy now documents). */
export const H2_PROTOCOL_OPTIONS = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

/** A socket address on 127.0.0.1. */
export function loopback(port: number): { socket_address: { address: string; port_value: number } } {
  return { socket_address: { address: '127.0.0.1', port_value: port } };
}

/** A load assignment of `cluster` with one locality holding an endpoint per port on loopback. */
export function loadAssignment(cluster: string, ports: readonly number[]): Json {
  return {
    cluster_name: cluster,
    endpoints: [{ lb_endpoints: ports.map((port) => ({ endpoint: { address: loopback(port) } })) }],
  };
}

/** A STATIC cluster with one loopback endpoint; `extra` adds fields (a transport socket, ...). */
export function staticCluster(name: string, port: number, extra: Json = {}): Json {
  return {
    name,
    type: 'STATIC',
    connect_timeout: '1s',
    load_assignment: loadAssignment(name, [port]),
    ...extra,
  };
}

/** An EDS cluster (endpoints over ADS) and its one loopback endpoint. */
export function edsCluster(name: string, port: number): { cluster: Json; cla: Json } {
  return {
    cluster: { name, type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: ADS } },
    cla: loadAssignment(name, [port]),
  };
}

/**
 * A listener whose HTTP connection manager routes by `routes`: the name of an RDS route
 * configuration, or an inline route configuration. @default - stat prefix = the listener's
 * name, loopback port 0, only the router filter
 */
export function httpListener(
  name: string,
  routes: string | Json,
  options: {
    readonly address?: Json;
    readonly httpFilters?: readonly Json[];
    readonly statPrefix?: string;
  } = {},
): Json {
  return {
    name,
    address: options.address ?? loopback(0),
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: options.statPrefix ?? name,
              ...(typeof routes === 'string'
                ? { rds: { route_config_name: routes, config_source: ADS } }
                : { route_config: routes }),
              http_filters: options.httpFilters ?? [ROUTER_FILTER],
            },
          },
        ],
      },
    ],
  };
}

/** Every request to `cluster`; responses carry `x-routes: <tag>` to show which version answered. */
export function taggedRoutes(name: string, cluster: string, tag: string): Json {
  return {
    name,
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, route: { cluster } }],
        response_headers_to_add: [{ header: { key: 'x-routes', value: tag } }],
      },
    ],
  };
}

/**
 * A dynamic bootstrap (JSON) whose only static resource is the control plane cluster `xds` on
 * `cpPort`. @default - node cluster = node id, api_type GRPC, `xds` speaking HTTP/2 through the
 * legacy `http2_protocol_options`
 */
export function adsBootstrap(
  nodeId: string,
  cpPort: number,
  options: {
    readonly nodeCluster?: string;
    readonly apiType?: 'GRPC' | 'DELTA_GRPC';
    readonly xds?: Json;
  } = {},
): Json {
  return {
    node: { id: nodeId, cluster: options.nodeCluster ?? nodeId },
    dynamic_resources: {
      ads_config: {
        api_type: options.apiType ?? 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }],
      },
      lds_config: ADS,
      cds_config: ADS,
    },
    static_resources: {
      clusters: [
        {
          name: 'xds',
          connect_timeout: '1s',
          ...(options.xds ?? { http2_protocol_options: {} }),
          load_assignment: loadAssignment('xds', [cpPort]),
        },
      ],
    },
  };
}

/**
 * A dynamic bootstrap file in YAML, as a user writes it: node `edge`, admin on port 0, ADS to the
 * control plane on `cpPort`. `node` replaces the node line's mapping; `h2: 'explicit'` writes
 * HTTP/2 as v3 protocol options; `firstMessageOnly` sets set_node_on_first_message_only.
 */
export function adsBootstrapFile(
  cpPort: number,
  options: {
    readonly tmpPrefix: string;
    readonly node?: string;
    readonly firstMessageOnly?: boolean;
    readonly h2?: 'legacy' | 'explicit';
  },
): string {
  const file = join(mkdtempSync(join(tmpdir(), options.tmpPrefix)), 'bootstrap.yaml');
  const h2 =
    options.h2 === 'explicit'
      ? [
          '    typed_extension_protocol_options:',
          '      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:',
          '        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
          '        explicit_http_config: { http2_protocol_options: {} }',
        ]
      : ['    http2_protocol_options: {}'];
  writeFileSync(
    file,
    [
      `node: ${options.node ?? '{ id: edge, cluster: edge }'}`,
      'admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }',
      'dynamic_resources:',
      '  ads_config:',
      '    api_type: GRPC',
      '    transport_api_version: V3',
      ...(options.firstMessageOnly === true ? ['    set_node_on_first_message_only: true'] : []),
      '    grpc_services: [{ envoy_grpc: { cluster_name: xds } }]',
      '  lds_config: { ads: {}, resource_api_version: V3 }',
      '  cds_config: { ads: {}, resource_api_version: V3 }',
      'static_resources:',
      '  clusters:',
      '  - name: xds',
      '    type: STATIC',
      '    connect_timeout: 1s',
      ...h2,
      '    load_assignment:',
      '      cluster_name: xds',
      `      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${cpPort} } } } }] }]`,
      '',
    ].join('\n'),
  );
  return file;
}

/** A running control plane: its cache, server and loopback port. */
export interface ControlPlane {
  readonly cache: SnapshotCache;
  readonly server: XdsServer;
  readonly port: number;
}

/**
 * The project's control plane on 127.0.0.1, closed by `closer`, serving `snapshot` to `nodeId`
 * (nothing yet when `snapshot` is undefined: the node waits for a later setSnapshot).
 * @default - port 0, no callbacks
 */
export async function startControlPlane(
  closer: Closer,
  nodeId: string,
  snapshot: Snapshot | undefined,
  options: { readonly callbacks?: ControlPlaneCallbacks; readonly port?: number } = {},
): Promise<ControlPlane> {
  const cache = new SnapshotCache();
  if (snapshot !== undefined) cache.setSnapshot(nodeId, snapshot);
  const server = new XdsServer(cache, options.callbacks);
  const { port } = await server.listen('127.0.0.1', options.port ?? 0);
  closer.add(() => server.close());
  return { cache, server, port };
}

/** The message of the last NACK the control plane recorded for `nodeId` ('' when none). */
export function lastNack(server: XdsServer, nodeId: string): string {
  return server.status().nodes.find((n) => n.id === nodeId)?.lastNack?.message ?? '';
}

/** A port the kernel just handed out and nothing holds now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** A response read to its end. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  readonly headers: IncomingHttpHeaders;
}

/**
 * A GET on 127.0.0.1:`at` (or a Unix socket), read to the end. A fresh connection each time
 * unless `pooled` (Node's global keep-alive agent).
 */
export function httpGet(
  at: number | { readonly socketPath: string },
  path = '/',
  options: { readonly headers?: OutgoingHttpHeaders; readonly pooled?: boolean } = {},
): Promise<Answer> {
  const target = typeof at === 'number' ? { host: '127.0.0.1', port: at } : { socketPath: at.socketPath };
  return new Promise((resolve, reject) => {
    get(
      {
        ...target,
        path,
        ...(options.headers === undefined ? {} : { headers: options.headers }),
        ...(options.pooled === true ? {} : { agent: false }),
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
      },
    ).on('error', reject);
  });
}

/** A GET through the proxy: status, body and the `x-routes` tag of the route version that answered. */
export async function routedGet(
  port: number,
  path = '/',
  options: { readonly headers?: OutgoingHttpHeaders; readonly pooled?: boolean } = {},
): Promise<{ status: number; body: string; routes: string }> {
  const { status, body, headers } = await httpGet(port, path, options);
  return { status, body, routes: String(headers['x-routes'] ?? '') };
}

/** A `crossmesh proxy -c` child process: its stderr so far, and its exit code once it exits. */
export interface SpawnedProxy {
  readonly child: ChildProcess;
  stderr(): string;
  readonly exited: Promise<number | null>;
}

/** Spawns `crossmesh proxy -c <file> ...args`, collecting its stderr. */
export function spawnProxy(file: string, args: readonly string[]): SpawnedProxy {
  const child = spawn(process.execPath, [CLI, 'proxy', '-c', file, ...args], {
    env: { ...process.env, CROSSMESH_DEV: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    stderr += c;
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return { child, stderr: () => stderr, exited };
}
