/**
 * Stage 7 of loading a bootstrap: the cross-field checks Envoy makes when it builds its listeners
 * and clusters, which no single proto rule expresses. Runs only on a config that passed every
 * earlier stage, so the fields the protos require are present. Each one refuses a config Envoy refuses too,
 * with Envoy's wording where it has one, so a config that loads here also starts in Envoy:
 * - every listener has an address; cluster names are unique; named listeners are unique;
 * - routes of an inline route_config name existing clusters (Envoy's validate_clusters default);
 * - weighted clusters have a positive total (and match total_weight when it is given);
 * - a domain appears in only one virtual host of a route configuration;
 * - an HTTP filter chain ends with the router and has it nowhere else;
 * - STATIC cluster endpoints and listener addresses are IP addresses; LOGICAL_DNS has one endpoint;
 * - a downstream TLS context has a certificate;
 * - `dynamic_resources` names an ADS cluster the xDS client can reach (issue 7);
 * - a Unix socket path fits `sun_path`, an abstract one has no mode, pipe endpoints are STATIC.
 */
import { isIP } from 'node:net';
import type { Problem } from '../../errors/index.js';
import {
  type Bootstrap,
  type Cluster,
  DOWNSTREAM_TLS_TYPE,
  type DownstreamTlsContext,
  HCM_TYPE,
  type HttpConnectionManager,
  type Pipe,
  ROUTER_TYPE,
  type RouteConfiguration,
  type UpstreamHttpProtocolOptions,
} from './envoy.js';

/** Appends every cross-field problem of a canonical bootstrap. */
export function checkSemantics(bootstrap: Bootstrap, problems: Problem[]): void {
  const clusters = bootstrap.static_resources?.clusters ?? [];
  const names = new Map<string, number>();
  clusters.forEach((c, i) => {
    const path = `static_resources.clusters[${i}]`;
    const first = names.get(c.name);
    if (first !== undefined) {
      invalid(
        problems,
        `${path}.name`,
        `duplicate cluster '${c.name}' (also static_resources.clusters[${first}])`,
        c.name,
      );
    } else names.set(c.name, i);
    checkCluster(c, path, problems);
  });
  const listenerNames = new Map<string, number>();
  (bootstrap.static_resources?.listeners ?? []).forEach((l, i) => {
    const path = `static_resources.listeners[${i}]`;
    if (l.name !== undefined) {
      const first = listenerNames.get(l.name);
      if (first !== undefined) {
        invalid(
          problems,
          `${path}.name`,
          `duplicate listener name '${l.name}' (also static_resources.listeners[${first}])`,
          l.name,
        );
      } else listenerNames.set(l.name, i);
    }
    // The proto does not require an address, but Envoy refuses a listener without one.
    if (l.address === undefined) {
      invalid(problems, `${path}.address`, 'a listener needs an address', undefined, 'an address');
      return;
    }
    checkPipe(l.address.pipe, `${path}.address.pipe`, problems);
    const ip = l.address.socket_address?.address;
    if (ip !== undefined && isIP(ip) === 0) {
      invalid(
        problems,
        `${path}.address.socket_address.address`,
        `malformed IP address: ${ip}`,
        ip,
        'an IPv4 or IPv6 address',
      );
    }
    (l.filter_chains ?? []).forEach((chain, j) => {
      const chainPath = `${path}.filter_chains[${j}]`;
      const tls = chain.transport_socket?.typed_config;
      if (
        tls?.['@type'] === DOWNSTREAM_TLS_TYPE &&
        ((tls as DownstreamTlsContext).common_tls_context?.tls_certificates ?? []).length === 0
      ) {
        invalid(
          problems,
          `${chainPath}.transport_socket.typed_config.common_tls_context.tls_certificates`,
          'no TLS certificates found for server context',
          undefined,
          'at least one certificate',
        );
      }
      (chain.filters ?? []).forEach((f, k) => {
        if (f.typed_config?.['@type'] !== HCM_TYPE) return;
        checkHcm(
          f.typed_config as HttpConnectionManager,
          `${chainPath}.filters[${k}].typed_config`,
          names,
          problems,
        );
      });
    });
  });
  if (bootstrap.dynamic_resources !== undefined) checkDynamicResources(bootstrap, problems);
  checkPipe(bootstrap.admin?.address?.pipe, 'admin.address.pipe', problems);
}

