/**
 * Two listeners whose HTTP connection managers name the same RDS route configuration: a route
 * update must reach both (regression: only the last listener's table was re-pointed, the other
 * kept answering with the old routes). The proxy runs in process from a dynamic bootstrap, fed by
 * the project's real control plane (controlplane/server.ts over gRPC on loopback, port 0), with a
 * real node:http upstream. Nothing is stood in.
 */
import { get } from 'node:http';
import { afterAll, describe, expect, test } from 'vitest';
import { SnapshotCache } from '../../../controlplane/cache.js';
import { XdsServer } from '../../../controlplane/server.js';
import { Snapshot } from '../../../controlplane/snapshot.js';
import { TYPE } from '../../../controlplane/types.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { startDynamicProxy } from '../../../proxy/xds/dynamic.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';

const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const ADS = { ads: {}, resource_api_version: 'V3' };

/** Listeners `a` and `b` (port 0) both routed by RDS `shared`, whose responses carry `tag`. */
function snapshot(upstreamPort: number, tag: string): Snapshot {
  const listener = (name: string) => ({
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: name,
              rds: { route_config_name: 'shared', config_source: ADS },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
            },
          },
        ],
      },
    ],
  });
  return Snapshot.fromResources({
    [TYPE.cluster]: [
      {
        name: 'app',
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: {
          cluster_name: 'app',
          endpoints: [
            {
              lb_endpoints: [
                {
                  endpoint: {
                    address: { socket_address: { address: '127.0.0.1', port_value: upstreamPort } },
                  },
                },
              ],
            },
          ],
        },
      },
    ],
    [TYPE.listener]: [listener('a'), listener('b')],
    [TYPE.route]: [
      {
        name: 'shared',
        virtual_hosts: [
          {
            name: 'all',
            domains: ['*'],
            routes: [{ match: { prefix: '/' }, route: { cluster: 'app' } }],
            response_headers_to_add: [{ header: { key: 'x-routes', value: tag } }],
          },
        ],
      },
    ],
  });
}

/** The `x-routes` header of a GET through the proxy. */
function routesTag(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path: '/', agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(String(res.headers['x-routes'] ?? '')));
    }).on('error', reject);
  });
}

describe('listeners sharing one RDS route configuration', () => {
  const closer = new Closer();
  afterAll(() => closer.closeAll());

  test('a route update applies to every listener that names it', async () => {
    // GIVEN a control plane serving two listeners that share route configuration "shared" (v1)
    const up = await httpUpstream(closer, 'up');
    const cache = new SnapshotCache();
    cache.setSnapshot('shared', snapshot(up.port, 'v1'));
    const server = new XdsServer(cache);
    const cp = await server.listen('127.0.0.1', 0);
    closer.add(() => server.close());
    const proxy = await startDynamicProxy(
      loadBootstrap(
        JSON.stringify({
          node: { id: 'shared', cluster: 'shared' },
          dynamic_resources: {
            ads_config: {
              api_type: 'GRPC',
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
                typed_extension_protocol_options: {
                  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
                    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
                    explicit_http_config: { http2_protocol_options: {} },
                  },
                },
                load_assignment: {
                  cluster_name: 'xds',
                  endpoints: [
                    {
                      lb_endpoints: [
                        {
                          endpoint: {
                            address: { socket_address: { address: '127.0.0.1', port_value: cp.port } },
                          },
                        },
                      ],
                    },
                  ],
                },
              },
            ],
          },
        }),
        { format: 'json' },
      ),
      { logLevel: 'off' },
    );
    closer.add(() => proxy.close());
    const ports = ['a', 'b'].map((n) => proxy.runtime()?.listeners.get(n)?.port ?? 0);
    expect(await Promise.all(ports.map(routesTag))).toEqual(['v1', 'v1']);
    // WHEN only the route configuration changes (applied in place, no listener re-bound)
    const swaps = proxy.swaps();
    cache.setSnapshot('shared', snapshot(up.port, 'v2'));
    // THEN both listeners answer with it
    await expect.poll(() => Promise.all(ports.map(routesTag)), { timeout: 5000 }).toEqual(['v2', 'v2']);
    expect(proxy.swaps()).toBe(swaps);
  }, 30_000);
});
