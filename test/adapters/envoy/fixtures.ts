/**
 * Test meshes for the Envoy renderer and the control plane: a shop like examples/shop (HTTP
 * services with a canary, a gRPC service split by weight, a gateway) and a "kitchen sink" that
 * uses every feature the Envoy target supports, so strict proto validation sees every shape.
 */
import { canonicalize } from '../../../model/canonical.js';
import type { Mesh } from '../../../model/types.js';

/** The shop: frontend → catalog (v1/v2 canary) → inventory; frontend → payments (gRPC, 80/20). */
export function shopMesh(
  overrides: {
    catalogWeights?: [number, number];
    paymentsWeights?: [number, number];
    runnable?: boolean;
  } = {},
): Mesh {
  const [c1, c2] = overrides.catalogWeights ?? [90, 10];
  const [p1, p2] = overrides.paymentsWeights ?? [80, 20];
  // With `runnable`, every version has a local command, so the loopback placement gives it a sidecar.
  const v = () =>
    overrides.runnable === true ? { local: { kind: 'command', command: ['node', 'app.mjs'] } } : {};
  return canonicalize({
    name: 'shop',
    services: {
      frontend: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: v() },
        backends: ['catalog', 'payments'],
      },
      catalog: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: v(), v2: v() },
        backends: ['inventory'],
        routes: [
          {
            name: 'canary-header',
            match: { headers: [{ kind: 'exact', name: 'x-canary', value: 'true' }] },
            destinations: [{ version: 'v2' }],
          },
          {
            name: 'split',
            destinations: [
              { version: 'v1', weight: c1 },
              { version: 'v2', weight: c2 },
            ],
            policy: { retries: { attempts: 2 } },
          },
        ],
      },
      inventory: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: v() },
        policy: { rateLimit: { requests: 100, per: '1s' } },
      },
      payments: {
        ports: [{ port: 50051, protocol: 'grpc' }],
        versions: { v1: v(), v2: v() },
        routes: [
          {
            name: 'split',
            destinations: [
              { version: 'v1', weight: p1 },
              { version: 'v2', weight: p2 },
            ],
          },
        ],
      },
    },
    gateways: {
      web: {
        listeners: [{ port: 8000, protocol: 'http' }],
        routes: [{ name: 'all', service: 'frontend' }],
      },
    },
  });
}