/**
 * Envoy's checks on a Unix socket address (Address::PipeInstance): the path fits `sun_path` (108
 * bytes with its terminating NUL) and an abstract socket (`@name`) takes no mode.
 */
function checkPipe(pipe: Pipe | undefined, path: string, problems: Problem[]): void {
  if (pipe === undefined) return;
  if (Buffer.byteLength(pipe.path) >= 108) {
    invalid(
      problems,
      `${path}.path`,
      `Path "${pipe.path}" exceeds maximum UNIX domain socket path size of 108.`,
      pipe.path,
      'a path of at most 107 bytes',
    );
  }
  if (pipe.path.startsWith('@') && (pipe.mode ?? 0) !== 0) {
    invalid(
      problems,
      `${path}.mode`,
      'Cannot set mode for Abstract AF_UNIX sockets',
      pipe.mode,
      'no mode on an abstract (@name) socket',
    );
  }
}

/**
 * `dynamic_resources` (issue 7): what the xDS client (proxy/xds/) can run. Envoy's own check
 * (Config::Utility::checkApiConfigSourceSubscriptionBackingCluster) wants the ADS cluster defined
 * statically and not EDS; the bundled client speaks plaintext gRPC to one address, so it also
 * wants that cluster STATIC or STRICT_DNS with one endpoint, HTTP/2 and no transport socket.
 */
function checkDynamicResources(bootstrap: Bootstrap, problems: Problem[]): void {
  const dynamic = bootstrap.dynamic_resources ?? {};
  const path = 'dynamic_resources';
  const unsupported = (at: string, message: string, value: unknown, allowed: string) =>
    problems.push({ code: 'PROXY_E_UNSUPPORTED', path: at, message: `${at}: ${message}`, value, allowed });
  for (const key of ['lds_config', 'cds_config'] as const) {
    if (dynamic[key] === undefined) {
      unsupported(
        `${path}.${key}`,
        'the bundled proxy fetches listeners and clusters together over ADS: set both lds_config and cds_config to `ads: {}`',
        undefined,
        '{ ads: {}, resource_api_version: V3 }',
      );
    }
  }
  const ads = dynamic.ads_config;
  if (ads === undefined) {
    unsupported(
      `${path}.ads_config`,
      'lds_config and cds_config fetch over ADS, which needs ads_config',
      undefined,
      'an ads_config with api_type GRPC and one envoy_grpc service',
    );
    return;
  }
  const services = ads.grpc_services ?? [];
  if (services.length !== 1) {
    invalid(
      problems,
      `${path}.ads_config.grpc_services`,
      `API configs must have exactly one gRPC service, got ${services.length}`,
      services.length,
      'exactly one envoy_grpc service',
    );
    return;
  }
  const name = services[0]?.envoy_grpc?.cluster_name;
  const namePath = `${path}.ads_config.grpc_services[0].envoy_grpc.cluster_name`;
  if (name === undefined) {
    unsupported(
      `${path}.ads_config.grpc_services[0]`,
      'the ADS service must be envoy_grpc naming a static cluster',
      undefined,
      'envoy_grpc: { cluster_name: <a static cluster> }',
    );
    return;
  }
  const clusters = bootstrap.static_resources?.clusters ?? [];
  const index = clusters.findIndex((c) => c.name === name);
  const cluster = clusters[index];
  if (cluster === undefined) {
    invalid(
      problems,
      namePath,
      `envoy::config::core::v3::ApiConfigSource must have a statically defined non-EDS cluster: '${name}' does not exist`,
      name,
      clusters.map((c) => c.name).join(', ') || 'a cluster of static_resources.clusters',
    );
    return;
  }
  const clusterPath = `static_resources.clusters[${index}]`;
  const type = cluster.type ?? 'STATIC';
  if (type !== 'STATIC' && type !== 'STRICT_DNS') {
    unsupported(
      `${clusterPath}.type`,
      `the ADS cluster '${name}' must be STATIC or STRICT_DNS, got ${type}`,
      type,
      'STATIC or STRICT_DNS',
    );
  }
  const endpoints = (cluster.load_assignment?.endpoints ?? []).flatMap((g) => g.lb_endpoints ?? []);
  const address = endpoints[0]?.endpoint?.address;
  if (endpoints.length !== 1 || (address?.socket_address === undefined && address?.pipe === undefined)) {
    unsupported(
      `${clusterPath}.load_assignment.endpoints`,
      `the ADS cluster '${name}' must have exactly one endpoint with a socket address or a pipe (the control plane), got ${endpoints.length}`,
      endpoints.length,
      'one lb_endpoint with a socket_address or a pipe',
    );
  }
  const options = cluster.typed_extension_protocol_options?.[
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions'
  ] as UpstreamHttpProtocolOptions | undefined;
  if (options?.explicit_http_config?.http2_protocol_options === undefined) {
    invalid(
      problems,
      `${clusterPath}.typed_extension_protocol_options`,
      `the ADS cluster '${name}' speaks gRPC, which needs HTTP/2`,
      undefined,
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions with explicit_http_config.http2_protocol_options (or the legacy http2_protocol_options)',
    );
  }
  if (cluster.transport_socket !== undefined) {
    unsupported(
      `${clusterPath}.transport_socket`,
      `the bundled proxy's xDS client speaks plaintext HTTP/2 (h2c) to the ADS cluster '${name}'`,
      cluster.transport_socket.name,
      'no transport_socket on the ADS cluster',
    );
  }
}

