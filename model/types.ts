/**
 * The cloud-neutral mesh model: plain, JSON-shaped data.
 *
 * Why plain data and discriminated unions, not classes: the same mesh can be written in
 * TypeScript, JSON or YAML, and its canonical form is JSON. Plain objects with a `kind`
 * discriminant are exactly that shape, so a YAML mesh and a TypeScript mesh are the same value,
 * the JSON Schema describes the TypeScript types one to one, and the compiler narrows on `kind`
 * in every renderer. The ergonomics of static factories come from small helper functions in
 * `model/builders.ts` (e.g. `match.prefix('/api')`) that return this plain data.
 *
 * Input vs canonical: user input may omit fields marked optional. `canonicalize()` fills every
 * default explicitly (see each field's `@default`), sorts keys and normalizes durations; renderers
 * receive the canonical {@link Mesh}, in which every field with a default is present.
 *
 * This module knows nothing of any cloud.
 */

/** A duration written as a number and a unit: `250ms`, `2s`, `1m`, `1h`. Canonical: the largest exact unit. */
export type Duration = string;

/** Application protocol of a service port. */
export type Protocol = 'http' | 'http2' | 'grpc' | 'tcp';

/** HTTP request methods a route may match. */
export type HttpMethod =
  | 'GET'
  | 'HEAD'
  | 'POST'
  | 'PUT'
  | 'DELETE'
  | 'CONNECT'
  | 'OPTIONS'
  | 'TRACE'
  | 'PATCH';

/** The model's schema version. */
export const API_VERSION = 'crossmesh/v1';

/** A whole mesh. */
export interface Mesh {
  /** Schema version of the model. */
  readonly apiVersion: typeof API_VERSION;
  /** Mesh name: a DNS label (1-63 lowercase letters, digits, hyphens). */
  readonly name: string;
  /**
   * DNS domain under which services are reachable inside the mesh: `<service>.<domain>`.
   * @default - `<name>.mesh.local`
   */
  readonly domain?: string;
  /** Services, keyed by name (a DNS label). */
  readonly services: Readonly<Record<string, Service>>;
  /** Ingress gateways, keyed by name. @default - no gateways */
  readonly gateways?: Readonly<Record<string, Gateway>>;
  /** What sidecars do with traffic to hosts outside the mesh. @default - `{ mode: 'allow-all', hosts: [] }` */
  readonly egress?: EgressPolicy;
  /** Mutual TLS and identities. @default - `{ mtls: 'off', trustDomain: 'cluster.local' }` */
  readonly security?: Security;
  /** Mesh-wide access logging, which services may override. @default - `{ enabled: false, path: '/dev/stdout', format: 'text' }` */
  readonly accessLog?: AccessLog;
  /** IP family preference for endpoint addresses. @default - `'ipv4-preferred'` */
  readonly ipPreference?: IpPreference;
  /** Policies every service inherits unless it sets its own. @default - no mesh-wide policy */
  readonly defaults?: ServicePolicy;
}

/**
 * A mesh as a user writes it: a {@link Mesh} whose `apiVersion` may be omitted (it defaults to
 * `crossmesh/v1`). `defineMesh()` and the loaders accept this; the canonical form always has it.
 */
export type MeshInput = Omit<Mesh, 'apiVersion'> & {
  /** Schema version of the model. @default - `crossmesh/v1` */
  readonly apiVersion?: typeof API_VERSION;
  /** JSON Schema of the file, for editors (JSON and YAML meshes); not part of the mesh. @default - none */
  readonly $schema?: string;
};

/** IP family preference for endpoint addresses. */
export type IpPreference = 'ipv4-only' | 'ipv6-only' | 'ipv4-preferred' | 'ipv6-preferred';

/** One service: what it listens on, its versions, and the rules for traffic sent to it. */
export interface Service {
  /** Ports the service listens on; the first is the primary port. At least one. */
  readonly ports: readonly ServicePort[];
  /** Versions (subsets) of the service, keyed by name (a DNS label). At least one. */
  readonly versions: Readonly<Record<string, ServiceVersion>>;
  /**
   * Traffic rules for requests sent to this service, tried in order (first match wins).
   * @default - one route `default` that sends everything on the primary port to every version, equally weighted
   */
  readonly routes?: readonly Route[];
  /** Services this service calls (its backends). @default - none; with egress `deny-unknown` it can call nothing */
  readonly backends?: readonly string[];
  /** Connection and traffic policies for calls to this service. @default - the mesh `defaults` */
  readonly policy?: ServicePolicy;
  /** Who may call this service. @default - `{ action: 'allow-all', rules: [] }` */
  readonly authorization?: Authorization;
  /** Workload identity (SPIFFE ID). @default - `spiffe://<trustDomain>/ns/<mesh>/sa/<service>` */
  readonly identity?: string;
  /** Access logging for this service's sidecar. @default - the mesh `accessLog` */
  readonly accessLog?: AccessLog;
}

