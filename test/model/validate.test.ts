// Validation runs on in-memory values; nothing is stood in.
import { describe, expect, test } from 'vitest';
import { MeshError, type Problem } from '../../errors/index.js';
import { findProblems, validate } from '../../model/validate.js';

// biome-ignore lint/suspicious/noExplicitAny: tests break meshes at arbitrary depths; a typed shape would forbid the very mistakes under test.
type Editable = Record<string, any>;

/** A small valid mesh; each test breaks one thing in a fresh copy. */
function base(): Editable {
  return {
    name: 'shop',
    services: {
      frontend: { ports: [{ port: 8080, protocol: 'http' }], versions: { v1: {} }, backends: ['catalog'] },
      catalog: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: {}, v2: {} },
        routes: [
          {
            name: 'split',
            match: { path: { kind: 'prefix', value: '/' } },
            destinations: [
              { version: 'v1', weight: 90 },
              { version: 'v2', weight: 10 },
            ],
          },
        ],
      },
      payments: { ports: [{ port: 9090, protocol: 'grpc' }], versions: { v1: {} } },
      db: { ports: [{ port: 5432, protocol: 'tcp' }], versions: { v1: {} } },
    },
  };
}

function pairs(input: unknown): string[] {
  return findProblems(input).map((p) => `${p.code} ${p.path}`);
}

function route(mesh: Editable, service = 'catalog'): Editable {
  const s = mesh.services[service];
  if (s.routes === undefined) s.routes = [{ name: 'r', destinations: [{}] }];
  return s.routes[0];
}

