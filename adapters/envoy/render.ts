/**
 * The Envoy renderer: a canonical mesh and a placement in, per-proxy Envoy v3 resources out.
 * Pure and deterministic (sorted keys, sorted resource lists), so the control plane can hash the
 * output into snapshot versions that change only when the configuration does.
 *
 * Semantics follow App Mesh: an application calls another service by its mesh host name
 * (`<service>.<domain>`) through its own sidecar's outbound listener; the route of the called
 * service picks a version cluster; the version's sidecars receive on their inbound listeners
 * (mTLS, authorization, rate limit) and hand the request to their local app.
 */
import type { Mesh } from '../../model/types.js';
import { type ControlPlaneAddress, envoyBootstrap } from './bootstrap.js';
import { egressHostCluster, h2Options, localAppCluster, meshClusters, meshEndpoints } from './clusters.js';
import {
  apiListener,
  faultFilter,
  inboundListener,
  outboundListener,
  routerFilter,
  tcpOutboundListener,
} from './listeners.js';
import {
  gatewayNodeId,
  meshDomain,
  PROXYLESS_NODE,
  primaryPort,
  sidecarNodeId,
  sortedKeys,
} from './names.js';
import {
  type GatewayPlacement,
  type Placement,
  type SidecarPlacement,
  staticPlacement,
} from './placement.js';
import { type CertificateSource, DEFAULT_CERTIFICATES, mtlsOn, workloadSecrets } from './private/tls.js';
import { type Json, sortKeys } from './private/util.js';
import {
  backendVirtualHosts,
  headerMatcher,
  inboundRouteConfig,
  outboundRoute,
  outboundRouteConfig,
  routesForPort,
  SOURCE_HEADER,
  serviceDomains,
  usesFault,
} from './routes.js';

/** The resources of one proxy, each list sorted by name. */
export interface EnvoyResources {
  /** CDS. */
  readonly clusters: readonly Json[];
  /** EDS (ClusterLoadAssignment). */
  readonly endpoints: readonly Json[];
  /** LDS. */
  readonly listeners: readonly Json[];
  /** RDS. */
  readonly routes: readonly Json[];
  /** SDS. */
  readonly secrets: readonly Json[];
}

/** One proxy: its node identity, bootstrap and resources. */
export interface EnvoyProxy {
  /** Node id (`sidecar/<service>/<version>/<i>` or `gateway/<name>/<i>`). */
  readonly id: string;
  /** Node cluster: the service or `gateway-<name>`. */
  readonly cluster: string;
  /** What the proxy fronts. */
  readonly kind: 'sidecar' | 'gateway';
  /** Bootstrap that points the proxy at the control plane. */
  readonly bootstrap: Json;
  /** Resources the control plane serves to this node. */
  readonly resources: EnvoyResources;
}

/** Output of the Envoy target. */
export interface EnvoyOutput {
  /** Mesh name. */
  readonly mesh: string;
  /** Every proxy, sorted by id. */
  readonly proxies: readonly EnvoyProxy[];
  /** Resources for proxyless gRPC clients, served to any node id not in `proxies` ({@link PROXYLESS_NODE}). */
  readonly proxyless: EnvoyResources;
}

/** Options of the Envoy target. */
export interface EnvoyRenderOptions {
  /** Where proxies listen and instances answer. @default - {@link staticPlacement} */
  readonly placement?: Placement;
  /** Where the control plane answers. @default - `control-plane:18000` */
  readonly controlPlane?: ControlPlaneAddress;
  /** Certificate files for mTLS. @default - `/etc/crossmesh/certs` */
  readonly certificates?: CertificateSource;
}

/** Default control-plane address of the static placement (the compose service). */
export const DEFAULT_CONTROL_PLANE: ControlPlaneAddress = { host: 'control-plane', port: 18000 };

const byName = (a: Json, b: Json) =>
  String(a.name ?? a.cluster_name).localeCompare(String(b.name ?? b.cluster_name));

/** Objects already key-sorted (shared between proxies by the per-render cache): sorted once. */
const SORTED = new WeakSet<Json>();

function sorted(value: Json): Json {
  if (SORTED.has(value)) return value;
  const out = sortKeys(value);
  SORTED.add(out);
  return out;
}

function resources(parts: {
  clusters: Json[];
  endpoints: Json[];
  listeners: Json[];
  routes: Json[];
  secrets: Json[];
}): EnvoyResources {
  return {
    clusters: parts.clusters.sort(byName).map(sorted),
    endpoints: parts.endpoints.sort(byName).map(sorted),
    listeners: parts.listeners.sort(byName).map(sorted),
    routes: parts.routes.sort(byName).map(sorted),
    secrets: parts.secrets.sort(byName).map(sorted),
  };
}