/** A port a service listens on. */
export interface ServicePort {
  /** Port number, 1-65535. */
  readonly port: number;
  /** Application protocol. */
  readonly protocol: Protocol;
  /** Port name (DNS label), unique within the service. @default - `<protocol>-<port>` */
  readonly name?: string;
}

/** One version (subset) of a service. */
export interface ServiceVersion {
  /** Labels that identify the version's instances. @default - `{ version: '<version name>' }` */
  readonly labels?: Readonly<Record<string, string>>;
  /** How to run or reach this version on the local machine (`crossmesh up`). @default - not runnable locally */
  readonly local?: LocalRun;
}

/** How a version runs on the local machine. */
export type LocalRun = LocalCommand | LocalEndpoints;

/** Start the service with a command; crossmesh up sets `PORT` (and the sidecar variables) per instance. */
export interface LocalCommand {
  /** Discriminant. */
  readonly kind: 'command';
  /** Program and arguments, run without a shell. */
  readonly command: readonly string[];
  /** Extra environment variables. @default - none */
  readonly env?: Readonly<Record<string, string>>;
  /** Working directory, relative to the mesh file. @default - the mesh file's directory */
  readonly cwd?: string;
  /** Number of instances to start. @default - 1 */
  readonly instances?: number;
}

/** Reach an already-running service at fixed addresses. */
export interface LocalEndpoints {
  /** Discriminant. */
  readonly kind: 'endpoints';
  /** host:port pairs. At least one. */
  readonly endpoints: readonly Endpoint[];
}

/** A host and port. */
export interface Endpoint {
  /** Host name or IP address. */
  readonly host: string;
  /** Port, 1-65535. */
  readonly port: number;
}

// ---------------------------------------------------------------------------------------------
// Routes

/** One traffic rule for requests to a service. */
export interface Route {
  /** Route name (DNS label), unique within the service. */
  readonly name: string;
  /** Which port of the service this route applies to (by port number). @default - the primary port */
  readonly port?: number;
  /** What requests this route takes. @default - every request (`path: { kind: 'prefix', value: '/' }` for HTTP) */
  readonly match?: RouteMatch;
  /**
   * Weighted destinations (canary). Exactly one of `destinations` and `redirect` is set.
   * Weights are relative (0-1000) and need not add up to 100.
   */
  readonly destinations?: readonly Destination[];
  /** Answer with a redirect instead of forwarding. @default - no redirect */
  readonly redirect?: Redirect;
  /** Rewrite the request before forwarding. @default - no rewrite */
  readonly rewrite?: Rewrite;
  /** Add and remove request and response headers. @default - no header changes */
  readonly headers?: HeaderMutations;
  /** Inject delays and aborts (chaos testing). @default - no fault */
  readonly fault?: Fault;
  /** Copy a share of requests to another destination, discarding its responses. @default - no mirroring */
  readonly mirror?: Mirror;
  /** Timeouts, retries and rate limit for this route. @default - the service policy */
  readonly policy?: RoutePolicy;
  /** Priority among routes, 0 (first) to 1000; ties keep declaration order. @default - position in the list */
  readonly priority?: number;
}

/** Conditions a request must meet; all given conditions must hold. */
export interface RouteMatch {
  /** Path condition (HTTP, HTTP/2, gRPC). @default - any path */
  readonly path?: PathMatch;
  /** Header conditions, all of which must hold. @default - none */
  readonly headers?: readonly HeaderMatch[];
  /** Query parameter conditions, all of which must hold. @default - none */
  readonly query?: readonly QueryMatch[];
  /** HTTP method. @default - any method */
  readonly method?: HttpMethod;
  /** gRPC service and method (gRPC ports only). @default - any gRPC method */
  readonly grpc?: GrpcMatch;
}

