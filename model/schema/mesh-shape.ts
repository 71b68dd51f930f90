/**
 * The shape of a mesh, field by field, typed against the contract in model/types.ts. This is the
 * single description behind structural validation, `docs/mesh.schema.json` and the field tables in
 * `docs/model-reference.md`. Checks that relate several fields (references, weights, protocols)
 * are in model/semantic.ts.
 */
import type {
  AccessLog,
  API_VERSION,
  Authorization,
  AuthorizationRule,
  ConnectionPool,
  Destination,
  EgressPolicy,
  Endpoint,
  Fault,
  Gateway,
  GatewayListener,
  GatewayRoute,
  GatewayRouteMatch,
  GatewayTls,
  GrpcMatch,
  HashOn,
  HeaderMatch,
  HeaderMutation,
  HeaderMutations,
  HeaderValue,
  HealthCheck,
  HealthCheckTiming,
  HttpMethod,
  IpPreference,
  LoadBalancing,
  LocalRun,
  MeshInput,
  Mirror,
  OutlierDetection,
  PathMatch,
  Protocol,
  QueryMatch,
  RateLimit,
  Redirect,
  Retries,
  RetryEvent,
  Rewrite,
  Route,
  RouteMatch,
  RoutePolicy,
  Security,
  Service,
  ServicePolicy,
  ServicePort,
  ServiceVersion,
  Timeouts,
} from '../types.js';
import {
  DNS_LABEL,
  DNS_NAME_FORMAT,
  DURATION,
  ENV_NAME,
  FILE_PATH,
  GRPC_METHOD,
  GRPC_SERVICE,
  HEADER_NAME,
  HEADER_NAME_MATCH,
  HEADER_VALUE,
  HOST,
  HOST_PATTERN,
  LABEL_KEY,
  LABEL_VALUE,
  POSITIVE_DURATION,
  REGEX,
  SERVICE_OR_ANY,
  SPIFFE_ID,
  URL_PATH,
} from './formats.js';
import {
  array,
  boolean,
  type FieldsOf,
  integer,
  type NumberShape,
  numbers,
  type ObjectShape,
  object,
  oneOf,
  opt,
  record,
  req,
  type Shape,
  string,
  tuple,
  union,
  type VariantOf,
} from './shape.js';

const duration: Shape = {
  ...string(DURATION),
  name: 'Duration',
  doc: 'A duration: 250ms, 2s, 1m, 1h or 1m30s.',
};
const positiveDuration: Shape = string(POSITIVE_DURATION);
const port = integer(1, 65535);
const name = string(DNS_LABEL);
const percent: NumberShape = { type: 'number', integer: false, min: 0, max: 100 };

const protocol = oneOf<Protocol>(
  {
    http: 'HTTP/1.1 (and HTTP/2 when the client speaks it)',
    http2: 'HTTP/2',
    grpc: 'gRPC over HTTP/2',
    tcp: 'opaque TCP',
  },
  { name: 'Protocol', doc: 'Application protocol of a port.' },
);

const httpMethod = oneOf<HttpMethod>(
  {
    GET: 'read a resource',
    HEAD: 'GET without the body',
    POST: 'submit data',
    PUT: 'replace a resource',
    DELETE: 'delete a resource',
    CONNECT: 'open a tunnel',
    OPTIONS: 'describe the communication options',
    TRACE: 'loop-back test',
    PATCH: 'modify a resource partially',
  },
  { name: 'HttpMethod', doc: 'An HTTP request method.' },
);

const pathMatch = union<PathMatch>(
  {
    exact: object<VariantOf<PathMatch, 'exact'>>({ value: req(string(URL_PATH), 'The whole path.') }),
    prefix: object<VariantOf<PathMatch, 'prefix'>>({ value: req(string(URL_PATH), 'The path prefix.') }),
    regex: object<VariantOf<PathMatch, 'regex'>>({
      value: req(string(REGEX), 'RE2 regular expression the whole path must match.'),
    }),
  },
  { name: 'PathMatch', doc: 'A path condition.' },
);

