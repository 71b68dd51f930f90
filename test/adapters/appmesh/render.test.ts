/**
 * The pure App Mesh renderer: model features → App Mesh / Cloud Map specs. Nothing stood in: pure
 * functions on canonical meshes (`canonicalize()`), and every rendered spec is also checked against
 * the botocore App Mesh model through the request validator, as the create call would send it.
 */
import { describe, expect, test } from 'vitest';
import { APPMESH_CAPABILITIES } from '../../../adapters/appmesh/capabilities.js';
import { desiredResources } from '../../../adapters/appmesh/desired.js';
import { renderAppMesh } from '../../../adapters/appmesh/render.js';
import { APPMESH_NOTICE, appMeshFiles, appmeshTarget } from '../../../adapters/appmesh/target.js';
import type { AppMeshOptions, AppMeshResources, RouteSpec } from '../../../adapters/appmesh/types.js';
import { MeshError } from '../../../errors/index.js';
import shop from '../../../examples/shop/mesh.js';
import { canonicalize } from '../../../model/canonical.js';
import { FEATURE_IDS } from '../../../model/features.js';
import { renderWithTarget } from '../../../model/render.js';
import type { Mesh } from '../../../model/types.js';
import { loadModel, validateRequest } from '../../helpers/aws/api-model.js';

type Input = Parameters<typeof canonicalize>[0];

const model = loadModel('appmesh-2019-01-25.json');

function mesh(input: Record<string, unknown>): Mesh {
  return canonicalize({ name: 'm', ...input } as Input);
}

function render(input: Record<string, unknown>, options: AppMeshOptions = {}): AppMeshResources {
  return renderAppMesh(mesh(input), options);
}

const web = { ports: [{ port: 8080, protocol: 'http' }], versions: { v1: {} } };

function route(out: AppMeshResources, name: string): RouteSpec {
  const found = out.routes.find((r) => r.routeName === name);
  if (found === undefined)
    throw new Error(`no route ${name}: ${out.routes.map((r) => r.routeName).join(', ')}`);
  return found.spec;
}

/** Every create call the render implies, as the API model sees it. */
function violations(out: AppMeshResources): string[] {
  const put = (url: string, body: unknown) =>
    validateRequest(model, { method: 'PUT', url, headers: {}, body: JSON.stringify(body) }).violations.map(
      (v) => `${v.operation} ${v.path}: ${v.message}`,
    );
  const m = out.mesh.meshName;
  return [
    ...put('/v20190125/meshes', { meshName: m, spec: out.mesh.spec, tags: out.tags }),
    ...out.virtualNodes.flatMap((n) =>
      put(`/v20190125/meshes/${m}/virtualNodes`, {
        virtualNodeName: n.virtualNodeName,
        spec: n.spec,
        tags: out.tags,
      }),
    ),
    ...out.virtualRouters.flatMap((r) =>
      put(`/v20190125/meshes/${m}/virtualRouters`, { virtualRouterName: r.virtualRouterName, spec: r.spec }),
    ),
    ...out.routes.flatMap((r) =>
      put(`/v20190125/meshes/${m}/virtualRouter/${r.virtualRouterName}/routes`, {
        routeName: r.routeName,
        spec: r.spec,
      }),
    ),
    ...out.virtualServices.flatMap((s) =>
      put(`/v20190125/meshes/${m}/virtualServices`, {
        virtualServiceName: s.virtualServiceName,
        spec: s.spec,
      }),
    ),
    ...out.virtualGateways.flatMap((g) =>
      put(`/v20190125/meshes/${m}/virtualGateways`, {
        virtualGatewayName: g.virtualGatewayName,
        spec: g.spec,
      }),
    ),
    ...out.gatewayRoutes.flatMap((r) =>
      put(`/v20190125/meshes/${m}/virtualGateway/${r.virtualGatewayName}/gatewayRoutes`, {
        gatewayRouteName: r.gatewayRouteName,
        spec: r.spec,
      }),
    ),
  ];
}

