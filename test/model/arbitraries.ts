/**
 * fast-check arbitraries for valid meshes: every reference resolves, weights are positive,
 * names and ports are unique, and features are only used on protocols that allow them. Shared
 * by the property tests; not a test file itself.
 */
import fc from 'fast-check';
import type { HttpMethod, Protocol, RetryEvent } from '../../model/types.js';

type Json = Record<string, unknown>;

const SERVICE_NAMES = ['alpha', 'beta', 'gamma', 'delta', 'edge-1'];
const VERSION_NAMES = ['v1', 'v2', 'canary'];
const HEADER_NAMES = ['x-a', 'x-canary', 'user-agent'];
const PATHS = ['/', '/api', '/api/v1', '/x-y'];
const REGEXES = ['a.*', '^/api/[0-9]+$', '.*', '[a-z]+'];
const METHODS: HttpMethod[] = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH'];
const HTTP_EVENTS: RetryEvent[] = [
  'server-error',
  'gateway-error',
  'client-error',
  'reset',
  'connect-failure',
  'refused-stream',
];
const GRPC_EVENTS: RetryEvent[] = [
  'cancelled',
  'deadline-exceeded',
  'resource-exhausted',
  'unavailable',
  'internal',
];

/** What every service generator knows about the other services. */
interface World {
  readonly names: readonly string[];
  readonly specs: readonly {
    readonly protocol: Protocol;
    readonly port: number;
    readonly versions: readonly string[];
  }[];
  readonly trustDomain: string | undefined;
  readonly meshName: string;
}

const text = fc.stringMatching(/^[a-z0-9-]{1,8}$/);

/** A duration in one of the accepted spellings. */
export const duration = fc.oneof(
  fc
    .tuple(fc.integer({ min: 1, max: 999 }), fc.constantFrom('ms', 's', 'm', 'h'))
    .map(([n, u]) => `${n}${u}`),
  fc.tuple(fc.integer({ min: 1, max: 59 }), fc.integer({ min: 1, max: 59 })).map(([m, s]) => `${m}m${s}s`),
);

const pathMatch = fc.oneof(
  fc.record({ kind: fc.constantFrom('exact', 'prefix'), value: fc.constantFrom(...PATHS) }),
  fc.record({ kind: fc.constant('regex'), value: fc.constantFrom(...REGEXES) }),
);

const invert = { invert: fc.boolean() };
const headerMatch = fc.oneof(
  fc.record(
    {
      kind: fc.constantFrom('exact', 'prefix', 'suffix'),
      name: fc.constantFrom(...HEADER_NAMES),
      value: text,
      ...invert,
    },
    { requiredKeys: ['kind', 'name', 'value'] },
  ),
  fc.record(
    {
      kind: fc.constant('regex'),
      name: fc.constantFrom(...HEADER_NAMES),
      value: fc.constantFrom(...REGEXES),
      ...invert,
    },
    { requiredKeys: ['kind', 'name', 'value'] },
  ),
  fc.record(
    { kind: fc.constant('present'), name: fc.constantFrom(...HEADER_NAMES), ...invert },
    { requiredKeys: ['kind', 'name'] },
  ),
  fc
    .tuple(
      fc.integer({ min: -100, max: 100 }),
      fc.integer({ min: 1, max: 100 }),
      fc.constantFrom(...HEADER_NAMES),
    )
    .map(([start, size, name]) => ({ kind: 'range', name, start, end: start + size })),
);

const queryMatch = fc.oneof(
  fc.record({ kind: fc.constant('exact'), name: text, value: text }),
  fc.record({ kind: fc.constant('regex'), name: text, value: fc.constantFrom(...REGEXES) }),
  fc.record({ kind: fc.constant('present'), name: text }),
);

const backoff = fc
  .tuple(fc.integer({ min: 1, max: 500 }), fc.integer({ min: 0, max: 500 }))
  .map(([base, extra]) => ({ base: `${base}ms`, max: `${base + extra}ms` }));