const invert = opt(boolean, 'Negate the condition.', '`false`');
const headerName = req(string(HEADER_NAME_MATCH), 'Header name (lowercase).');
const headerMatch = union<HeaderMatch>(
  {
    exact: object<VariantOf<HeaderMatch, 'exact'>>({
      name: headerName,
      value: req(string(HEADER_VALUE, { minLength: 0 }), 'The whole value.'),
      invert,
    }),
    prefix: object<VariantOf<HeaderMatch, 'prefix'>>({
      name: headerName,
      value: req(string(HEADER_VALUE), 'Value prefix.'),
      invert,
    }),
    suffix: object<VariantOf<HeaderMatch, 'suffix'>>({
      name: headerName,
      value: req(string(HEADER_VALUE), 'Value suffix.'),
      invert,
    }),
    regex: object<VariantOf<HeaderMatch, 'regex'>>({
      name: headerName,
      value: req(string(REGEX), 'RE2 regular expression the whole value must match.'),
      invert,
    }),
    present: object<VariantOf<HeaderMatch, 'present'>>({ name: headerName, invert }),
    range: object<VariantOf<HeaderMatch, 'range'>>({
      name: headerName,
      start: req(integer(), 'Inclusive start of the integer range.'),
      end: req(integer(), 'Exclusive end of the integer range (greater than start).'),
      invert,
    }),
  },
  { name: 'HeaderMatch', doc: 'A header condition.' },
);

const queryName = req(string(undefined, { maxLength: 256 }), 'Query parameter name.');
const queryMatch = union<QueryMatch>(
  {
    exact: object<VariantOf<QueryMatch, 'exact'>>({
      name: queryName,
      value: req(string(HEADER_VALUE, { minLength: 0 }), 'The whole value.'),
    }),
    regex: object<VariantOf<QueryMatch, 'regex'>>({
      name: queryName,
      value: req(string(REGEX), 'RE2 regular expression the whole value must match.'),
    }),
    present: object<VariantOf<QueryMatch, 'present'>>({ name: queryName }),
  },
  { name: 'QueryMatch', doc: 'A query parameter condition.' },
);

const grpcMatch = object<GrpcMatch>(
  {
    service: opt(string(GRPC_SERVICE), 'Fully qualified service, e.g. `shop.Payments`.', 'any service'),
    method: opt(string(GRPC_METHOD), 'Method name, e.g. `Charge` (needs `service`).', 'any method'),
  },
  { name: 'GrpcMatch', doc: 'A gRPC method condition.' },
);

const routeMatch = object<RouteMatch>(
  {
    path: opt(
      pathMatch,
      'Path condition (HTTP, HTTP/2, gRPC).',
      'any path; canonical form: prefix `/` on non-TCP ports',
    ),
    headers: opt(array(headerMatch), 'Header conditions, all of which must hold.', 'none'),
    query: opt(array(queryMatch), 'Query parameter conditions, all of which must hold.', 'none'),
    method: opt(httpMethod, 'HTTP method.', 'any method'),
    grpc: opt(grpcMatch, 'gRPC service and method (gRPC ports only).', 'any gRPC method'),
  },
  { name: 'RouteMatch', doc: 'Conditions a request must meet; all given conditions must hold.' },
);

const destination = object<Destination>(
  {
    service: opt(name, 'Destination service.', 'the service the route belongs to'),
    version: opt(name, 'Version of the destination service.', 'every version of it (canonical form: absent)'),
    weight: opt(integer(0, 1000), 'Relative weight 0-1000.', '1'),
  },
  { name: 'Destination', doc: 'A weighted destination: a service, optionally one version.' },
);

const redirect = object<Redirect>(
  {
    status: opt(numbers([301, 302, 303, 307, 308]), 'Status code.', '301'),
    scheme: opt(oneOf<'http' | 'https'>({ http: '', https: '' }), 'New scheme.', 'unchanged'),
    host: opt(string(HOST), 'New host.', 'unchanged'),
    port: opt(port, 'New port.', 'unchanged'),
    path: opt(string(URL_PATH), 'New path (replaces the whole path).', 'unchanged'),
    prefix: opt(string(URL_PATH), 'Replace the matched prefix (needs a prefix path match).', 'unchanged'),
  },
  { name: 'Redirect', doc: 'Answer with a redirect instead of forwarding.' },
);

const rewrite = object<Rewrite>(
  {
    prefix: opt(
      string(URL_PATH),
      'Replace the matched path prefix (needs a prefix path match).',
      'unchanged',
    ),
    path: opt(string(URL_PATH), 'Replace the whole path.', 'unchanged'),
    host: opt(string(HOST), 'Replace the Host / :authority header.', 'unchanged'),
  },
  { name: 'Rewrite', doc: 'Rewrite the request before forwarding.' },
);