describe('renderAppMesh', () => {
  test('examples/shop renders specs the App Mesh API model accepts, deterministically', () => {
    // GIVEN the shop
    const canonical = canonicalize(shop);
    // WHEN rendered twice
    const a = renderAppMesh(canonical);
    const b = renderAppMesh(canonicalize(shop));
    // THEN the output is identical, complete and valid
    expect(JSON.stringify(a)).toBe(JSON.stringify(b));
    expect(a.virtualNodes.map((n) => n.virtualNodeName)).toEqual([
      'catalog-v1',
      'catalog-v2',
      'frontend-v1',
      'inventory-v1',
      'payments-v1',
    ]);
    expect(a.virtualServices.map((s) => s.virtualServiceName)).toContain('catalog.shop.mesh.local');
    expect(violations(a)).toEqual([]);
  });

  test('the mesh carries egress and IP preference, every resource the managed tags', () => {
    // GIVEN / WHEN
    const out = render({ services: { web }, egress: { mode: 'deny-unknown' }, ipPreference: 'ipv6-only' });
    // THEN
    expect(out.mesh.spec).toEqual({
      egressFilter: { type: 'DROP_ALL' },
      serviceDiscovery: { ipPreference: 'IPv6_ONLY' },
    });
    expect(out.tags).toEqual([
      { key: 'crossmesh:managed', value: 'true' },
      { key: 'crossmesh:mesh', value: 'm' },
    ]);
    expect(render({ services: { web } }).mesh.spec.egressFilter.type).toBe('ALLOW_ALL');
  });

  test('a service becomes a virtual service provided by its router, with one router listener per port', () => {
    // GIVEN a service on two ports
    const out = render({
      domain: 'example.internal',
      services: {
        api: {
          ports: [
            { port: 80, protocol: 'http' },
            { port: 9000, protocol: 'tcp' },
          ],
          versions: { v1: {} },
        },
      },
    });
    // THEN
    expect(out.virtualServices).toEqual([
      {
        service: 'api',
        spec: { provider: { virtualRouter: { virtualRouterName: 'api' } } },
        virtualServiceName: 'api.example.internal',
      },
    ]);
    expect(out.virtualRouters[0]?.spec.listeners).toEqual([
      { portMapping: { port: 80, protocol: 'http' } },
      { portMapping: { port: 9000, protocol: 'tcp' } },
    ]);
    // AND the default route on a multi-port service names its port, in the match and the targets
    expect(route(out, 'api-default').httpRoute?.match.port).toBe(80);
    expect(route(out, 'api-default').httpRoute?.action.weightedTargets).toEqual([
      { port: 80, virtualNode: 'api-v1', weight: 100 },
    ]);
  });

  test('http, http2, grpc and tcp ports get the matching route type', () => {
    // GIVEN one service per protocol
    const out = render({
      services: {
        h1: { ports: [{ port: 80, protocol: 'http' }], versions: { v1: {} } },
        h2: { ports: [{ port: 80, protocol: 'http2' }], versions: { v1: {} } },
        g: { ports: [{ port: 80, protocol: 'grpc' }], versions: { v1: {} } },
        t: { ports: [{ port: 80, protocol: 'tcp' }], versions: { v1: {} } },
      },
    });
    // THEN
    expect(Object.keys(route(out, 'h1-default'))).toEqual(['httpRoute', 'priority']);
    expect(Object.keys(route(out, 'h2-default'))).toEqual(['http2Route', 'priority']);
    expect(Object.keys(route(out, 'g-default'))).toEqual(['grpcRoute', 'priority']);
    // AND a match-all gRPC route matches on its port (App Mesh needs one gRPC condition)
    expect(route(out, 'g-default').grpcRoute?.match).toEqual({ port: 80 });
    expect(route(out, 't-default')).toEqual({
      priority: 0,
      tcpRoute: {
        action: { weightedTargets: [{ virtualNode: 't-v1', weight: 100 }] },
        timeout: { idle: { unit: 's', value: 300 } },
      },
    });
    expect(violations(out)).toEqual([]);
  });

  test('path, header, query and method matches map onto HttpRouteMatch', () => {
    // GIVEN routes using every HTTP match
    const out = render({
      services: {
        web: {
          ...web,
          routes: [
            {
              name: 'all',
              match: {
                path: { kind: 'regex', value: '/items/[0-9]+' },
                method: 'POST',
                headers: [
                  { kind: 'exact', name: 'x-a', value: '1' },
                  { kind: 'prefix', name: 'x-b', value: 'p' },
                  { kind: 'suffix', name: 'x-c', value: 's', invert: true },
                  { kind: 'regex', name: 'x-d', value: '.*' },
                  { kind: 'present', name: 'x-e' },
                  { kind: 'range', name: 'x-f', start: 1, end: 10 },
                ],
                query: [
                  { kind: 'exact', name: 'q', value: 'v' },
                  { kind: 'present', name: 'debug' },
                ],
              },
              destinations: [{ service: 'web' }],
            },
            {
              name: 'exact',
              match: { path: { kind: 'exact', value: '/health' } },
              destinations: [{ service: 'web' }],
            },
            {
              name: 'prefix',
              match: { path: { kind: 'prefix', value: '/api' } },
              destinations: [{ service: 'web' }],
            },
          ],
        },
      },
    });
    // THEN
    expect(route(out, 'web-all').httpRoute?.match).toEqual({
      headers: [
        { match: { exact: '1' }, name: 'x-a' },
        { match: { prefix: 'p' }, name: 'x-b' },
        { invert: true, match: { suffix: 's' }, name: 'x-c' },
        { match: { regex: '.*' }, name: 'x-d' },
        { name: 'x-e' },
        { match: { range: { end: 10, start: 1 } }, name: 'x-f' },
      ],
      method: 'POST',
      path: { regex: '/items/[0-9]+' },
      queryParameters: [{ match: { exact: 'v' }, name: 'q' }, { name: 'debug' }],
    });
    expect(route(out, 'web-exact').httpRoute?.match).toEqual({ path: { exact: '/health' } });
    expect(route(out, 'web-prefix').httpRoute?.match).toEqual({ prefix: '/api' });
    // AND routes without an explicit priority get their position
    expect(out.routes.map((r) => r.spec.priority)).toEqual([0, 1, 2]);
    expect(violations(out)).toEqual([]);
  });

  test('route priorities become ranks, so equal priorities keep declaration order', () => {
    // GIVEN routes with priorities 5, 5, 1 and none (its position, 3)
    const to = [{ service: 'web' }];
    const out = render({
      services: {
        web: {
          ...web,
          routes: [
            { name: 'a', priority: 5, match: { path: { kind: 'prefix', value: '/a' } }, destinations: to },
            { name: 'b', priority: 5, match: { path: { kind: 'prefix', value: '/b' } }, destinations: to },
            { name: 'c', priority: 1, match: { path: { kind: 'prefix', value: '/c' } }, destinations: to },
            { name: 'd', destinations: to },
          ],
        },
      },
    });
    // WHEN / THEN c first, then d (3), then a and b in declaration order
    expect(Object.fromEntries(out.routes.map((r) => [r.route, r.spec.priority]))).toEqual({
      a: 2,
      b: 3,
      c: 0,
      d: 1,
    });
  });

  test('gRPC routes match service, method and metadata', () => {
    // GIVEN / WHEN
    const out = render({
      services: {
        pay: {
          ports: [{ port: 9090, protocol: 'grpc' }],
          versions: { v1: {} },
          routes: [
            {
              name: 'charge',
              priority: 7,
              match: {
                grpc: { service: 'shop.Payments', method: 'Charge' },
                headers: [{ kind: 'exact', name: 'tenant', value: 'a' }],
              },
              destinations: [{ service: 'pay' }],
            },
          ],
        },
      },
    });
    // THEN
    expect(route(out, 'pay-charge').grpcRoute?.match).toEqual({
      metadata: [{ match: { exact: 'a' }, name: 'tenant' }],
      methodName: 'Charge',
      serviceName: 'shop.Payments',
    });
    expect(route(out, 'pay-charge').priority).toBe(7);
  });

  test('weights become integer percentages over per-version virtual nodes, across services too', () => {
    // GIVEN a 1:1:1 split over two versions and another service's version
    const out = render({
      services: {
        web: {
          ...web,
          versions: { v1: {}, v2: {} },
          routes: [
            {
              name: 'split',
              destinations: [
                { service: 'web', version: 'v1', weight: 1 },
                { service: 'web', version: 'v2', weight: 1 },
                { service: 'legacy', version: 'old', weight: 1 },
              ],
            },
            { name: 'all-versions', destinations: [{ service: 'web' }] },
          ],
        },
        legacy: { ports: [{ port: 8080, protocol: 'http' }], versions: { old: {} } },
      },
    });
    // THEN the percentages add up to 100 (largest remainder, ties to the first)
    expect(route(out, 'web-split').httpRoute?.action.weightedTargets).toEqual([
      { virtualNode: 'legacy-old', weight: 34 },
      { virtualNode: 'web-v1', weight: 33 },
      { virtualNode: 'web-v2', weight: 33 },
    ]);
    // AND a destination without a version spreads evenly over every version
    expect(route(out, 'web-all-versions').httpRoute?.action.weightedTargets).toEqual([
      { virtualNode: 'web-v1', weight: 50 },
      { virtualNode: 'web-v2', weight: 50 },
    ]);
  });

  test('retry events, per-try timeout and timeouts map onto App Mesh policies', () => {
    // GIVEN retries on every kind of event on an HTTP and a gRPC service
    const retries = {
      attempts: 3,
      perTryTimeout: '250ms',
      on: ['server-error', 'gateway-error', 'client-error', 'reset', 'refused-stream', 'connect-failure'],
    };
    const out = render({
      services: {
        web: { ...web, policy: { retries, timeouts: { request: '2s', idle: '1m' } } },
        pay: {
          ports: [{ port: 9090, protocol: 'grpc' }],
          versions: { v1: {} },
          policy: { retries: { ...retries, on: [...retries.on, 'unavailable', 'cancelled'] } },
        },
      },
    });
    // THEN HTTP routes take HTTP and TCP events, gRPC routes the gRPC events too
    expect(route(out, 'web-default').httpRoute?.retryPolicy).toEqual({
      httpRetryEvents: ['client-error', 'gateway-error', 'server-error', 'stream-error'],
      maxRetries: 3,
      perRetryTimeout: { unit: 'ms', value: 250 },
      tcpRetryEvents: ['connection-error'],
    });
    expect(route(out, 'pay-default').grpcRoute?.retryPolicy?.grpcRetryEvents).toEqual([
      'cancelled',
      'unavailable',
    ]);
    expect(route(out, 'web-default').httpRoute?.timeout).toEqual({
      idle: { unit: 's', value: 60 },
      perRequest: { unit: 's', value: 2 },
    });
    expect(violations(out)).toEqual([]);
  });

  test('a virtual node listener carries health check, outlier detection, connection pool and timeout', () => {
    // GIVEN a service with every listener policy (health check timeout below App Mesh's 2s minimum)
    const out = render({
      services: {
        web: {
          ...web,
          policy: {
            healthCheck: {
              kind: 'http',
              path: '/healthz',
              interval: '10s',
              timeout: '1s',
              healthyThreshold: 3,
              unhealthyThreshold: 4,
            },
            outlierDetection: {
              consecutive5xx: 7,
              interval: '15s',
              baseEjectionTime: '45s',
              maxEjectionPercent: 20,
            },
            connectionPool: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 50 },
          },
        },
      },
    });
    // THEN
    expect(out.virtualNodes[0]?.spec.listeners).toEqual([
      {
        connectionPool: { http: { maxConnections: 100, maxPendingRequests: 10 } },
        healthCheck: {
          healthyThreshold: 3,
          intervalMillis: 10_000,
          path: '/healthz',
          protocol: 'http',
          timeoutMillis: 2000,
          unhealthyThreshold: 4,
        },
        outlierDetection: {
          baseEjectionDuration: { unit: 's', value: 45 },
          interval: { unit: 's', value: 15 },
          maxEjectionPercent: 20,
          maxServerErrors: 7,
        },
        portMapping: { port: 8080, protocol: 'http' },
        timeout: { http: { idle: { unit: 's', value: 300 }, perRequest: { unit: 's', value: 15 } } },
      },
    ]);
  });

  test('connection pools follow the protocol: HTTP/2 and gRPC maxRequests, TCP maxConnections', () => {
    // GIVEN / WHEN
    const pool = { connectionPool: { maxConnections: 5, maxRequests: 9 } };
    const out = render({
      services: {
        a: { ports: [{ port: 1, protocol: 'http2' }], versions: { v1: {} }, policy: pool },
        b: {
          ports: [{ port: 1, protocol: 'grpc' }],
          versions: { v1: {} },
          policy: { ...pool, healthCheck: { kind: 'grpc' } },
        },
        c: {
          ports: [{ port: 1, protocol: 'tcp' }],
          versions: { v1: {} },
          policy: { ...pool, healthCheck: { kind: 'tcp' } },
        },
      },
    });
    // THEN
    const listener = (n: string) => out.virtualNodes.find((v) => v.virtualNodeName === n)?.spec.listeners[0];
    expect(listener('a-v1')?.connectionPool).toEqual({ http2: { maxRequests: 9 } });
    expect(listener('b-v1')?.connectionPool).toEqual({ grpc: { maxRequests: 9 } });
    expect(listener('b-v1')?.healthCheck?.protocol).toBe('grpc');
    expect(listener('c-v1')?.connectionPool).toEqual({ tcp: { maxConnections: 5 } });
    expect(listener('c-v1')?.timeout).toEqual({ tcp: { idle: { unit: 's', value: 300 } } });
    expect(violations(out)).toEqual([]);
  });

  test('strict mTLS with SDS: STRICT listeners validating callers by SPIFFE id, and a client policy for backends', () => {
    // GIVEN strict mTLS and an allow-listed service
    const out = render({
      security: { mtls: 'strict', trustDomain: 'corp.example' },
      services: {
        web: { ...web, backends: ['api'] },
        api: { ...web, authorization: { action: 'allow-listed', rules: [{ from: ['web'] }] } },
      },
    });
    const api = out.virtualNodes.find((n) => n.virtualNodeName === 'api-v1');
    const webNode = out.virtualNodes.find((n) => n.virtualNodeName === 'web-v1');
    // THEN
    expect(api?.spec.listeners[0]?.tls).toEqual({
      certificate: { sds: { secretName: 'spiffe://corp.example/ns/m/sa/api' } },
      mode: 'STRICT',
      validation: {
        subjectAlternativeNames: { match: { exact: ['spiffe://corp.example/ns/m/sa/web'] } },
        trust: { sds: { secretName: 'spiffe://corp.example' } },
      },
    });
    expect(webNode?.spec.backends).toEqual([{ virtualService: { virtualServiceName: 'api.m.mesh.local' } }]);
    expect(webNode?.spec.backendDefaults).toEqual({
      clientPolicy: {
        tls: {
          certificate: { sds: { secretName: 'spiffe://corp.example/ns/m/sa/web' } },
          enforce: true,
          validation: { trust: { sds: { secretName: 'spiffe://corp.example' } } },
        },
      },
    });
    expect(violations(out)).toEqual([]);
  });

  test('permissive mTLS with file certificates: PERMISSIVE listeners reading PEM files', () => {
    // GIVEN / WHEN
    const out = render(
      { security: { mtls: 'permissive' }, services: { web } },
      { certificates: 'file', certificateDir: '/certs/' },
    );
    // THEN
    expect(out.virtualNodes[0]?.spec.listeners[0]?.tls).toEqual({
      certificate: {
        file: { certificateChain: '/certs/web/cert-chain.pem', privateKey: '/certs/web/key.pem' },
      },
      mode: 'PERMISSIVE',
      validation: { trust: { file: { certificateChain: '/certs/ca.pem' } } },
    });
    // AND without mTLS there is no TLS at all
    expect(render({ services: { web } }).virtualNodes[0]?.spec.listeners[0]?.tls).toBeUndefined();
  });

  test('discovery: Cloud Map with the version labels as attributes, or DNS per version', () => {
    // GIVEN a version with labels
    const input = {
      services: { web: { ...web, versions: { v1: { labels: { version: 'v1', track: 'stable' } } } } },
    };
    // WHEN rendered both ways
    const cloud = render(input);
    const dns = render(input, { discovery: 'dns' });
    // THEN
    expect(cloud.virtualNodes[0]?.spec.serviceDiscovery).toEqual({
      awsCloudMap: {
        attributes: [
          { key: 'track', value: 'stable' },
          { key: 'version', value: 'v1' },
        ],
        namespaceName: 'm.mesh.local',
        serviceName: 'web',
      },
    });
    expect(cloud.cloudMap).toEqual({
      namespace: { description: 'crossmesh mesh m', name: 'm.mesh.local', type: 'http' },
      services: [{ description: 'crossmesh service web of mesh m', name: 'web', namespace: 'm.mesh.local' }],
    });
    expect(dns.virtualNodes[0]?.spec.serviceDiscovery).toEqual({ dns: { hostname: 'v1.web.m.mesh.local' } });
    expect(dns.cloudMap).toBeUndefined();
  });

  test('a private DNS namespace publishes records in the IP families the mesh prefers', () => {
    // GIVEN / WHEN
    const out = render(
      { services: { web }, ipPreference: 'ipv6-preferred' },
      { namespaceType: 'private-dns', vpc: 'vpc-0abc' },
    );
    // THEN
    expect(out.cloudMap?.namespace).toEqual({
      description: 'crossmesh mesh m',
      name: 'm.mesh.local',
      type: 'private-dns',
      vpc: 'vpc-0abc',
    });
    expect(out.cloudMap?.services[0]?.dns).toEqual({
      records: [
        { ttl: 10, type: 'AAAA' },
        { ttl: 10, type: 'A' },
      ],
      routingPolicy: 'MULTIVALUE',
    });
    // AND it needs a VPC, and a namespace that is the mesh domain
    expect(() => render({ services: { web } }, { namespaceType: 'private-dns' })).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', path: 'options.vpc' }),
    );
    expect(() =>
      render({ services: { web } }, { namespaceType: 'private-dns', vpc: 'vpc-1', namespace: 'other.local' }),
    ).toThrow(expect.objectContaining({ path: 'options.namespace' }));
  });

  test('access logs: a file log, JSON format as key/value pairs, text as Envoy default (no format)', () => {
    // GIVEN / WHEN
    const json = render({
      accessLog: { enabled: true, format: 'json', path: '/var/log/envoy.log' },
      services: { web },
    });
    const text = render({ accessLog: { enabled: true }, services: { web } });
    // THEN
    const file = json.virtualNodes[0]?.spec.logging?.accessLog.file;
    expect(file?.path).toBe('/var/log/envoy.log');
    expect(file?.format && 'json' in file.format ? file.format.json.map((e) => e.key) : []).toContain(
      'response_code',
    );
    expect(text.virtualNodes[0]?.spec.logging).toEqual({ accessLog: { file: { path: '/dev/stdout' } } });
    expect(render({ services: { web } }).virtualNodes[0]?.spec.logging).toBeUndefined();
  });

  test('a gateway becomes a virtual gateway with TLS and gateway routes with matches and rewrites', () => {
    // GIVEN a gateway with a TLS listener and two routes
    const out = render({
      services: { web, pay: { ports: [{ port: 9090, protocol: 'grpc' }], versions: { v1: {} } } },
      gateways: {
        edge: {
          listeners: [
            {
              port: 443,
              protocol: 'http',
              tls: { certificateFile: '/tls/cert.pem', privateKeyFile: '/tls/key.pem' },
            },
          ],
          routes: [
            {
              name: 'api',
              match: {
                path: { kind: 'prefix', value: '/api/' },
                host: '*.example.com',
                headers: [{ kind: 'present', name: 'x-user' }],
              },
              service: 'web',
              rewrite: { prefix: '/' },
            },
          ],
        },
        rpc: {
          listeners: [{ port: 50051, protocol: 'grpc' }],
          routes: [{ name: 'pay', match: { grpcService: 'shop.Payments' }, service: 'pay' }],
        },
      },
    });
    // THEN
    expect(out.virtualGateways.find((g) => g.virtualGatewayName === 'edge')?.spec.listeners).toEqual([
      {
        portMapping: { port: 443, protocol: 'http' },
        tls: {
          certificate: { file: { certificateChain: '/tls/cert.pem', privateKey: '/tls/key.pem' } },
          mode: 'STRICT',
        },
      },
    ]);
    expect(out.gatewayRoutes.find((r) => r.gatewayRouteName === 'edge-api')?.spec).toEqual({
      httpRoute: {
        action: {
          rewrite: { prefix: { value: '/' } },
          target: { virtualService: { virtualServiceName: 'web.m.mesh.local' } },
        },
        match: { headers: [{ name: 'x-user' }], hostname: { suffix: '.example.com' }, prefix: '/api/' },
      },
      priority: 0,
    });
    expect(out.gatewayRoutes.find((r) => r.gatewayRouteName === 'rpc-pay')?.spec).toEqual({
      grpcRoute: {
        action: { target: { virtualService: { virtualServiceName: 'pay.m.mesh.local' } } },
        match: { serviceName: 'shop.Payments' },
      },
      priority: 0,
    });
    expect(violations(out)).toEqual([]);
  });

  test("a gateway's hosts become one gateway route per host for routes without their own host", () => {
    // GIVEN a gateway answering for two hosts, one route with a host and one without
    const out = render({
      services: { web },
      gateways: {
        edge: {
          listeners: [{ port: 80, protocol: 'http' }],
          hosts: ['shop.example.com', '*.shop.example.com'],
          routes: [
            {
              name: 'api',
              match: { host: 'api.shop.example.com', path: { kind: 'prefix', value: '/' } },
              service: 'web',
            },
            { name: 'web', match: { path: { kind: 'prefix', value: '/' } }, service: 'web' },
          ],
        },
      },
    });
    // THEN
    expect(
      out.gatewayRoutes.map((r) => [r.gatewayRouteName, r.spec.httpRoute?.match.hostname, r.spec.priority]),
    ).toEqual([
      ['edge-api', { exact: 'api.shop.example.com' }, 0],
      ['edge-web-h0', { exact: 'shop.example.com' }, 1],
      ['edge-web-h1', { suffix: '.shop.example.com' }, 1],
    ]);
    expect(violations(out)).toEqual([]);
  });

  test('problems are gathered in one MeshError naming each field', () => {
    // GIVEN a route over 11 versions and names that collide once hyphenated
    const versions = Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`v${i}`, {}]));
    const input = {
      services: {
        big: { ports: [{ port: 80, protocol: 'http' }], versions },
        'a-b': { ...web, versions: { c: {} } },
        a: { ...web, versions: { 'b-c': {} } },
      },
    };
    // WHEN / THEN
    let error: unknown;
    try {
      render(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MeshError);
    const paths = (error as MeshError).problems.map((p) => p.path);
    expect(paths).toContain('services.big.routes[0].destinations');
    expect((error as MeshError).problems.some((p) => p.message.includes('"a-b-c" is generated twice'))).toBe(
      true,
    );
  });

  test('a gateway prefix rewrite App Mesh would refuse is an error naming the field', () => {
    // GIVEN a rewrite to "/v2" (App Mesh wants "/v2/")
    const input = {
      services: { web },
      gateways: {
        edge: {
          listeners: [{ port: 80, protocol: 'http' }],
          routes: [
            {
              name: 'r',
              match: { path: { kind: 'prefix', value: '/api/' } },
              service: 'web',
              rewrite: { prefix: '/v2' },
            },
          ],
        },
      },
    };
    // WHEN / THEN
    expect(() => render(input)).toThrow(
      expect.objectContaining({
        code: 'TARGET_E_UNSUPPORTED',
        path: 'gateways.edge.routes[0].rewrite.prefix',
      }),
    );
  });

  test('invalid options are refused with TARGET_E_OPTION', () => {
    // GIVEN / WHEN / THEN
    expect(() => render({ services: { web } }, { discovery: 'consul' } as unknown as AppMeshOptions)).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', path: 'options.discovery' }),
    );
    expect(() => render({ services: { web } }, { certificateDir: 42 } as unknown as AppMeshOptions)).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', path: 'options.certificateDir' }),
    );
    expect(() => render({ services: { web } }, { colour: 'red' } as unknown as AppMeshOptions)).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', path: 'options.colour' }),
    );
  });
});