function retries(protocol: Protocol) {
  const events = protocol === 'grpc' ? [...HTTP_EVENTS, ...GRPC_EVENTS] : HTTP_EVENTS;
  return fc.record(
    {
      attempts: fc.integer({ min: 0, max: 10 }),
      on: fc.uniqueArray(fc.constantFrom(...events), { minLength: 1, maxLength: 3 }),
      perTryTimeout: duration,
      backoff,
    },
    { requiredKeys: ['attempts'] },
  );
}

const timeouts = fc.record(
  { request: fc.oneof(duration, fc.constant('0s')), idle: duration },
  { requiredKeys: [] },
);

const rateLimit = fc.record(
  { requests: fc.integer({ min: 1, max: 1000 }), per: duration, burst: fc.integer({ min: 1, max: 1000 }) },
  { requiredKeys: ['requests', 'per'] },
);

function healthCheck(protocol: Protocol, port: number) {
  const timing = {
    interval: duration,
    timeout: duration,
    healthyThreshold: fc.integer({ min: 2, max: 10 }),
    unhealthyThreshold: fc.integer({ min: 2, max: 10 }),
    port: fc.constant(port),
  };
  const kinds: fc.Arbitrary<Json>[] = [
    fc.record({ kind: fc.constant('tcp'), ...timing }, { requiredKeys: ['kind'] }),
    fc.record(
      {
        kind: fc.constant('http'),
        path: fc.constantFrom(...PATHS),
        expectedStatuses: fc.array(
          fc
            .tuple(fc.integer({ min: 100, max: 500 }), fc.integer({ min: 1, max: 100 }))
            .map(([a, n]) => [a, a + n]),
          { minLength: 1, maxLength: 2 },
        ),
        host: fc.constant('health.example.com'),
        ...timing,
      },
      { requiredKeys: ['kind', 'path'] },
    ),
  ];
  if (protocol === 'grpc' || protocol === 'http2') {
    kinds.push(
      fc.record({ kind: fc.constant('grpc'), service: text, ...timing }, { requiredKeys: ['kind'] }),
    );
  }
  return fc.oneof(...kinds);
}

function loadBalancing(protocol: Protocol) {
  const hashOn: fc.Arbitrary<Json>[] = [fc.constant({ kind: 'source-ip' })];
  if (protocol !== 'tcp') {
    hashOn.push(
      fc.record({ kind: fc.constant('header'), name: fc.constantFrom(...HEADER_NAMES) }),
      fc.record(
        { kind: fc.constant('cookie'), name: text, ttl: duration },
        { requiredKeys: ['kind', 'name'] },
      ),
    );
  }
  return fc.oneof(
    fc.constantFrom({ kind: 'round-robin' }, { kind: 'least-request' }, { kind: 'random' }),
    fc.oneof(...hashOn).map((h) => ({ kind: 'ring-hash', hashOn: h })),
  );
}

function servicePolicy(protocol: Protocol, port: number) {
  return fc.record(
    {
      timeouts,
      retries: retries(protocol),
      rateLimit,
      healthCheck: healthCheck(protocol, port),
      outlierDetection: fc.record(
        {
          consecutive5xx: fc.integer({ min: 1, max: 1000 }),
          interval: duration,
          baseEjectionTime: duration,
          maxEjectionPercent: fc.integer({ min: 0, max: 100 }),
        },
        { requiredKeys: [] },
      ),
      connectionPool: fc.record(
        {
          maxConnections: fc.integer({ min: 1, max: 10_000 }),
          maxPendingRequests: fc.integer({ min: 1, max: 10_000 }),
          maxRequests: fc.integer({ min: 1, max: 10_000 }),
          maxRetries: fc.integer({ min: 1, max: 10_000 }),
        },
        { requiredKeys: [] },
      ),
      loadBalancing: loadBalancing(protocol),
    },
    { requiredKeys: [] },
  );
}

function destinations(world: World, self: number) {
  const target = fc.integer({ min: 0, max: world.names.length - 1 }).chain((j) => {
    const spec = world.specs[j];
    return fc.record(
      {
        service: fc.constant(world.names[j]),
        version: fc.constantFrom(...(spec?.versions ?? ['v1'])),
        weight: fc.integer({ min: 1, max: 1000 }),
      },
      { requiredKeys: j === self ? [] : ['service'] },
    );
  });
  return fc.uniqueArray(target, {
    minLength: 1,
    maxLength: 3,
    selector: (d) => `${d.service ?? world.names[self]}/${d.version ?? '*'}`,
  });
}