const headerValue = object<HeaderValue>(
  {
    name: req(string(HEADER_NAME), 'Header name (lowercase).'),
    value: req(string(HEADER_VALUE, { minLength: 0 }), 'Header value.'),
    append: opt(boolean, 'Append to existing values instead of replacing them.', '`false`'),
  },
  { name: 'HeaderValue', doc: 'A header to set or append.' },
);

const headerMutation = object<HeaderMutation>(
  {
    add: opt(array(headerValue), 'Headers to set or append.', 'none'),
    remove: opt(array(string(HEADER_NAME)), 'Header names to remove.', 'none'),
  },
  { name: 'HeaderMutation', doc: 'One set of header changes.' },
);

const headerMutations = object<HeaderMutations>(
  {
    request: opt(headerMutation, 'Changes to the request sent upstream.', 'none'),
    response: opt(headerMutation, 'Changes to the response sent back.', 'none'),
  },
  { name: 'HeaderMutations', doc: 'Header additions and removals.' },
);

const fault = object<Fault>(
  {
    delay: opt(
      object<NonNullable<Fault['delay']>>({
        duration: req(duration, 'Delay added.'),
        percent: req(percent, 'Share of requests delayed, 0-100.'),
      }),
      'Delay a share of requests.',
      'no delay',
    ),
    abort: opt(
      object<NonNullable<Fault['abort']>>({
        httpStatus: opt(
          integer(200, 599),
          'HTTP status returned (exactly one of httpStatus, grpcStatus).',
          'none',
        ),
        grpcStatus: opt(integer(0, 16), 'gRPC status returned (gRPC ports only).', 'none'),
        percent: req(percent, 'Share of requests aborted, 0-100.'),
      }),
      'Abort a share of requests.',
      'no abort',
    ),
  },
  { name: 'Fault', doc: 'Fault injection.' },
);

const mirror = object<Mirror>(
  {
    service: req(name, 'Service to mirror to.'),
    version: opt(name, 'Version of that service.', 'every version'),
    percent: opt(percent, 'Share of requests mirrored, 0-100.', '100'),
  },
  { name: 'Mirror', doc: 'Copy a share of requests to another destination, discarding its responses.' },
);

const timeouts = object<Timeouts>(
  {
    request: opt(duration, 'Whole-request timeout; `0s` disables it.', '`15s`'),
    idle: opt(duration, 'Idle timeout of a stream or connection.', '`5m`'),
  },
  { name: 'Timeouts', doc: 'Request and idle timeouts.' },
);

const retryEvent = oneOf<RetryEvent>(
  {
    'server-error': 'HTTP 5xx',
    'gateway-error': 'HTTP 502, 503, 504',
    'client-error': 'HTTP 409 (conflict)',
    reset: 'the upstream reset the stream',
    'connect-failure': 'the connection could not be made',
    'refused-stream': 'HTTP/2 REFUSED_STREAM',
    cancelled: 'gRPC CANCELLED',
    'deadline-exceeded': 'gRPC DEADLINE_EXCEEDED',
    'resource-exhausted': 'gRPC RESOURCE_EXHAUSTED',
    unavailable: 'gRPC UNAVAILABLE',
    internal: 'gRPC INTERNAL',
  },
  { name: 'RetryEvent', doc: 'An event that triggers a retry.' },
);

const retries = object<Retries>(
  {
    attempts: req(integer(0, 10), 'Maximum retries (not counting the first attempt), 0-10.'),
    on: opt(
      array(retryEvent, { minItems: 1 }),
      'Events that trigger a retry.',
      "`['gateway-error', 'connect-failure', 'reset']`",
    ),
    perTryTimeout: opt(
      positiveDuration,
      'Timeout of each attempt.',
      'the request timeout (canonical form: filled in)',
    ),
    backoff: opt(
      object<NonNullable<Retries['backoff']>>({
        base: req(positiveDuration, 'First backoff interval.'),
        max: req(positiveDuration, 'Longest backoff interval (at least `base`).'),
      }),
      'Exponential backoff between attempts.',
      "`{ base: '25ms', max: '250ms' }`",
    ),
  },
  { name: 'Retries', doc: 'Retry policy.' },
);

