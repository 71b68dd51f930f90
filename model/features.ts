/**
 * Model features a target may or may not express. Each target declares, for every feature,
 * whether it supports it (`model/target.ts`); `detectFeatures()` (model/detect.ts) lists the
 * features a mesh uses, with the path of each use, so unsupported ones are reported in full.
 */

/** Every feature id with a one-line description (used for docs/targets capability matrices). */
export const FEATURES = {
  'protocol.http': 'HTTP/1.1 service ports',
  'protocol.http2': 'HTTP/2 service ports',
  'protocol.grpc': 'gRPC service ports',
  'protocol.tcp': 'TCP service ports',
  'service.multiple-ports': 'More than one port on a service',
  'route.match.path.exact': 'Exact path match',
  'route.match.path.prefix': 'Path prefix match',
  'route.match.path.regex': 'Regular-expression path match',
  'route.match.header.exact': 'Header exact match',
  'route.match.header.prefix': 'Header prefix match',
  'route.match.header.suffix': 'Header suffix match',
  'route.match.header.regex': 'Header regex match',
  'route.match.header.present': 'Header presence match',
  'route.match.header.range': 'Header numeric range match',
  'route.match.header.invert': 'Inverted header match',
  'route.match.query.exact': 'Query parameter exact match',
  'route.match.query.regex': 'Query parameter regex match',
  'route.match.query.present': 'Query parameter presence match',
  'route.match.method': 'HTTP method match',
  'route.match.grpc': 'gRPC service/method match',
  'route.destinations.weighted': 'Weighted split across several destinations',
  'route.destinations.cross-service': 'Route destinations in another service',
  'route.redirect': 'Redirect responses',
  'route.rewrite.prefix': 'Path prefix rewrite',
  'route.rewrite.path': 'Full path rewrite',
  'route.rewrite.host': 'Host rewrite',
  'route.headers.request': 'Request header add/remove',
  'route.headers.response': 'Response header add/remove',
  'route.fault.delay': 'Fault injection: delay',
  'route.fault.abort': 'Fault injection: abort',
  'route.mirror': 'Request mirroring',
  'route.priority': 'Explicit route priority',
  'policy.timeouts.request': 'Request timeout',
  'policy.timeouts.idle': 'Idle timeout',
  'policy.retries': 'Retries',
  'policy.retries.per-try-timeout': 'Per-try timeout',
  'policy.retries.backoff': 'Retry backoff',
  'policy.rate-limit': 'Local rate limiting',
  'policy.health-check.http': 'Active HTTP health checks',
  'policy.health-check.grpc': 'Active gRPC health checks',
  'policy.health-check.tcp': 'Active TCP health checks',
  'policy.outlier-detection': 'Outlier detection (passive health checks)',
  'policy.connection-pool': 'Connection-pool / circuit-breaker limits',
  'policy.load-balancing.round-robin': 'Round-robin load balancing',
  'policy.load-balancing.least-request': 'Least-request load balancing',
  'policy.load-balancing.random': 'Random load balancing',
  'policy.load-balancing.ring-hash': 'Ring-hash (consistent hash) load balancing',
  gateway: 'Ingress gateways',
  'gateway.tls': 'TLS termination at the gateway',
  'gateway.route.rewrite': 'Gateway route rewrites',
  'gateway.route.header-match': 'Gateway route header matches',
  'egress.deny-unknown': 'Deny egress to unknown hosts',
  'egress.hosts': 'Allow-listed external hosts',
  'security.mtls.strict': 'Strict mutual TLS',
  'security.mtls.permissive': 'Permissive mutual TLS',
  authorization: 'Service-to-service authorization',
  'authorization.paths': 'Authorization by path',
  'authorization.methods': 'Authorization by method',
  'access-log': 'Access logging',
  'access-log.json': 'JSON access log format',
  'ip-preference': 'IP family preference',
} as const;

/** A feature id. */
export type FeatureId = keyof typeof FEATURES;

/** Every feature id, in declaration order. */
export const FEATURE_IDS = Object.keys(FEATURES) as FeatureId[];

/** One use of a feature in a mesh. */
export interface FeatureUse {
  /** Which feature. */
  readonly feature: FeatureId;
  /** Where in the model it is used, e.g. `services.catalog.routes[0].fault`. */
  readonly path: string;
}