/**
 * Pieces every sidecar of one service shares (its outbound routes, the clusters and endpoints it
 * can reach), built once per render and reused as the same sorted objects: with 2,000 sidecars
 * this is most of the render, and the snapshot builder then serializes each shared object once.
 */
interface ServicePieces {
  readonly outbound: Json;
  readonly filters: Json[];
  readonly clusters: readonly Json[];
  readonly endpoints: readonly Json[];
}

type RenderCache = Map<string, ServicePieces>;

function endpointsFor(
  mesh: Mesh,
  placement: Placement,
  services: readonly string[],
  cache: Map<string, Json[]>,
): Json[] {
  return services.flatMap((name) => {
    let list = cache.get(name);
    if (list === undefined) {
      list = meshEndpoints(mesh, placement, [name]).map(sorted);
      cache.set(name, list);
    }
    return list;
  });
}

/**
 * Every service a caller can reach through the given backends: the backends themselves, plus the
 * services their routes send or mirror to (a cross-service destination is still the caller's call).
 */
export function reachableServices(mesh: Mesh, backends: readonly string[]): string[] {
  const out = new Set<string>();
  for (const backend of backends) {
    if (mesh.services[backend] === undefined) continue;
    out.add(backend);
    for (const route of mesh.services[backend]?.routes ?? []) {
      for (const d of route.destinations ?? []) if (d.service !== undefined) out.add(d.service);
      if (route.mirror !== undefined) out.add(route.mirror.service);
    }
  }
  return [...out].sort();
}

function httpFilters(routeConfigs: readonly Json[]): Json[] {
  const routes = routeConfigs.flatMap((rc) =>
    (rc.virtual_hosts as Json[]).flatMap((vh) => vh.routes as Json[]),
  );
  return usesFault(routes) ? [faultFilter(), routerFilter()] : [routerFilter()];
}

function servicePieces(
  mesh: Mesh,
  placement: Placement,
  serviceName: string,
  endpointCache: Map<string, Json[]>,
  certificates: CertificateSource,
): ServicePieces {
  const service = mesh.services[serviceName];
  const backends = [...(service?.backends ?? [])];
  const reachable = reachableServices(mesh, backends);
  const outbound = outboundRouteConfig(
    mesh,
    'outbound',
    serviceName,
    reachable.filter((r) => backends.includes(r)),
  );
  // Wildcard hosts need a dynamic forward proxy, which the bundled proxy does not have: only exact
  // host names get a virtual host and cluster (capabilities.ts says so).
  const egressHosts =
    mesh.egress?.mode === 'deny-unknown'
      ? [...(mesh.egress.hosts ?? [])].filter((h) => !h.includes('*')).sort()
      : [];
  for (const host of egressHosts) {
    (outbound.virtual_hosts as Json[]).push({
      name: `egress|${host}`,
      domains: [host, `${host}:80`],
      routes: [{ match: { prefix: '/' }, route: { cluster: `egress|${host}` } }],
    });
  }
  return {
    outbound: sorted(outbound),
    filters: httpFilters([outbound]),
    clusters: [
      ...meshClusters(mesh, placement, reachable, { workload: serviceName, proxyless: false, certificates }),
      ...egressHosts.map((h) => egressHostCluster(mesh, h)),
    ].map(sorted),
    endpoints: endpointsFor(mesh, placement, reachable, endpointCache),
  };
}