const rateLimit = object<RateLimit>(
  {
    requests: req(integer(1, 1_000_000_000), 'Requests admitted per `per`.'),
    per: req(positiveDuration, 'Refill period.'),
    burst: opt(integer(1, 1_000_000_000), 'Bucket size (burst).', '`requests`'),
  },
  { name: 'RateLimit', doc: 'A token-bucket rate limit applied by the receiving sidecar.' },
);

const timing: FieldsOf<HealthCheckTiming> = {
  interval: opt(positiveDuration, 'Time between checks.', '`5s`'),
  timeout: opt(positiveDuration, 'Time to wait for an answer.', '`2s`'),
  healthyThreshold: opt(integer(2, 10), 'Successes before an instance is healthy, 2-10.', '2'),
  unhealthyThreshold: opt(integer(2, 10), 'Failures before an instance is unhealthy, 2-10.', '3'),
  port: opt(port, 'Port to check (a declared port of the service).', "the service's primary port"),
};

const statusCode = integer(100, 600);
const healthCheck = union<HealthCheck>(
  {
    http: object<VariantOf<HealthCheck, 'http'>>({
      ...timing,
      path: req(string(URL_PATH), 'Path requested.'),
      expectedStatuses: opt(
        array(tuple(statusCode, statusCode), { minItems: 1 }),
        'Statuses counted healthy, as `[start, end)` ranges.',
        '`[[200, 300]]`',
      ),
      host: opt(string(HOST), 'Host header.', 'the service host name `<service>.<domain>`'),
    }),
    grpc: object<VariantOf<HealthCheck, 'grpc'>>({
      ...timing,
      service: opt(
        string(undefined, { minLength: 0, maxLength: 256 }),
        'gRPC health service name.',
        "`''` (the server as a whole)",
      ),
    }),
    tcp: object<VariantOf<HealthCheck, 'tcp'>>(timing),
  },
  { name: 'HealthCheck', doc: 'Active health check.' },
);

const outlierDetection = object<OutlierDetection>(
  {
    consecutive5xx: opt(
      integer(1, 1000),
      'Consecutive 5xx (or connect failures) before ejection, 1-1000.',
      '5',
    ),
    interval: opt(positiveDuration, 'Time between ejection sweeps.', '`10s`'),
    baseEjectionTime: opt(
      positiveDuration,
      'Base ejection time, multiplied by the number of ejections.',
      '`30s`',
    ),
    maxEjectionPercent: opt(integer(0, 100), 'Maximum share of instances ejected, 0-100.', '10'),
  },
  { name: 'OutlierDetection', doc: 'Passive health checking.' },
);

const limit = integer(1, 2_147_483_647);
const connectionPool = object<ConnectionPool>(
  {
    maxConnections: opt(limit, 'Maximum upstream connections (HTTP/1, TCP).', 'no limit set'),
    maxPendingRequests: opt(limit, 'Maximum requests waiting for a connection.', 'no limit set'),
    maxRequests: opt(limit, 'Maximum concurrent requests (HTTP/2, gRPC).', 'no limit set'),
    maxRetries: opt(limit, 'Maximum concurrent retries.', 'no limit set'),
  },
  { name: 'ConnectionPool', doc: 'Connection-pool and circuit-breaker limits.' },
);

const hashOn = union<HashOn>(
  {
    header: object<VariantOf<HashOn, 'header'>>({ name: req(string(HEADER_NAME_MATCH), 'Header hashed.') }),
    cookie: object<VariantOf<HashOn, 'cookie'>>({
      name: req(string(undefined, { maxLength: 256 }), 'Cookie hashed.'),
      ttl: opt(positiveDuration, 'Generate the cookie with this lifetime when absent.', 'do not generate'),
    }),
    'source-ip': object<VariantOf<HashOn, 'source-ip'>>({}),
  },
  { name: 'HashOn', doc: 'What a consistent hash is computed from.' },
);

const loadBalancing = union<LoadBalancing>(
  {
    'round-robin': object<VariantOf<LoadBalancing, 'round-robin'>>({}),
    'least-request': object<VariantOf<LoadBalancing, 'least-request'>>({}),
    random: object<VariantOf<LoadBalancing, 'random'>>({}),
    'ring-hash': object<VariantOf<LoadBalancing, 'ring-hash'>>({
      hashOn: req(hashOn, 'What the hash is computed from.'),
    }),
  },
  { name: 'LoadBalancing', doc: 'Load-balancing algorithm.' },
);