/** A path condition. */
export type PathMatch =
  | { readonly kind: 'exact'; readonly value: string }
  | { readonly kind: 'prefix'; readonly value: string }
  | { readonly kind: 'regex'; readonly value: string };

/** A header condition. `invert` negates it. */
export type HeaderMatch =
  | {
      readonly kind: 'exact' | 'prefix' | 'suffix' | 'regex';
      readonly name: string;
      readonly value: string;
      readonly invert?: boolean;
    }
  | { readonly kind: 'present'; readonly name: string; readonly invert?: boolean }
  | {
      readonly kind: 'range';
      readonly name: string;
      /** Inclusive start. */
      readonly start: number;
      /** Exclusive end. */
      readonly end: number;
      readonly invert?: boolean;
    };

/** A query parameter condition. */
export type QueryMatch =
  | { readonly kind: 'exact' | 'regex'; readonly name: string; readonly value: string }
  | { readonly kind: 'present'; readonly name: string };

/** A gRPC method condition. */
export interface GrpcMatch {
  /** Fully qualified service, e.g. `shop.Payments`. @default - any service */
  readonly service?: string;
  /** Method name, e.g. `Charge` (needs `service`). @default - any method */
  readonly method?: string;
}

/** A weighted destination: a service (default: the route's own), optionally one version. */
export interface Destination {
  /** Destination service. @default - the service the route belongs to */
  readonly service?: string;
  /** Version of the destination service. @default - every version of it, equally weighted */
  readonly version?: string;
  /** Relative weight 0-1000. @default - 1 */
  readonly weight?: number;
}

/** Answer with a redirect. */
export interface Redirect {
  /** Status code: 301, 302, 303, 307 or 308. @default - 301 */
  readonly status?: 301 | 302 | 303 | 307 | 308;
  /** New scheme. @default - unchanged */
  readonly scheme?: 'http' | 'https';
  /** New host. @default - unchanged */
  readonly host?: string;
  /** New port. @default - unchanged */
  readonly port?: number;
  /** New path (replaces the whole path). @default - unchanged */
  readonly path?: string;
  /** Replace the matched prefix (needs a prefix path match). @default - unchanged */
  readonly prefix?: string;
}

/** Rewrite the request before forwarding. */
export interface Rewrite {
  /** Replace the matched path prefix with this (needs a prefix path match). @default - unchanged */
  readonly prefix?: string;
  /** Replace the whole path. @default - unchanged */
  readonly path?: string;
  /** Replace the Host / :authority header. @default - unchanged */
  readonly host?: string;
}

/** Header additions and removals. */
export interface HeaderMutations {
  /** Changes to the request sent upstream. @default - none */
  readonly request?: HeaderMutation;
  /** Changes to the response sent back. @default - none */
  readonly response?: HeaderMutation;
}

/** One set of header changes. */
export interface HeaderMutation {
  /** Headers to set (replacing any existing value) or append. @default - none */
  readonly add?: readonly HeaderValue[];
  /** Header names to remove. @default - none */
  readonly remove?: readonly string[];
}

/** A header to set or append. */
export interface HeaderValue {
  /** Header name (lowercase token). */
  readonly name: string;
  /** Header value. */
  readonly value: string;
  /** Append to existing values instead of replacing them. @default - false */
  readonly append?: boolean;
}

/** Fault injection. */
export interface Fault {
  /** Delay a share of requests. @default - no delay */
  readonly delay?: { readonly duration: Duration; readonly percent: number };
  /** Abort a share of requests with an HTTP status (or a gRPC status on gRPC ports). @default - no abort */
  readonly abort?: { readonly httpStatus?: number; readonly grpcStatus?: number; readonly percent: number };
}

/** Mirror a share of requests. */
export interface Mirror {
  /** Service to mirror to. */
  readonly service: string;
  /** Version of that service. @default - every version */
  readonly version?: string;
  /** Share of requests mirrored, 0-100. @default - 100 */
  readonly percent?: number;
}

// ---------------------------------------------------------------------------------------------
// Policies

/** Policies that can be set per route. */
export interface RoutePolicy {
  /** Request and idle timeouts. @default - inherited */
  readonly timeouts?: Timeouts;
  /** Retry policy. @default - inherited */
  readonly retries?: Retries;
  /** Local rate limit. @default - inherited */
  readonly rateLimit?: RateLimit;
}

