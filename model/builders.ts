/**
 * Small factories for writing a mesh in TypeScript. Each returns the same plain data a JSON or
 * YAML mesh holds (see model/types.ts for why the model is data, not classes): the factories only
 * save typing the `kind` discriminants and give editors something to complete.
 *
 * ```ts
 * export default defineMesh({
 *   name: 'shop',
 *   services: {
 *     catalog: {
 *       ports: [port.http(8080)],
 *       versions: { v1: {}, v2: {} },
 *       routes: [{ name: 'canary', match: { headers: [header.exact('x-canary', 'always')] }, destinations: [to('catalog', 'v2')] }],
 *       policy: { healthCheck: healthCheck.http({ path: '/health' }), loadBalancing: lb.ringHash(hashOn.header('x-user')) },
 *     },
 *   },
 * });
 * ```
 */
import {
  API_VERSION,
  type Authorization,
  type AuthorizationRule,
  type Destination,
  type Duration,
  type Endpoint,
  type GrpcMatch,
  type HashOn,
  type HeaderMatch,
  type HealthCheck,
  type LoadBalancing,
  type LocalCommand,
  type LocalEndpoints,
  type Mesh,
  type MeshInput,
  type PathMatch,
  type QueryMatch,
  type Service,
  type ServicePort,
} from './types.js';

/** Declares a mesh: returns it unchanged apart from `apiVersion`, typed for the editor. */
export function defineMesh(mesh: MeshInput): Mesh {
  // apiVersion first, so a mesh printed as JSON or YAML reads like a file written by hand.
  const { apiVersion: _given, ...rest } = mesh;
  return { apiVersion: API_VERSION, ...rest };
}

/** Declares one service (identity, for typing services declared apart from the mesh). */
export function defineService(service: Service): Service {
  return service;
}

/** Path conditions. */
export const match = {
  /** The whole path equals `value`. */
  exact: (value: string): PathMatch => ({ kind: 'exact', value }),
  /** The path starts with `value`. */
  prefix: (value: string): PathMatch => ({ kind: 'prefix', value }),
  /** The whole path matches the RE2 expression `value`. */
  regex: (value: string): PathMatch => ({ kind: 'regex', value }),
} as const;

/** Header conditions; wrap one in `header.not()` to invert it. */
export const header = {
  /** Header `name` equals `value`. */
  exact: (name: string, value: string): HeaderMatch => ({ kind: 'exact', name, value }),
  /** Header `name` starts with `value`. */
  prefix: (name: string, value: string): HeaderMatch => ({ kind: 'prefix', name, value }),
  /** Header `name` ends with `value`. */
  suffix: (name: string, value: string): HeaderMatch => ({ kind: 'suffix', name, value }),
  /** Header `name` matches the RE2 expression `value`. */
  regex: (name: string, value: string): HeaderMatch => ({ kind: 'regex', name, value }),
  /** Header `name` is present. */
  present: (name: string): HeaderMatch => ({ kind: 'present', name }),
  /** Header `name` is an integer in `[start, end)`. */
  range: (name: string, start: number, end: number): HeaderMatch => ({ kind: 'range', name, start, end }),
  /** The condition, negated. */
  not: (condition: HeaderMatch): HeaderMatch => ({ ...condition, invert: !(condition.invert ?? false) }),
} as const;

/** Query parameter conditions. */
export const query = {
  /** Parameter `name` equals `value`. */
  exact: (name: string, value: string): QueryMatch => ({ kind: 'exact', name, value }),
  /** Parameter `name` matches the RE2 expression `value`. */
  regex: (name: string, value: string): QueryMatch => ({ kind: 'regex', name, value }),
  /** Parameter `name` is present. */
  present: (name: string): QueryMatch => ({ kind: 'present', name }),
} as const;

/** gRPC conditions. */
export const grpc = {
  /** Any method of the fully qualified `service`. */
  service: (service: string): GrpcMatch => ({ service }),
  /** One method of `service`. */
  method: (service: string, method: string): GrpcMatch => ({ service, method }),
} as const;

