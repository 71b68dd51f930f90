/**
 * The Traffic Director renderer: every model feature it expresses, mapped to the API field the
 * capability matrix names. Pure functions only: nothing is stood in here.
 */
import { describe, expect, test } from 'vitest';
import { renderTrafficDirector, trafficDirectorTarget } from '../../../adapters/traffic-director/index.js';
import { resourceName } from '../../../adapters/traffic-director/names.js';
import type { TdResource, TrafficDirectorManifest } from '../../../adapters/traffic-director/types.js';
import { MeshError } from '../../../errors/index.js';
import shop from '../../../examples/shop/mesh.js';
import { canonicalize } from '../../../model/canonical.js';
import { FEATURE_IDS } from '../../../model/features.js';
import { renderWithTarget } from '../../../model/render.js';
import type { Mesh } from '../../../model/types.js';
import { kitchenSink, kitchenSinkNegs } from './fixtures.js';

const PROJECT = 'my-project';

function find(manifest: TrafficDirectorManifest, kind: string, name: string): TdResource {
  const found = manifest.resources.find((r) => r.kind === kind && r.name === name);
  if (found === undefined)
    throw new Error(
      `no ${kind}/${name} in ${manifest.resources.map((r) => `${r.kind}/${r.name}`).join(', ')}`,
    );
  return found;
}

function render(mesh: Mesh = kitchenSink()): TrafficDirectorManifest {
  return renderTrafficDirector(mesh, { project: PROJECT, negs: kitchenSinkNegs(PROJECT) });
}

