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
 * - a downstream TLS context has a certificate.
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
  ROUTER_TYPE,
  type RouteConfiguration,
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
}

function checkCluster(c: Cluster, path: string, problems: Problem[]): void {
  const type = c.type ?? 'STATIC';
  const groups = c.load_assignment?.endpoints ?? [];
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