function sidecar(
  mesh: Mesh,
  placement: Placement,
  s: SidecarPlacement,
  options: EnvoyRenderOptions,
  cache: RenderCache,
  endpointCache: Map<string, Json[]>,
): EnvoyProxy {
  const service = mesh.services[s.service];
  if (service === undefined) throw new RangeError(`placement names unknown service ${s.service}`);
  let pieces = cache.get(s.service);
  if (pieces === undefined) {
    pieces = servicePieces(
      mesh,
      placement,
      s.service,
      endpointCache,
      options.certificates ?? DEFAULT_CERTIFICATES,
    );
    cache.set(s.service, pieces);
  }
  const log = service.accessLog ?? mesh.accessLog;
  const outbound = pieces.outbound;
  const clusters: Json[] = [...pieces.clusters];
  const listeners: Json[] = [outboundListener(s.egressPort, pieces.filters, log)];
  const routes: Json[] = [outbound];
  for (const port of service.ports) {
    const inbound = s.inboundPorts[port.port];
    const app = s.appPorts[port.port];
    if (inbound === undefined || app === undefined) continue;
    clusters.push(localAppCluster(port.port, port.protocol, s.appHost, app));
    listeners.push(
      inboundListener(
        mesh,
        s.service,
        port,
        { bindHost: s.bindHost, port: inbound },
        options.certificates ?? DEFAULT_CERTIFICATES,
      ),
    );
    if (port.protocol !== 'tcp')
      routes.push(inboundRouteConfig(mesh, s.service, port, `inbound|${port.port}`));
  }
  for (const key of sortedKeys(s.tcpEgressPorts)) {
    const port = s.tcpEgressPorts[key];
    if (port !== undefined) listeners.push(tcpOutboundListener(mesh, key, port, log));
  }
  const id = sidecarNodeId(s.service, s.version, s.index);
  return {
    id,
    cluster: s.service,
    kind: 'sidecar',
    bootstrap: sortKeys(
      envoyBootstrap(id, s.service, s.adminPort, options.controlPlane ?? DEFAULT_CONTROL_PLANE),
    ),
    resources: resources({
      clusters,
      endpoints: [...pieces.endpoints],
      listeners,
      routes,
      secrets: mtlsOn(mesh)
        ? workloadSecrets(mesh, s.service, options.certificates ?? DEFAULT_CERTIFICATES)
        : [],
    }),
  };
}

/** Host name of one gateway route on the gateway's internal hop. */
function gatewayRouteHost(gateway: string, route: string): string {
  return `${route}.${gateway}.gateway.internal`;
}

/**
 * A gateway proxy. Gateway routes pick the service; that service's own routes (weights, retries,
 * faults) must still apply, exactly as for a sidecar's call. So the gateway forwards over an
 * internal hop to its own outbound listener, with the host set to a per-gateway-route name whose
 * virtual host carries the service's routes: one code path for mesh routing, no route merging.
 */
function gateway(
  mesh: Mesh,
  placement: Placement,
  g: GatewayPlacement,
  options: EnvoyRenderOptions,
): EnvoyProxy {
  const model = mesh.gateways?.[g.name];
  if (model === undefined) throw new RangeError(`placement names unknown gateway ${g.name}`);
  const workload = `gateway-${g.name}`;
  const log = model.accessLog ?? mesh.accessLog;
  const targets = [...new Set(model.routes.map((r) => r.service))].sort();
  const reachable = reachableServices(mesh, targets);
  const internalVhosts: Json[] = [];
  for (const gr of model.routes) {
    const service = mesh.services[gr.service];
    if (service === undefined) continue;
    const port = primaryPort(service);
    const defaultHost = gr.rewrite?.host ?? `${gr.service}.${meshDomain(mesh)}`;
    internalVhosts.push({
      name: gatewayRouteHost(g.name, gr.name),
      domains: [gatewayRouteHost(g.name, gr.name)],
      routes: routesForPort(mesh, gr.service, port).map((r) => {
        const route = outboundRoute(mesh, gr.service, port, r, false);
        const action = route.route as Json | undefined;
        if (action !== undefined && action.host_rewrite_literal === undefined)
          action.host_rewrite_literal = defaultHost;
        return route;
      }),
    });
  }
  const internal: Json = {
    name: 'outbound',
    virtual_hosts: internalVhosts,
    request_headers_to_add: [
      { header: { key: SOURCE_HEADER, value: workload }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
    ],
  };
  const listeners: Json[] = [outboundListener(g.egressPort, httpFilters([internal]), log)];
  const routes: Json[] = [internal];
  const gatewayRoutes: Json[] = model.routes.map((gr) => {
    const match = routeMatchForGateway(gr);
    return {
      name: gr.name,
      match,
      route: {
        cluster: 'gateway|internal',
        host_rewrite_literal: gatewayRouteHost(g.name, gr.name),
        timeout: '0s',
        ...(gr.rewrite?.prefix === undefined ? {} : { prefix_rewrite: gr.rewrite.prefix }),
      },
    };
  });
  for (const l of model.listeners) {
    const port = g.listenerPorts[l.port];
    if (port === undefined) continue;
    const name = `gateway|${l.port}`;
    routes.push({
      name,
      virtual_hosts: [{ name: g.name, domains: [...(model.hosts ?? ['*'])], routes: gatewayRoutes }],
    });
    const listener = outboundListener(port, [routerFilter()], log);
    const chain = (listener.filter_chains as Json[])[0] as Json;
    const hcmConfig = ((chain.filters as Json[])[0] as Json).typed_config as Json;
    hcmConfig.stat_prefix = `gateway_${l.port}`;
    (hcmConfig.rds as Json).route_config_name = name;
    if (l.tls !== undefined) {
      chain.transport_socket = {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
          common_tls_context: {
            tls_certificates: [
              {
                certificate_chain: { filename: l.tls.certificateFile },
                private_key: { filename: l.tls.privateKeyFile },
              },
            ],
            ...(l.protocol === 'http' ? {} : { alpn_protocols: ['h2', 'http/1.1'] }),
          },
        },
      };
    }
    listeners.push({
      ...listener,
      name,
      address: { socket_address: { address: g.bindHost, port_value: port } },
    });
  }
  const id = gatewayNodeId(g.name, g.index);
  return {
    id,
    cluster: workload,
    kind: 'gateway',
    bootstrap: sortKeys(
      envoyBootstrap(id, workload, g.adminPort, options.controlPlane ?? DEFAULT_CONTROL_PLANE),
    ),
    resources: resources({
      clusters: [
        ...meshClusters(mesh, placement, reachable, {
          workload,
          proxyless: false,
          certificates: options.certificates ?? DEFAULT_CERTIFICATES,
        }),
        {
          name: 'gateway|internal',
          type: 'STATIC',
          connect_timeout: '1s',
          load_assignment: {
            cluster_name: 'gateway|internal',
            endpoints: [
              {
                lb_endpoints: [
                  {
                    endpoint: {
                      address: { socket_address: { address: '127.0.0.1', port_value: g.egressPort } },
                    },
                  },
                ],
              },
            ],
          },
          // The internal listener's codec is AUTO, so HTTP/2 carries both gRPC and HTTP/1 calls.
          typed_extension_protocol_options: h2Options(),
        },
      ],
      endpoints: meshEndpoints(mesh, placement, reachable),
      listeners,
      routes,
      secrets: mtlsOn(mesh)
        ? workloadSecrets(mesh, workload, options.certificates ?? DEFAULT_CERTIFICATES)
        : [],
    }),
  };
}

