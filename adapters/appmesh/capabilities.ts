/**
 * What AWS App Mesh can express of the model, feature by feature. Decisions are checked against
 * the App Mesh API model (botocore `appmesh-2019-01-25`) and explained in
 * docs/targets/appmesh-notes.md. `none` features are never rendered: `renderWithTarget` fails on
 * them, or drops and reports them under `--allow-drop`.
 */
import type { CapabilityMatrix } from '../../model/target.js';

/** The App Mesh capability matrix. */
export const APPMESH_CAPABILITIES: CapabilityMatrix = {
  'protocol.http': { support: 'full' },
  'protocol.http2': { support: 'full' },
  'protocol.grpc': { support: 'full' },
  'protocol.tcp': { support: 'full' },
  'service.multiple-ports': {
    support: 'full',
    note: 'One listener per port on the virtual node and router; routes and weighted targets then name their port.',
  },
  'route.match.path.exact': {
    support: 'full',
    note: 'HttpRouteMatch.path.exact (HTTP/HTTP2 routes; gRPC routes match service/method instead).',
  },
  'route.match.path.prefix': { support: 'full', note: 'HttpRouteMatch.prefix.' },
  'route.match.path.regex': { support: 'full', note: 'HttpRouteMatch.path.regex.' },
  'route.match.header.exact': { support: 'full', note: 'On gRPC routes headers become metadata matches.' },
  'route.match.header.prefix': { support: 'full' },
  'route.match.header.suffix': { support: 'full' },
  'route.match.header.regex': { support: 'full' },
  'route.match.header.present': {
    support: 'full',
    note: 'A header entry without `match` matches on presence.',
  },
  'route.match.header.range': {
    support: 'full',
    note: 'MatchRange: start inclusive, end exclusive, as in the model.',
  },
  'route.match.header.invert': { support: 'full' },
  'route.match.query.exact': { support: 'full' },
  'route.match.query.regex': {
    support: 'none',
    note: 'QueryParameterMatch has only `exact` (and presence).',
  },
  'route.match.query.present': {
    support: 'full',
    note: 'A query parameter entry without `match` matches on presence.',
  },
  'route.match.method': { support: 'full' },
  'route.match.grpc': { support: 'full', note: 'GrpcRouteMatch serviceName and methodName.' },
  'route.destinations.weighted': {
    support: 'partial',
    note: 'Weights become integer percentages summing to 100 (largest remainder), at most 10 weighted targets per route.',
  },
  'route.destinations.cross-service': {
    support: 'full',
    note: 'Weighted targets may name any virtual node of the mesh.',
  },
  'route.redirect': { support: 'none', note: 'App Mesh routes only forward to weighted targets.' },
  'route.rewrite.prefix': {
    support: 'none',
    note: 'Rewrites exist only on gateway routes, not on virtual router routes.',
  },
  'route.rewrite.path': {
    support: 'none',
    note: 'Rewrites exist only on gateway routes, not on virtual router routes.',
  },
  'route.rewrite.host': {
    support: 'none',
    note: 'Rewrites exist only on gateway routes, not on virtual router routes.',
  },
  'route.headers.request': { support: 'none', note: 'App Mesh has no header mutation.' },
  'route.headers.response': { support: 'none', note: 'App Mesh has no header mutation.' },
  'route.fault.delay': { support: 'none', note: 'App Mesh has no fault injection.' },
  'route.fault.abort': { support: 'none', note: 'App Mesh has no fault injection.' },
  'route.mirror': { support: 'none', note: 'App Mesh has no request mirroring.' },
  'route.priority': {
    support: 'full',
    note: 'RouteSpec.priority as written; when two routes of a service share a priority (App Mesh leaves their order undefined), every route gets its rank in (priority, declaration) order instead, which keeps the model order.',
  },
  'policy.timeouts.request': {
    support: 'full',
    note: 'Route timeout.perRequest and the listener timeout of each virtual node.',
  },
  'policy.timeouts.idle': { support: 'full', note: 'Route and listener timeout.idle (TCP: idle only).' },
  'policy.retries': {
    support: 'partial',
    note: 'server-error, gateway-error, client-error map directly; reset and refused-stream become stream-error; connect-failure becomes the TCP event connection-error; gRPC status events apply on gRPC routes only; TCP routes have no retry policy.',
  },
  'policy.retries.per-try-timeout': {
    support: 'full',
    note: 'perRetryTimeout (required by App Mesh: defaults to the request timeout).',
  },
  'policy.retries.backoff': {
    support: 'partial',
    note: "App Mesh has no backoff setting: Envoy's fixed 25ms base / 250ms cap (the model default) always applies.",
  },
  'policy.rate-limit': { support: 'none', note: 'App Mesh has no rate limits on routes or listeners.' },
  'policy.health-check.http': {
    support: 'partial',
    note: "App Mesh takes intervals of 5s-300s and timeouts of 2s-60s: values outside move to the nearest bound. Expected statuses and the Host header are not settable (App Mesh's defaults apply).",
  },
  'policy.health-check.grpc': {
    support: 'partial',
    note: 'The gRPC health service name is not settable: the server as a whole is checked.',
  },
  'policy.health-check.tcp': { support: 'full' },
  'policy.outlier-detection': {
    support: 'full',
    note: 'Listener outlierDetection: maxServerErrors, interval, baseEjectionDuration, maxEjectionPercent.',
  },
  'policy.connection-pool': {
    support: 'partial',
    note: "HTTP/1 maxConnections (+maxPendingRequests), HTTP/2 and gRPC maxRequests, TCP maxConnections; maxRetries is not settable, and a pool without its protocol's required limit is left out.",
  },
  'policy.load-balancing.round-robin': {
    support: 'full',
    note: "App Mesh's Envoy balances round-robin; there is no setting.",
  },
  'policy.load-balancing.least-request': {
    support: 'none',
    note: 'App Mesh has no load-balancing setting (round-robin only).',
  },
  'policy.load-balancing.random': {
    support: 'none',
    note: 'App Mesh has no load-balancing setting (round-robin only).',
  },
  'policy.load-balancing.ring-hash': {
    support: 'none',
    note: 'App Mesh has no consistent-hash load balancing.',
  },
  gateway: {
    support: 'full',
    note: 'One VirtualGateway per gateway; its Envoy runs as your ingress deployment.',
  },
  'gateway.tls': { support: 'full', note: 'Listener TLS with file certificates, mode STRICT.' },
  'gateway.route.rewrite': {
    support: 'partial',
    note: 'Prefix rewrite only (after a prefix match); a host rewrite cannot name a host (App Mesh can only rewrite to the target hostname), so it is not rendered.',
  },
  'gateway.route.header-match': {
    support: 'full',
    note: 'HTTP header matches; metadata matches on gRPC listeners.',
  },
  'egress.deny-unknown': { support: 'full', note: 'Mesh egressFilter DROP_ALL.' },
  'egress.hosts': {
    support: 'none',
    note: 'App Mesh reaches an external host only through a virtual service with a listener port; model hosts carry no port.',
  },
  'security.mtls.strict': {
    support: 'full',
    note: 'Listener TLS mode STRICT with a validation context, and a client TLS policy (SDS/SPIRE or files).',
  },
  'security.mtls.permissive': {
    support: 'full',
    note: 'Listener TLS mode PERMISSIVE; clients still originate mTLS.',
  },
  authorization: {
    support: 'partial',
    note: "Allow-listed callers become the listener's accepted client certificate SANs (their SPIFFE ids): needs mTLS, and under permissive mTLS plain-text callers still get in. Backends also act as a caller-side allow-list under egress deny-unknown.",
  },
  'authorization.paths': { support: 'none', note: 'App Mesh has no request-level authorization.' },
  'authorization.methods': { support: 'none', note: 'App Mesh has no request-level authorization.' },
  'access-log': { support: 'full', note: 'File access log on every virtual node and gateway.' },
  'access-log.json': { support: 'full', note: 'LoggingFormat.json with a fixed set of Envoy fields.' },
  'ip-preference': { support: 'full', note: 'Mesh serviceDiscovery.ipPreference.' },
};