function checkCluster(c: Cluster, path: string, problems: Problem[]): void {
  const type = c.type ?? 'STATIC';
  const groups = c.load_assignment?.endpoints ?? [];
  groups.forEach((g, i) => {
    (g.lb_endpoints ?? []).forEach((e, j) => {
      const pipe = e.endpoint?.address?.pipe;
      const at = `${path}.load_assignment.endpoints[${i}].lb_endpoints[${j}].endpoint.address.pipe`;
      checkPipe(pipe, at, problems);
      // DNS clusters resolve socket addresses; a Unix socket has nothing to resolve.
      if (pipe !== undefined && type !== 'STATIC') {
        invalid(
          problems,
          at,
          `a ${type} cluster resolves host names; pipe (Unix socket) endpoints need a STATIC cluster`,
          pipe.path,
          'a STATIC cluster',
        );
      }
    });
  });
  if (type === 'STATIC') {
    groups.forEach((g, i) => {
      (g.lb_endpoints ?? []).forEach((e, j) => {
        const address = e.endpoint?.address?.socket_address?.address;
        if (address !== undefined && isIP(address) === 0) {
          invalid(
            problems,
            `${path}.load_assignment.endpoints[${i}].lb_endpoints[${j}].endpoint.address.socket_address.address`,
            `malformed IP address: ${address} (a STATIC cluster takes IP addresses; use STRICT_DNS for hostnames)`,
            address,
            'an IPv4 or IPv6 address',
          );
        }
      });
    });
  }
  if (type === 'LOGICAL_DNS') {
    const endpoints = groups.reduce((n, g) => n + (g.lb_endpoints?.length ?? 0), 0);
    if (groups.length !== 1 || endpoints !== 1) {
      invalid(
        problems,
        `${path}.load_assignment.endpoints`,
        'LOGICAL_DNS clusters must have a single locality_lb_endpoint and a single lb_endpoint',
        undefined,
        'exactly one endpoint',
      );
    }
  }
}