/** Every supported feature at least once. */
export function kitchenSinkMesh(mtls: 'strict' | 'permissive' | 'off' = 'strict'): Mesh {
  return canonicalize({
    name: 'sink',
    domain: 'sink.internal',
    security: { mtls },
    accessLog: { enabled: true, format: 'json', path: '/dev/stdout' },
    egress: { mode: 'deny-unknown', hosts: ['api.example.com', '*.cdn.example.com'] },
    defaults: {
      timeouts: { request: '3s', idle: '1m' },
      outlierDetection: { consecutive5xx: 3 },
      connectionPool: { maxConnections: 100, maxPendingRequests: 10, maxRequests: 50, maxRetries: 3 },
    },
    services: {
      web: {
        ports: [
          { port: 8080, protocol: 'http' },
          { port: 9090, protocol: 'http2' },
        ],
        versions: { v1: {}, v2: {} },
        backends: ['api', 'db', 'grpcsvc'],
        routes: [
          {
            name: 'redirect-old',
            match: { path: { kind: 'prefix', value: '/old/' } },
            redirect: { status: 308, prefix: '/new/', scheme: 'https', host: 'web.example.com', port: 443 },
          },
        ],
      },
      api: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: {}, v2: {}, v3: {} },
        policy: {
          healthCheck: { kind: 'http', path: '/healthz', interval: '2s' },
          loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'cookie', name: 'session', ttl: '1h' } },
        },
        authorization: {
          action: 'allow-listed',
          rules: [
            { from: ['web'], paths: [{ kind: 'prefix', value: '/api/' }], methods: ['GET', 'POST'] },
            { from: ['*'], paths: [{ kind: 'exact', value: '/health' }] },
          ],
        },
        routes: [
          {
            name: 'exact',
            match: {
              path: { kind: 'exact', value: '/api/v1/items' },
              method: 'GET',
              query: [
                { kind: 'exact', name: 'a', value: '1' },
                { kind: 'regex', name: 'b', value: '[0-9]+' },
                { kind: 'present', name: 'c' },
              ],
              headers: [
                { kind: 'prefix', name: 'x-p', value: 'pre' },
                { kind: 'suffix', name: 'x-s', value: 'suf' },
                { kind: 'regex', name: 'x-r', value: '^a.*z$' },
                { kind: 'present', name: 'x-present', invert: true },
                { kind: 'range', name: 'x-n', start: 1, end: 10 },
              ],
            },
            destinations: [{ version: 'v1', weight: 1 }, { weight: 1 }],
            rewrite: { path: '/items', host: 'api.upstream' },
            headers: {
              request: { add: [{ name: 'x-added', value: 'yes', append: true }], remove: ['x-drop'] },
              response: { add: [{ name: 'x-served-by', value: 'api' }], remove: ['server'] },
            },
            fault: { delay: { duration: '100ms', percent: 12.5 }, abort: { httpStatus: 503, percent: 1 } },
            mirror: { service: 'api', version: 'v3', percent: 5 },
            policy: {
              retries: {
                attempts: 3,
                on: ['server-error', 'reset'],
                perTryTimeout: '500ms',
                backoff: { base: '10ms', max: '1s' },
              },
              rateLimit: { requests: 10, per: '1s', burst: 20 },
            },
          },
          {
            name: 'regex',
            match: { path: { kind: 'regex', value: '^/r/[a-z]+$' } },
            destinations: [
              { service: 'db', weight: 1 },
              { version: 'v2', weight: 3 },
            ],
          },
          {
            name: 'prefix',
            priority: 0,
            match: { path: { kind: 'prefix', value: '/p/' } },
            destinations: [{ version: 'v3' }],
            rewrite: { prefix: '/' },
          },
        ],
      },
      db: {
        ports: [
          { port: 8080, protocol: 'http' },
          { port: 5432, protocol: 'tcp' },
        ],
        versions: { v1: { local: { kind: 'endpoints', endpoints: [{ host: '10.0.0.5', port: 8080 }] } } },
        policy: { healthCheck: { kind: 'tcp' }, loadBalancing: { kind: 'least-request' } },
      },
      grpcsvc: {
        ports: [{ port: 50051, protocol: 'grpc' }],
        versions: { v1: { local: { kind: 'command', command: ['node', 'x.mjs'], instances: 2 } } },
        policy: {
          healthCheck: { kind: 'grpc', service: 'shop.Payments' },
          loadBalancing: { kind: 'random' },
        },
        routes: [
          {
            name: 'charge',
            match: { grpc: { service: 'shop.Payments', method: 'Charge' } },
            destinations: [{ version: 'v1' }],
            fault: { abort: { grpcStatus: 14, percent: 50 } },
          },
        ],
      },
    },
    gateways: {
      edge: {
        hosts: ['shop.example.com', '*.shop.example.com'],
        listeners: [
          {
            port: 443,
            protocol: 'http',
            tls: { certificateFile: '/certs/edge.pem', privateKeyFile: '/certs/edge-key.pem' },
          },
          { port: 8443, protocol: 'grpc' },
        ],
        routes: [
          {
            name: 'api',
            match: {
              path: { kind: 'prefix', value: '/api/' },
              host: '*.shop.example.com',
              headers: [{ kind: 'present', name: 'x-user' }],
            },
            service: 'api',
            rewrite: { prefix: '/', host: 'api.internal' },
          },
          { name: 'grpc', match: { grpcService: 'shop.Payments' }, service: 'grpcsvc' },
          { name: 'web', service: 'web' },
        ],
      },
    },
  });
}
