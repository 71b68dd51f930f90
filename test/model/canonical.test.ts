// Canonicalization of in-memory values; nothing is stood in.
import { describe, expect, test } from 'vitest';
import { MeshError } from '../../errors/index.js';
import { canonicalize, toCanonicalJson } from '../../model/canonical.js';

// biome-ignore lint/suspicious/noExplicitAny: tests break meshes at arbitrary depths; a typed shape would forbid the very mistakes under test.
type Editable = Record<string, any>;

function minimal(): Editable {
  return {
    name: 'shop',
    services: {
      web: { ports: [{ port: 8080, protocol: 'http' }], versions: { v1: {} } },
    },
  };
}

describe('canonicalize', () => {
  test('fills every documented default of a minimal mesh', () => {
    // GIVEN the smallest valid mesh WHEN canonicalized
    const mesh = canonicalize(minimal());
    // THEN every default is explicit
    expect(mesh).toEqual({
      apiVersion: 'crossmesh/v1',
      name: 'shop',
      domain: 'shop.mesh.local',
      services: {
        web: {
          ports: [{ port: 8080, protocol: 'http', name: 'http-8080' }],
          versions: { v1: { labels: { version: 'v1' } } },
          routes: [
            {
              name: 'default',
              port: 8080,
              match: { path: { kind: 'prefix', value: '/' }, headers: [], query: [] },
              destinations: [{ service: 'web', weight: 1 }],
              policy: { timeouts: { request: '15s', idle: '5m' } },
            },
          ],
          backends: [],
          policy: { timeouts: { request: '15s', idle: '5m' }, loadBalancing: { kind: 'round-robin' } },
          authorization: { action: 'allow-all', rules: [] },
          identity: 'spiffe://cluster.local/ns/shop/sa/web',
          accessLog: { enabled: false, path: '/dev/stdout', format: 'text' },
        },
      },
      gateways: {},
      egress: { mode: 'allow-all', hosts: [] },
      security: { mtls: 'off', trustDomain: 'cluster.local' },
      accessLog: { enabled: false, path: '/dev/stdout', format: 'text' },
      ipPreference: 'ipv4-preferred',
    });
  });

  test('resolves policies: mesh defaults < service < route; timeouts merge field by field', () => {
    // GIVEN defaults, a service override and a route override
    const input = minimal();
    input.defaults = {
      timeouts: { request: '10s', idle: '2m' },
      retries: { attempts: 1 },
      outlierDetection: { consecutive5xx: 7 },
    };
    input.services.web.policy = {
      timeouts: { request: '3000ms' },
      retries: { attempts: 4, perTryTimeout: '1m0s' },
    };
    input.services.web.routes = [
      { name: 'slow', destinations: [{}], policy: { timeouts: { request: '1m' } } },
    ];
    // WHEN canonicalized
    const web = canonicalize(input).services.web;
    // THEN the service sees defaults under its own settings, durations normalized
    expect(web?.policy).toEqual({
      timeouts: { request: '3s', idle: '2m' },
      retries: {
        attempts: 4,
        on: ['gateway-error', 'connect-failure', 'reset'],
        perTryTimeout: '1m',
        backoff: { base: '25ms', max: '250ms' },
      },
      outlierDetection: {
        consecutive5xx: 7,
        interval: '10s',
        baseEjectionTime: '30s',
        maxEjectionPercent: 10,
      },
      loadBalancing: { kind: 'round-robin' },
    });
    // AND the route sees the service policy under its own
    expect(web?.routes?.[0]?.policy).toEqual({
      timeouts: { request: '1m', idle: '2m' },
      retries: {
        attempts: 4,
        on: ['gateway-error', 'connect-failure', 'reset'],
        perTryTimeout: '1m',
        backoff: { base: '25ms', max: '250ms' },
      },
    });
  });

  test('per-try timeout defaults to the request timeout of its own level, unless that is 0s', () => {
    // GIVEN retries without a per-try timeout, and a route that disables the request timeout
    const input = minimal();
    input.services.web.policy = { timeouts: { request: '4s' }, retries: { attempts: 2 } };
    input.services.web.routes = [
      { name: 'a', destinations: [{}], policy: { timeouts: { request: '1s' } } },
      { name: 'b', destinations: [{}], policy: { timeouts: { request: '0s' } } },
    ];
    // WHEN canonicalized
    const web = canonicalize(input).services.web;
    // THEN each level fills its own
    expect(web?.policy?.retries?.perTryTimeout).toBe('4s');
    expect(web?.routes?.[0]?.policy?.retries?.perTryTimeout).toBe('1s');
    expect(web?.routes?.[1]?.policy?.retries?.perTryTimeout).toBeUndefined();
  });

  test('fills defaults inside features that are used, and leaves unused ones out', () => {
    // GIVEN a route with headers, redirect-free forwarding, a health check and local run
    const input = minimal();
    input.services.web.versions.v1 = { local: { kind: 'command', command: ['node', 'web.mjs'] } };
    input.services.web.policy = {
      healthCheck: { kind: 'http', path: '/health' },
      rateLimit: { requests: 10, per: '60s' },
      loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'cookie', name: 'sid', ttl: '3600s' } },
    };
    input.services.web.routes = [
      {
        name: 'r',
        match: { headers: [{ kind: 'present', name: 'x-a' }] },
        destinations: [{ version: 'v1' }],
        headers: { request: { add: [{ name: 'x-b', value: '1' }] } },
        mirror: { service: 'web' },
        fault: { delay: { duration: '1000ms', percent: 5 } },
      },
    ];
    // WHEN canonicalized
    const web = canonicalize(input).services.web;
    const route = web?.routes?.[0];
    // THEN
    expect(web?.versions.v1?.local).toEqual({
      kind: 'command',
      command: ['node', 'web.mjs'],
      env: {},
      cwd: '.',
      instances: 1,
    });
    expect(web?.policy?.healthCheck).toEqual({
      kind: 'http',
      path: '/health',
      interval: '5s',
      timeout: '2s',
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      port: 8080,
      expectedStatuses: [[200, 300]],
      host: 'web.shop.mesh.local',
    });
    expect(web?.policy?.rateLimit).toEqual({ requests: 10, per: '1m', burst: 10 });
    expect(web?.policy?.loadBalancing).toEqual({
      kind: 'ring-hash',
      hashOn: { kind: 'cookie', name: 'sid', ttl: '1h' },
    });
    expect(route?.match?.headers).toEqual([{ kind: 'present', name: 'x-a', invert: false }]);
    expect(route?.destinations).toEqual([{ service: 'web', version: 'v1', weight: 1 }]);
    expect(route?.headers).toEqual({
      request: { add: [{ name: 'x-b', value: '1', append: false }], remove: [] },
      response: { add: [], remove: [] },
    });
    expect(route?.mirror).toEqual({ service: 'web', percent: 100 });
    expect(route?.fault).toEqual({ delay: { duration: '1s', percent: 5 } });
    expect(route?.redirect).toBeUndefined();
    expect(route?.rewrite).toBeUndefined();
    expect(web?.policy?.retries).toBeUndefined();
  });

  test('a tcp route matches everything (no HTTP conditions) and gateways get hosts and a catch-all path', () => {
    // GIVEN a tcp service and a gateway
    const input = minimal();
    input.services.db = { ports: [{ port: 5432, protocol: 'tcp' }], versions: { v1: {} } };
    input.gateways = {
      edge: {
        listeners: [
          { port: 80, protocol: 'http' },
          { port: 81, protocol: 'grpc' },
        ],
        routes: [
          { name: 'web', service: 'web' },
          { name: 'rpc', service: 'web', match: { grpcService: 'a.B' } },
        ],
      },
    };
    // WHEN canonicalized
    const mesh = canonicalize(input);
    // THEN
    expect(mesh.services.db?.routes?.[0]?.match).toEqual({});
    expect(mesh.gateways?.edge?.hosts).toEqual(['*']);
    expect(mesh.gateways?.edge?.routes.map((r) => r.match)).toEqual([
      { path: { kind: 'prefix', value: '/' }, headers: [] },
      { headers: [], grpcService: 'a.B' },
    ]);
  });

  test('is idempotent and deterministic; keys are sorted; the result is frozen', () => {
    // GIVEN a canonical mesh
    const once = canonicalize(minimal());
    // WHEN canonicalized again (from the object and from its JSON)
    const twice = canonicalize(once);
    const fromJson = canonicalize(JSON.parse(toCanonicalJson(once)));
    // THEN nothing changes
    expect(twice).toEqual(once);
    expect(toCanonicalJson(fromJson)).toBe(toCanonicalJson(once));
    expect(Object.keys(once)).toEqual([...Object.keys(once)].sort());
    expect(Object.isFrozen(once.services.web?.routes?.[0])).toBe(true);
    expect(toCanonicalJson(once).endsWith('}\n')).toBe(true);
  });

  test('key order of the input does not change the output', () => {
    // GIVEN the same mesh written with keys in another order
    const a = minimal();
    const b = {
      services: { web: { versions: { v1: {} }, ports: [{ protocol: 'http', port: 8080 }] } },
      name: 'shop',
    };
    // THEN byte-identical canonical JSON
    expect(toCanonicalJson(canonicalize(b))).toBe(toCanonicalJson(canonicalize(a)));
  });

  test('regression: a tcp service inheriting retries from the mesh defaults stays valid once canonical', () => {
    // GIVEN mesh-wide retries and a tcp-only service (found by the property tests: its default
    // route inherited the retries, and the canonical form then failed the tcp rules)
    const input = minimal();
    input.defaults = { retries: { attempts: 2 } };
    input.services.db = { ports: [{ port: 5432, protocol: 'tcp' }], versions: { v1: {} } };
    // WHEN canonicalized, and canonicalized again
    const mesh = canonicalize(input);
    // THEN tcp routes carry no retries, http routes do, and the canonical form is valid
    expect(mesh.services.db?.routes?.[0]?.policy?.retries).toBeUndefined();
    expect(mesh.services.web?.routes?.[0]?.policy?.retries?.attempts).toBe(2);
    expect(() => canonicalize(mesh)).not.toThrow();
  });

  test('a $schema key is accepted for editors and not kept', () => {
    // GIVEN a mesh naming its JSON Schema WHEN canonicalized THEN the key is gone
    const mesh = canonicalize({ $schema: '../docs/mesh.schema.json', ...minimal() });
    expect(Object.keys(mesh)).not.toContain('$schema');
  });

  test('invalid input throws the validation MeshError', () => {
    expect(() => canonicalize({ name: 'x' })).toThrow(MeshError);
  });
});
