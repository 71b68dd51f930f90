// proxy/config/envoy.ts is hand-written; this test keeps it honest against Envoy's real descriptors:
// every top-level property of each interface must be a field of the message it describes.
// (Inline nested object types are not checked; their parents are.) Nothing is stood in.
import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { envoyRegistry } from '../../../proxy/config/descriptors.js';

const MESSAGES: Readonly<Record<string, string>> = {
  SocketAddress: 'envoy.config.core.v3.SocketAddress',
  Pipe: 'envoy.config.core.v3.Pipe',
  Address: 'envoy.config.core.v3.Address',
  DataSource: 'envoy.config.core.v3.DataSource',
  HeaderValue: 'envoy.config.core.v3.HeaderValue',
  HeaderValueOption: 'envoy.config.core.v3.HeaderValueOption',
  Node: 'envoy.config.core.v3.Node',
  Locality: 'envoy.config.core.v3.Locality',
  RuntimeFractionalPercent: 'envoy.config.core.v3.RuntimeFractionalPercent',
  FractionalPercent: 'envoy.type.v3.FractionalPercent',
  Percent: 'envoy.type.v3.Percent',
  Int64Range: 'envoy.type.v3.Int64Range',
  RuntimeUInt32: 'envoy.config.core.v3.RuntimeUInt32',
  RuntimeFeatureFlag: 'envoy.config.core.v3.RuntimeFeatureFlag',
  TransportSocket: 'envoy.config.core.v3.TransportSocket',
  ConfigSource: 'envoy.config.core.v3.ConfigSource',
  ApiConfigSource: 'envoy.config.core.v3.ApiConfigSource',
  GrpcService: 'envoy.config.core.v3.GrpcService',
  RegexMatcher: 'envoy.type.matcher.v3.RegexMatcher',
  StringMatcher: 'envoy.type.matcher.v3.StringMatcher',
  Bootstrap: 'envoy.config.bootstrap.v3.Bootstrap',
  StaticResources: 'envoy.config.bootstrap.v3.Bootstrap.StaticResources',
  DynamicResources: 'envoy.config.bootstrap.v3.Bootstrap.DynamicResources',
  Admin: 'envoy.config.bootstrap.v3.Admin',
  Listener: 'envoy.config.listener.v3.Listener',
  ListenerFilter: 'envoy.config.listener.v3.ListenerFilter',
  FilterChain: 'envoy.config.listener.v3.FilterChain',
  FilterChainMatch: 'envoy.config.listener.v3.FilterChainMatch',
  NetworkFilter: 'envoy.config.listener.v3.Filter',
  HttpConnectionManager: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager',
  UpgradeConfig:
    'envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager.UpgradeConfig',
  Rds: 'envoy.extensions.filters.network.http_connection_manager.v3.Rds',
  HttpFilter: 'envoy.extensions.filters.network.http_connection_manager.v3.HttpFilter',
  TcpProxy: 'envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
  HttpProtocolOptions: 'envoy.config.core.v3.HttpProtocolOptions',
  Http1ProtocolOptions: 'envoy.config.core.v3.Http1ProtocolOptions',
  Http2ProtocolOptions: 'envoy.config.core.v3.Http2ProtocolOptions',
  UpstreamHttpProtocolOptions: 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
  TlsParameters: 'envoy.extensions.transport_sockets.tls.v3.TlsParameters',
  TlsCertificate: 'envoy.extensions.transport_sockets.tls.v3.TlsCertificate',
  CertificateValidationContext: 'envoy.extensions.transport_sockets.tls.v3.CertificateValidationContext',
  SdsSecretConfig: 'envoy.extensions.transport_sockets.tls.v3.SdsSecretConfig',
  CommonTlsContext: 'envoy.extensions.transport_sockets.tls.v3.CommonTlsContext',
  DownstreamTlsContext: 'envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext',
  UpstreamTlsContext: 'envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
  Secret: 'envoy.extensions.transport_sockets.tls.v3.Secret',
  RouteConfiguration: 'envoy.config.route.v3.RouteConfiguration',
  VirtualHost: 'envoy.config.route.v3.VirtualHost',
  Route: 'envoy.config.route.v3.Route',
  RouteMatch: 'envoy.config.route.v3.RouteMatch',
  HeaderMatcher: 'envoy.config.route.v3.HeaderMatcher',
  QueryParameterMatcher: 'envoy.config.route.v3.QueryParameterMatcher',
  RouteAction: 'envoy.config.route.v3.RouteAction',
  WeightedCluster: 'envoy.config.route.v3.WeightedCluster',
  HashPolicy: 'envoy.config.route.v3.RouteAction.HashPolicy',
  RetryPolicy: 'envoy.config.route.v3.RetryPolicy',
  RedirectAction: 'envoy.config.route.v3.RedirectAction',
  DirectResponseAction: 'envoy.config.route.v3.DirectResponseAction',
  RouterFilter: 'envoy.extensions.filters.http.router.v3.Router',
  TokenBucket: 'envoy.type.v3.TokenBucket',
  LocalRateLimit: 'envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit',
  LocalRateLimitDescriptor: 'envoy.extensions.common.ratelimit.v3.LocalRateLimitDescriptor',
  RateLimit: 'envoy.config.route.v3.RateLimit',
  RateLimitAction: 'envoy.config.route.v3.RateLimit.Action',
  HttpFault: 'envoy.extensions.filters.http.fault.v3.HTTPFault',
  Rbac: 'envoy.extensions.filters.http.rbac.v3.RBAC',
  AccessLog: 'envoy.config.accesslog.v3.AccessLog',
  SubstitutionFormatString: 'envoy.config.core.v3.SubstitutionFormatString',
  FileAccessLog: 'envoy.extensions.access_loggers.file.v3.FileAccessLog',
  StdoutAccessLog: 'envoy.extensions.access_loggers.stream.v3.StdoutAccessLog',
  StderrAccessLog: 'envoy.extensions.access_loggers.stream.v3.StderrAccessLog',
  Cluster: 'envoy.config.cluster.v3.Cluster',
  ClusterLoadAssignment: 'envoy.config.endpoint.v3.ClusterLoadAssignment',
  LocalityLbEndpoints: 'envoy.config.endpoint.v3.LocalityLbEndpoints',
  LbEndpoint: 'envoy.config.endpoint.v3.LbEndpoint',
  Endpoint: 'envoy.config.endpoint.v3.Endpoint',
  CircuitBreakers: 'envoy.config.cluster.v3.CircuitBreakers',
  CircuitBreakerThresholds: 'envoy.config.cluster.v3.CircuitBreakers.Thresholds',
  OutlierDetection: 'envoy.config.cluster.v3.OutlierDetection',
  HealthCheck: 'envoy.config.core.v3.HealthCheck',
};