function mirror(world: World) {
  return fc.integer({ min: 0, max: world.names.length - 1 }).chain((j) =>
    fc.record(
      {
        service: fc.constant(world.names[j] as string),
        version: fc.constantFrom(...(world.specs[j]?.versions ?? ['v1'])),
        percent: fc.double({ min: 0, max: 100, noNaN: true }),
      },
      { requiredKeys: ['service'] },
    ),
  );
}

const headerValue = fc.record(
  { name: fc.constantFrom(...HEADER_NAMES), value: text, append: fc.boolean() },
  { requiredKeys: ['name', 'value'] },
);
const headerMutation = fc.record(
  {
    add: fc.array(headerValue, { maxLength: 2 }),
    remove: fc.array(fc.constantFrom(...HEADER_NAMES), { maxLength: 2 }),
  },
  { requiredKeys: [] },
);

function httpRoute(world: World, self: number, protocol: Protocol) {
  const match = fc.record(
    {
      path: pathMatch,
      headers: fc.array(headerMatch, { maxLength: 2 }),
      query: fc.array(queryMatch, { maxLength: 2 }),
      method: fc.constantFrom(...METHODS),
      ...(protocol === 'grpc'
        ? {
            grpc: fc.record(
              { service: fc.constantFrom('shop.Payments', 'a.B'), method: fc.constantFrom('Charge', 'Get') },
              { requiredKeys: ['service'] },
            ),
          }
        : {}),
    },
    { requiredKeys: [] },
  );
  const forward = fc
    .record(
      {
        match,
        destinations: destinations(world, self),
        rewrite: fc.record(
          { prefix: fc.constantFrom(...PATHS), host: fc.constant('rewritten.example.com') },
          { requiredKeys: [] },
        ),
        headers: fc.record({ request: headerMutation, response: headerMutation }, { requiredKeys: [] }),
        fault: fc.record(
          {
            delay: fc.record({ duration, percent: fc.integer({ min: 0, max: 100 }) }),
            abort: fc.record({
              httpStatus: fc.integer({ min: 200, max: 599 }),
              percent: fc.integer({ min: 0, max: 100 }),
            }),
          },
          { requiredKeys: [] },
        ),
        mirror: mirror(world),
        policy: fc.record({ timeouts, retries: retries(protocol), rateLimit }, { requiredKeys: [] }),
        priority: fc.integer({ min: 0, max: 1000 }),
      },
      { requiredKeys: ['destinations'] },
    )
    .map((r) => {
      // A prefix rewrite needs a prefix path match.
      const path = (r.match as Json | undefined)?.path as Json | undefined;
      if (r.rewrite?.prefix !== undefined && path?.kind !== 'prefix') {
        const { prefix: _dropped, ...rest } = r.rewrite;
        return { ...r, rewrite: rest };
      }
      return r;
    });
  const redirect = fc.record(
    {
      match: fc.record({ path: fc.record({ kind: fc.constant('exact'), value: fc.constantFrom(...PATHS) }) }),
      redirect: fc.record(
        {
          status: fc.constantFrom(301, 302, 303, 307, 308),
          scheme: fc.constantFrom('http', 'https'),
          host: fc.constant('example.com'),
          port: fc.integer({ min: 1, max: 65535 }),
          path: fc.constantFrom(...PATHS),
        },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['redirect'] },
  );
  return fc.oneof({ arbitrary: forward, weight: 4 }, { arbitrary: redirect, weight: 1 });
}

function tcpRoute(world: World, self: number) {
  return fc.record(
    { destinations: destinations(world, self), policy: fc.record({ timeouts }) },
    { requiredKeys: ['destinations'] },
  );
}

function service(world: World, self: number) {
  const spec = world.specs[self];
  if (spec === undefined) throw new RangeError('no spec');
  const name = world.names[self] as string;
  const httpCapable = spec.protocol !== 'tcp';
  const route: fc.Arbitrary<Json> = httpCapable
    ? httpRoute(world, self, spec.protocol)
    : tcpRoute(world, self);
  const secondPort = (spec.port % 65535) + 1;
  return fc.record(
    {
      ports: fc.oneof(
        fc.constant([{ port: spec.port, protocol: spec.protocol }]),
        fc.constantFrom('http', 'http2', 'grpc', 'tcp').map((p) => [
          { port: spec.port, protocol: spec.protocol, name: 'main' },
          { port: secondPort, protocol: p },
        ]),
      ),
      versions: fc
        .tuple(
          ...spec.versions.map((v) =>
            fc.record(
              {
                labels: fc.constant({ version: v, team: 'shop' }),
                local: fc.oneof(
                  fc.record(
                    {
                      kind: fc.constant('command'),
                      command: fc.constant(['node', `services/${name}.mjs`]),
                      env: fc.dictionary(fc.constantFrom('VERSION', 'MODE', 'X_Y'), text),
                      cwd: fc.constantFrom('.', 'services'),
                      instances: fc.integer({ min: 1, max: 4 }),
                    },
                    { requiredKeys: ['kind', 'command'] },
                  ),
                  fc.record({
                    kind: fc.constant('endpoints'),
                    endpoints: fc.array(
                      fc.record({
                        host: fc.constantFrom('127.0.0.1', 'localhost', '::1'),
                        port: fc.integer({ min: 1, max: 65535 }),
                      }),
                      { minLength: 1, maxLength: 2 },
                    ),
                  }),
                ),
              },
              { requiredKeys: [] },
            ),
          ),
        )
        .map((vs) => Object.fromEntries(spec.versions.map((v, i) => [v, vs[i]]))),
      routes: fc
        .array(route, { maxLength: 3 })
        .map((rs) => rs.map((r, i) => ({ name: `r${i}`, port: spec.port, ...r }))),
      backends: fc.uniqueArray(fc.constantFrom(...world.names), { maxLength: 3 }),
      policy: servicePolicy(spec.protocol, spec.port),
      authorization: fc.oneof(
        fc.constant({ action: 'allow-all' }),
        fc.record({
          action: fc.constant('allow-listed'),
          rules: fc.array(
            fc.record(
              {
                from: fc.uniqueArray(fc.constantFrom('*', ...world.names), { minLength: 1, maxLength: 3 }),
                ...(httpCapable
                  ? {
                      paths: fc.array(pathMatch, { minLength: 1, maxLength: 2 }),
                      methods: fc.uniqueArray(fc.constantFrom(...METHODS), { minLength: 1, maxLength: 2 }),
                    }
                  : {}),
              },
              { requiredKeys: ['from'] },
            ),
            { maxLength: 2 },
          ),
        }),
      ),
      identity: fc.constant(
        `spiffe://${world.trustDomain ?? 'cluster.local'}/ns/${world.meshName}/sa/${name}-workload`,
      ),
      accessLog: fc.record(
        { enabled: fc.boolean(), path: fc.constant('/tmp/a.log'), format: fc.constantFrom('text', 'json') },
        { requiredKeys: ['enabled'] },
      ),
    },
    { requiredKeys: ['ports', 'versions'] },
  );
}

const serviceSpec = fc.record({
  protocol: fc.constantFrom<Protocol>('http', 'http2', 'grpc', 'tcp'),
  port: fc.integer({ min: 1, max: 65535 }),
  versions: fc.uniqueArray(fc.constantFrom(...VERSION_NAMES), { minLength: 1, maxLength: 3 }),
});

/** A valid mesh, as a user would write it (optional fields sometimes omitted). */
export const validMesh: fc.Arbitrary<Json> = fc
  .record({
    names: fc.uniqueArray(fc.constantFrom(...SERVICE_NAMES), { minLength: 1, maxLength: 4 }),
    trustDomain: fc.option(fc.constantFrom('example.org', 'shop.internal'), { nil: undefined }),
    meshName: fc.constantFrom('shop', 'mesh-1'),
  })
  .chain(({ names, trustDomain, meshName }) =>
    fc
      .array(serviceSpec, { minLength: names.length, maxLength: names.length })
      .map((specs): World => ({ names, specs, trustDomain, meshName })),
  )
  .chain((world) => {
    const services = fc
      .tuple(...world.names.map((_, i) => service(world, i)))
      .map((ss) => Object.fromEntries(world.names.map((n, i) => [n, ss[i]])));
    const httpServices = world.names.filter((_, i) => world.specs[i]?.protocol !== 'tcp');
    const gateway =
      httpServices.length === 0
        ? fc.constant(undefined)
        : fc.option(
            fc.record(
              {
                listeners: fc.constant([{ port: 8000, protocol: 'http' }]),
                hosts: fc.constant(['*.example.com', 'shop.example.com']),
                routes: fc
                  .array(
                    fc.record(
                      {
                        service: fc.constantFrom(...httpServices),
                        match: fc.record(
                          {
                            path: fc.record({
                              kind: fc.constant('prefix'),
                              value: fc.constantFrom(...PATHS),
                            }),
                            headers: fc.array(headerMatch, { maxLength: 1 }),
                          },
                          { requiredKeys: ['path'] },
                        ),
                        rewrite: fc.record(
                          { prefix: fc.constant('/'), host: fc.constant('internal') },
                          { requiredKeys: [] },
                        ),
                      },
                      { requiredKeys: ['service', 'match'] },
                    ),
                    { minLength: 1, maxLength: 2 },
                  )
                  .map((rs) => rs.map((r, i) => ({ name: `g${i}`, ...r }))),
              },
              { requiredKeys: ['listeners', 'routes'] },
            ),
            { nil: undefined },
          );
    return fc.record(
      {
        apiVersion: fc.constant('crossmesh/v1'),
        name: fc.constant(world.meshName),
        domain: fc.constantFrom('shop.example.internal', 'mesh.local'),
        services,
        gateways: gateway.map((g) => (g === undefined ? {} : { ingress: g })),
        egress: fc.oneof(
          fc.constant({ mode: 'allow-all' }),
          fc.record(
            { mode: fc.constant('deny-unknown'), hosts: fc.constant(['api.stripe.com', '*.googleapis.com']) },
            { requiredKeys: ['mode'] },
          ),
        ),
        security: fc.record({
          mtls: fc.constantFrom('strict', 'permissive', 'off'),
          trustDomain: fc.constant(world.trustDomain ?? 'cluster.local'),
        }),
        accessLog: fc.record(
          { enabled: fc.boolean(), format: fc.constantFrom('text', 'json') },
          { requiredKeys: ['enabled'] },
        ),
        ipPreference: fc.constantFrom('ipv4-only', 'ipv6-only', 'ipv4-preferred', 'ipv6-preferred'),
        defaults: fc.record(
          {
            timeouts,
            retries: retries('http'),
            outlierDetection: fc.record({ consecutive5xx: fc.integer({ min: 1, max: 10 }) }),
            // Only what suits every service: the defaults are checked against each one inheriting them.
            loadBalancing: fc.constantFrom(
              { kind: 'round-robin' },
              { kind: 'random' },
              { kind: 'ring-hash', hashOn: { kind: 'source-ip' } },
            ),
            healthCheck: fc.record(
              { kind: fc.constant('tcp'), interval: duration },
              { requiredKeys: ['kind'] },
            ),
            rateLimit,
            connectionPool: fc.record({ maxConnections: fc.integer({ min: 1, max: 100 }) }),
          },
          { requiredKeys: [] },
        ),
      },
      // security is always given so that the identities' trust domain is the mesh's.
      { requiredKeys: ['name', 'services', 'security'] },
    );
  });

/** Every path into a JSON value, as key lists (for mutating one node of a valid mesh). */
export function nodePaths(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  const out: (string | number)[][] = [prefix];
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) out.push(...nodePaths(v, [...prefix, i]));
  } else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...nodePaths(v, [...prefix, k]));
  }
  return out;
}
