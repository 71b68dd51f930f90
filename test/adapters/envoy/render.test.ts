/**
 * The Envoy renderer. Every resource is validated strictly against Envoy's v3 protos with the
 * proxy config loader's `validateEnvoyResource` (descriptors built from @grpc/grpc-js-xds's
 * vendored protos: unknown fields, wrong types, oneof conflicts and Envoy's own field rules are
 * errors), each bootstrap with `fromJson` on the Bootstrap message; then the semantics are
 * checked on the JSON. Nothing is stood in.
 */
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { describe, expect, test } from 'vitest';
import { envoyTarget } from '../../../adapters/envoy/index.js';
import { staticPlacement } from '../../../adapters/envoy/placement.js';
import { type EnvoyOutput, type EnvoyResources, renderEnvoy } from '../../../adapters/envoy/render.js';
import { FEATURE_IDS } from '../../../model/features.js';
import { envoyMessage, envoyRegistry } from '../../../proxy/config/descriptors.js';
import { validateEnvoyResource } from '../../../proxy/config/load.js';
import { kitchenSinkMesh, shopMesh } from './fixtures.js';

type Json = Record<string, unknown>;

const TYPE_URLS = {
  clusters: 'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  endpoints: 'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  listeners: 'type.googleapis.com/envoy.config.listener.v3.Listener',
  routes: 'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  secrets: 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
} as const;

/** Parses every resource of every proxy strictly; returns the failures (resource name + error). */
function strictFailures(output: EnvoyOutput): string[] {
  const failures: string[] = [];
  const sets: [string, EnvoyResources][] = [
    ...output.proxies.map((p): [string, EnvoyResources] => [p.id, p.resources]),
    ['proxyless', output.proxyless],
  ];
  for (const [id, resources] of sets) {
    for (const kind of Object.keys(TYPE_URLS) as (keyof EnvoyResources)[]) {
      for (const resource of resources[kind]) {
        try {
          validateEnvoyResource(TYPE_URLS[kind], resource);
        } catch (error) {
          failures.push(
            `${id} ${kind} ${String(resource.name ?? resource.cluster_name)}: ${(error as Error).message}`,
          );
        }
      }
    }
  }
  for (const proxy of output.proxies) {
    try {
      fromJson(envoyMessage('envoy.config.bootstrap.v3.Bootstrap'), proxy.bootstrap as JsonValue, {
        registry: envoyRegistry(),
      });
    } catch (error) {
      failures.push(`${proxy.id} bootstrap: ${(error as Error).message}`);
    }
  }
  return failures;
}

function proxy(output: EnvoyOutput, id: string) {
  const found = output.proxies.find((p) => p.id === id);
  if (found === undefined)
    throw new Error(`no proxy ${id}; have ${output.proxies.map((p) => p.id).join(', ')}`);
  return found;
}

function named(list: readonly Json[], name: string): Json {
  const found = list.find((r) => r.name === name || r.cluster_name === name);
  if (found === undefined)
    throw new Error(`no resource ${name}; have ${list.map((r) => r.name ?? r.cluster_name).join(', ')}`);
  return found;
}