/** Policies that can be set per service (and as mesh defaults). */
export interface ServicePolicy extends RoutePolicy {
  /** Active health checking of instances. @default - no active health check */
  readonly healthCheck?: HealthCheck;
  /** Passive health checking (ejection of failing instances). @default - none */
  readonly outlierDetection?: OutlierDetection;
  /** Connection-pool and circuit-breaker limits. @default - none (Envoy's defaults) */
  readonly connectionPool?: ConnectionPool;
  /** Load-balancing algorithm across instances. @default - `{ kind: 'round-robin' }` */
  readonly loadBalancing?: LoadBalancing;
}

/** Timeouts. */
export interface Timeouts {
  /** Whole-request timeout; `0s` disables it. @default - `15s` */
  readonly request?: Duration;
  /** Idle timeout of a stream/connection. @default - `5m` */
  readonly idle?: Duration;
}

/** Events that trigger a retry. */
export type RetryEvent =
  | 'server-error'
  | 'gateway-error'
  | 'client-error'
  | 'reset'
  | 'connect-failure'
  | 'refused-stream'
  | 'cancelled'
  | 'deadline-exceeded'
  | 'resource-exhausted'
  | 'unavailable'
  | 'internal';

/** Retry policy. */
export interface Retries {
  /** Maximum retries (not counting the first attempt), 0-10. */
  readonly attempts: number;
  /** Events that trigger a retry. @default - `['gateway-error', 'connect-failure', 'reset']` */
  readonly on?: readonly RetryEvent[];
  /** Timeout of each attempt. @default - the request timeout */
  readonly perTryTimeout?: Duration;
  /** Exponential backoff between attempts. @default - `{ base: '25ms', max: '250ms' }` */
  readonly backoff?: { readonly base: Duration; readonly max: Duration };
}

/** Active health check. */
export type HealthCheck =
  | (HealthCheckTiming & {
      readonly kind: 'http';
      /** Path requested. */
      readonly path: string;
      /** Statuses counted healthy, as `[start, end)` ranges. @default - `[[200, 300)]` */
      readonly expectedStatuses?: readonly (readonly [number, number])[];
      /** Host header. @default - the service hostname */
      readonly host?: string;
    })
  | (HealthCheckTiming & {
      readonly kind: 'grpc';
      /** gRPC health service name. @default - `''` (the server as a whole) */
      readonly service?: string;
    })
  | (HealthCheckTiming & { readonly kind: 'tcp' });

/** Timing shared by every health check. */
export interface HealthCheckTiming {
  /** Time between checks. @default - `5s` */
  readonly interval?: Duration;
  /** Time to wait for an answer. @default - `2s` */
  readonly timeout?: Duration;
  /** Successes before an instance is healthy, 2-10. @default - 2 */
  readonly healthyThreshold?: number;
  /** Failures before an instance is unhealthy, 2-10. @default - 3 */
  readonly unhealthyThreshold?: number;
  /** Port to check. @default - the service's primary port */
  readonly port?: number;
}

/** Passive health checking. */
export interface OutlierDetection {
  /** Consecutive 5xx (or connect failures) before ejection, 1-1000. @default - 5 */
  readonly consecutive5xx?: number;
  /** Time between ejection sweeps. @default - `10s` */
  readonly interval?: Duration;
  /** Base ejection time, multiplied by the number of ejections. @default - `30s` */
  readonly baseEjectionTime?: Duration;
  /** Maximum share of instances ejected, 0-100. @default - 10 */
  readonly maxEjectionPercent?: number;
}

/** Connection-pool and circuit-breaker limits. */
export interface ConnectionPool {
  /** Maximum upstream connections (HTTP/1, TCP). @default - no limit set */
  readonly maxConnections?: number;
  /** Maximum requests waiting for a connection. @default - no limit set */
  readonly maxPendingRequests?: number;
  /** Maximum concurrent requests (HTTP/2, gRPC). @default - no limit set */
  readonly maxRequests?: number;
  /** Maximum concurrent retries. @default - no limit set */
  readonly maxRetries?: number;
}

/** Load-balancing algorithm. */
export type LoadBalancing =
  | { readonly kind: 'round-robin' }
  | { readonly kind: 'least-request' }
  | { readonly kind: 'random' }
  | { readonly kind: 'ring-hash'; readonly hashOn: HashOn };