function routeMatchForGateway(gr: NonNullable<Mesh['gateways']>[string]['routes'][number]): Json {
  const m = gr.match;
  const headers = [...(m?.headers ?? [])];
  const match: Json = {};
  if (m?.grpcService !== undefined) match.prefix = `/${m.grpcService}/`;
  else if (m?.path?.kind === 'exact') match.path = m.path.value;
  else if (m?.path?.kind === 'regex') match.safe_regex = { regex: m.path.value };
  else match.prefix = m?.path?.value ?? '/';
  const hostHeader: Json[] =
    m?.host === undefined
      ? []
      : [
          m.host.startsWith('*.')
            ? { name: ':authority', string_match: { suffix: m.host.slice(1) } }
            : { name: ':authority', string_match: { exact: m.host } },
        ];
  const all = [...headers.map(headerMatcher), ...hostHeader];
  if (all.length > 0) match.headers = all;
  return match;
}

/** Proxyless resources: an API listener per service host name, one route config, every cluster. */
function proxyless(mesh: Mesh, placement: Placement): EnvoyResources {
  const services = sortedKeys(mesh.services);
  const routeConfig: Json = { name: 'proxyless', virtual_hosts: backendVirtualHosts(mesh, services, true) };
  const filters = httpFilters([routeConfig]);
  const listeners: Json[] = [];
  for (const name of services) {
    for (const port of mesh.services[name]?.ports ?? []) {
      if (port.protocol === 'tcp') continue;
      for (const domain of serviceDomains(mesh, name, port))
        listeners.push(apiListener(domain, 'proxyless', filters));
    }
  }
  return resources({
    // Proxyless clients get no TLS (grpc-js-xds reads certificates from its own bootstrap plugins).
    clusters: meshClusters(mesh, placement, services, {
      workload: PROXYLESS_NODE,
      proxyless: true,
      certificates: DEFAULT_CERTIFICATES,
    }),
    endpoints: meshEndpoints(mesh, placement, services),
    listeners,
    routes: [routeConfig],
    secrets: [],
  });
}

/** Renders a canonical mesh into Envoy resources for every proxy of the placement. */
export function renderEnvoy(mesh: Mesh, options: EnvoyRenderOptions = {}): EnvoyOutput {
  const placement = options.placement ?? staticPlacement(mesh);
  const cache: RenderCache = new Map();
  const endpointCache = new Map<string, Json[]>();
  const proxies = [
    ...placement.sidecars.map((s) => sidecar(mesh, placement, s, options, cache, endpointCache)),
    ...placement.gateways.map((g) => gateway(mesh, placement, g, options)),
  ].sort((a, b) => a.id.localeCompare(b.id));
  return { mesh: mesh.name, proxies, proxyless: proxyless(mesh, placement) };
}
