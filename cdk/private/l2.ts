/**
 * Translates the App Mesh renderer's output (API `*Spec` shapes, adapters/appmesh/types.ts) into
 * aws-cdk-lib `aws_appmesh` L2 value objects: `HealthCheck.http(...)`, `RouteSpec.grpc(...)`,
 * `HeaderMatch.valueIs(...)` and so on. The renderer has made every decision (names, resolved and
 * percentage-weighted targets, retry event mapping, TLS sources); this module only picks the L2
 * factory that produces the same CloudFormation, so `cdk deploy` and `crossmesh apply` agree.
 *
 * Where the L2 API has no factory for something the App Mesh API accepts, a small subclass of the
 * L2's own abstract value class fills the gap through its `bind()` extension point, wrapping
 * the L2 output where one exists:
 * - header / gRPC metadata presence match (`HttpRouteHeader` without `match`);
 * - query parameter presence match;
 * - a health check on a port other than its listener's;
 * - a TCP route's port match and a gateway route's target port.
 */
import { Duration } from 'aws-cdk-lib';
import * as appmesh from 'aws-cdk-lib/aws-appmesh';
import * as servicediscovery from 'aws-cdk-lib/aws-servicediscovery';
import type { Construct } from 'constructs';
import type * as am from '../../adapters/appmesh/types.js';

/** An App Mesh duration as a CDK Duration. */
export function duration(d: am.AmDuration): Duration {
  return d.unit === 's' ? Duration.seconds(d.value) : Duration.millis(d.value);
}

const IP_PREFERENCES: Readonly<Record<am.AmIpPreference, appmesh.IpPreference>> = {
  IPv4_ONLY: appmesh.IpPreference.IPV4_ONLY,
  IPv4_PREFERRED: appmesh.IpPreference.IPV4_PREFERRED,
  IPv6_ONLY: appmesh.IpPreference.IPV6_ONLY,
  IPv6_PREFERRED: appmesh.IpPreference.IPV6_PREFERRED,
};

/** A rendered IP preference as the L2 enum. */
export function ipPreference(preference: am.AmIpPreference): appmesh.IpPreference {
  return IP_PREFERENCES[preference];
}

/**
 * A rendered Cloud Map DNS configuration as L2 service options. The L2 gives every record one
 * TTL; the renderer gives them one too, and anything else is refused rather than approximated.
 */
export function cloudMapDns(dns: am.CloudMapDnsConfig | undefined): {
  dnsRecordType?: servicediscovery.DnsRecordType;
  dnsTtl?: Duration;
  routingPolicy?: servicediscovery.RoutingPolicy;
} {
  if (dns === undefined) return {};
  const types = new Set(dns.records.map((r) => r.type));
  const ttls = new Set(dns.records.map((r) => r.ttl));
  const [ttl] = ttls;
  if (ttls.size !== 1 || ttl === undefined || types.size !== dns.records.length) {
    throw new RangeError(
      `Cloud Map DNS records need one TTL and distinct types, got ${JSON.stringify(dns.records)}`,
    );
  }
  return {
    dnsRecordType:
      types.size === 2
        ? servicediscovery.DnsRecordType.A_AAAA
        : types.has('AAAA')
          ? servicediscovery.DnsRecordType.AAAA
          : servicediscovery.DnsRecordType.A,
    dnsTtl: Duration.seconds(ttl),
    routingPolicy: servicediscovery.RoutingPolicy.MULTIVALUE,
  };
}

// ---------------------------------------------------------------------------------------------
// Gap fillers (see the header comment)

/** Header (or gRPC metadata) presence: App Mesh's `HttpRouteHeader` without a `match`. */
class HeaderPresentMatch extends appmesh.HeaderMatch {
  constructor(
    private readonly name: string,
    private readonly invert: boolean,
  ) {
    super();
  }

  override bind(_scope: Construct): appmesh.HeaderMatchConfig {
    return { headerMatch: { name: this.name, invert: this.invert } };
  }
}