const routePolicyFields: FieldsOf<RoutePolicy> = {
  timeouts: opt(timeouts, 'Request and idle timeouts.', 'inherited (`15s` request, `5m` idle at the top)'),
  retries: opt(retries, 'Retry policy.', 'inherited (no retries at the top)'),
  rateLimit: opt(rateLimit, 'Local rate limit.', 'inherited (no rate limit at the top)'),
};

const routePolicy = object<RoutePolicy>(routePolicyFields, {
  name: 'RoutePolicy',
  doc: 'Timeouts, retries and rate limit for one route.',
});

const servicePolicy = object<ServicePolicy>(
  {
    ...routePolicyFields,
    healthCheck: opt(healthCheck, 'Active health checking of instances.', 'no active health check'),
    outlierDetection: opt(
      outlierDetection,
      'Passive health checking (ejection of failing instances).',
      'none',
    ),
    connectionPool: opt(
      connectionPool,
      'Connection-pool and circuit-breaker limits.',
      "none (the data plane's defaults)",
    ),
    loadBalancing: opt(
      loadBalancing,
      'Load-balancing algorithm across instances.',
      "`{ kind: 'round-robin' }`",
    ),
  },
  {
    name: 'ServicePolicy',
    doc: 'Connection and traffic policies for calls to a service (also the mesh defaults).',
  },
);

const route = object<Route>(
  {
    name: req(name, 'Route name (DNS label), unique within the service.'),
    port: opt(
      port,
      'Which port of the service this route applies to (a declared port number).',
      'the primary port',
    ),
    match: opt(routeMatch, 'What requests this route takes.', 'every request'),
    destinations: opt(
      array(destination, { minItems: 1 }),
      'Weighted destinations (canary). Exactly one of `destinations` and `redirect` is set.',
      'none (then `redirect` is required)',
    ),
    redirect: opt(redirect, 'Answer with a redirect instead of forwarding.', 'no redirect'),
    rewrite: opt(rewrite, 'Rewrite the request before forwarding.', 'no rewrite'),
    headers: opt(headerMutations, 'Add and remove request and response headers.', 'no header changes'),
    fault: opt(fault, 'Inject delays and aborts (chaos testing).', 'no fault'),
    mirror: opt(mirror, 'Copy a share of requests to another destination.', 'no mirroring'),
    policy: opt(routePolicy, 'Timeouts, retries and rate limit for this route.', 'the service policy'),
    priority: opt(
      integer(0, 1000),
      'Priority among routes, 0 (first) to 1000; ties keep declaration order.',
      'position in the list',
    ),
  },
  { name: 'Route', doc: 'One traffic rule for requests to a service.' },
);

const endpoint = object<Endpoint>(
  { host: req(string(HOST), 'Host name or IP address.'), port: req(port, 'Port, 1-65535.') },
  { name: 'Endpoint', doc: 'A host and port.' },
);

const localRun = union<LocalRun>(
  {
    command: object<VariantOf<LocalRun, 'command'>>({
      command: req(
        array(string(undefined, { maxLength: 4096 }), { minItems: 1 }),
        'Program and arguments, run without a shell.',
      ),
      env: opt(record(ENV_NAME, string(undefined, { minLength: 0 })), 'Extra environment variables.', 'none'),
      cwd: opt(
        string(FILE_PATH),
        'Working directory, relative to the mesh file.',
        "the mesh file's directory (`.`)",
      ),
      instances: opt(integer(1, 64), 'Number of instances to start, 1-64.', '1'),
    }),
    endpoints: object<VariantOf<LocalRun, 'endpoints'>>({
      endpoints: req(array(endpoint, { minItems: 1 }), 'host:port pairs.'),
    }),
  },
  { name: 'LocalRun', doc: 'How a version runs on the local machine (`crossmesh up`).' },
);

const serviceVersion = object<ServiceVersion>(
  {
    labels: opt(
      record(LABEL_KEY, string(LABEL_VALUE, { minLength: 0 })),
      "Labels that identify the version's instances.",
      "`{ version: '<version name>' }`",
    ),
    local: opt(localRun, 'How to run or reach this version on the local machine.', 'not runnable locally'),
  },
  { name: 'ServiceVersion', doc: 'One version (subset) of a service.' },
);

const servicePort = object<ServicePort>(
  {
    port: req(port, 'Port number, 1-65535.'),
    protocol: req(protocol, 'Application protocol.'),
    name: opt(name, 'Port name (DNS label), unique within the service.', '`<protocol>-<port>`'),
  },
  { name: 'ServicePort', doc: 'A port a service listens on.' },
);