function checkHcm(
  hcm: HttpConnectionManager,
  path: string,
  clusters: ReadonlyMap<string, number>,
  problems: Problem[],
) {
  const filters = hcm.http_filters ?? [];
  filters.forEach((f, i) => {
    const terminal = f.typed_config?.['@type'] === ROUTER_TYPE;
    const last = i === filters.length - 1;
    if (terminal && !last) {
      invalid(
        problems,
        `${path}.http_filters[${i}]`,
        `terminal filter named ${f.name} of type envoy.filters.http.router must be the last filter in a http filter chain`,
        f.name,
        'the router last',
      );
    } else if (!terminal && last) {
      invalid(
        problems,
        `${path}.http_filters[${i}]`,
        `non-terminal filter named ${f.name} is the last filter in a http filter chain`,
        f.name,
        'the router (envoy.filters.http.router) last',
      );
    }
  });
  if (hcm.route_config !== undefined)
    checkRoutes(hcm.route_config, `${path}.route_config`, clusters, problems);
}

function checkRoutes(
  rc: RouteConfiguration,
  path: string,
  clusters: ReadonlyMap<string, number>,
  problems: Problem[],
): void {
  // Envoy validates cluster names of statically loaded route configs unless told not to.
  const validate = rc.validate_clusters !== false;
  const known = [...clusters.keys()].sort().join(', ') || 'none';
  const domains = new Map<string, string>();
  (rc.virtual_hosts ?? []).forEach((vh, i) => {
    const vhPath = `${path}.virtual_hosts[${i}]`;
    vh.domains.forEach((d, j) => {
      const key = d.toLowerCase();
      if (domains.has(key)) {
        invalid(
          problems,
          `${vhPath}.domains[${j}]`,
          `only unique values for domains are permitted: duplicate entry of domain ${d} (also in virtual host ${domains.get(key)})`,
          d,
          'each domain in one virtual host',
        );
      } else domains.set(key, vh.name);
    });
    (vh.routes ?? []).forEach((r, k) => {
      const action = r.route;
      if (action === undefined) return;
      const routePath = `${vhPath}.routes[${k}].route`;
      if (validate && action.cluster !== undefined && !clusters.has(action.cluster)) {
        invalid(
          problems,
          `${routePath}.cluster`,
          `unknown cluster '${action.cluster}'`,
          action.cluster,
          `a static cluster: ${known}`,
        );
      }
      // proxy-dynamic: Envoy validates mirror clusters too ("route: unknown shadow cluster").
      (action.request_mirror_policies ?? []).forEach((m, n) => {
        if (validate && !clusters.has(m.cluster)) {
          invalid(
            problems,
            `${routePath}.request_mirror_policies[${n}].cluster`,
            `unknown shadow cluster '${m.cluster}'`,
            m.cluster,
            `a static cluster: ${known}`,
          );
        }
      });
      const weighted = action.weighted_clusters;
      if (weighted === undefined) return;
      let total = 0;
      weighted.clusters.forEach((wc, w) => {
        total += wc.weight ?? 0;
        if (validate && !clusters.has(wc.name)) {
          invalid(
            problems,
            `${routePath}.weighted_clusters.clusters[${w}].name`,
            `unknown weighted cluster '${wc.name}'`,
            wc.name,
            `a static cluster: ${known}`,
          );
        }
      });
      if (total <= 0) {
        invalid(
          problems,
          `${routePath}.weighted_clusters`,
          'sum of weights in the weighted_cluster must be greater than 0',
          total,
          'a positive total',
        );
      } else if (weighted.total_weight !== undefined && weighted.total_weight !== total) {
        invalid(
          problems,
          `${routePath}.weighted_clusters.total_weight`,
          `sum of weights in the weighted_cluster (${total}) should add up to total_weight (${weighted.total_weight})`,
          weighted.total_weight,
          String(total),
        );
      }
    });
  });
}

function invalid(problems: Problem[], path: string, what: string, value: unknown, allowed?: string): void {
  problems.push({
    code: 'PROXY_E_INVALID',
    path,
    message: `${path}: ${what}`,
    ...(value === undefined ? {} : { value }),
    ...(allowed === undefined ? {} : { allowed }),
  });
}