/** Query parameter presence: App Mesh's `HttpQueryParameter` without a `match`. */
class QueryParameterPresentMatch extends appmesh.QueryParameterMatch {
  constructor(private readonly name: string) {
    super();
  }

  override bind(_scope: Construct): appmesh.QueryParameterMatchConfig {
    return { queryParameterMatch: { name: this.name } };
  }
}

/** An L2 health check bound to an explicit port instead of its listener's (the L2 always uses the listener's). */
class HealthCheckOnPort extends appmesh.HealthCheck {
  constructor(
    private readonly inner: appmesh.HealthCheck,
    private readonly port: number,
  ) {
    super();
  }

  override bind(scope: Construct, _options: appmesh.HealthCheckBindOptions): appmesh.HealthCheckConfig {
    return this.inner.bind(scope, { defaultPort: this.port });
  }
}

/** The L2 TCP route spec plus the listener port match the L2 does not render (multi-port routers). */
class TcpRouteOnPort extends appmesh.RouteSpec {
  constructor(
    private readonly inner: appmesh.RouteSpec,
    private readonly port: number,
  ) {
    super();
  }

  override bind(scope: Construct): appmesh.RouteSpecConfig {
    const config = this.inner.bind(scope);
    const tcp = config.tcpRouteSpec as appmesh.CfnRoute.TcpRouteProperty;
    return { ...config, tcpRouteSpec: { ...tcp, match: { port: this.port } } };
  }
}

/** The L2 gateway route spec plus the target port the L2 does not render (multi-port services). */
class GatewayRouteToPort extends appmesh.GatewayRouteSpec {
  constructor(
    private readonly inner: appmesh.GatewayRouteSpec,
    private readonly port: number,
  ) {
    super();
  }