/** Top-level property names of each exported interface in envoy.ts (depth-1 `readonly x` lines). */
function interfaceFields(source: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  let current: string | undefined;
  let depth = 0;
  for (const line of source.split('\n')) {
    const start = /^export interface (\w+)/.exec(line);
    if (start?.[1] !== undefined) {
      current = start[1];
      out.set(current, []);
      depth = 0;
    }
    if (current === undefined) continue;
    const field = /^ {2}readonly (?:'([^']+)'|(\w+))\??:/.exec(line);
    if (depth === 1 && field !== null) {
      const name = field[1] ?? field[2];
      if (name !== undefined) out.get(current)?.push(name);
    }
    for (const ch of line) {
      if (ch === '{') depth++;
      else if (ch === '}') depth--;
    }
    if (depth === 0 && line.startsWith('}')) current = undefined;
  }
  return out;
}

describe('envoy.ts', () => {
  test('every interface property is a field of its Envoy message', () => {
    // GIVEN the interfaces and the registry
    const source = readFileSync(new URL('../../../proxy/config/envoy.ts', import.meta.url), 'utf8');
    const fields = interfaceFields(source);
    const registry = envoyRegistry();
    const wrong: string[] = [];
    // WHEN each property is looked up in its message
    for (const [iface, message] of Object.entries(MESSAGES)) {
      const desc = registry.getMessage(message);
      const names = fields.get(iface);
      if (desc === undefined || names === undefined || names.length === 0) {
        wrong.push(`${iface} -> ${message}`);
        continue;
      }
      for (const n of names) {
        if (n !== '@type' && !desc.fields.some((f) => f.name === n)) wrong.push(`${iface}.${n}`);
      }
    }
    // THEN all exist
    expect(wrong).toEqual([]);
  });

  test('every message-shaped interface is covered by this test', () => {
    // GIVEN the exported interfaces
    const source = readFileSync(new URL('../../../proxy/config/envoy.ts', import.meta.url), 'utf8');
    // WHEN compared with the mapping (AnyConfig and XdsResourceTypes are not messages)
    const unmapped = [...interfaceFields(source).keys()].filter(
      (i) => MESSAGES[i] === undefined && i !== 'AnyConfig' && i !== 'XdsResourceTypes',
    );
    // THEN none is forgotten
    expect(unmapped).toEqual([]);
  });
});