describe('renderEnvoy', () => {
  test('every resource of the kitchen-sink mesh parses strictly as Envoy v3, in all three mTLS modes', () => {
    for (const mode of ['strict', 'permissive', 'off'] as const) {
      // GIVEN a mesh using every feature the target supports
      const mesh = kitchenSinkMesh(mode);
      // WHEN it is rendered
      const output = renderEnvoy(mesh);
      // THEN nothing is rejected by the protos
      expect(strictFailures(output)).toEqual([]);
    }
  });

  test('the strict check catches a misspelt field and a constraint violation (it is not vacuous)', () => {
    // GIVEN a rendered cluster, once misspelt and once with a negative connect timeout
    const cluster = renderEnvoy(shopMesh()).proxies[0]?.resources.clusters[0] ?? {};
    // WHEN / THEN both are rejected
    expect(() => validateEnvoyResource(TYPE_URLS.clusters, { ...cluster, lb_polcy: 'RANDOM' })).toThrow(
      /lb_polcy/,
    );
    expect(() => validateEnvoyResource(TYPE_URLS.clusters, { ...cluster, connect_timeout: '-1s' })).toThrow(
      /connect_timeout/,
    );
  });

  test('rendering twice gives byte-identical output with sorted keys', () => {
    // GIVEN the same mesh twice
    // WHEN rendered
    const a = JSON.stringify(renderEnvoy(kitchenSinkMesh()));
    const b = JSON.stringify(renderEnvoy(kitchenSinkMesh()));
    // THEN identical, and keys come sorted
    expect(a).toBe(b);
    const cluster = renderEnvoy(shopMesh()).proxies[0]?.resources.clusters[0] ?? {};
    expect(Object.keys(cluster)).toEqual([...Object.keys(cluster)].sort());
  });

  test('one sidecar per instance and one gateway proxy, each with its own node id', () => {
    // GIVEN the kitchen sink (grpcsvc runs 2 instances, db is fixed endpoints without a sidecar)
    const output = renderEnvoy(kitchenSinkMesh());
    // THEN
    expect(output.proxies.map((p) => p.id)).toEqual([
      'gateway/edge/0',
      'sidecar/api/v1/0',
      'sidecar/api/v2/0',
      'sidecar/api/v3/0',
      'sidecar/grpcsvc/v1/0',
      'sidecar/grpcsvc/v1/1',
      'sidecar/web/v1/0',
      'sidecar/web/v2/0',
    ]);
    expect(proxy(output, 'sidecar/web/v1/0').bootstrap).toMatchObject({
      node: { id: 'sidecar/web/v1/0', cluster: 'web' },
      dynamic_resources: { ads_config: { api_type: 'GRPC', transport_api_version: 'V3' } },
    });
  });

  test('the outbound route splits by the model weights and keeps the canary header route first', () => {
    // GIVEN the shop with a 90/10 catalog split
    const output = renderEnvoy(shopMesh());
    // WHEN we look at frontend's outbound routes
    const outbound = named(proxy(output, 'sidecar/frontend/v1/0').resources.routes, 'outbound');
    const catalog = (outbound.virtual_hosts as Json[]).find((vh) => vh.name === 'catalog:8080') as Json;
    const routes = catalog.routes as Json[];
    // THEN the header route goes to v2 alone, the split is 90/10 with 2 retries
    expect(catalog.domains).toEqual([
      'catalog.shop.mesh.local',
      'catalog',
      'catalog.shop.mesh.local:8080',
      'catalog:8080',
    ]);
    expect(routes[0]).toMatchObject({
      name: 'canary-header',
      match: { headers: [{ name: 'x-canary', string_match: { exact: 'true' } }] },
      route: { cluster: 'catalog|v2' },
    });
    expect(routes[1]).toMatchObject({
      name: 'split',
      route: {
        weighted_clusters: {
          clusters: [
            { name: 'catalog|v1', weight: 90 },
            { name: 'catalog|v2', weight: 10 },
          ],
        },
        retry_policy: { num_retries: 2, retry_on: 'gateway-error,connect-failure,reset' },
        timeout: '15s',
      },
    });
    // AND the caller is stamped for authorization without mTLS
    expect(outbound.request_headers_to_add).toEqual([
      {
        append_action: 'OVERWRITE_IF_EXISTS_OR_ADD',
        header: { key: 'x-crossmesh-source', value: 'frontend' },
      },
    ]);
  });

  test('a destination without a version spreads its weight exactly over every version', () => {
    // GIVEN api route `exact`: v1 weight 1 and "every version" weight 1 over v1, v2, v3
    const output = renderEnvoy(kitchenSinkMesh());
    const outbound = named(proxy(output, 'sidecar/web/v1/0').resources.routes, 'outbound');
    const api = (outbound.virtual_hosts as Json[]).find((vh) => vh.name === 'api:8080') as Json;
    const exact = (api.routes as Json[]).find((r) => r.name === 'exact') as Json;
    // THEN v1 gets 1 + 1/3, v2 and v3 1/3 each: 4:1:1 in integers
    expect((exact.route as Json).weighted_clusters).toEqual({
      clusters: [
        { name: 'api|v1', weight: 4 },
        { name: 'api|v2', weight: 1 },
        { name: 'api|v3', weight: 1 },
      ],
    });
    // AND `prefix` (priority 0, declared third) ties with `exact` (position 0) and moves before `regex`
    expect((api.routes as Json[]).map((r) => r.name)).toEqual(['exact', 'prefix', 'regex']);
  });

  test('route features land in the Envoy fields that implement them', () => {
    // GIVEN the kitchen sink's api route `exact`
    const output = renderEnvoy(kitchenSinkMesh());
    const outbound = named(proxy(output, 'sidecar/web/v1/0').resources.routes, 'outbound');
    const api = (outbound.virtual_hosts as Json[]).find((vh) => vh.name === 'api:8080') as Json;
    const exact = (api.routes as Json[]).find((r) => r.name === 'exact') as Json;
    // THEN
    expect(exact.match).toEqual({
      path: '/api/v1/items',
      headers: [
        { name: 'x-p', string_match: { prefix: 'pre' } },
        { name: 'x-s', string_match: { suffix: 'suf' } },
        { name: 'x-r', string_match: { safe_regex: { regex: '^a.*z$' } } },
        { name: 'x-present', present_match: true, invert_match: true },
        { name: 'x-n', range_match: { start: 1, end: 10 } },
        { name: ':method', string_match: { exact: 'GET' } },
      ],
      query_parameters: [
        { name: 'a', string_match: { exact: '1' } },
        { name: 'b', string_match: { safe_regex: { regex: '[0-9]+' } } },
        { name: 'c', present_match: true },
      ],
    });
    expect(exact.route).toMatchObject({
      regex_rewrite: { pattern: { regex: '^.*$' }, substitution: '/items' },
      host_rewrite_literal: 'api.upstream',
      hash_policy: [{ cookie: { name: 'session', ttl: '3600s' } }],
      request_mirror_policies: [
        { cluster: 'api|v3', runtime_fraction: { default_value: { numerator: 5, denominator: 'HUNDRED' } } },
      ],
      retry_policy: {
        num_retries: 3,
        retry_on: '5xx,reset',
        per_try_timeout: '0.500s',
        retry_back_off: { base_interval: '0.010s', max_interval: '1s' },
      },
      timeout: '3s',
      idle_timeout: '60s',
    });
    expect(exact.request_headers_to_add).toEqual([
      { header: { key: 'x-added', value: 'yes' }, append_action: 'APPEND_IF_EXISTS_OR_ADD' },
    ]);
    expect(exact.response_headers_to_remove).toEqual(['server']);
    expect(exact.typed_per_filter_config).toEqual({
      'envoy.filters.http.fault': {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault',
        abort: { http_status: 503, percentage: { numerator: 1, denominator: 'HUNDRED' } },
        delay: { fixed_delay: '0.100s', percentage: { numerator: 125_000, denominator: 'MILLION' } },
      },
    });
    // AND a sidecar without backends only routes the allowed external host
    const apiVhosts = named(proxy(output, 'sidecar/api/v1/0').resources.routes, 'outbound')
      .virtual_hosts as Json[];
    expect(apiVhosts.map((v) => v.name)).toEqual(['egress|api.example.com']);
    // AND a gRPC method match is a path
    const web = (outbound.virtual_hosts as Json[]).find((vh) => vh.name === 'grpcsvc:50051') as Json;
    expect((web.routes as Json[])[0]).toMatchObject({
      match: { path: '/shop.Payments/Charge' },
      route: { cluster: 'grpcsvc|v1' },
    });
  });

  test('the inbound side enforces mTLS, RBAC and rate limits before the local app', () => {
    // GIVEN api with allow-listed callers and a route rate limit, strict mTLS
    const output = renderEnvoy(kitchenSinkMesh('strict'));
    const api = proxy(output, 'sidecar/api/v1/0');
    const inbound = named(api.resources.listeners, 'inbound|8080');
    const chain = (inbound.filter_chains as Json[])[0] as Json;
    // THEN a client certificate is required
    expect(chain.transport_socket).toMatchObject({
      typed_config: { require_client_certificate: true },
    });
    const hcm = ((chain.filters as Json[])[0] as Json).typed_config as Json;
    const filters = hcm.http_filters as Json[];
    expect(filters.map((f) => f.name)).toEqual([
      'envoy.filters.http.rbac',
      'envoy.filters.http.local_ratelimit',
      'envoy.filters.http.router',
    ]);
    // AND the RBAC principal is the caller's SPIFFE id
    const rbac = (filters[0] as Json).typed_config as Json;
    expect(JSON.stringify(rbac)).toContain('spiffe://cluster.local/ns/sink/sa/web');
    // AND the inbound route config rate-limits route `exact` and otherwise goes to the app
    const inboundRoutes = named(api.resources.routes, 'inbound|8080');
    const routes = ((inboundRoutes.virtual_hosts as Json[])[0] as Json).routes as Json[];
    expect(routes.map((r) => r.name)).toEqual(['exact', 'local']);
    expect(routes[0]).toMatchObject({
      typed_per_filter_config: {
        'envoy.filters.http.local_ratelimit': {
          token_bucket: { max_tokens: 20, tokens_per_fill: 10, fill_interval: '1s' },
        },
      },
    });
    expect(named(api.resources.clusters, 'local|8080')).toMatchObject({ type: 'STATIC' });
    // AND the sidecar has its certificate and the trust bundle over SDS
    expect(api.resources.secrets.map((s) => s.name)).toEqual(['identity|api', 'trust|cluster.local']);
  });

  test('certificates as files (no SDS): TLS contexts name the files, no Secret resources', () => {
    // GIVEN strict mTLS rendered for a proxy without SDS, peer identity not checked
    const output = renderEnvoy(kitchenSinkMesh('strict'), {
      certificates: { directory: '/certs', delivery: 'files', verifyPeerIdentity: false },
    });
    // THEN everything still validates, no secrets are served, the files are in the contexts
    expect(strictFailures(output)).toEqual([]);
    const web = proxy(output, 'sidecar/web/v1/0');
    expect(web.resources.secrets).toEqual([]);
    expect(named(web.resources.clusters, 'api|v1')).toMatchObject({
      transport_socket: {
        typed_config: {
          common_tls_context: {
            tls_certificates: [
              {
                certificate_chain: { filename: '/certs/web.pem' },
                private_key: { filename: '/certs/web-key.pem' },
              },
            ],
            validation_context: { trusted_ca: { filename: '/certs/ca.pem' } },
          },
        },
      },
    });
    expect(JSON.stringify(web.resources)).not.toContain('match_typed_subject_alt_names');
  });

  test('permissive mTLS gives a TLS chain and a plain-text chain behind the TLS inspector', () => {
    // GIVEN permissive mode
    const output = renderEnvoy(kitchenSinkMesh('permissive'));
    // WHEN
    const inbound = named(proxy(output, 'sidecar/api/v1/0').resources.listeners, 'inbound|8080');
    // THEN
    expect((inbound.listener_filters as Json[])[0]).toMatchObject({
      name: 'envoy.filters.listener.tls_inspector',
    });
    expect((inbound.filter_chains as Json[]).map((c) => c.filter_chain_match ?? null)).toEqual([
      { transport_protocol: 'tls' },
      null,
    ]);
  });

  test('clusters carry the service policy; HTTP/2 and gRPC ports speak h2 upstream', () => {
    // GIVEN
    const output = renderEnvoy(kitchenSinkMesh('strict'));
    const clusters = proxy(output, 'sidecar/web/v1/0').resources.clusters;
    // THEN api: ring hash, HTTP health check, outlier detection, circuit breakers, mTLS
    expect(named(clusters, 'api|v1')).toMatchObject({
      type: 'EDS',
      lb_policy: 'RING_HASH',
      health_checks: [
        {
          http_health_check: { path: '/healthz', host: 'api.sink.internal' },
          interval: '2s',
          no_traffic_interval: '2s',
        },
      ],
      outlier_detection: { consecutive_5xx: 3 },
      circuit_breakers: {
        thresholds: [{ max_connections: 100, max_pending_requests: 10, max_requests: 50, max_retries: 3 }],
      },
      transport_socket: { typed_config: { sni: 'api.sink.internal' } },
    });
    expect(named(clusters, 'grpcsvc|v1')).toMatchObject({
      lb_policy: 'RANDOM',
      health_checks: [{ grpc_health_check: { service_name: 'shop.Payments' } }],
      typed_extension_protocol_options: {
        'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
          explicit_http_config: { http2_protocol_options: {} },
        },
      },
    });
    // AND db (fixed endpoints, no sidecar) has no TLS, and its TCP port gets its own outbound listener
    expect(named(clusters, 'db|v1').transport_socket).toBeUndefined();
    const listeners = proxy(output, 'sidecar/web/v1/0').resources.listeners.map((l) => l.name);
    expect(listeners).toContain('outbound|db:5432');
    // AND only exact egress hosts are routed
    expect(clusters.map((c) => c.name)).toContain('egress|api.example.com');
    expect(clusters.map((c) => c.name)).not.toContain('egress|*.cdn.example.com');
  });

  test('endpoints list every instance sidecar on its inbound port, fixed endpoints as given', () => {
    // GIVEN the static placement
    const mesh = kitchenSinkMesh();
    const output = renderEnvoy(mesh);
    const endpoints = proxy(output, 'sidecar/web/v1/0').resources.endpoints;
    // THEN grpcsvc v1 has two sidecars, db the fixed address
    const grpc = named(endpoints, 'grpcsvc|v1');
    expect(JSON.stringify(grpc)).toContain('grpcsvc-v1-0');
    expect(JSON.stringify(grpc)).toContain('grpcsvc-v1-1');
    expect(named(endpoints, 'db|v1')).toMatchObject({
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '10.0.0.5', port_value: 8080 } } } },
          ],
        },
      ],
    });
    expect(staticPlacement(mesh).external).toHaveLength(1);
  });

  test('a gateway forwards over its internal hop to the service routes of the target', () => {
    // GIVEN the edge gateway
    const output = renderEnvoy(kitchenSinkMesh());
    const edge = proxy(output, 'gateway/edge/0');
    // WHEN
    const front = named(edge.resources.routes, 'gateway|443');
    const vh = (front.virtual_hosts as Json[])[0] as Json;
    const internal = named(edge.resources.routes, 'outbound');
    // THEN the gateway route matches path, host and header and rewrites the host to its internal name
    expect(vh.domains).toEqual(['shop.example.com', '*.shop.example.com']);
    expect((vh.routes as Json[])[0]).toMatchObject({
      match: {
        prefix: '/api/',
        headers: [
          { name: 'x-user', present_match: true },
          { name: ':authority', string_match: { suffix: '.shop.example.com' } },
        ],
      },
      route: {
        cluster: 'gateway|internal',
        host_rewrite_literal: 'api.edge.gateway.internal',
        prefix_rewrite: '/',
      },
    });
    // AND the internal hop applies api's own routes, setting the gateway's host rewrite
    const apiVh = (internal.virtual_hosts as Json[]).find(
      (v) => v.name === 'api.edge.gateway.internal',
    ) as Json;
    expect((apiVh.routes as Json[]).map((r) => r.name)).toEqual(['exact', 'prefix', 'regex']);
    expect(((apiVh.routes as Json[])[1] as Json).route).toMatchObject({
      host_rewrite_literal: 'api.internal',
    });
    // (a service route's own host rewrite wins over the gateway's)
    expect(((apiVh.routes as Json[])[0] as Json).route).toMatchObject({
      host_rewrite_literal: 'api.upstream',
    });
    // AND the TLS listener terminates with the given files
    expect(JSON.stringify(named(edge.resources.listeners, 'gateway|443'))).toContain('/certs/edge.pem');
  });

  test('proxyless resources: an API listener per service host name, ROUND_ROBIN or RING_HASH only, no mirrors', () => {
    // GIVEN
    const output = renderEnvoy(kitchenSinkMesh());
    // THEN
    const names = output.proxyless.listeners.map((l) => l.name);
    expect(names).toContain('grpcsvc');
    expect(names).toContain('grpcsvc.sink.internal:50051');
    for (const cluster of output.proxyless.clusters) {
      expect(['ROUND_ROBIN', 'RING_HASH']).toContain(cluster.lb_policy);
      expect(cluster.health_checks).toBeUndefined();
      expect(cluster.transport_socket).toBeUndefined();
    }
    expect(JSON.stringify(output.proxyless.routes)).not.toContain('request_mirror_policies');
  });
});

describe('envoyTarget', () => {
  test('declares every model feature and writes a bootstrap and resources per proxy', () => {
    // GIVEN the target
    // THEN its matrix covers exactly the model's features
    expect(Object.keys(envoyTarget.capabilities).sort()).toEqual([...FEATURE_IDS].sort());
    // WHEN it writes files
    const files = envoyTarget.files(envoyTarget.render(shopMesh(), {}));
    // THEN
    expect([...files.keys()]).toContain('proxies/sidecar-catalog-v2-0/bootstrap.json');
    expect([...files.keys()]).toContain('proxies/sidecar-catalog-v2-0/resources.json');
    expect([...files.keys()]).toContain('proxyless/resources.json');
    expect(JSON.parse(files.get('proxies/gateway-web-0/bootstrap.json') ?? '{}')).toMatchObject({
      node: { id: 'gateway/web/0' },
    });
  });
});