  override bind(scope: Construct): appmesh.GatewayRouteSpecConfig {
    const config = this.inner.bind(scope);
    const withPort = <T extends { readonly action: unknown }>(route: T | undefined): T | undefined => {
      if (route === undefined) return undefined;
      const action = route.action as { readonly target: { readonly virtualService: unknown } };
      return { ...route, action: { ...action, target: { ...action.target, port: this.port } } };
    };
    return {
      ...config,
      httpSpecConfig: withPort(config.httpSpecConfig as appmesh.CfnGatewayRoute.HttpGatewayRouteProperty),
      http2SpecConfig: withPort(config.http2SpecConfig as appmesh.CfnGatewayRoute.HttpGatewayRouteProperty),
      grpcSpecConfig: withPort(config.grpcSpecConfig as appmesh.CfnGatewayRoute.GrpcGatewayRouteProperty),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Matches

/** A rendered header / metadata condition as an L2 HeaderMatch. */
export function headerMatch(header: am.HttpRouteHeader): appmesh.HeaderMatch {
  const { name, match } = header;
  const invert = header.invert === true;
  if (match === undefined) return new HeaderPresentMatch(name, invert);
  if ('exact' in match)
    return invert
      ? appmesh.HeaderMatch.valueIsNot(name, match.exact)
      : appmesh.HeaderMatch.valueIs(name, match.exact);
  if ('prefix' in match) {
    return invert
      ? appmesh.HeaderMatch.valueDoesNotStartWith(name, match.prefix)
      : appmesh.HeaderMatch.valueStartsWith(name, match.prefix);
  }
  if ('suffix' in match) {
    return invert
      ? appmesh.HeaderMatch.valueDoesNotEndWith(name, match.suffix)
      : appmesh.HeaderMatch.valueEndsWith(name, match.suffix);
  }
  if ('regex' in match) {
    return invert
      ? appmesh.HeaderMatch.valueDoesNotMatchRegex(name, match.regex)
      : appmesh.HeaderMatch.valueMatchesRegex(name, match.regex);
  }
  const { start, end } = match.range;
  return invert
    ? appmesh.HeaderMatch.valuesIsNotInRange(name, start, end)
    : appmesh.HeaderMatch.valuesIsInRange(name, start, end);
}

/** A rendered query parameter condition as an L2 QueryParameterMatch. */
export function queryParameterMatch(query: am.HttpQueryParameter): appmesh.QueryParameterMatch {
  return query.match === undefined
    ? new QueryParameterPresentMatch(query.name)
    : appmesh.QueryParameterMatch.valueIs(query.name, query.match.exact);
}

function routePath(match: {
  readonly path?: am.HttpRouteMatch['path'];
  readonly prefix?: string;
}): appmesh.HttpRoutePathMatch {
  if (match.path !== undefined) {
    return 'exact' in match.path
      ? appmesh.HttpRoutePathMatch.exactly(match.path.exact)
      : appmesh.HttpRoutePathMatch.regex(match.path.regex);
  }
  return appmesh.HttpRoutePathMatch.startsWith(match.prefix ?? '/');
}

const HTTP_METHODS: Readonly<Record<am.AmHttpMethod, appmesh.HttpRouteMethod>> = {
  GET: appmesh.HttpRouteMethod.GET,
  HEAD: appmesh.HttpRouteMethod.HEAD,
  POST: appmesh.HttpRouteMethod.POST,
  PUT: appmesh.HttpRouteMethod.PUT,
  DELETE: appmesh.HttpRouteMethod.DELETE,
  CONNECT: appmesh.HttpRouteMethod.CONNECT,
  OPTIONS: appmesh.HttpRouteMethod.OPTIONS,
  TRACE: appmesh.HttpRouteMethod.TRACE,
  PATCH: appmesh.HttpRouteMethod.PATCH,
};

// ---------------------------------------------------------------------------------------------
// Listeners: health checks, timeouts, pools, TLS

/** A rendered health check policy as an L2 HealthCheck. */
export function healthCheck(hc: am.HealthCheckPolicy): appmesh.HealthCheck {
  const common = {
    healthyThreshold: hc.healthyThreshold,
    unhealthyThreshold: hc.unhealthyThreshold,
    interval: Duration.millis(hc.intervalMillis),
    timeout: Duration.millis(hc.timeoutMillis),
  };
  const check =
    hc.protocol === 'http'
      ? appmesh.HealthCheck.http({ ...common, ...(hc.path === undefined ? {} : { path: hc.path }) })
      : hc.protocol === 'http2'
        ? appmesh.HealthCheck.http2({ ...common, ...(hc.path === undefined ? {} : { path: hc.path }) })
        : hc.protocol === 'grpc'
          ? appmesh.HealthCheck.grpc(common)
          : appmesh.HealthCheck.tcp(common);
  return hc.port === undefined ? check : new HealthCheckOnPort(check, hc.port);
}

function httpTimeout(t: am.HttpTimeout | undefined): appmesh.HttpTimeout | undefined {
  if (t === undefined) return undefined;
  return {
    ...(t.idle === undefined ? {} : { idle: duration(t.idle) }),
    ...(t.perRequest === undefined ? {} : { perRequest: duration(t.perRequest) }),
  };
}

function tcpTimeout(t: am.TcpTimeout | undefined): appmesh.TcpTimeout | undefined {
  return t === undefined ? undefined : t.idle === undefined ? {} : { idle: duration(t.idle) };
}

function outlierDetection(od: am.OutlierDetection): appmesh.OutlierDetection {
  return {
    baseEjectionDuration: duration(od.baseEjectionDuration),
    interval: duration(od.interval),
    maxEjectionPercent: od.maxEjectionPercent,
    maxServerErrors: od.maxServerErrors,
  };
}

/** A rendered certificate source (SDS or files) as an L2 mutual TLS certificate. */
export function tlsCertificate(c: am.TlsCertificate): appmesh.MutualTlsCertificate {
  return 'sds' in c
    ? appmesh.TlsCertificate.sds(c.sds.secretName)
    : appmesh.TlsCertificate.file(c.file.certificateChain, c.file.privateKey);
}

function trust(t: am.TlsTrust): appmesh.MutualTlsValidationTrust {
  return 'sds' in t
    ? appmesh.TlsValidationTrust.sds(t.sds.secretName)
    : appmesh.TlsValidationTrust.file(t.file.certificateChain);
}

function subjectAlternativeNames(v: am.TlsValidationContext): {
  subjectAlternativeNames?: appmesh.SubjectAlternativeNames;
} {
  const names = v.subjectAlternativeNames?.match.exact;
  return names === undefined
    ? {}
    : { subjectAlternativeNames: appmesh.SubjectAlternativeNames.matchingExactly(...names) };
}

const TLS_MODES: Readonly<Record<am.ListenerTls['mode'], appmesh.TlsMode>> = {
  STRICT: appmesh.TlsMode.STRICT,
  PERMISSIVE: appmesh.TlsMode.PERMISSIVE,
  DISABLED: appmesh.TlsMode.DISABLED,
};

/** A rendered listener TLS block as L2 ListenerTlsOptions (mutual when it has a validation context). */
export function listenerTls(t: am.ListenerTls): appmesh.ListenerTlsOptions {
  return {
    certificate: tlsCertificate(t.certificate),
    mode: TLS_MODES[t.mode],
    ...(t.validation === undefined
      ? {}
      : {
          mutualTlsValidation: { trust: trust(t.validation.trust), ...subjectAlternativeNames(t.validation) },
        }),
  };
}

/** A rendered client policy as an L2 TlsClientPolicy (undefined when it has no TLS). */
export function tlsClientPolicy(policy: am.ClientPolicy | undefined): appmesh.TlsClientPolicy | undefined {
  const tls = policy?.tls;
  if (tls === undefined) return undefined;
  return {
    ...(tls.enforce === undefined ? {} : { enforce: tls.enforce }),
    ...(tls.ports === undefined ? {} : { ports: [...tls.ports] }),
    validation: { trust: trust(tls.validation.trust), ...subjectAlternativeNames(tls.validation) },
    ...(tls.certificate === undefined ? {} : { mutualTlsCertificate: tlsCertificate(tls.certificate) }),
  };
}

/** A rendered file access log as an L2 AccessLog. */
export function accessLog(logging: am.Logging): appmesh.AccessLog {
  const { format, path } = logging.accessLog.file;
  if (format === undefined) return appmesh.AccessLog.fromFilePath(path);
  return appmesh.AccessLog.fromFilePath(
    path,
    'text' in format
      ? appmesh.LoggingFormat.fromText(format.text)
      : appmesh.LoggingFormat.fromJson(Object.fromEntries(format.json.map((e) => [e.key, e.value]))),
  );
}

/** A rendered virtual node listener as an L2 VirtualNodeListener. */
export function virtualNodeListener(l: am.Listener): appmesh.VirtualNodeListener {
  const common = {
    port: l.portMapping.port,
    ...(l.healthCheck === undefined ? {} : { healthCheck: healthCheck(l.healthCheck) }),
    ...(l.outlierDetection === undefined ? {} : { outlierDetection: outlierDetection(l.outlierDetection) }),
    ...(l.tls === undefined ? {} : { tls: listenerTls(l.tls) }),
  };
  const timeout = l.timeout;
  const pool = l.connectionPool;
  switch (l.portMapping.protocol) {
    case 'http': {
      const t = timeout !== undefined && 'http' in timeout ? httpTimeout(timeout.http) : undefined;
      const p = pool !== undefined && 'http' in pool ? pool.http : undefined;
      return appmesh.VirtualNodeListener.http({
        ...common,
        ...(t === undefined ? {} : { timeout: t }),
        // The L2 declares maxPendingRequests required, but renders it only when set; App Mesh
        // makes it optional, and the renderer leaves it out when the model does.
        ...(p === undefined ? {} : { connectionPool: p as appmesh.HttpConnectionPool }),
      });
    }
    case 'http2': {
      const t = timeout !== undefined && 'http2' in timeout ? httpTimeout(timeout.http2) : undefined;
      const p = pool !== undefined && 'http2' in pool ? pool.http2 : undefined;
      return appmesh.VirtualNodeListener.http2({
        ...common,
        ...(t === undefined ? {} : { timeout: t }),
        ...(p === undefined ? {} : { connectionPool: p }),
      });
    }
    case 'grpc': {
      const t = timeout !== undefined && 'grpc' in timeout ? httpTimeout(timeout.grpc) : undefined;
      const p = pool !== undefined && 'grpc' in pool ? pool.grpc : undefined;
      return appmesh.VirtualNodeListener.grpc({
        ...common,
        ...(t === undefined ? {} : { timeout: t }),
        ...(p === undefined ? {} : { connectionPool: p }),
      });
    }
    case 'tcp': {
      const t = timeout !== undefined && 'tcp' in timeout ? tcpTimeout(timeout.tcp) : undefined;
      const p = pool !== undefined && 'tcp' in pool ? pool.tcp : undefined;
      return appmesh.VirtualNodeListener.tcp({
        ...common,
        ...(t === undefined ? {} : { timeout: t }),
        ...(p === undefined ? {} : { connectionPool: p }),
      });
    }
  }
}

/** A rendered virtual router listener as an L2 VirtualRouterListener. */
export function virtualRouterListener(portMapping: am.PortMapping): appmesh.VirtualRouterListener {
  switch (portMapping.protocol) {
    case 'http':
      return appmesh.VirtualRouterListener.http(portMapping.port);
    case 'http2':
      return appmesh.VirtualRouterListener.http2(portMapping.port);
    case 'grpc':
      return appmesh.VirtualRouterListener.grpc(portMapping.port);
    case 'tcp':
      return appmesh.VirtualRouterListener.tcp(portMapping.port);
  }
}

/** A rendered virtual gateway listener as an L2 VirtualGatewayListener. */
export function virtualGatewayListener(l: am.VirtualGatewayListener): appmesh.VirtualGatewayListener {
  const options = {
    port: l.portMapping.port,
    ...(l.tls === undefined
      ? {}
      : {
          tls: {
            certificate: appmesh.TlsCertificate.file(
              l.tls.certificate.file.certificateChain,
              l.tls.certificate.file.privateKey,
            ),
            mode: TLS_MODES[l.tls.mode],
          },
        }),
  };
  switch (l.portMapping.protocol) {
    case 'http':
      return appmesh.VirtualGatewayListener.http(options);
    case 'http2':
      return appmesh.VirtualGatewayListener.http2(options);
    case 'grpc':
      return appmesh.VirtualGatewayListener.grpc(options);
  }
}

// ---------------------------------------------------------------------------------------------
// Routes

const HTTP_RETRY_EVENTS: Readonly<
  Record<NonNullable<am.RetryPolicy['httpRetryEvents']>[number], appmesh.HttpRetryEvent>
> = {
  'server-error': appmesh.HttpRetryEvent.SERVER_ERROR,
  'gateway-error': appmesh.HttpRetryEvent.GATEWAY_ERROR,
  'client-error': appmesh.HttpRetryEvent.CLIENT_ERROR,
  'stream-error': appmesh.HttpRetryEvent.STREAM_ERROR,
};

const GRPC_RETRY_EVENTS: Readonly<
  Record<NonNullable<am.RetryPolicy['grpcRetryEvents']>[number], appmesh.GrpcRetryEvent>
> = {
  cancelled: appmesh.GrpcRetryEvent.CANCELLED,
  'deadline-exceeded': appmesh.GrpcRetryEvent.DEADLINE_EXCEEDED,
  internal: appmesh.GrpcRetryEvent.INTERNAL_ERROR,
  'resource-exhausted': appmesh.GrpcRetryEvent.RESOURCE_EXHAUSTED,
  unavailable: appmesh.GrpcRetryEvent.UNAVAILABLE,
};

function httpRetryPolicy(r: am.RetryPolicy): appmesh.HttpRetryPolicy {
  return {
    retryAttempts: r.maxRetries,
    retryTimeout: duration(r.perRetryTimeout),
    ...(r.httpRetryEvents === undefined
      ? {}
      : { httpRetryEvents: r.httpRetryEvents.map((e) => HTTP_RETRY_EVENTS[e]) }),
    ...(r.tcpRetryEvents === undefined
      ? {}
      : { tcpRetryEvents: r.tcpRetryEvents.map(() => appmesh.TcpRetryEvent.CONNECTION_ERROR) }),
  };
}

function grpcRetryPolicy(r: am.RetryPolicy): appmesh.GrpcRetryPolicy {
  return {
    ...httpRetryPolicy(r),
    ...(r.grpcRetryEvents === undefined
      ? {}
      : { grpcRetryEvents: r.grpcRetryEvents.map((e) => GRPC_RETRY_EVENTS[e]) }),
  };
}

/** Resolves a virtual node / virtual service name to its construct. */
export type Resolve<T> = (name: string) => T;

/**
 * A rendered route spec as an L2 RouteSpec. `onlyPort` is the router's port when it has exactly
 * one listener: a catch-all gRPC route matches it explicitly, because the L2 requires at least one
 * gRPC match member and App Mesh treats "the router's only port" and "no port" alike.
 */
export function routeSpec(
  spec: am.RouteSpec,
  node: Resolve<appmesh.IVirtualNode>,
  onlyPort: number | undefined,
): appmesh.RouteSpec {
  const targets = (route: {
    readonly action: { readonly weightedTargets: readonly am.WeightedTarget[] };
  }): appmesh.WeightedTarget[] =>
    route.action.weightedTargets.map((t) => ({
      virtualNode: node(t.virtualNode),
      weight: t.weight,
      ...(t.port === undefined ? {} : { port: t.port }),
    }));
  const priority = spec.priority;
  const http = spec.httpRoute ?? spec.http2Route;
  if (http !== undefined) {
    const m = http.match;
    const timeout = httpTimeout(http.timeout);
    const options: appmesh.HttpRouteSpecOptions = {
      priority,
      weightedTargets: targets(http),
      match: {
        path: routePath(m),
        ...(m.headers === undefined ? {} : { headers: m.headers.map(headerMatch) }),
        ...(m.method === undefined ? {} : { method: HTTP_METHODS[m.method] }),
        ...(m.queryParameters === undefined
          ? {}
          : { queryParameters: m.queryParameters.map(queryParameterMatch) }),
        ...(m.port === undefined ? {} : { port: m.port }),
      },
      ...(timeout === undefined ? {} : { timeout }),
      ...(http.retryPolicy === undefined ? {} : { retryPolicy: httpRetryPolicy(http.retryPolicy) }),
    };
    return spec.httpRoute !== undefined ? appmesh.RouteSpec.http(options) : appmesh.RouteSpec.http2(options);
  }
  if (spec.grpcRoute !== undefined) {
    const g = spec.grpcRoute;
    const m = g.match;
    const empty =
      m.serviceName === undefined &&
      m.methodName === undefined &&
      m.metadata === undefined &&
      m.port === undefined;
    const port = m.port ?? (empty ? onlyPort : undefined);
    const timeout = httpTimeout(g.timeout);
    return appmesh.RouteSpec.grpc({
      priority,
      weightedTargets: targets(g),
      match: {
        ...(m.serviceName === undefined ? {} : { serviceName: m.serviceName }),
        ...(m.methodName === undefined ? {} : { methodName: m.methodName }),
        ...(m.metadata === undefined ? {} : { metadata: m.metadata.map(headerMatch) }),
        ...(port === undefined ? {} : { port }),
      },
      ...(timeout === undefined ? {} : { timeout }),
      ...(g.retryPolicy === undefined ? {} : { retryPolicy: grpcRetryPolicy(g.retryPolicy) }),
    });
  }
  const tcp = spec.tcpRoute;
  if (tcp === undefined)
    throw new RangeError(
      'a rendered RouteSpec has exactly one of httpRoute, http2Route, grpcRoute, tcpRoute',
    );
  const timeout = tcpTimeout(tcp.timeout);
  const l2 = appmesh.RouteSpec.tcp({
    priority,
    weightedTargets: targets(tcp),
    ...(timeout === undefined ? {} : { timeout }),
  });
  return tcp.match === undefined ? l2 : new TcpRouteOnPort(l2, tcp.match.port);
}

function hostnameMatch(h: am.GatewayRouteHostnameMatch | undefined): {
  hostname?: appmesh.GatewayRouteHostnameMatch;
} {
  if (h === undefined) return {};
  return {
    hostname:
      'exact' in h
        ? appmesh.GatewayRouteHostnameMatch.exactly(h.exact)
        : appmesh.GatewayRouteHostnameMatch.endsWith(h.suffix),
  };
}

function hostnameRewrite(
  rewrite: { readonly hostname?: { readonly defaultTargetHostname: 'ENABLED' | 'DISABLED' } } | undefined,
): {
  rewriteRequestHostname?: boolean;
} {
  const value = rewrite?.hostname?.defaultTargetHostname;
  return value === undefined ? {} : { rewriteRequestHostname: value === 'ENABLED' };
}

function gatewayPath(route: am.HttpGatewayRoute): appmesh.HttpGatewayRoutePathMatch {
  const { path, prefix } = route.match;
  if (path !== undefined) {
    return 'exact' in path
      ? appmesh.HttpGatewayRoutePathMatch.exactly(path.exact)
      : appmesh.HttpGatewayRoutePathMatch.regex(path.regex);
  }
  const rewrite = route.action.rewrite?.prefix;
  // `defaultPrefix: DISABLED` keeps the matched prefix; the L2 spells it as an empty rewrite.
  const rewriteTo =
    rewrite === undefined ? undefined : rewrite.defaultPrefix === 'DISABLED' ? '' : rewrite.value;
  return appmesh.HttpGatewayRoutePathMatch.startsWith(prefix ?? '/', rewriteTo);
}

/**
 * A rendered gateway route spec as an L2 GatewayRouteSpec. `onlyPort` plays the same part as in
 * {@link routeSpec} for catch-all gRPC gateway routes.
 */
export function gatewayRouteSpec(
  spec: am.GatewayRouteSpec,
  service: Resolve<appmesh.IVirtualService>,
  onlyPort: number | undefined,
): appmesh.GatewayRouteSpec {
  const priority = spec.priority;
  const http = spec.httpRoute ?? spec.http2Route;
  let l2: appmesh.GatewayRouteSpec;
  let target: am.GatewayRouteTarget;
  if (http !== undefined) {
    const m = http.match;
    target = http.action.target;
    const options: appmesh.HttpGatewayRouteSpecOptions = {
      priority,
      routeTarget: service(target.virtualService.virtualServiceName),
      match: {
        path: gatewayPath(http),
        ...(m.headers === undefined ? {} : { headers: m.headers.map(headerMatch) }),
        ...hostnameMatch(m.hostname),
        ...(m.port === undefined ? {} : { port: m.port }),
        ...hostnameRewrite(http.action.rewrite),
      },
    };
    l2 =
      spec.httpRoute !== undefined
        ? appmesh.GatewayRouteSpec.http(options)
        : appmesh.GatewayRouteSpec.http2(options);
  } else {
    const g = spec.grpcRoute;
    if (g === undefined)
      throw new RangeError('a rendered GatewayRouteSpec has exactly one of httpRoute, http2Route, grpcRoute');
    const m = g.match;
    target = g.action.target;
    const empty =
      m.serviceName === undefined &&
      m.metadata === undefined &&
      m.hostname === undefined &&
      m.port === undefined;
    const port = m.port ?? (empty ? onlyPort : undefined);
    l2 = appmesh.GatewayRouteSpec.grpc({
      priority,
      routeTarget: service(target.virtualService.virtualServiceName),
      match: {
        ...(m.serviceName === undefined ? {} : { serviceName: m.serviceName }),
        ...(m.metadata === undefined ? {} : { metadata: m.metadata.map(headerMatch) }),
        ...hostnameMatch(m.hostname),
        ...(port === undefined ? {} : { port }),
        ...hostnameRewrite(g.action.rewrite),
      },
    });
  }
  return target.port === undefined ? l2 : new GatewayRouteToPort(l2, target.port);
}