describe('renderTrafficDirector', () => {
  test('the fixture is a valid canonical mesh (canonicalize accepts it unchanged in meaning)', () => {
    // GIVEN the hand-filled fixture
    // WHEN it is canonicalized
    const canonical = canonicalize(kitchenSink());
    // THEN it renders to the same manifest as the fixture itself
    expect(render(canonical)).toEqual(render());
  });

  test('is deterministic, key-sorted and in dependency order', () => {
    // GIVEN the kitchen-sink mesh
    // WHEN it is rendered twice
    const a = JSON.stringify(render());
    const b = JSON.stringify(render());
    // THEN the output is byte-identical and every dependency comes earlier
    expect(a).toBe(b);
    const manifest = render();
    const seen = new Set<string>();
    for (const r of manifest.resources) {
      for (const dep of r.dependsOn) expect(seen.has(dep), `${r.kind}/${r.name} before ${dep}`).toBe(true);
      seen.add(`${r.kind}/${r.name}`);
      expect(Object.keys(r.body)).toEqual([...Object.keys(r.body)].sort());
    }
  });

  test('labels every networkservices/networksecurity resource and marks compute ones by description', () => {
    // GIVEN / WHEN
    const manifest = render();
    // THEN
    for (const r of manifest.resources) {
      if (r.kind === 'BackendService' || r.kind === 'HealthCheck') {
        expect(r.body.description).toBe('crossmesh:mesh=shop');
        expect(r.body.labels).toBeUndefined();
      } else {
        expect(r.body.labels).toEqual({ 'crossmesh-managed': 'true', 'crossmesh-mesh': 'shop' });
      }
    }
  });

  test('HttpRoute: hostnames, matches, weights, retries, timeouts, fault, mirror, header modifiers, rewrite, redirect', () => {
    // GIVEN / WHEN
    const route = find(render(), 'HttpRoute', 'shop-web-8080').body as Record<string, unknown>;
    // THEN
    const bs = (name: string) => `projects/${PROJECT}/global/backendServices/${name}`;
    expect(route.meshes).toEqual([`projects/${PROJECT}/locations/global/meshes/shop`]);
    expect(route.hostnames).toEqual(['web.shop.mesh.local']);
    const [api, old, fallback] = route.rules as Record<string, Record<string, unknown>>[];
    expect(api?.matches).toEqual([
      {
        prefixMatch: '/api',
        headers: [
          { header: 'x-env', exactMatch: 'prod' },
          { header: 'x-shard', invertMatch: true, rangeMatch: { end: 10 } },
        ],
        queryParameters: [{ queryParameter: 'debug', presentMatch: true }],
      },
    ]);
    expect(api?.action).toEqual({
      destinations: [
        { serviceName: bs('shop-catalog-v1'), weight: 1 },
        { serviceName: bs('shop-catalog-v2'), weight: 1 },
      ],
      timeout: '3s',
      idleTimeout: '300s',
      retryPolicy: { numRetries: 2, perTryTimeout: '1s', retryConditions: ['gateway-error', 'reset'] },
      faultInjectionPolicy: {
        delay: { fixedDelay: '0.250s', percentage: 5 },
        abort: { httpStatus: 503, percentage: 1 },
      },
      requestMirrorPolicy: { destination: { serviceName: bs('shop-catalog-v2') }, mirrorPercent: 10 },
      requestHeaderModifier: { set: { 'x-from': 'web' }, remove: ['x-debug'] },
      responseHeaderModifier: { add: { 'x-served-by': 'shop' } },
      urlRewrite: { pathPrefixRewrite: '/' },
    });
    expect(old).toEqual({
      matches: [{ fullPathMatch: '/old' }],
      action: { redirect: { responseCode: 'PERMANENT_REDIRECT', httpsRedirect: true, pathRedirect: '/new' } },
    });
    expect(fallback?.action).toEqual({
      destinations: [{ serviceName: bs('shop-web-v1'), weight: 1 }],
      timeout: '15s',
      idleTimeout: '300s',
    });
  });

  test('weighted canary keeps the ratio; a destination without a version spreads over versions', () => {
    // GIVEN catalog 90/10 and payments' default route to both versions
    const manifest = render();
    // WHEN / THEN
    const catalog = find(manifest, 'HttpRoute', 'shop-catalog-9090').body.rules as {
      action: { destinations: unknown[] };
    }[];
    expect(catalog[0]?.action.destinations).toEqual([
      { serviceName: `projects/${PROJECT}/global/backendServices/shop-catalog-v1`, weight: 9 },
      { serviceName: `projects/${PROJECT}/global/backendServices/shop-catalog-v2`, weight: 1 },
    ]);
  });

  test('GrpcRoute: method and header matches, gRPC retry conditions only, no per-try timeout', () => {
    // GIVEN / WHEN
    const route = find(render(), 'GrpcRoute', 'shop-payments-50051').body as {
      rules: Record<string, Record<string, unknown>>[];
    };
    // THEN
    const [charge, rest] = route.rules;
    expect(charge?.matches).toEqual([
      {
        method: { grpcService: 'shop.Payments', grpcMethod: 'Charge' },
        headers: [{ key: 'x-tenant', value: 'a' }],
      },
    ]);
    expect(charge?.action?.retryPolicy).toEqual({ numRetries: 3, retryConditions: ['unavailable'] });
    expect(rest?.matches).toBeUndefined();
    expect(JSON.stringify(route)).not.toContain('perTryTimeout');
  });

  test('TcpRoute matches the port on any address', () => {
    // GIVEN / WHEN
    const route = find(render(), 'TcpRoute', 'shop-cache-6379').body as { rules: unknown[] };
    // THEN
    expect(route.rules).toEqual([
      {
        matches: [{ address: '0.0.0.0/0', port: '6379' }],
        action: {
          destinations: [
            { serviceName: `projects/${PROJECT}/global/backendServices/shop-cache-v1`, weight: 1 },
          ],
          idleTimeout: '3600s',
        },
      },
    ]);
  });

  test('BackendService: scheme, protocol, health check, outlier detection, circuit breakers, ring hash, mTLS, NEG backends', () => {
    // GIVEN / WHEN
    const manifest = render();
    const catalog = find(manifest, 'BackendService', 'shop-catalog-v2').body;
    const cache = find(manifest, 'BackendService', 'shop-cache-v1').body as Record<string, unknown>;
    const payments = find(manifest, 'BackendService', 'shop-payments-v1').body;
    // THEN
    expect(catalog).toMatchObject({
      loadBalancingScheme: 'INTERNAL_SELF_MANAGED',
      protocol: 'HTTP2',
      timeoutSec: 15,
      connectionDraining: { drainingTimeoutSec: 0 },
      localityLbPolicy: 'RING_HASH',
      sessionAffinity: 'HEADER_FIELD',
      consistentHash: { httpHeaderName: 'x-user' },
      outlierDetection: {
        consecutiveErrors: 5,
        interval: { seconds: '10' },
        baseEjectionTime: { seconds: '30' },
        maxEjectionPercent: 10,
      },
      circuitBreakers: { maxConnections: 100, maxPendingRequests: 50, maxRequests: 200, maxRetries: 3 },
      securitySettings: {
        clientTlsPolicy: `projects/${PROJECT}/locations/global/clientTlsPolicies/shop-mtls`,
        subjectAltNames: ['spiffe://cluster.local/ns/shop/sa/catalog'],
      },
      backends: [
        {
          group: `projects/${PROJECT}/zones/us-central1-a/networkEndpointGroups/catalog-v2`,
          balancingMode: 'RATE',
          maxRatePerEndpoint: 1000,
          capacityScaler: 1,
        },
      ],
    });
    // catalog declares no health check but has NEG backends: compute requires one, so a TCP check stands in.
    expect(catalog.healthChecks).toEqual([`projects/${PROJECT}/global/healthChecks/shop-catalog-hc`]);
    expect(find(manifest, 'HealthCheck', 'shop-catalog-hc').body).toMatchObject({
      type: 'TCP',
      tcpHealthCheck: { port: 9090 },
    });
    expect(manifest.warnings).toContain(
      'service catalog declares no health check, which Traffic Director requires with NEG backends: a TCP check on port 9090 is used',
    );
    expect(cache).toMatchObject({
      protocol: 'TCP',
      localityLbPolicy: 'RING_HASH',
      sessionAffinity: 'CLIENT_IP',
      healthChecks: [`projects/${PROJECT}/global/healthChecks/shop-cache-hc`],
    });
    expect(cache.consistentHash).toBeUndefined();
    expect(find(manifest, 'BackendService', 'shop-web-v1').body).toMatchObject({
      sessionAffinity: 'HTTP_COOKIE',
      consistentHash: { httpCookie: { name: 'sid', ttl: { seconds: '3600' } } },
    });
    expect(payments).toMatchObject({
      protocol: 'GRPC',
      localityLbPolicy: 'LEAST_REQUEST',
      sessionAffinity: 'NONE',
      timeoutSec: 5,
    });
  });

  test('HealthChecks: HTTP, GRPC and TCP with whole-second timing', () => {
    // GIVEN / WHEN
    const manifest = render();
    // THEN
    expect(find(manifest, 'HealthCheck', 'shop-web-hc').body).toEqual({
      description: 'crossmesh:mesh=shop',
      type: 'HTTP',
      checkIntervalSec: 5,
      timeoutSec: 2,
      healthyThreshold: 2,
      unhealthyThreshold: 3,
      httpHealthCheck: {
        port: 8080,
        requestPath: '/healthz',
        host: 'web.shop.mesh.local',
        proxyHeader: 'NONE',
      },
    });
    expect(find(manifest, 'HealthCheck', 'shop-payments-hc').body).toMatchObject({
      type: 'GRPC',
      checkIntervalSec: 10,
      timeoutSec: 3,
      grpcHealthCheck: { port: 50051, grpcServiceName: 'shop.Payments' },
    });
    expect(find(manifest, 'HealthCheck', 'shop-cache-hc').body).toMatchObject({
      type: 'TCP',
      tcpHealthCheck: { port: 6379, proxyHeader: 'NONE' },
    });
  });

  test('mTLS and authorization: TLS policies with the SPIFFE provider, AuthorizationPolicy, EndpointPolicy by labels', () => {
    // GIVEN / WHEN
    const manifest = render();
    const provider = { certificateProviderInstance: { pluginInstance: 'google_cloud_private_spiffe' } };
    // THEN strict mTLS: no allowOpen (false is the proto3 default)
    expect(find(manifest, 'ServerTlsPolicy', 'shop-mtls').body).toMatchObject({
      serverCertificate: provider,
      mtlsPolicy: { clientValidationCa: [provider] },
    });
    expect(find(manifest, 'ServerTlsPolicy', 'shop-mtls').body.allowOpen).toBeUndefined();
    expect(find(manifest, 'ClientTlsPolicy', 'shop-mtls').body).toMatchObject({
      clientCertificate: provider,
      serverValidationCa: [provider],
    });
    expect(find(manifest, 'AuthorizationPolicy', 'shop-catalog').body).toMatchObject({
      action: 'ALLOW',
      rules: [
        {
          sources: [{ principals: ['spiffe://cluster.local/ns/shop/sa/web'] }],
          destinations: [
            {
              hosts: ['*'],
              ports: [9090],
              methods: ['GET'],
              httpHeaderMatch: { headerName: ':path', regexMatch: '^/items.*$' },
            },
          ],
        },
      ],
    });
    // An allow-list without rules denies everything.
    expect(find(manifest, 'AuthorizationPolicy', 'shop-cache').body).toMatchObject({ action: 'DENY' });
    expect(find(manifest, 'EndpointPolicy', 'shop-catalog').body).toMatchObject({
      type: 'SIDECAR_PROXY',
      endpointMatcher: {
        metadataLabelMatcher: {
          metadataLabelMatchCriteria: 'MATCH_ALL',
          metadataLabels: [{ labelName: 'crossmesh-service', labelValue: 'catalog' }],
        },
      },
      trafficPortSelector: { ports: ['9090'] },
      authorizationPolicy: `projects/${PROJECT}/locations/global/authorizationPolicies/shop-catalog`,
      serverTlsPolicy: `projects/${PROJECT}/locations/global/serverTlsPolicies/shop-mtls`,
    });
    // web allows everyone: mTLS only, no authorization policy.
    expect(find(manifest, 'EndpointPolicy', 'shop-web').body.authorizationPolicy).toBeUndefined();
  });

  test('permissive mTLS opens the server policy; mtls off renders no TLS policies', () => {
    // GIVEN
    const permissive = {
      ...kitchenSink(),
      security: { mtls: 'permissive', trustDomain: 'cluster.local' },
    } as const;
    const off = { ...kitchenSink(), security: { mtls: 'off', trustDomain: 'cluster.local' } } as const;
    // WHEN / THEN
    expect(find(render(permissive), 'ServerTlsPolicy', 'shop-mtls').body.allowOpen).toBe(true);
    const plain = render(off);
    expect(plain.resources.filter((r) => r.kind.endsWith('TlsPolicy'))).toEqual([]);
    expect(find(plain, 'BackendService', 'shop-web-v1').body.securitySettings).toBeUndefined();
  });

  test('Gateway OPEN_MESH with ports and scope; HTTP and gRPC routes attached to it', () => {
    // GIVEN / WHEN
    const manifest = render();
    // THEN
    expect(find(manifest, 'Gateway', 'shop-gw-public').body).toMatchObject({
      type: 'OPEN_MESH',
      ports: [80, 8443],
      scope: 'shop-public',
    });
    const http = find(manifest, 'HttpRoute', 'shop-gw-public-http').body as Record<string, unknown>;
    expect(http.gateways).toEqual([`projects/${PROJECT}/locations/global/gateways/shop-gw-public`]);
    expect(http.hostnames).toEqual(['shop.example.com']);
    expect(http.rules).toEqual([
      {
        matches: [{ prefixMatch: '/' }],
        action: {
          destinations: [
            { serviceName: `projects/${PROJECT}/global/backendServices/shop-web-v1`, weight: 1 },
          ],
          urlRewrite: { hostRewrite: 'web.shop.mesh.local' },
        },
      },
    ]);
    const grpc = find(manifest, 'GrpcRoute', 'shop-gw-public-grpc').body as { rules: { matches: unknown }[] };
    expect(grpc.rules[0]?.matches).toEqual([
      { method: { grpcService: 'shop\\.Payments', grpcMethod: '.*', type: 'REGULAR_EXPRESSION' } },
    ]);
  });

  test('without NEG inputs the backend services have no backends, and the manifest warns', () => {
    // GIVEN no negs option
    // WHEN
    const manifest = renderTrafficDirector(kitchenSink(), { project: PROJECT });
    // THEN
    expect(find(manifest, 'BackendService', 'shop-web-v1').body.backends).toBeUndefined();
    expect(manifest.warnings).toContain(
      'BackendService shop-web-v1 has no backends: supply network endpoint groups for web/v1 (target option negs)',
    );
  });

  test('bad options are rejected with every problem and its path', () => {
    // GIVEN a bad project, an unknown service version and a malformed NEG
    // WHEN
    const error = (() => {
      try {
        renderTrafficDirector(kitchenSink(), { project: 'X', negs: { 'nope/v1': ['zones/a/negs/b'] } });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    // THEN
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).problems.map((p) => [p.code, p.path])).toEqual([
      ['TARGET_E_OPTION', 'options.project'],
      ['TARGET_E_OPTION', 'options.negs.nope/v1'],
      ['TARGET_E_OPTION', 'options.negs.nope/v1[0]'],
    ]);
  });

  test('two model names that generate the same resource name are refused, naming both', () => {
    // GIVEN services `a-b` (version `c`) and `a` (version `b-c`): both give BackendService shop-a-b-c
    const mesh = kitchenSink();
    const version = { labels: { version: 'x' } };
    const base = mesh.services.cache as NonNullable<typeof mesh.services.cache>;
    const clash: Mesh = {
      ...mesh,
      services: {
        ...mesh.services,
        'a-b': { ...base, versions: { c: version }, routes: [] },
        a: { ...base, versions: { 'b-c': version }, routes: [] },
      },
    };
    // WHEN / THEN
    expect(() => renderTrafficDirector(clash, { project: PROJECT })).toThrow(
      /BackendService name "shop-a-b-c" is generated twice \(also by services\.a-b\.versions\.c\)/,
    );
  });

  test('unknown options are refused', () => {
    // GIVEN / WHEN / THEN
    expect(() => renderTrafficDirector(kitchenSink(), { project: PROJECT, neg: {} } as never)).toThrow(
      /options\.neg/,
    );
  });

  test('long names stay within 63 characters and unique', () => {
    // GIVEN / WHEN
    const long = resourceName('a'.repeat(40), 'b'.repeat(40), 'v1');
    const other = resourceName('a'.repeat(40), 'b'.repeat(40), 'v2');
    // THEN
    expect(long.length).toBeLessThanOrEqual(63);
    expect(long).toMatch(/^[a-z]([-a-z0-9]*[a-z0-9])?$/);
    expect(long).not.toBe(other);
  });
});

describe('trafficDirectorTarget', () => {
  test('declares every model feature', () => {
    // GIVEN / WHEN / THEN
    expect(Object.keys(trafficDirectorTarget.capabilities).sort()).toEqual([...FEATURE_IDS].sort());
    for (const capability of Object.values(trafficDirectorTarget.capabilities))
      expect(capability.note).toBeTruthy();
  });

  test('examples/shop: refuses what it cannot express, renders the rest with --allow-drop', () => {
    // GIVEN the shop example (JSON access logs, which Traffic Director does not configure)
    const mesh = canonicalize(shop);
    // WHEN / THEN without allowDrop the unsupported uses are listed
    expect(() => renderWithTarget(trafficDirectorTarget, mesh, { project: PROJECT })).toThrow(/access-log/);
    // WHEN dropping is allowed
    const { output, dropped } = renderWithTarget(
      trafficDirectorTarget,
      mesh,
      { project: PROJECT },
      { allowDrop: true },
    );
    // THEN only the unsupported features are dropped and everything else renders
    expect([...new Set(dropped.map((d) => d.feature))].sort()).toEqual(['access-log', 'access-log.json']);
    expect(output.resources.map((r) => `${r.kind}/${r.name}`)).toContain('HttpRoute/shop-catalog-8080');
    const files = trafficDirectorTarget.files(output);
    expect(files.get('traffic-director.json')).toBe(`${JSON.stringify(output, null, 2)}\n`);
    expect(JSON.parse(files.get('httpRoutes/shop-catalog-8080.json') ?? '{}')).toEqual(
      output.resources.find((r) => r.name === 'shop-catalog-8080')?.body,
    );
    expect(files.size).toBe(output.resources.length + 2);
    const readme = files.get('README.md') ?? '';
    expect(readme).toContain('gcloud network-services meshes import NAME --location=global --source=FILE');
    expect(readme.indexOf('meshes/shop.json')).toBeLessThan(
      readme.indexOf('httpRoutes/shop-catalog-8080.json'),
    );
  });
});

describe('renderTrafficDirector edge cases', () => {
  // A terse input mesh, canonicalized: the renderer sees exactly what the CLI gives it.
  const edge = () =>
    canonicalize({
      name: 'edge',
      security: { mtls: 'off' },
      services: {
        api: {
          ports: [
            { port: 8080, protocol: 'http' },
            { port: 9000, protocol: 'http2' },
          ],
          versions: { v1: {}, v2: {}, v3: {} },
          routes: [
            {
              name: 'moved',
              match: { path: { kind: 'prefix', value: '/old' } },
              redirect: { status: 302, host: 'new.example.com', port: 8443, prefix: '/new' },
            },
            {
              name: 'search',
              match: {
                path: { kind: 'regex', value: '/s/[0-9]+' },
                query: [
                  { kind: 'exact', name: 'q', value: 'x' },
                  { kind: 'regex', name: 'page', value: '[0-9]+' },
                ],
                headers: [
                  { kind: 'prefix', name: 'x-a', value: 'p' },
                  { kind: 'suffix', name: 'x-b', value: 's' },
                  { kind: 'regex', name: 'x-c', value: 'r.*' },
                  { kind: 'present', name: 'x-d' },
                ],
              },
              destinations: [
                { service: 'api', weight: 3 },
                { service: 'api', version: 'v1', weight: 1 },
              ],
              mirror: { service: 'api' },
              policy: { timeouts: { request: '0s' }, retries: { attempts: 0 } },
            },
            { name: 'admin', port: 9000, destinations: [{ service: 'api', version: 'v3' }] },
          ],
          policy: { loadBalancing: { kind: 'random' } },
          authorization: {
            action: 'allow-listed',
            rules: [
              {
                from: ['*'],
                paths: [
                  { kind: 'exact', value: '/a.b' },
                  { kind: 'regex', value: '/c/.*' },
                ],
              },
            ],
          },
        },
        rpc: {
          ports: [{ port: 7000, protocol: 'grpc' }],
          versions: { v1: {} },
          routes: [
            {
              name: 'svc',
              match: { grpc: { service: 'pkg.Svc' }, headers: [{ kind: 'prefix', name: 'x-p', value: 'a' }] },
              destinations: [{ service: 'rpc' }],
              fault: { abort: { grpcStatus: 14, percent: 50 }, delay: { duration: '1s', percent: 12.6 } },
            },
          ],
        },
      },
      gateways: {
        edge: {
          listeners: [{ port: 443, protocol: 'http2' }],
          routes: [
            {
              name: 'all',
              service: 'api',
              rewrite: { prefix: '/api' },
              match: { path: { kind: 'prefix', value: '/' } },
            },
          ],
        },
      },
    });

  test('redirect host/port/prefix with 302, path regex, query and every header match kind', () => {
    // GIVEN / WHEN
    const manifest = renderTrafficDirector(edge(), { project: PROJECT });
    const route = find(manifest, 'HttpRoute', 'edge-api-8080').body as {
      hostnames: string[];
      rules: Record<string, unknown>[];
    };
    // THEN
    expect(route.hostnames).toEqual(['api.edge.mesh.local']);
    expect(route.rules[0]).toEqual({
      matches: [{ prefixMatch: '/old' }],
      action: {
        redirect: {
          responseCode: 'FOUND',
          hostRedirect: 'new.example.com',
          portRedirect: 8443,
          prefixRewrite: '/new',
        },
      },
    });
    expect(route.rules[1]?.matches).toEqual([
      {
        regexMatch: '/s/[0-9]+',
        headers: [
          { header: 'x-a', prefixMatch: 'p' },
          { header: 'x-b', suffixMatch: 's' },
          { header: 'x-c', regexMatch: 'r.*' },
          { header: 'x-d', presentMatch: true },
        ],
        queryParameters: [
          { queryParameter: 'q', exactMatch: 'x' },
          { queryParameter: 'page', regexMatch: '[0-9]+' },
        ],
      },
    ]);
  });

  test('weights over versions, mirror without a version, a disabled timeout and zero retries', () => {
    // GIVEN / WHEN
    const manifest = renderTrafficDirector(edge(), { project: PROJECT });
    const rules = (
      find(manifest, 'HttpRoute', 'edge-api-8080').body as { rules: { action: Record<string, unknown> }[] }
    ).rules;
    const bs = (v: string) => `projects/${PROJECT}/global/backendServices/edge-api-${v}`;
    // THEN 3 over three versions + 1 on v1 = v1:2, v2:1, v3:1
    expect(rules[1]?.action.destinations).toEqual([
      { serviceName: bs('v1'), weight: 2 },
      { serviceName: bs('v2'), weight: 1 },
      { serviceName: bs('v3'), weight: 1 },
    ]);
    expect(rules[1]?.action.requestMirrorPolicy).toEqual({
      destination: { serviceName: bs('v1') },
      mirrorPercent: 100,
    });
    expect(rules[1]?.action.timeout).toBeUndefined();
    expect(rules[1]?.action.retryPolicy).toBeUndefined();
    expect(find(manifest, 'BackendService', 'edge-api-v1').body).toMatchObject({
      localityLbPolicy: 'RANDOM',
      timeoutSec: 15,
      protocol: 'HTTP',
    });
  });

  test('a second HTTP port is not routable by name (HttpRoute hostnames carry no port) and says so', () => {
    // GIVEN / WHEN
    const manifest = renderTrafficDirector(edge(), { project: PROJECT });
    // THEN
    expect(manifest.resources.some((r) => r.name === 'edge-api-9000')).toBe(false);
    expect(manifest.warnings).toContain(
      'service api port 9000 is not routed: HttpRoute hostnames carry no port, so only its first HTTP port (8080) is',
    );
  });

  test('gRPC ports are named `host:port`, and by bare host when no HTTP port claims it', () => {
    // GIVEN a service with an HTTP port and a gRPC port, and a gRPC-only service
    const mesh = canonicalize({
      name: 'x',
      services: {
        both: {
          ports: [
            { port: 7000, protocol: 'grpc' },
            { port: 8080, protocol: 'http' },
          ],
          versions: { v1: {} },
        },
        rpc: { ports: [{ port: 7001, protocol: 'grpc' }], versions: { v1: {} } },
      },
    });
    // WHEN
    const manifest = renderTrafficDirector(mesh, { project: PROJECT });
    // THEN
    expect(find(manifest, 'GrpcRoute', 'x-both-7000').body.hostnames).toEqual(['both.x.mesh.local:7000']);
    expect(find(manifest, 'HttpRoute', 'x-both-8080').body.hostnames).toEqual(['both.x.mesh.local']);
    expect(find(manifest, 'GrpcRoute', 'x-rpc-7001').body.hostnames).toEqual([
      'rpc.x.mesh.local',
      'rpc.x.mesh.local:7001',
    ]);
  });

  test('GrpcRoute: a service-only match is a regular expression; unsupported header kinds are left out; a gRPC-status abort becomes its HTTP status', () => {
    // GIVEN / WHEN
    const rule = (
      find(renderTrafficDirector(edge(), { project: PROJECT }), 'GrpcRoute', 'edge-rpc-7000').body as {
        rules: Record<string, unknown>[];
      }
    ).rules[0];
    // THEN
    expect(rule?.matches).toEqual([
      { method: { grpcService: 'pkg\\.Svc', grpcMethod: '.*', type: 'REGULAR_EXPRESSION' } },
    ]);
    expect(rule?.action).toBeDefined();
    // grpcStatus 14 (UNAVAILABLE) is what Envoy makes of HTTP 503.
    expect((rule?.action as Record<string, unknown> | undefined)?.faultInjectionPolicy).toEqual({
      delay: { fixedDelay: '1s', percentage: 13 },
      abort: { httpStatus: 503, percentage: 50 },
    });
  });

  test('authorization from any mesh identity, with exact and regex paths in one :path expression; no mTLS means no TLS policies', () => {
    // GIVEN / WHEN
    const manifest = renderTrafficDirector(edge(), { project: PROJECT });
    // THEN
    expect(find(manifest, 'AuthorizationPolicy', 'edge-api').body).toMatchObject({
      action: 'ALLOW',
      rules: [
        {
          sources: [{ principals: ['spiffe://cluster.local/*'] }],
          destinations: [
            {
              hosts: ['*'],
              ports: [8080, 9000],
              httpHeaderMatch: { headerName: ':path', regexMatch: '^(/a\\.b(\\?.*)?|(/c/.*)(\\?.*)?)$' },
            },
          ],
        },
      ],
    });
    expect(find(manifest, 'EndpointPolicy', 'edge-api').body.serverTlsPolicy).toBeUndefined();
    expect(manifest.warnings).toContain(
      'service api allows callers by identity, but mTLS is off: sidecars cannot verify principals, so its AuthorizationPolicy admits nobody until security.mtls is strict or permissive',
    );
    expect(manifest.resources.some((r) => r.kind === 'ServerTlsPolicy')).toBe(false);
  });

  test('an HTTP/2 gateway listener gets an HttpRoute with the rewrite', () => {
    // GIVEN / WHEN
    const manifest = renderTrafficDirector(edge(), { project: PROJECT });
    // THEN
    expect(find(manifest, 'Gateway', 'edge-gw-edge').body).toMatchObject({ ports: [443], type: 'OPEN_MESH' });
    const route = find(manifest, 'HttpRoute', 'edge-gw-edge-http').body as {
      hostnames: string[];
      rules: { action: Record<string, unknown> }[];
    };
    expect(route.hostnames).toEqual(['*']);
    expect(route.rules[0]?.action.urlRewrite).toEqual({ pathPrefixRewrite: '/api' });
    expect(manifest.resources.some((r) => r.name === 'edge-gw-edge-grpc')).toBe(false);
  });
});

describe('renderTrafficDirector on gRPC redirects', () => {
  test('a gRPC port whose only route redirects keeps a default rule (GrpcRoute needs one and cannot redirect)', () => {
    // GIVEN
    const mesh = canonicalize({
      name: 'x',
      services: {
        g: {
          ports: [{ port: 7000, protocol: 'grpc' }],
          versions: { v1: {} },
          routes: [{ name: 'r', redirect: { host: 'a.b' } }],
        },
      },
    });
    // WHEN
    const route = find(renderTrafficDirector(mesh, { project: PROJECT }), 'GrpcRoute', 'x-g-7000').body as {
      rules: unknown[];
    };
    // THEN
    expect(route.rules).toEqual([
      {
        action: {
          destinations: [{ serviceName: `projects/${PROJECT}/global/backendServices/x-g-v1`, weight: 1 }],
          timeout: '15s',
          idleTimeout: '300s',
        },
      },
    ]);
  });
});

describe('renderTrafficDirector gateway host matches', () => {
  test('a gateway route matching a host gets its own route resource, followed by the host-less rules', () => {
    // GIVEN routes for any host, for admin.example.com and for *.api.example.com
    const mesh = canonicalize({
      name: 'x',
      services: { web: { ports: [{ port: 8080, protocol: 'http' }], versions: { v1: {} } } },
      gateways: {
        edge: {
          listeners: [{ port: 80, protocol: 'http' }],
          hosts: ['example.com', 'admin.example.com', '*.api.example.com'],
          routes: [
            {
              name: 'admin',
              match: { host: 'admin.example.com', path: { kind: 'prefix', value: '/admin' } },
              service: 'web',
            },
            { name: 'api', match: { host: '*.api.example.com' }, service: 'web' },
            { name: 'all', match: { path: { kind: 'prefix', value: '/' } }, service: 'web' },
          ],
        },
      },
    });
    // WHEN
    const manifest = renderTrafficDirector(mesh, { project: PROJECT });
    // THEN
    const routes = manifest.resources.filter((r) => r.kind === 'HttpRoute' && r.name.startsWith('x-gw-edge'));
    const summary = routes.map((r) => {
      const body = r.body as { hostnames: string[]; rules: { matches?: unknown[] }[] };
      return [r.name, body.hostnames, body.rules.map((rule) => JSON.stringify(rule.matches ?? []))];
    });
    expect(summary).toEqual([
      ['x-gw-edge-http', ['example.com'], ['[{"prefixMatch":"/"}]']],
      [
        'x-gw-edge-http-admin-example-com',
        ['admin.example.com'],
        ['[{"prefixMatch":"/admin"}]', '[{"prefixMatch":"/"}]'],
      ],
      [
        'x-gw-edge-http-any-api-example-com',
        ['*.api.example.com'],
        ['[{"prefixMatch":"/"}]', '[{"prefixMatch":"/"}]'],
      ],
    ]);
  });
});

describe('renderTrafficDirector gateway delegation', () => {
  test("a catch-all gateway route without rewrite carries the service's own rules (its canary); others spread over versions", () => {
    // GIVEN catalog with a 90/10 canary, reached from the gateway by a rewriting route and by a catch-all
    const mesh = canonicalize({
      name: 'x',
      services: {
        catalog: {
          ports: [{ port: 8080, protocol: 'http' }],
          versions: { v1: {}, v2: {} },
          routes: [
            {
              name: 'split',
              destinations: [
                { service: 'catalog', version: 'v1', weight: 90 },
                { service: 'catalog', version: 'v2', weight: 10 },
              ],
            },
          ],
        },
      },
      gateways: {
        edge: {
          listeners: [{ port: 80, protocol: 'http' }],
          routes: [
            {
              name: 'v',
              match: { path: { kind: 'prefix', value: '/v/' } },
              service: 'catalog',
              rewrite: { prefix: '/' },
            },
            { name: 'all', service: 'catalog' },
          ],
        },
      },
    });
    // WHEN
    const manifest = renderTrafficDirector(mesh, { project: PROJECT });
    // THEN
    const service = find(manifest, 'HttpRoute', 'x-catalog-8080').body as { rules: unknown[] };
    const gateway = find(manifest, 'HttpRoute', 'x-gw-edge-http').body as {
      rules: { action: { destinations: unknown } }[];
    };
    expect(gateway.rules).toHaveLength(2);
    expect(gateway.rules[0]?.action.destinations).toEqual([
      { serviceName: `projects/${PROJECT}/global/backendServices/x-catalog-v1`, weight: 1 },
      { serviceName: `projects/${PROJECT}/global/backendServices/x-catalog-v2`, weight: 1 },
    ]);
    expect(gateway.rules[1]).toEqual(service.rules[0]);
  });
});