describe('appmeshTarget', () => {
  test('declares every model feature', () => {
    // GIVEN / WHEN / THEN
    expect(Object.keys(APPMESH_CAPABILITIES).sort()).toEqual([...FEATURE_IDS].sort());
    expect(appmeshTarget.title).toContain('2026-09-30');
  });

  test('refuses features App Mesh cannot express, and drops them only when allowed', () => {
    // GIVEN a route with fault injection and a ring-hash service
    const m = mesh({
      services: {
        web: {
          ...web,
          routes: [
            {
              name: 'chaos',
              fault: { abort: { httpStatus: 503, percent: 10 } },
              destinations: [{ service: 'web' }],
            },
          ],
          policy: { loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'source-ip' } } },
        },
      },
    });
    // WHEN / THEN
    expect(() => renderWithTarget(appmeshTarget, m, {})).toThrow(
      expect.objectContaining({ code: 'TARGET_E_UNSUPPORTED' }),
    );
    const { dropped, output } = renderWithTarget(appmeshTarget, m, {}, { allowDrop: true });
    expect(dropped.map((d) => d.feature).sort()).toEqual([
      'policy.load-balancing.ring-hash',
      'route.fault.abort',
    ]);
    expect(output.routes.map((r) => r.routeName)).toEqual(['web-chaos']);
  });

  test('every feature App Mesh cannot express is refused, and under --allow-drop leaves no trace', () => {
    // GIVEN a mesh using each unsupported feature, each carrying a recognisable marker
    const to = [{ service: 'web' }];
    const m = mesh({
      egress: { mode: 'deny-unknown', hosts: ['marker-egress.example.com'] },
      services: {
        web: {
          ...web,
          routes: [
            {
              name: 'q',
              match: { query: [{ kind: 'regex', name: 'marker-query', value: '.*' }] },
              destinations: to,
            },
            {
              name: 'marker-redirect',
              match: { path: { kind: 'prefix', value: '/old' } },
              redirect: { path: '/new' },
            },
            {
              name: 'rw',
              match: { path: { kind: 'prefix', value: '/rw' } },
              rewrite: { prefix: '/marker-rewrite' },
              headers: {
                request: { add: [{ name: 'marker-header', value: 'x' }] },
                response: { remove: ['marker-resp'] },
              },
              fault: { delay: { duration: '1s', percent: 5 } },
              mirror: { service: 'web', percent: 10 },
              policy: { rateLimit: { requests: 10, per: '1s' } },
              destinations: to,
            },
          ],
          policy: { loadBalancing: { kind: 'least-request' } },
          authorization: {
            action: 'allow-listed',
            rules: [{ from: ['*'], paths: [{ kind: 'prefix', value: '/marker-authz' }] }],
          },
        },
      },
      security: { mtls: 'strict' },
    });
    // WHEN rendered without and with --allow-drop
    let refused: unknown;
    try {
      renderWithTarget(appmeshTarget, m, {});
    } catch (error) {
      refused = error;
    }
    const { output, dropped } = renderWithTarget(appmeshTarget, m, {}, { allowDrop: true });

    // THEN every use was named, each is a `none` feature, and no marker reached the render
    expect(refused).toBeInstanceOf(MeshError);
    expect((refused as MeshError).problems.length).toBe(dropped.length);
    expect([...new Set(dropped.map((d) => d.feature))].sort()).toEqual([
      'authorization.paths',
      'egress.hosts',
      'policy.load-balancing.least-request',
      'policy.rate-limit',
      'route.fault.delay',
      'route.headers.request',
      'route.headers.response',
      'route.match.query.regex',
      'route.mirror',
      'route.redirect',
      'route.rewrite.prefix',
    ]);
    for (const d of dropped) expect(APPMESH_CAPABILITIES[d.feature].support).toBe('none');
    expect(JSON.stringify(output)).not.toMatch(/marker|mirror|rateLimit|least/);
    expect(output.routes.map((r) => r.route)).toEqual(['q', 'rw']);
  });

  test('writes one create-input JSON per resource and a README with the notice', () => {
    // GIVEN the shop
    const files = appMeshFiles(renderAppMesh(canonicalize(shop)));
    // THEN
    expect([...files.keys()]).toContain('virtual-nodes/catalog-v1.json');
    expect([...files.keys()]).toContain('routes/catalog/catalog-split.json');
    expect([...files.keys()]).toContain('gateway-routes/ingress/ingress-web.json');
    expect(files.get('README.md')).toContain(APPMESH_NOTICE);
    const node = JSON.parse(files.get('virtual-nodes/catalog-v1.json') ?? '{}') as Record<string, unknown>;
    expect(Object.keys(node)).toEqual(['meshName', 'spec', 'tags', 'virtualNodeName']);
  });
});

describe('desiredResources', () => {
  test('splits node backends out so services calling each other have no dependency cycle', () => {
    // GIVEN two services that call each other
    const out = render({ services: { a: { ...web, backends: ['b'] }, b: { ...web, backends: ['a'] } } });
    // WHEN
    const desired = desiredResources(out);
    // THEN the node is created without backends, which follow the virtual services
    const node = desired.find((d) => d.id === 'VirtualNode/a-v1');
    const backends = desired.find((d) => d.id === 'VirtualNodeBackends/a-v1');
    expect(node?.spec).not.toHaveProperty('backends');
    expect(backends?.dependsOn).toEqual(['VirtualNode/a-v1', 'VirtualService/b.m.mesh.local']);
    expect(desired.find((d) => d.id === 'VirtualService/b.m.mesh.local')?.dependsOn).toEqual([
      'VirtualRouter/b',
    ]);
    expect(desired.find((d) => d.id === 'Route/b/b-default')?.dependsOn).toEqual([
      'VirtualRouter/b',
      'VirtualNode/b-v1',
    ]);
    expect(desired.map((d) => d.kind).slice(0, 2)).toEqual(['Mesh', 'CloudMapNamespace']);
  });
});