/** What a consistent hash is computed from. */
export type HashOn =
  | { readonly kind: 'header'; readonly name: string }
  | {
      readonly kind: 'cookie';
      readonly name: string;
      /** Generate the cookie with this lifetime when absent. @default - do not generate */
      readonly ttl?: Duration;
    }
  | { readonly kind: 'source-ip' };

/** A token-bucket rate limit applied by the receiving sidecar. */
export interface RateLimit {
  /** Requests admitted per `per`. */
  readonly requests: number;
  /** Refill period. */
  readonly per: Duration;
  /** Bucket size (burst). @default - `requests` */
  readonly burst?: number;
}

// ---------------------------------------------------------------------------------------------
// Gateways, egress, security, logging

/** An ingress gateway. */
export interface Gateway {
  /** Listeners, at least one. */
  readonly listeners: readonly GatewayListener[];
  /** Host names the gateway answers for. @default - any host (`['*']`) */
  readonly hosts?: readonly string[];
  /** Routes from the gateway into the mesh, tried in order. At least one. */
  readonly routes: readonly GatewayRoute[];
  /** Access logging for the gateway. @default - the mesh `accessLog` */
  readonly accessLog?: AccessLog;
}

/** A gateway listener. */
export interface GatewayListener {
  /** Port, 1-65535. */
  readonly port: number;
  /** Protocol. */
  readonly protocol: Exclude<Protocol, 'tcp'>;
  /** TLS termination. @default - plain text */
  readonly tls?: GatewayTls;
}

/** TLS termination at a gateway listener. */
export interface GatewayTls {
  /** PEM certificate chain file. */
  readonly certificateFile: string;
  /** PEM private key file. */
  readonly privateKeyFile: string;
}

/** A route from a gateway into the mesh. */
export interface GatewayRoute {
  /** Route name (DNS label), unique within the gateway. */
  readonly name: string;
  /** Request conditions. @default - every request */
  readonly match?: GatewayRouteMatch;
  /** Service that receives the traffic (through its own routes). */
  readonly service: string;
  /** Rewrite the matched prefix. @default - unchanged */
  readonly rewrite?: { readonly prefix?: string; readonly host?: string };
}

/** Conditions for a gateway route. */
export interface GatewayRouteMatch {
  /** Path condition. @default - any path */
  readonly path?: PathMatch;
  /** Host name condition (exact, or `*.suffix`). @default - any host of the gateway */
  readonly host?: string;
  /** Header conditions. @default - none */
  readonly headers?: readonly HeaderMatch[];
  /** gRPC service (gRPC listeners). @default - any */
  readonly grpcService?: string;
}

/** Egress policy. */
export interface EgressPolicy {
  /** `allow-all`: any external host; `deny-unknown`: only mesh services and `hosts`. */
  readonly mode: 'allow-all' | 'deny-unknown';
  /** External hosts allowed when `mode` is `deny-unknown`. @default - none */
  readonly hosts?: readonly string[];
}

/** Mutual TLS settings. */
export interface Security {
  /** `strict`: only mTLS; `permissive`: mTLS or plain text; `off`: plain text. */
  readonly mtls: 'strict' | 'permissive' | 'off';
  /** SPIFFE trust domain. @default - `cluster.local` */
  readonly trustDomain?: string;
}

/** Who may call a service. */
export interface Authorization {
  /**
   * `allow-all`: anyone (rules ignored); `allow-listed`: only callers matching a rule.
   */
  readonly action: 'allow-all' | 'allow-listed';
  /** Rules; a request is allowed when any rule matches. @default - none */
  readonly rules?: readonly AuthorizationRule[];
}

/** One authorization rule. */
export interface AuthorizationRule {
  /** Calling services (names), or `['*']` for any authenticated mesh service. */
  readonly from: readonly string[];
  /** Path conditions, any of which must hold. @default - any path */
  readonly paths?: readonly PathMatch[];
  /** Methods allowed. @default - any method */
  readonly methods?: readonly HttpMethod[];
}

/** Access logging. */
export interface AccessLog {
  /** Whether requests are logged. */
  readonly enabled: boolean;
  /** File the sidecar writes to. @default - `/dev/stdout` */
  readonly path?: string;
  /** `text`: Envoy's default format; `json`: one JSON object a line. @default - `text` */
  readonly format?: 'text' | 'json';
}