const accessLog = object<AccessLog>(
  {
    enabled: req(boolean, 'Whether requests are logged.'),
    path: opt(string(FILE_PATH), 'File the sidecar writes to.', '`/dev/stdout`'),
    format: opt(
      oneOf<'text' | 'json'>({ text: "Envoy's default format", json: 'one JSON object a line' }),
      'Log format.',
      '`text`',
    ),
  },
  { name: 'AccessLog', doc: 'Access logging.' },
);

const authorizationRule = object<AuthorizationRule>(
  {
    from: req(
      array(string(SERVICE_OR_ANY), { minItems: 1 }),
      'Calling services (names), or `*` for any mesh service.',
    ),
    paths: opt(array(pathMatch, { minItems: 1 }), 'Path conditions, any of which must hold.', 'any path'),
    methods: opt(array(httpMethod, { minItems: 1 }), 'Methods allowed.', 'any method'),
  },
  { name: 'AuthorizationRule', doc: 'One authorization rule.' },
);

const authorization = object<Authorization>(
  {
    action: req(
      oneOf<Authorization['action']>({
        'allow-all': 'anyone (rules ignored)',
        'allow-listed': 'only callers matching a rule',
      }),
      'Who may call.',
    ),
    rules: opt(array(authorizationRule), 'Rules; a request is allowed when any rule matches.', 'none'),
  },
  { name: 'Authorization', doc: 'Who may call a service.' },
);

const service = object<Service>(
  {
    ports: req(
      array(servicePort, { minItems: 1 }),
      'Ports the service listens on; the first is the primary port.',
    ),
    versions: req(record(DNS_LABEL, serviceVersion, 1), 'Versions (subsets) of the service, keyed by name.'),
    routes: opt(
      array(route),
      'Traffic rules for requests sent to this service, tried in order (first match wins).',
      'one route `default` on the primary port to the whole service (every version, equally weighted)',
    ),
    backends: opt(
      array(name),
      'Services this service calls.',
      'none; with egress `deny-unknown` it can call nothing',
    ),
    policy: opt(
      servicePolicy,
      'Connection and traffic policies for calls to this service.',
      'the mesh `defaults`',
    ),
    authorization: opt(authorization, 'Who may call this service.', "`{ action: 'allow-all', rules: [] }`"),
    identity: opt(
      string(SPIFFE_ID),
      'Workload identity (SPIFFE ID).',
      '`spiffe://<trustDomain>/ns/<mesh>/sa/<service>`',
    ),
    accessLog: opt(accessLog, "Access logging for this service's sidecar.", 'the mesh `accessLog`'),
  },
  {
    name: 'Service',
    doc: 'One service: what it listens on, its versions, and the rules for traffic sent to it.',
  },
);

const gatewayTls = object<GatewayTls>(
  {
    certificateFile: req(string(FILE_PATH), 'PEM certificate chain file.'),
    privateKeyFile: req(string(FILE_PATH), 'PEM private key file.'),
  },
  { name: 'GatewayTls', doc: 'TLS termination at a gateway listener.' },
);

const gatewayListener = object<GatewayListener>(
  {
    port: req(port, 'Port, 1-65535.'),
    protocol: req(
      oneOf<GatewayListener['protocol']>({ http: 'HTTP/1.1', http2: 'HTTP/2', grpc: 'gRPC' }),
      'Protocol (no tcp).',
    ),
    tls: opt(gatewayTls, 'TLS termination.', 'plain text'),
  },
  { name: 'GatewayListener', doc: 'A gateway listener.' },
);

const gatewayRouteMatch = object<GatewayRouteMatch>(
  {
    path: opt(
      pathMatch,
      'Path condition.',
      'any path; canonical form: prefix `/` unless `grpcService` is set',
    ),
    host: opt(string(HOST_PATTERN), 'Host name condition (exact, or `*.suffix`).', 'any host of the gateway'),
    headers: opt(array(headerMatch), 'Header conditions.', 'none'),
    grpcService: opt(string(GRPC_SERVICE), 'gRPC service (gRPC listeners).', 'any'),
  },
  { name: 'GatewayRouteMatch', doc: 'Conditions for a gateway route.' },
);

