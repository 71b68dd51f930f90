// Cross-field start-up checks (proxy/config/semantic.ts) through the real loader and descriptors.
// Nothing is stood in.
import { describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { HCM_TYPE, loadBootstrap, ROUTER_TYPE } from '../../../proxy/config/index.js';

interface Shape {
  readonly listenerAddress?: string;
  readonly listenerNames?: readonly string[];
  readonly routes?: string;
  readonly filters?: string;
  readonly clusters?: string;
  readonly transportSocket?: string;
}

/** A config whose parts can be swapped; defaults form a valid config. */
function config(shape: Shape = {}): string {
  const names = shape.listenerNames ?? ['main'];
  const listeners = names
    .map(
      (name) => `
  - name: ${name}
    address: { socket_address: { address: ${shape.listenerAddress ?? '127.0.0.1'}, port_value: 0 } }
    filter_chains:
    - filters:
      - name: hcm
        typed_config:
          "@type": ${HCM_TYPE}
          stat_prefix: in
          route_config:
            virtual_hosts: ${shape.routes ?? '[{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: web } }] }]'}
          http_filters: ${shape.filters ?? `[{ name: router, typed_config: { "@type": ${ROUTER_TYPE} } }]`}
${shape.transportSocket ?? ''}`,
    )
    .join('');
  const clusters =
    shape.clusters ??
    `
  - name: web
    load_assignment: { cluster_name: web, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }] }`;
  return `static_resources:\n  listeners:${listeners}\n  clusters:${clusters}\n`;
}

function problemsOf(text: string): { path: string; message: string }[] {
  try {
    loadBootstrap(text, { onWarning: () => undefined });
  } catch (err) {
    if (err instanceof MeshError) return err.problems.map((p) => ({ path: p.path, message: p.message }));
    throw err;
  }
  return [];
}

const HCM = 'static_resources.listeners[0].filter_chains[0].filters[0].typed_config';

describe('start-up checks', () => {
  test('the default shape is valid', () => {
    // GIVEN the unmodified config
    // THEN it loads
    expect(problemsOf(config())).toEqual([]);
  });

  test('a route to an unknown cluster is refused with the known clusters', () => {
    // GIVEN routes naming a missing cluster, directly and weighted
    const routes =
      '[{ name: all, domains: ["*"], routes: [{ match: { prefix: /a }, route: { cluster: nope } }, { match: { prefix: / }, route: { weighted_clusters: { clusters: [{ name: web, weight: 1 }, { name: gone, weight: 1 }] } } }] }]';
    // WHEN loaded
    const problems = problemsOf(config({ routes }));
    // THEN both are named
    expect(problems.map((p) => p.path)).toEqual([
      `${HCM}.route_config.virtual_hosts[0].routes[0].route.cluster`,
      `${HCM}.route_config.virtual_hosts[0].routes[1].route.weighted_clusters.clusters[1].name`,
    ]);
    expect(problems[0]?.message).toContain("unknown cluster 'nope'");
  });

  test('validate_clusters: false turns the cluster check off, as in Envoy', () => {
    // GIVEN an unknown cluster with validation off
    const text = config({
      routes:
        '[{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, route: { cluster: later } }] }]',
    }).replace('route_config:\n', 'route_config:\n            validate_clusters: false\n');
    // THEN it loads
    expect(problemsOf(text)).toEqual([]);
  });

  test('weights must add up to something positive', () => {
    // GIVEN zero weights
    const routes =
      '[{ name: all, domains: ["*"], routes: [{ match: { prefix: / }, route: { weighted_clusters: { clusters: [{ name: web, weight: 0 }] } } }] }]';
    // THEN the weighted_clusters are named
    expect(problemsOf(config({ routes }))[0]?.message).toContain('must be greater than 0');
  });

  test('a domain in two virtual hosts is refused', () => {
    // GIVEN two vhosts sharing a domain (case-insensitively)
    const routes =
      '[{ name: a, domains: ["x.com"], routes: [{ match: { prefix: / }, route: { cluster: web } }] }, { name: b, domains: ["X.com"], routes: [{ match: { prefix: / }, route: { cluster: web } }] }]';
    // THEN the duplicate is named
    expect(problemsOf(config({ routes })).map((p) => p.path)).toEqual([
      `${HCM}.route_config.virtual_hosts[1].domains[0]`,
    ]);
  });

  test('the router must end the HTTP filter chain', () => {
    // GIVEN a fault filter after the router
    const filters = `[{ name: router, typed_config: { "@type": ${ROUTER_TYPE} } }, { name: fault, typed_config: { "@type": type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault } }]`;
    // THEN both misplacements are named
    const problems = problemsOf(config({ filters }));
    expect(problems.map((p) => p.path)).toEqual([`${HCM}.http_filters[0]`, `${HCM}.http_filters[1]`]);
    expect(problems[1]?.message).toContain('non-terminal filter named fault is the last filter');
  });

  test('duplicate cluster and listener names are refused', () => {
    // GIVEN two listeners and two clusters with the same names
    const cluster = `
  - name: web
    load_assignment: { cluster_name: web, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: 1 } } } }] }] }`;
    // THEN the second of each is named
    const problems = problemsOf(config({ listenerNames: ['a', 'a'], clusters: cluster + cluster }));
    expect(problems.map((p) => p.path)).toEqual([
      'static_resources.clusters[1].name',
      'static_resources.listeners[1].name',
    ]);
  });

  test('addresses: STATIC endpoints and listeners take IPs, LOGICAL_DNS takes one endpoint', () => {
    // GIVEN a hostname in a STATIC cluster and in a listener, and a two-endpoint LOGICAL_DNS cluster
    const clusters = `
  - name: web
    load_assignment: { cluster_name: web, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: backend, port_value: 1 } } } }] }] }
  - name: dns
    type: LOGICAL_DNS
    load_assignment: { cluster_name: dns, endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: a, port_value: 1 } } } }, { endpoint: { address: { socket_address: { address: b, port_value: 1 } } } }] }] }`;
    // THEN each is named
    const problems = problemsOf(config({ clusters, listenerAddress: 'localhost' }));
    expect(problems.map((p) => p.path)).toEqual([
      'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address',
      'static_resources.clusters[1].load_assignment.endpoints',
      'static_resources.listeners[0].address.socket_address.address',
    ]);
    expect(problems[0]?.message).toContain('use STRICT_DNS for hostnames');
  });

  test('a downstream TLS context needs a certificate', () => {
    // GIVEN a TLS listener without certificates
    const transportSocket = `      transport_socket:
        name: tls
        typed_config: { "@type": type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext }`;
    // THEN the missing certificates are named
    expect(problemsOf(config({ transportSocket }))[0]?.message).toContain('no TLS certificates');
  });

  test('a listener without an address is refused', () => {
    // GIVEN a listener with no address
    const text = config().replace(
      / {4}address: \{ socket_address: \{ address: 127\.0\.0\.1, port_value: 0 \} \}\n/,
      '',
    );
    // THEN its address is named
    expect(problemsOf(text).map((p) => p.path)).toEqual(['static_resources.listeners[0].address']);
  });
});