describe('validate', () => {
  test('a valid mesh passes and comes back as a clean copy', () => {
    // GIVEN a valid mesh WHEN validated THEN no problem and an equal, separate value
    const input = base();
    const result = validate(input);
    expect(result).toEqual(input);
    expect(result).not.toBe(input);
  });

  test('five different mistakes are all reported in one run, each with its path and code', () => {
    // GIVEN a mesh with five unrelated mistakes
    const mesh = base();
    mesh.name = 'Shop';
    mesh.services.catalog.routes[0].destinations[0].weight = 2000;
    mesh.services.catalog.routes[0].destinations[1].version = 'v3';
    mesh.services.frontend.policy = { timeouts: { request: '2 s' } };
    mesh.services.frontend.retries = { attempts: 3 };
    // WHEN validated
    let error: unknown;
    try {
      validate(mesh);
    } catch (e) {
      error = e;
    }
    // THEN one MeshError carries all five, path-first
    expect(error).toBeInstanceOf(MeshError);
    const problems = (error as MeshError).problems;
    expect(problems.map((p) => `${p.code} ${p.path}`).sort()).toEqual(
      [
        'MESH_E_NAME name',
        'MESH_E_RANGE services.catalog.routes[0].destinations[0].weight',
        'MESH_E_REF services.catalog.routes[0].destinations[1].version',
        'MESH_E_DURATION services.frontend.policy.timeouts.request',
        'MESH_E_UNKNOWN_FIELD services.frontend.retries',
      ].sort(),
    );
    const weight = problems.find((p) => p.code === 'MESH_E_RANGE') as Problem;
    expect(weight.value).toBe(2000);
    expect(weight.allowed).toBe('an integer from 0 to 1000');
    expect((error as MeshError).message).toContain('5 problems');
  });

  test('unknown services and versions suggest the name that was probably meant', () => {
    // GIVEN misspelt references WHEN validated THEN the messages name the close matches
    const mesh = base();
    mesh.services.frontend.backends = ['catalgo'];
    mesh.services.catalog.routes[0].destinations[1].version = 'v3';
    const messages = findProblems(mesh).map((p) => p.message);
    expect(messages[0]).toContain('(did you mean "catalog"?)');
    expect(messages[1]).toContain('(did you mean "v1"?)');
  });

  test('unknown fields suggest the field that was probably meant', () => {
    // GIVEN a misspelt field WHEN validated THEN the message names the close match
    const mesh = base();
    mesh.services.catalog.backend = ['frontend'];
    const [problem] = findProblems(mesh);
    expect(problem?.path).toBe('services.catalog.backend');
    expect(problem?.message).toContain('did you mean "backends"');
  });

  describe('structure', () => {
    test.each<[string, (m: Editable) => void, string]>([
      [
        'missing required field',
        (m) => delete m.services.catalog.ports,
        'MESH_E_REQUIRED services.catalog.ports',
      ],
      [
        'empty list where one is needed',
        (m) => (m.services.catalog.ports = []),
        'MESH_E_REQUIRED services.catalog.ports',
      ],
      ['no versions', (m) => (m.services.catalog.versions = {}), 'MESH_E_REQUIRED services.catalog.versions'],
      [
        'wrong type',
        (m) => (m.services.catalog.ports[0].port = '8080'),
        'MESH_E_TYPE services.catalog.ports[0].port',
      ],
      [
        'not an integer',
        (m) => (m.services.catalog.ports[0].port = 80.5),
        'MESH_E_TYPE services.catalog.ports[0].port',
      ],
      [
        'NaN',
        (m) => (m.services.catalog.ports[0].port = Number.NaN),
        'MESH_E_TYPE services.catalog.ports[0].port',
      ],
      [
        'port out of range',
        (m) => (m.services.catalog.ports[0].port = 70000),
        'MESH_E_RANGE services.catalog.ports[0].port',
      ],
      [
        'bad enum',
        (m) => (m.services.catalog.ports[0].protocol = 'udp'),
        'MESH_E_ENUM services.catalog.ports[0].protocol',
      ],
      [
        'bad service name',
        (m) => (m.services['Bad Name'] = m.services.db),
        'MESH_E_NAME services["Bad Name"]',
      ],
      [
        'bad service name (simple key)',
        (m) => (m.services.Bad_Name = m.services.db),
        'MESH_E_NAME services.Bad_Name',
      ],
      [
        'bad version name',
        (m) => (m.services.db.versions['1.0'] = {}),
        'MESH_E_NAME services.db.versions["1.0"]',
      ],
      ['null where an object goes', (m) => (m.services.db.policy = null), 'MESH_E_TYPE services.db.policy'],
      [
        'unknown union kind',
        (m) => (m.services.db.policy = { loadBalancing: { kind: 'fastest' } }),
        'MESH_E_ENUM services.db.policy.loadBalancing.kind',
      ],
      [
        'missing union kind',
        (m) => (m.services.db.policy = { loadBalancing: {} }),
        'MESH_E_REQUIRED services.db.policy.loadBalancing.kind',
      ],
      [
        'regex that does not compile',
        (m) => (route(m).match = { path: { kind: 'regex', value: '/(a' } }),
        'MESH_E_PATTERN services.catalog.routes[0].match.path.value',
      ],
      [
        'regex RE2 cannot run',
        (m) => (route(m).match = { path: { kind: 'regex', value: '/(?=a)b' } }),
        'MESH_E_PATTERN services.catalog.routes[0].match.path.value',
      ],
      [
        'path without a slash',
        (m) => (route(m).match = { path: { kind: 'prefix', value: 'api' } }),
        'MESH_E_PATTERN services.catalog.routes[0].match.path.value',
      ],
      [
        'zero interval',
        (m) => (m.services.db.policy = { healthCheck: { kind: 'tcp', interval: '0s' } }),
        'MESH_E_DURATION services.db.policy.healthCheck.interval',
      ],
      ['huge string', (m) => (m.domain = 'a'.repeat(1_000_000)), 'MESH_E_RANGE domain'],
      [
        'bad header name',
        (m) => (route(m).match = { headers: [{ kind: 'present', name: 'X Canary' }] }),
        'MESH_E_PATTERN services.catalog.routes[0].match.headers[0].name',
      ],
      ['bad identity', (m) => (m.services.db.identity = 'db'), 'MESH_E_PATTERN services.db.identity'],
    ])('%s', (_title, breakIt, expected) => {
      // GIVEN a valid mesh with one structural mistake
      const mesh = base();
      breakIt(mesh);
      // WHEN checked THEN exactly that problem is reported
      expect(pairs(mesh)).toEqual([expected]);
    });
  });

  describe('references and semantics', () => {
    test.each<[string, (m: Editable) => void, string[]]>([
      [
        'destination to an unknown service',
        (m) => (route(m).destinations[0].service = 'nope'),
        ['MESH_E_REF services.catalog.routes[0].destinations[0].service'],
      ],
      [
        'unknown backend',
        (m) => m.services.frontend.backends.push('nope'),
        ['MESH_E_REF services.frontend.backends[1]'],
      ],
      [
        'reference to a prototype property is not a service',
        (m) => m.services.frontend.backends.push('constructor'),
        ['MESH_E_REF services.frontend.backends[1]'],
      ],
      [
        'mirror to an unknown version',
        (m) => (route(m).mirror = { service: 'frontend', version: 'v9' }),
        ['MESH_E_REF services.catalog.routes[0].mirror.version'],
      ],
      [
        'weights adding up to zero',
        (m) => {
          for (const d of route(m).destinations) d.weight = 0;
        },
        ['MESH_E_WEIGHTS_SUM services.catalog.routes[0].destinations'],
      ],
      [
        'route port that is not declared',
        (m) => (route(m).port = 9999),
        ['MESH_E_REF services.catalog.routes[0].port'],
      ],
      [
        'health-check port that is not declared',
        (m) => (m.services.catalog.policy = { healthCheck: { kind: 'http', path: '/h', port: 1 } }),
        ['MESH_E_REF services.catalog.policy.healthCheck.port'],
      ],
      [
        'duplicate route names',
        (m) => m.services.catalog.routes.push({ name: 'split', destinations: [{}] }),
        ['MESH_E_DUPLICATE services.catalog.routes[1].name'],
      ],
      [
        'duplicate ports',
        (m) => m.services.catalog.ports.push({ port: 8080, protocol: 'http2' }),
        ['MESH_E_DUPLICATE services.catalog.ports[1].port'],
      ],
      [
        'gRPC match on an http port',
        (m) => (route(m).match.grpc = { service: 'shop.Catalog' }),
        ['MESH_E_PROTOCOL services.catalog.routes[0].match.grpc'],
      ],
      [
        'tcp route matching a path',
        (m) => (route(m, 'db').match = { path: { kind: 'prefix', value: '/' } }),
        ['MESH_E_PROTOCOL services.db.routes[0].match.path'],
      ],
      [
        'both destinations and redirect',
        (m) => (route(m).redirect = { host: 'example.com' }),
        ['MESH_E_CONFLICT services.catalog.routes[0]'],
      ],
      [
        'neither destinations nor redirect',
        (m) => delete route(m).destinations,
        ['MESH_E_REQUIRED services.catalog.routes[0].destinations'],
      ],
      [
        'prefix rewrite without a prefix match',
        (m) => {
          route(m).match = { path: { kind: 'exact', value: '/a' } };
          route(m).rewrite = { prefix: '/b' };
        },
        ['MESH_E_REQUIRES services.catalog.routes[0].rewrite.prefix'],
      ],
      [
        'gRPC method without service',
        (m) => (route(m, 'payments').match = { grpc: { method: 'Charge' } }),
        ['MESH_E_REQUIRES services.payments.routes[0].match.grpc.method'],
      ],
      [
        'gRPC retry event on an http service',
        (m) => (m.services.catalog.policy = { retries: { attempts: 2, on: ['unavailable'] } }),
        ['MESH_E_PROTOCOL services.catalog.policy.retries.on[0]'],
      ],
      [
        'backoff max below base',
        (m) =>
          (m.services.catalog.policy = { retries: { attempts: 2, backoff: { base: '1s', max: '100ms' } } }),
        ['MESH_E_RANGE services.catalog.policy.retries.backoff.max'],
      ],
      [
        'header range that is empty',
        (m) => (route(m).match.headers = [{ kind: 'range', name: 'x-n', start: 5, end: 5 }]),
        ['MESH_E_RANGE services.catalog.routes[0].match.headers[0].end'],
      ],
      [
        'abort with both statuses',
        (m) => (route(m).fault = { abort: { httpStatus: 503, grpcStatus: 14, percent: 1 } }),
        [
          'MESH_E_CONFLICT services.catalog.routes[0].fault.abort',
          'MESH_E_PROTOCOL services.catalog.routes[0].fault.abort.grpcStatus',
        ],
      ],
      [
        'authorization from an unknown service',
        (m) =>
          (m.services.payments.authorization = {
            action: 'allow-listed',
            rules: [{ from: ['frontend', 'ghost'] }],
          }),
        ['MESH_E_REF services.payments.authorization.rules[0].from[1]'],
      ],
      [
        'authorization rules that allow-all would ignore',
        (m) => (m.services.payments.authorization = { action: 'allow-all', rules: [{ from: ['frontend'] }] }),
        ['MESH_E_CONFLICT services.payments.authorization.rules'],
      ],
      [
        'versions that cannot be told apart',
        (m) => {
          m.services.catalog.versions.v1 = { labels: { track: 'a' } };
          m.services.catalog.versions.v2 = { labels: { track: 'a' } };
        },
        ['MESH_E_DUPLICATE services.catalog.versions.v2.labels'],
      ],
      [
        'gateway route to an unknown service',
        (m) =>
          (m.gateways = {
            edge: { listeners: [{ port: 80, protocol: 'http' }], routes: [{ name: 'r', service: 'nope' }] },
          }),
        ['MESH_E_REF gateways.edge.routes[0].service'],
      ],
      [
        'gateway route for a host the gateway does not answer for',
        (m) =>
          (m.gateways = {
            edge: {
              listeners: [{ port: 80, protocol: 'http' }],
              hosts: ['shop.example.com', '*.shop.example.com'],
              routes: [
                { name: 'a', service: 'frontend', match: { host: 'api.shop.example.com' } },
                { name: 'b', service: 'frontend', match: { host: 'other.example.com' } },
              ],
            },
          }),
        ['MESH_E_CONFLICT gateways.edge.routes[1].match.host'],
      ],
      [
        'gateway route to a tcp-only service',
        (m) =>
          (m.gateways = {
            edge: { listeners: [{ port: 80, protocol: 'http' }], routes: [{ name: 'r', service: 'db' }] },
          }),
        ['MESH_E_PROTOCOL gateways.edge.routes[0].service'],
      ],
      [
        'identity outside the trust domain',
        (m) => (m.services.db.identity = 'spiffe://elsewhere.org/db'),
        ['MESH_E_PATTERN services.db.identity'],
      ],
      [
        'mesh defaults that do not suit a service inheriting them',
        (m) => {
          m.defaults = {
            retries: { attempts: 1, on: ['unavailable'] },
            loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'header', name: 'x-user' } },
          };
          m.services.payments.policy = { retries: { attempts: 1 } };
          m.services.catalog.policy = { retries: { attempts: 1 } };
          m.services.frontend.policy = { retries: { attempts: 1 } };
        },
        ['MESH_E_PROTOCOL defaults.retries.on[0]', 'MESH_E_PROTOCOL defaults.loadBalancing.hashOn.kind'],
      ],
      [
        'a defaults health check on a port a service lacks',
        (m) => {
          m.defaults = { healthCheck: { kind: 'tcp', port: 8080 } };
          m.services.payments.policy = { healthCheck: { kind: 'grpc' } };
        },
        ['MESH_E_REF defaults.healthCheck.port'],
      ],
      [
        'redirect with forwarding options',
        (m) => {
          const r = route(m);
          delete r.destinations;
          r.redirect = { prefix: '/new' };
          r.rewrite = { host: 'x.example.com' };
          r.match = { path: { kind: 'exact', value: '/old' } };
        },
        [
          'MESH_E_CONFLICT services.catalog.routes[0].rewrite',
          'MESH_E_REQUIRES services.catalog.routes[0].redirect.prefix',
        ],
      ],
      [
        'rewrite with both path and prefix',
        (m) => (route(m).rewrite = { path: '/a', prefix: '/b' }),
        ['MESH_E_CONFLICT services.catalog.routes[0].rewrite.prefix'],
      ],
      [
        'abort without a status',
        (m) => (route(m).fault = { abort: { percent: 5 } }),
        ['MESH_E_REQUIRED services.catalog.routes[0].fault.abort.httpStatus'],
      ],
      [
        'the same destination twice',
        (m) => route(m).destinations.push({ service: 'catalog', version: 'v1', weight: 1 }),
        ['MESH_E_DUPLICATE services.catalog.routes[0].destinations[2]'],
      ],
      [
        'the same backend twice',
        (m) => m.services.frontend.backends.push('catalog'),
        ['MESH_E_DUPLICATE services.frontend.backends[1]'],
      ],
      [
        'the same port name twice',
        (m) => m.services.catalog.ports.push({ port: 8081, protocol: 'http', name: 'http-8080' }),
        ['MESH_E_DUPLICATE services.catalog.ports[1].name'],
      ],
      [
        'a tcp route with header changes and retries',
        (m) => {
          const r = route(m, 'db');
          r.headers = { request: { remove: ['x-a'] } };
          r.policy = { retries: { attempts: 1 } };
        },
        [
          'MESH_E_PROTOCOL services.db.routes[0].headers',
          'MESH_E_PROTOCOL services.db.routes[0].policy.retries',
        ],
      ],
      [
        'a grpc health check on an http-only service',
        (m) => (m.services.catalog.policy = { healthCheck: { kind: 'grpc' } }),
        ['MESH_E_PROTOCOL services.catalog.policy.healthCheck.kind'],
      ],
      [
        'hashing on a header for a tcp-only service',
        (m) =>
          (m.services.db.policy = {
            loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'header', name: 'x-u' } },
          }),
        ['MESH_E_PROTOCOL services.db.policy.loadBalancing.hashOn.kind'],
      ],
      [
        'health-check statuses that are an empty range',
        (m) =>
          (m.services.catalog.policy = {
            healthCheck: { kind: 'http', path: '/h', expectedStatuses: [[300, 200]] },
          }),
        ['MESH_E_RANGE services.catalog.policy.healthCheck.expectedStatuses[0]'],
      ],
      [
        'authorization by path on a tcp-only service',
        (m) =>
          (m.services.db.authorization = {
            action: 'allow-listed',
            rules: [{ from: ['*'], paths: [{ kind: 'prefix', value: '/' }] }],
          }),
        ['MESH_E_PROTOCOL services.db.authorization.rules[0].paths'],
      ],
      [
        'gateway mistakes: duplicate listener, gRPC match without a gRPC listener, path and gRPC together, prefix rewrite without prefix match',
        (m) =>
          (m.gateways = {
            edge: {
              listeners: [
                { port: 80, protocol: 'http' },
                { port: 80, protocol: 'http2' },
              ],
              routes: [
                {
                  name: 'a',
                  service: 'payments',
                  match: { grpcService: 'shop.Payments', path: { kind: 'prefix', value: '/' } },
                },
                {
                  name: 'b',
                  service: 'frontend',
                  match: { path: { kind: 'exact', value: '/x' } },
                  rewrite: { prefix: '/y' },
                },
              ],
            },
          }),
        [
          'MESH_E_DUPLICATE gateways.edge.listeners[1].port',
          'MESH_E_PROTOCOL gateways.edge.routes[0].match.grpcService',
          'MESH_E_CONFLICT gateways.edge.routes[0].match.path',
          'MESH_E_REQUIRES gateways.edge.routes[1].rewrite.prefix',
        ],
      ],
      [
        'egress hosts with allow-all',
        (m) => (m.egress = { mode: 'allow-all', hosts: ['example.com'] }),
        ['MESH_E_CONFLICT egress.hosts'],
      ],
    ])('%s', (_title, breakIt, expected) => {
      // GIVEN a valid mesh with one semantic mistake
      const mesh = base();
      breakIt(mesh);
      // WHEN checked THEN exactly those problems are reported
      expect(pairs(mesh)).toEqual(expected);
    });

    test('a value that failed its own check is not reported again by the cross-field checks', () => {
      // GIVEN a destination list that is structurally wrong
      const mesh = base();
      route(mesh).destinations = [];
      // WHEN checked THEN only the structural problem (no "destinations required" echo)
      expect(pairs(mesh)).toEqual(['MESH_E_REQUIRED services.catalog.routes[0].destinations']);
    });
  });

  describe('never a raw error', () => {
    const sparse: unknown[] = new Array(2);
    sparse[1] = { port: 1, protocol: 'tcp' };
    const revoked = Proxy.revocable({}, {});
    revoked.revoke();
    const cyclic: Record<string, unknown> = { name: 'a' };
    cyclic.services = { x: cyclic };
    test.each<[string, unknown]>([
      ['undefined', undefined],
      ['null', null],
      ['an array', []],
      ['a function', () => 1],
      ['a number', 42],
      ['a Map', new Map()],
      ['a revoked proxy', revoked.proxy],
      ['a cycle', cyclic],
      [
        'a throwing getter',
        {
          name: 'a',
          get services() {
            throw new TypeError('boom');
          },
        },
      ],
      ['a revoked proxy inside', { name: 'a', services: { x: revoked.proxy } }],
      ['a sparse array', { name: 'a', services: { x: { ports: sparse, versions: { v: {} } } } }],
      ['a __proto__ key', JSON.parse('{"name":"a","services":{"__proto__":{"ports":[],"versions":{}}}}')],
      ['a symbol', { name: Symbol('x'), services: {} }],
      [
        'a list a billion long',
        { name: 'a', services: { x: { ports: new Array(1e9), versions: { v: {} } } } },
      ],
      [
        'a bigint',
        { name: 'a', services: { x: { ports: [{ port: 1n, protocol: 'tcp' }], versions: { v: {} } } } },
      ],
    ])('%s gives MeshError', (_title, input) => {
      // GIVEN hostile input WHEN validated THEN only a MeshError, with problems
      expect(() => validate(input)).toThrow(MeshError);
      expect(findProblems(input).length).toBeGreaterThan(0);
    });
  });
});