/** A weighted destination: `service` (every version unless `version` is given), weight 1 unless given. */
export function to(service: string, version?: string, weight?: number): Destination {
  return {
    service,
    ...(version === undefined ? {} : { version }),
    ...(weight === undefined ? {} : { weight }),
  };
}

/** Service ports. */
export const port = {
  /** An HTTP/1.1 port. */
  http: (number: number, name?: string): ServicePort => portOf(number, 'http', name),
  /** An HTTP/2 port. */
  http2: (number: number, name?: string): ServicePort => portOf(number, 'http2', name),
  /** A gRPC port. */
  grpc: (number: number, name?: string): ServicePort => portOf(number, 'grpc', name),
  /** An opaque TCP port. */
  tcp: (number: number, name?: string): ServicePort => portOf(number, 'tcp', name),
} as const;

function portOf(number: number, protocol: ServicePort['protocol'], name: string | undefined): ServicePort {
  return { port: number, protocol, ...(name === undefined ? {} : { name }) };
}

type Timing = Omit<Extract<HealthCheck, { kind: 'tcp' }>, 'kind'>;

/** Active health checks. */
export const healthCheck = {
  /** GET `path`; healthy on the expected statuses (2xx unless given). */
  http: (options: Omit<Extract<HealthCheck, { kind: 'http' }>, 'kind'>): HealthCheck => ({
    kind: 'http',
    ...options,
  }),
  /** The gRPC health-checking protocol. */
  grpc: (options: Omit<Extract<HealthCheck, { kind: 'grpc' }>, 'kind'> = {}): HealthCheck => ({
    kind: 'grpc',
    ...options,
  }),
  /** A TCP connect. */
  tcp: (options: Timing = {}): HealthCheck => ({ kind: 'tcp', ...options }),
} as const;

/** What a consistent hash is computed from. */
export const hashOn = {
  /** A request header. */
  header: (name: string): HashOn => ({ kind: 'header', name }),
  /** A cookie, generated with lifetime `ttl` when absent (if given). */
  cookie: (name: string, ttl?: Duration): HashOn => ({
    kind: 'cookie',
    name,
    ...(ttl === undefined ? {} : { ttl }),
  }),
  /** The client address. */
  sourceIp: (): HashOn => ({ kind: 'source-ip' }),
} as const;

/** Load-balancing algorithms. */
export const lb = {
  /** Each instance in turn (the default). */
  roundRobin: (): LoadBalancing => ({ kind: 'round-robin' }),
  /** The instance with the fewest active requests (of two picked at random). */
  leastRequest: (): LoadBalancing => ({ kind: 'least-request' }),
  /** A random instance. */
  random: (): LoadBalancing => ({ kind: 'random' }),
  /** Consistent hashing, so the same key reaches the same instance. */
  ringHash: (on: HashOn): LoadBalancing => ({ kind: 'ring-hash', hashOn: on }),
} as const;

/** How a version runs locally (`crossmesh up`). */
export const local = {
  /** Start `command` (no shell); crossmesh sets `PORT`. */
  command: (
    command: readonly string[],
    options: Omit<LocalCommand, 'kind' | 'command'> = {},
  ): LocalCommand => ({
    kind: 'command',
    command,
    ...options,
  }),
  /** Reach instances already running at these addresses. */
  endpoints: (...endpoints: Endpoint[]): LocalEndpoints => ({ kind: 'endpoints', endpoints }),
} as const;

/** Authorization. */
export const allow = {
  /** Anyone may call. */
  all: (): Authorization => ({ action: 'allow-all', rules: [] }),
  /** Only callers matching one of `rules`. */
  only: (...rules: AuthorizationRule[]): Authorization => ({ action: 'allow-listed', rules }),
  /** A rule: calls from `services` (or `'*'`), optionally only to some paths or with some methods. */
  from: (
    services: string | readonly string[],
    options: Omit<AuthorizationRule, 'from'> = {},
  ): AuthorizationRule => ({ from: typeof services === 'string' ? [services] : services, ...options }),
} as const;