const gatewayRoute = object<GatewayRoute>(
  {
    name: req(name, 'Route name (DNS label), unique within the gateway.'),
    match: opt(gatewayRouteMatch, 'Request conditions.', 'every request'),
    service: req(name, 'Service that receives the traffic (through its own routes).'),
    rewrite: opt(
      object<NonNullable<GatewayRoute['rewrite']>>({
        prefix: opt(string(URL_PATH), 'Replace the matched prefix (needs a prefix path match).', 'unchanged'),
        host: opt(string(HOST), 'Replace the Host header.', 'unchanged'),
      }),
      'Rewrite the request.',
      'unchanged',
    ),
  },
  { name: 'GatewayRoute', doc: 'A route from a gateway into the mesh.' },
);

const gateway = object<Gateway>(
  {
    listeners: req(array(gatewayListener, { minItems: 1 }), 'Listeners, at least one.'),
    hosts: opt(
      array(string(HOST_PATTERN), { minItems: 1 }),
      'Host names the gateway answers for.',
      "any host (`['*']`)",
    ),
    routes: req(array(gatewayRoute, { minItems: 1 }), 'Routes into the mesh, tried in order. At least one.'),
    accessLog: opt(accessLog, 'Access logging for the gateway.', 'the mesh `accessLog`'),
  },
  { name: 'Gateway', doc: 'An ingress gateway.' },
);

const egress = object<EgressPolicy>(
  {
    mode: req(
      oneOf<EgressPolicy['mode']>({
        'allow-all': 'any external host',
        'deny-unknown': 'only mesh services and `hosts`',
      }),
      'What sidecars do with traffic to hosts outside the mesh.',
    ),
    hosts: opt(array(string(HOST_PATTERN)), 'External hosts allowed when `mode` is `deny-unknown`.', 'none'),
  },
  { name: 'EgressPolicy', doc: 'Egress policy.' },
);

const security = object<Security>(
  {
    mtls: req(
      oneOf<Security['mtls']>({ strict: 'only mTLS', permissive: 'mTLS or plain text', off: 'plain text' }),
      'Mutual TLS mode.',
    ),
    trustDomain: opt(string(DNS_NAME_FORMAT), 'SPIFFE trust domain.', '`cluster.local`'),
  },
  { name: 'Security', doc: 'Mutual TLS settings.' },
);

/** The whole mesh, as a user writes it. */
export const MESH_SHAPE: ObjectShape = object<MeshInput>(
  {
    $schema: opt(
      string(undefined, { maxLength: 2048 }),
      'JSON Schema of the file, so editors can check and complete it (e.g. `docs/mesh.schema.json`); not part of the mesh and not kept in the canonical form.',
      'none',
    ),
    apiVersion: opt(
      oneOf<typeof API_VERSION>({ 'crossmesh/v1': 'this model' }),
      'Schema version of the model.',
      '`crossmesh/v1`',
    ),
    name: req(name, 'Mesh name (DNS label).'),
    domain: opt(
      string(DNS_NAME_FORMAT),
      'DNS domain under which services are reachable: `<service>.<domain>`.',
      '`<name>.mesh.local`',
    ),
    services: req(record(DNS_LABEL, service), 'Services, keyed by name (a DNS label).'),
    gateways: opt(record(DNS_LABEL, gateway), 'Ingress gateways, keyed by name.', 'no gateways'),
    egress: opt(
      egress,
      'What sidecars do with traffic to hosts outside the mesh.',
      "`{ mode: 'allow-all', hosts: [] }`",
    ),
    security: opt(security, 'Mutual TLS and identities.', "`{ mtls: 'off', trustDomain: 'cluster.local' }`"),
    accessLog: opt(
      accessLog,
      'Mesh-wide access logging, which services and gateways may override.',
      "`{ enabled: false, path: '/dev/stdout', format: 'text' }`",
    ),
    ipPreference: opt(
      oneOf<IpPreference>({
        'ipv4-only': 'IPv4 addresses only',
        'ipv6-only': 'IPv6 addresses only',
        'ipv4-preferred': 'IPv4 first, IPv6 when a host has no IPv4 address',
        'ipv6-preferred': 'IPv6 first, IPv4 when a host has no IPv6 address',
      }),
      'IP family preference for endpoint addresses.',
      "`'ipv4-preferred'`",
    ),
    defaults: opt(
      servicePolicy,
      'Policies every service inherits unless it sets its own.',
      'no mesh-wide policy',
    ),
  },
  { name: 'Mesh', doc: 'A whole mesh.' },
);
