/**
 * LDS: sidecar inbound listeners (mTLS, RBAC authorization, local rate limit, access log, then the
 * local app), the sidecar's outbound listener (one HTTP listener on the egress port; TCP backends
 * get one listener each), gateway listeners, and the API listeners proxyless gRPC clients resolve.
 */
import type { AccessLog, AuthorizationRule, Mesh, PathMatch, ServicePort } from '../../model/types.js';
import {
  type CertificateSource,
  downstreamTls,
  mtlsOn,
  serviceIdentity,
  trustDomain,
} from './private/tls.js';
import { adsSource, type Json, socketAddress, typed } from './private/util.js';
import { clusterWeights, routesForPort, SOURCE_HEADER } from './routes.js';

const HCM = 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** Fields of Envoy's default access log line, as JSON (when the model asks for `json`). */
const JSON_LOG_FORMAT: Json = {
  authority: '%REQ(:AUTHORITY)%',
  bytes_received: '%BYTES_RECEIVED%',
  bytes_sent: '%BYTES_SENT%',
  duration: '%DURATION%',
  method: '%REQ(:METHOD)%',
  path: '%REQ(X-ENVOY-ORIGINAL-PATH?:PATH)%',
  protocol: '%PROTOCOL%',
  request_id: '%REQ(X-REQUEST-ID)%',
  response_code: '%RESPONSE_CODE%',
  response_flags: '%RESPONSE_FLAGS%',
  start_time: '%START_TIME%',
  upstream_host: '%UPSTREAM_HOST%',
  user_agent: '%REQ(USER-AGENT)%',
};

/** Access log entries for an HCM (none when logging is off). */
export function accessLogs(log: AccessLog | undefined): Json[] {
  if (log?.enabled !== true) return [];
  return [
    typed('envoy.access_loggers.file', 'envoy.extensions.access_loggers.file.v3.FileAccessLog', {
      path: log.path ?? '/dev/stdout',
      ...(log.format === 'json' ? { log_format: { json_format: JSON_LOG_FORMAT } } : {}),
    }),
  ];
}

/** The router filter, always last. */
export function routerFilter(): Json {
  return typed('envoy.filters.http.router', 'envoy.extensions.filters.http.router.v3.Router');
}

/** An empty fault filter: the faults themselves are per route. */
export function faultFilter(): Json {
  return typed('envoy.filters.http.fault', 'envoy.extensions.filters.http.fault.v3.HTTPFault');
}

/** An HTTP connection manager fed by RDS. */
export function hcm(
  statPrefix: string,
  routeConfigName: string,
  httpFilters: Json[],
  log: AccessLog | undefined,
): Json {
  return typed('envoy.filters.network.http_connection_manager', HCM, {
    stat_prefix: statPrefix,
    codec_type: 'AUTO',
    rds: { route_config_name: routeConfigName, config_source: adsSource() },
    http_filters: httpFilters,
    ...(accessLogs(log).length > 0 ? { access_log: accessLogs(log) } : {}),
  });
}

function pathPermission(path: PathMatch): Json {
  const matcher: Json =
    path.kind === 'exact'
      ? { exact: path.value }
      : path.kind === 'prefix'
        ? { prefix: path.value }
        : { safe_regex: { regex: path.value } };
  return { url_path: { path: matcher } };
}

function rulePermission(rule: AuthorizationRule): Json {
  const parts: Json[] = [];
  if ((rule.paths ?? []).length > 0)
    parts.push({ or_rules: { rules: (rule.paths ?? []).map(pathPermission) } });
  if ((rule.methods ?? []).length > 0) {
    parts.push({
      or_rules: {
        rules: (rule.methods ?? []).map((m) => ({ header: { name: ':method', string_match: { exact: m } } })),
      },
    });
  }
  if (parts.length === 0) return { any: true };
  return parts.length === 1 && parts[0] !== undefined ? parts[0] : { and_rules: { rules: parts } };
}

/**
 * Principals for a rule's callers. With mTLS the caller is proven by its certificate's SPIFFE id;
 * without, the caller's sidecar stamps {@link SOURCE_HEADER} (asserted, not proven: documented).
 */
function rulePrincipals(mesh: Mesh, rule: AuthorizationRule): Json[] {
  const tls = mtlsOn(mesh);
  return rule.from.map((from): Json => {
    if (from === '*') {
      return tls
        ? { authenticated: { principal_name: { prefix: `spiffe://${trustDomain(mesh)}/` } } }
        : { header: { name: SOURCE_HEADER, present_match: true } };
    }
    return tls
      ? { authenticated: { principal_name: { exact: serviceIdentity(mesh, from) } } }
      : { header: { name: SOURCE_HEADER, string_match: { exact: from } } };
  });
}

/** The RBAC filter for a service's authorization, or nothing when it allows all. */
export function rbacFilter(mesh: Mesh, serviceName: string): Json | undefined {
  const auth = mesh.services[serviceName]?.authorization;
  if (auth === undefined || auth.action === 'allow-all') return undefined;
  const policies: Json = {};
  for (const [i, rule] of (auth.rules ?? []).entries()) {
    policies[`rule-${i}`] = { permissions: [rulePermission(rule)], principals: rulePrincipals(mesh, rule) };
  }
  return typed('envoy.filters.http.rbac', 'envoy.extensions.filters.http.rbac.v3.RBAC', {
    rules: { action: 'ALLOW', policies },
  });
}

