// The strict loader on bootstraps with `dynamic_resources` (issue 7): the real loader and Envoy's
// real descriptors, no stand-ins. What the xDS client can run loads; every variant it cannot run
// (REST, path sources, google_grpc, an ADS cluster without HTTP/2...) is refused naming the field.
import { describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { dynamicParts } from '../../../proxy/xds/bootstrap.js';

const H2 = {
  'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
    '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
    explicit_http_config: { http2_protocol_options: {} },
  },
};

type Json = Record<string, unknown>;

/** A valid dynamic bootstrap, with `edit` applied to a deep copy. */
function bootstrap(
  edit: (b: Json & { dynamic_resources: Json; xds: Json }) => void = () => undefined,
): string {
  const xds: Json = {
    name: 'xds',
    type: 'STRICT_DNS',
    connect_timeout: '1s',
    typed_extension_protocol_options: structuredClone(H2),
    load_assignment: {
      cluster_name: 'xds',
      endpoints: [
        {
          lb_endpoints: [{ endpoint: { address: { socket_address: { address: 'cp', port_value: 18000 } } } }],
        },
      ],
    },
  };
  const b = {
    node: { id: 'n1', cluster: 'c1', metadata: { a: [1, 'x', { b: true }] }, locality: { region: 'r' } },
    dynamic_resources: {
      ads_config: {
        api_type: 'GRPC',
        transport_api_version: 'V3',
        grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }],
        set_node_on_first_message_only: true,
      },
      lds_config: { ads: {}, resource_api_version: 'V3', initial_fetch_timeout: '0s' },
      cds_config: { ads: {}, resource_api_version: 'V3' },
    } as Json,
    static_resources: { clusters: [xds] },
    xds,
  };
  edit(b);
  const { xds: _xds, ...rest } = b;
  return JSON.stringify(rest);
}

function problemsOf(text: string): { code: string; path: string; message: string }[] {
  try {
    loadBootstrap(text, { format: 'json', onWarning: () => undefined });
  } catch (error) {
    expect(error).toBeInstanceOf(MeshError);
    return (error as MeshError).problems.map((p) => ({ code: p.code, path: p.path, message: p.message }));
  }
  return [];
}

const ads = (b: { dynamic_resources: Json }) => b.dynamic_resources.ads_config as Json;

describe('dynamic_resources', () => {
  test('an ADS bootstrap loads, and the xDS client reads its node, server and options from it', () => {
    // GIVEN a bootstrap with ADS over an HTTP/2 STRICT_DNS cluster
    // WHEN loaded
    const loaded = loadBootstrap(bootstrap(), { format: 'json' });
    const parts = dynamicParts(loaded);
    // THEN the client gets the control plane address, the whole node and the first-message option
    expect(parts.server).toBe('cp:18000');
    expect(parts.clusterType).toBe('STRICT_DNS');
    expect(parts.nodeOnFirstMessageOnly).toBe(true);
    expect(parts.protocol).toBe('sotw');
    expect(parts.node).toEqual({
      id: 'n1',
      cluster: 'c1',
      metadata: { a: [1, 'x', { b: true }] },
      locality: { region: 'r' },
    });
    // AND the static part every state keeps holds the xDS cluster
    expect(parts.base.static_resources?.clusters?.map((c) => c.name)).toEqual(['xds']);
  });

  test('the legacy http2_protocol_options and DELTA_GRPC are accepted', () => {
    // GIVEN the legacy HTTP/2 spelling on a STATIC cluster, and incremental ADS
    const text = bootstrap((b) => {
      delete b.xds.typed_extension_protocol_options;
      b.xds.http2_protocol_options = {};
      b.xds.type = 'STATIC';
      (b.xds.load_assignment as { endpoints: { lb_endpoints: Json[] }[] }).endpoints = [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: 1 } } } },
          ],
        },
      ];
      ads(b).api_type = 'DELTA_GRPC';
    });
    // WHEN loaded
    // THEN nothing is refused
    expect(problemsOf(text)).toEqual([]);
  });

  test.each([
    [
      'REST',
      (b: { dynamic_resources: Json }) => {
        ads(b).api_type = 'REST';
      },
      'PROXY_E_UNSUPPORTED',
      'dynamic_resources.ads_config.api_type',
    ],
    [
      'a path config source',
      (b: { dynamic_resources: Json }) => {
        b.dynamic_resources.lds_config = { path_config_source: { path: '/etc/lds.yaml' } };
      },
      'PROXY_E_UNSUPPORTED',
      'dynamic_resources.lds_config.path_config_source',
    ],
    [
      'google_grpc',
      (b: { dynamic_resources: Json }) => {
        ads(b).grpc_services = [{ google_grpc: { target_uri: 'cp:1', stat_prefix: 'x' } }];
      },
      'PROXY_E_UNSUPPORTED',
      'dynamic_resources.ads_config.grpc_services[0].google_grpc',
    ],
    [
      'V2 resources',
      (b: { dynamic_resources: Json }) => {
        (b.dynamic_resources.cds_config as Json).resource_api_version = 'V2';
      },
      'PROXY_E_UNSUPPORTED',
      'dynamic_resources.cds_config.resource_api_version',
    ],
    [
      'no cds_config',
      (b: { dynamic_resources: Json }) => void delete b.dynamic_resources.cds_config,
      'PROXY_E_UNSUPPORTED',
      'dynamic_resources.cds_config',
    ],
    [
      'an unknown ADS cluster',
      (b: { dynamic_resources: Json }) => {
        ads(b).grpc_services = [{ envoy_grpc: { cluster_name: 'nope' } }];
      },
      'PROXY_E_INVALID',
      'dynamic_resources.ads_config.grpc_services[0].envoy_grpc.cluster_name',
    ],
    [
      'two gRPC services',
      (b: { dynamic_resources: Json }) => {
        ads(b).grpc_services = [
          { envoy_grpc: { cluster_name: 'xds' } },
          { envoy_grpc: { cluster_name: 'xds' } },
        ];
      },
      'PROXY_E_INVALID',
      'dynamic_resources.ads_config.grpc_services',
    ],
  ])('%s is refused naming the field', (_what, edit, code, path) => {
    // GIVEN a dynamic bootstrap with one unsupported variant
    const text = bootstrap(edit);
    // WHEN loaded
    const problems = problemsOf(text);
    // THEN exactly that field is named
    expect(problems.map((p) => ({ code: p.code, path: p.path }))).toEqual([{ code, path }]);
  });

  test.each([
    [
      'without HTTP/2',
      (xds: Json) => void delete xds.typed_extension_protocol_options,
      'PROXY_E_INVALID',
      '.typed_extension_protocol_options',
    ],
    [
      'of type LOGICAL_DNS',
      (xds: Json) => {
        xds.type = 'LOGICAL_DNS';
      },
      'PROXY_E_UNSUPPORTED',
      '.type',
    ],
    [
      'with TLS',
      (xds: Json) => {
        xds.transport_socket = {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            sni: 'cp',
          },
        };
      },
      'PROXY_E_UNSUPPORTED',
      '.transport_socket',
    ],
  ])('an ADS cluster %s is refused naming the cluster field', (_what, edit, code, suffix) => {
    // GIVEN the ADS cluster changed
    const text = bootstrap((b) => edit(b.xds));
    // WHEN loaded
    const problems = problemsOf(text);
    // THEN the problem names the cluster's field and says why
    expect(problems.map((p) => ({ code: p.code, path: p.path }))).toEqual([
      { code, path: `static_resources.clusters[0]${suffix}` },
    ]);
    expect(problems[0]?.message).toContain("ADS cluster 'xds'");
  });
});
