/**
 * What Traffic Director (networkservices v1, networksecurity v1, compute v1) can express of the
 * model. Each `partial`/`none` note names the API field, or its absence, checked against the
 * discovery documents in ../shared/api-models/google/ and googleapis' compute v1 types.
 */
import type { CapabilityMatrix } from '../../model/target.js';

/** Traffic Director's capability matrix, one entry per model feature. */
export const TRAFFIC_DIRECTOR_CAPABILITIES: CapabilityMatrix = {
  'protocol.http': { support: 'full', note: 'HttpRoute + BackendService protocol HTTP.' },
  'protocol.http2': { support: 'full', note: 'HttpRoute + BackendService protocol HTTP2.' },
  'protocol.grpc': { support: 'full', note: 'GrpcRoute + BackendService protocol GRPC.' },
  'protocol.tcp': {
    support: 'partial',
    note: 'TcpRoute matches a CIDR and a port only; with no service VIP in the model the rule matches the port on 0.0.0.0/0, so two TCP services on one port collide.',
  },
  'service.multiple-ports': {
    support: 'partial',
    note: "gRPC ports are routed by `host:port` and TCP ports by port, but HttpRoute hostnames carry no port: only the first HTTP/HTTP2 port of a service is routed (others are skipped with a warning). One BackendService per version, with the primary port's protocol.",
  },
  'route.match.path.exact': {
    support: 'partial',
    note: 'HttpRouteRouteMatch.fullPathMatch; GrpcRoute matches methods, not paths (dropped on gRPC ports).',
  },
  'route.match.path.prefix': {
    support: 'partial',
    note: 'HttpRouteRouteMatch.prefixMatch; dropped on gRPC ports (GrpcRoute has no path match).',
  },
  'route.match.path.regex': {
    support: 'partial',
    note: 'HttpRouteRouteMatch.regexMatch (RE2); dropped on gRPC ports (GrpcRoute has no path match).',
  },
  'route.match.header.exact': { support: 'full', note: 'HttpRoute exactMatch; GrpcRoute type EXACT.' },
  'route.match.header.prefix': {
    support: 'partial',
    note: 'HttpRoute prefixMatch; GrpcRoute matches only EXACT or REGULAR_EXPRESSION, so it is dropped there.',
  },
  'route.match.header.suffix': {
    support: 'partial',
    note: 'HttpRoute suffixMatch; dropped on GrpcRoute (EXACT or REGULAR_EXPRESSION only).',
  },
  'route.match.header.regex': {
    support: 'full',
    note: 'HttpRoute regexMatch; GrpcRoute type REGULAR_EXPRESSION.',
  },
  'route.match.header.present': { support: 'partial', note: 'HttpRoute presentMatch; dropped on GrpcRoute.' },
  'route.match.header.range': {
    support: 'partial',
    note: 'HttpRoute rangeMatch {start, end}; dropped on GrpcRoute.',
  },
  'route.match.header.invert': {
    support: 'partial',
    note: 'HttpRoute invertMatch; GrpcRoute cannot invert (the match is dropped).',
  },
  'route.match.query.exact': {
    support: 'partial',
    note: 'HttpRouteQueryParameterMatch.exactMatch; GrpcRoute has no query match (dropped on gRPC ports).',
  },
  'route.match.query.regex': {
    support: 'partial',
    note: 'HttpRouteQueryParameterMatch.regexMatch; dropped on gRPC ports.',
  },
  'route.match.query.present': {
    support: 'partial',
    note: 'HttpRouteQueryParameterMatch.presentMatch; dropped on gRPC ports.',
  },
  'route.match.method': {
    support: 'none',
    note: 'HttpRouteRouteMatch has no method field in networkservices v1.',
  },
  'route.match.grpc': {
    support: 'full',
    note: 'GrpcRouteMethodMatch; a service without a method becomes a REGULAR_EXPRESSION match on any method.',
  },
  'route.destinations.weighted': {
    support: 'full',
    note: 'Destination weights per BackendService; a destination without a version spreads its weight over the versions.',
  },
  'route.destinations.cross-service': { support: 'full', note: 'Destinations may name any BackendService.' },
  'route.redirect': {
    support: 'partial',
    note: 'HttpRouteRedirect: host, port, path, prefix, 301/302/303/307/308; `scheme: http` cannot force plain http (only httpsRedirect exists); not on gRPC ports.',
  },
  'route.rewrite.prefix': {
    support: 'partial',
    note: 'urlRewrite.pathPrefixRewrite on HttpRoute; GrpcRoute has no rewrite (dropped on gRPC ports).',
  },
  'route.rewrite.path': {
    support: 'none',
    note: 'HttpRouteURLRewrite has only pathPrefixRewrite and hostRewrite: no full-path rewrite.',
  },
  'route.rewrite.host': {
    support: 'partial',
    note: 'urlRewrite.hostRewrite on HttpRoute; GrpcRoute has no rewrite (dropped on gRPC ports).',
  },
  'route.headers.request': {
    support: 'partial',
    note: 'requestHeaderModifier set/add/remove on HttpRoute; GrpcRoute has no header modifiers.',
  },
  'route.headers.response': {
    support: 'partial',
    note: 'responseHeaderModifier on HttpRoute; GrpcRoute has no header modifiers.',
  },
  'route.fault.delay': {
    support: 'partial',
    note: 'faultInjectionPolicy.delay; the percentage is a whole number (rounded).',
  },
  'route.fault.abort': {
    support: 'partial',
    note: 'faultInjectionPolicy.abort takes an HTTP status: a gRPC status becomes the HTTP status Envoy maps to it (UNAVAILABLE 503, UNAUTHENTICATED 401, PERMISSION_DENIED 403, UNIMPLEMENTED 404, INTERNAL 400, UNKNOWN 500), others are dropped; whole-number percentage.',
  },
  'route.mirror': {
    support: 'partial',
    note: 'requestMirrorPolicy on HttpRoute with one destination: a mirror without a version goes to the first version; GrpcRoute cannot mirror.',
  },
  'route.priority': {
    support: 'full',
    note: 'Rules are rendered in priority order; the API matches rules in order.',
  },
  'policy.timeouts.request': {
    support: 'full',
    note: 'Route action timeout; BackendService.timeoutSec (whole seconds).',
  },
  'policy.timeouts.idle': { support: 'full', note: 'Route action idleTimeout.' },
  'policy.retries': {
    support: 'partial',
    note: 'retryPolicy numRetries/retryConditions; GrpcRoute accepts only connect-failure, refused-stream, cancelled, deadline-exceeded, resource-exhausted, unavailable.',
  },
  'policy.retries.per-try-timeout': {
    support: 'partial',
    note: 'HttpRoute perTryTimeout; GrpcRouteRetryPolicy has no per-try timeout.',
  },
  'policy.retries.backoff': {
    support: 'none',
    note: 'Neither HttpRouteRetryPolicy nor GrpcRouteRetryPolicy has a backoff.',
  },
  'policy.rate-limit': {
    support: 'none',
    note: 'No local rate limit in networkservices v1 routes or compute backend services for INTERNAL_SELF_MANAGED.',
  },
  'policy.health-check.http': {
    support: 'partial',
    note: 'compute HealthCheck type HTTP/HTTP2 (requestPath, host, port); expected status ranges are not expressible (200 only).',
  },
  'policy.health-check.grpc': {
    support: 'full',
    note: 'compute HealthCheck type GRPC with grpcServiceName.',
  },
  'policy.health-check.tcp': {
    support: 'full',
    note: 'compute HealthCheck type TCP; also given to a service with NEG backends and no declared check, since compute requires one there.',
  },
  'policy.outlier-detection': {
    support: 'full',
    note: 'BackendService.outlierDetection consecutiveErrors, interval, baseEjectionTime, maxEjectionPercent.',
  },
  'policy.connection-pool': { support: 'full', note: 'BackendService.circuitBreakers.' },
  'policy.load-balancing.round-robin': { support: 'full', note: 'localityLbPolicy ROUND_ROBIN.' },
  'policy.load-balancing.least-request': { support: 'full', note: 'localityLbPolicy LEAST_REQUEST.' },
  'policy.load-balancing.random': { support: 'full', note: 'localityLbPolicy RANDOM.' },
  'policy.load-balancing.ring-hash': {
    support: 'full',
    note: 'localityLbPolicy RING_HASH with consistentHash httpHeaderName / httpCookie and sessionAffinity HEADER_FIELD / HTTP_COOKIE / CLIENT_IP.',
  },
  gateway: {
    support: 'partial',
    note: "Gateway type OPEN_MESH with attached routes (a route matching a host gets its own route resource for that host). Route resources do not chain: a catch-all gateway route without rewrite carries the service's own rules, any other forwards to every version of the service equally.",
  },
  'gateway.tls': {
    support: 'none',
    note: 'An OPEN_MESH Gateway takes a ServerTlsPolicy with a certificate provider, not certificate files.',
  },
  'gateway.route.rewrite': { support: 'full', note: "urlRewrite on the gateway's HttpRoute." },
  'gateway.route.header-match': {
    support: 'partial',
    note: 'Full on HTTP listeners; EXACT/REGULAR_EXPRESSION only on gRPC listeners.',
  },
  'egress.deny-unknown': { support: 'none', note: 'Traffic Director has no egress allow-list for sidecars.' },
  'egress.hosts': { support: 'none', note: 'Traffic Director has no egress allow-list for sidecars.' },
  'security.mtls.strict': {
    support: 'full',
    note: 'ServerTlsPolicy (allowOpen false) + ClientTlsPolicy with certificateProviderInstance google_cloud_private_spiffe, bound by EndpointPolicy and BackendService.securitySettings.',
  },
  'security.mtls.permissive': { support: 'full', note: 'ServerTlsPolicy allowOpen true with mtlsPolicy.' },
  authorization: {
    support: 'full',
    note: 'AuthorizationPolicy ALLOW with sources.principals (SPIFFE ids) bound by EndpointPolicy; an allow-list with no rules is a DENY policy. Principals need mTLS.',
  },
  'authorization.paths': {
    support: 'partial',
    note: 'No path field: rendered as httpHeaderMatch on `:path` with one regular expression (exact paths allow a query string).',
  },
  'authorization.methods': { support: 'full', note: 'AuthorizationPolicy destinations.methods.' },
  'access-log': {
    support: 'none',
    note: 'Sidecar access logs are not configured through the Traffic Director APIs.',
  },
  'access-log.json': {
    support: 'none',
    note: 'Sidecar access logs are not configured through the Traffic Director APIs.',
  },
  'ip-preference': {
    support: 'none',
    note: 'No endpoint IP-family preference in networkservices or compute for INTERNAL_SELF_MANAGED.',
  },
};