/** Whether a service (or any of its routes) has a rate limit: then the inbound HCM carries the filter. */
function usesRateLimit(mesh: Mesh, serviceName: string, port: ServicePort): boolean {
  const service = mesh.services[serviceName];
  const base = service?.policy?.rateLimit ?? mesh.defaults?.rateLimit;
  return (
    base !== undefined ||
    routesForPort(mesh, serviceName, port).some((r) => r.policy?.rateLimit !== undefined)
  );
}

/** Where an inbound listener binds and where its local app is. */
export interface InboundAddress {
  /** Address the listener binds. */
  readonly bindHost: string;
  /** Listener port. */
  readonly port: number;
}

/** A sidecar's inbound listener for one service port. */
export function inboundListener(
  mesh: Mesh,
  serviceName: string,
  port: ServicePort,
  address: InboundAddress,
  certificates: CertificateSource,
): Json {
  const name = `inbound|${port.port}`;
  const log = mesh.services[serviceName]?.accessLog ?? mesh.accessLog;
  let filters: Json[];
  if (port.protocol === 'tcp') {
    filters = [
      typed('envoy.filters.network.tcp_proxy', 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', {
        stat_prefix: `inbound_${port.port}`,
        cluster: `local|${port.port}`,
        ...(accessLogs(log).length > 0 ? { access_log: accessLogs(log) } : {}),
      }),
    ];
  } else {
    const http: Json[] = [];
    const rbac = rbacFilter(mesh, serviceName);
    if (rbac !== undefined) http.push(rbac);
    if (usesRateLimit(mesh, serviceName, port)) {
      http.push(
        typed(
          'envoy.filters.http.local_ratelimit',
          'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
          {
            stat_prefix: 'inbound_ratelimit',
            // Disabled at the filter level: the limits are per route (RDS), and each route's config
            // replaces this one whole, enabling itself. The bucket is there because the bundled
            // proxy requires one; with the filter off it never counts.
            token_bucket: { max_tokens: 1, tokens_per_fill: 1, fill_interval: '1s' },
            filter_enabled: {
              default_value: { numerator: 0, denominator: 'HUNDRED' },
              runtime_key: 'crossmesh.ratelimit',
            },
          },
        ),
      );
    }
    http.push(routerFilter());
    filters = [hcm(`inbound_${port.port}`, name, http, log)];
  }
  const mode = mesh.security?.mtls ?? 'off';
  const base = { name, address: socketAddress(address.bindHost, address.port) };
  if (mode === 'off') return { ...base, filter_chains: [{ filters }] };
  const tlsChain = { filters, transport_socket: downstreamTls(mesh, serviceName, certificates) };
  if (mode === 'strict') return { ...base, filter_chains: [tlsChain] };
  // Permissive: the TLS inspector sends TLS clients to the mTLS chain and the rest to plain text.
  return {
    ...base,
    listener_filters: [
      typed(
        'envoy.filters.listener.tls_inspector',
        'envoy.extensions.filters.listener.tls_inspector.v3.TlsInspector',
      ),
    ],
    filter_chains: [{ ...tlsChain, filter_chain_match: { transport_protocol: 'tls' } }, { filters }],
  };
}

/** The outbound HTTP listener a sidecar's app sends every mesh call to. */
export function outboundListener(port: number, httpFilters: Json[], log: AccessLog | undefined): Json {
  return {
    name: 'outbound',
    address: socketAddress('127.0.0.1', port),
    filter_chains: [{ filters: [hcm('outbound', 'outbound', httpFilters, log)] }],
  };
}

/** An outbound TCP listener for one TCP backend port; the backend's first route gives the split. */
export function tcpOutboundListener(mesh: Mesh, key: string, port: number, log: AccessLog | undefined): Json {
  const [backend = '', portText = ''] = key.split(':');
  const servicePort = mesh.services[backend]?.ports.find((p) => String(p.port) === portText);
  const route = servicePort === undefined ? undefined : routesForPort(mesh, backend, servicePort)[0];
  const weights = clusterWeights(mesh, backend, Number(portText), route?.destinations ?? [{}]);
  const target: Json =
    weights.length === 1 && weights[0] !== undefined
      ? { cluster: weights[0][0] }
      : { weighted_clusters: { clusters: weights.map(([name, weight]) => ({ name, weight })) } };
  return {
    name: `outbound|${key}`,
    address: socketAddress('127.0.0.1', port),
    filter_chains: [
      {
        filters: [
          typed('envoy.filters.network.tcp_proxy', 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy', {
            stat_prefix: `outbound_${backend}_${portText}`,
            ...target,
            ...(accessLogs(log).length > 0 ? { access_log: accessLogs(log) } : {}),
          }),
        ],
      },
    ],
  };
}

/** An API listener for proxyless gRPC clients (`xds:///<name>`). */
export function apiListener(name: string, routeConfigName: string, httpFilters: Json[]): Json {
  return {
    name,
    api_listener: {
      api_listener: {
        '@type': `type.googleapis.com/${HCM}`,
        stat_prefix: 'proxyless',
        rds: { route_config_name: routeConfigName, config_source: adsSource() },
        http_filters: httpFilters,
      },
    },
  };
}
