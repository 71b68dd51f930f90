/**
 * Fully filled (canonical-shaped) meshes for the Traffic Director tests: every default written
 * out, as `canonicalize()` produces them, so the tests do not depend on the model engineer's
 * work in progress. `kitchenSink()` is a shop richer than examples/shop: HTTP storefront, gRPC payments with
 * versions and a canary, a TCP cache, an ingress gateway, strict mTLS and authorization.
 */
import type { Mesh } from '../../../model/types.js';

/** A shop mesh that exercises most of what Traffic Director can express. */
export function kitchenSink(): Mesh {
  return {
    apiVersion: 'crossmesh/v1',
    name: 'shop',
    domain: 'shop.mesh.local',
    services: {
      web: {
        ports: [{ port: 8080, protocol: 'http', name: 'http-8080' }],
        versions: { v1: { labels: { version: 'v1' } } },
        routes: [
          {
            name: 'api',
            port: 8080,
            priority: 0,
            match: {
              path: { kind: 'prefix', value: '/api' },
              headers: [
                { kind: 'exact', name: 'x-env', value: 'prod', invert: false },
                { kind: 'range', name: 'x-shard', start: 0, end: 10, invert: true },
              ],
              query: [{ kind: 'present', name: 'debug' }],
            },
            destinations: [{ service: 'catalog', weight: 1 }],
            rewrite: { prefix: '/' },
            headers: {
              request: { add: [{ name: 'x-from', value: 'web', append: false }], remove: ['x-debug'] },
              response: { add: [{ name: 'x-served-by', value: 'shop', append: true }], remove: [] },
            },
            fault: { delay: { duration: '250ms', percent: 5 }, abort: { httpStatus: 503, percent: 1 } },
            mirror: { service: 'catalog', version: 'v2', percent: 10 },
            policy: {
              timeouts: { request: '3s', idle: '5m' },
              retries: {
                attempts: 2,
                on: ['gateway-error', 'reset'],
                perTryTimeout: '1s',
                backoff: { base: '25ms', max: '250ms' },
              },
            },
          },
          {
            name: 'old',
            port: 8080,
            priority: 1,
            match: { path: { kind: 'exact', value: '/old' } },
            redirect: { status: 308, scheme: 'https', path: '/new' },
          },
          {
            name: 'default',
            port: 8080,
            priority: 2,
            match: { path: { kind: 'prefix', value: '/' } },
            destinations: [{ service: 'web', weight: 1 }],
          },
        ],
        backends: ['catalog', 'payments', 'cache'],
        policy: {
          timeouts: { request: '15s', idle: '5m' },
          healthCheck: {
            kind: 'http',
            path: '/healthz',
            interval: '5s',
            timeout: '2s',
            healthyThreshold: 2,
            unhealthyThreshold: 3,
            port: 8080,
            host: 'web.shop.mesh.local',
            expectedStatuses: [[200, 300]],
          },
          loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'cookie', name: 'sid', ttl: '1h' } },
        },
        authorization: { action: 'allow-all', rules: [] },
        identity: 'spiffe://cluster.local/ns/shop/sa/web',
      },
      catalog: {
        ports: [{ port: 9090, protocol: 'http2', name: 'http2-9090' }],
        versions: { v1: { labels: { version: 'v1' } }, v2: { labels: { version: 'v2' } } },
        routes: [
          {
            name: 'canary',
            port: 9090,
            priority: 0,
            match: { path: { kind: 'prefix', value: '/' } },
            destinations: [
              { service: 'catalog', version: 'v1', weight: 90 },
              { service: 'catalog', version: 'v2', weight: 10 },
            ],
          },
        ],
        policy: {
          timeouts: { request: '15s', idle: '5m' },
          outlierDetection: {
            consecutive5xx: 5,
            interval: '10s',
            baseEjectionTime: '30s',
            maxEjectionPercent: 10,
          },
          connectionPool: { maxConnections: 100, maxPendingRequests: 50, maxRequests: 200, maxRetries: 3 },
          loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'header', name: 'x-user' } },
        },
        authorization: {
          action: 'allow-listed',
          rules: [{ from: ['web'], paths: [{ kind: 'prefix', value: '/items' }], methods: ['GET'] }],
        },
        identity: 'spiffe://cluster.local/ns/shop/sa/catalog',
      },
      payments: {
        ports: [{ port: 50051, protocol: 'grpc', name: 'grpc-50051' }],
        versions: { v1: { labels: { version: 'v1' } }, v2: { labels: { version: 'v2' } } },
        routes: [
          {
            name: 'charge',
            port: 50051,
            priority: 0,
            match: {
              grpc: { service: 'shop.Payments', method: 'Charge' },
              headers: [{ kind: 'exact', name: 'x-tenant', value: 'a', invert: false }],
            },
            destinations: [{ service: 'payments', version: 'v2', weight: 1 }],
            policy: {
              retries: { attempts: 3, on: ['unavailable', 'reset'], backoff: { base: '25ms', max: '250ms' } },
            },
          },
          {
            name: 'default',
            port: 50051,
            priority: 1,
            destinations: [{ service: 'payments', weight: 1 }],
          },
        ],
        policy: {
          timeouts: { request: '5s', idle: '5m' },
          healthCheck: {
            kind: 'grpc',
            service: 'shop.Payments',
            interval: '10s',
            timeout: '3s',
            healthyThreshold: 2,
            unhealthyThreshold: 3,
            port: 50051,
          },
          loadBalancing: { kind: 'least-request' },
        },
        authorization: { action: 'allow-listed', rules: [{ from: ['web', 'catalog'] }] },
        identity: 'spiffe://cluster.local/ns/shop/sa/payments',
      },
      cache: {
        ports: [{ port: 6379, protocol: 'tcp', name: 'tcp-6379' }],
        versions: { v1: { labels: { version: 'v1' } } },
        routes: [
          { name: 'default', port: 6379, priority: 0, destinations: [{ service: 'cache', weight: 1 }] },
        ],
        policy: {
          timeouts: { request: '15s', idle: '1h' },
          healthCheck: {
            kind: 'tcp',
            interval: '5s',
            timeout: '2s',
            healthyThreshold: 2,
            unhealthyThreshold: 3,
            port: 6379,
          },
          loadBalancing: { kind: 'ring-hash', hashOn: { kind: 'source-ip' } },
        },
        authorization: { action: 'allow-listed', rules: [] },
        identity: 'spiffe://cluster.local/ns/shop/sa/cache',
      },
    },
    gateways: {
      public: {
        listeners: [
          { port: 80, protocol: 'http' },
          { port: 8443, protocol: 'grpc' },
        ],
        hosts: ['shop.example.com'],
        routes: [
          {
            name: 'web',
            match: { path: { kind: 'prefix', value: '/' }, headers: [] },
            service: 'web',
            rewrite: { host: 'web.shop.mesh.local' },
          },
          { name: 'pay', match: { grpcService: 'shop.Payments' }, service: 'payments' },
        ],
      },
    },
    egress: { mode: 'allow-all', hosts: [] },
    security: { mtls: 'strict', trustDomain: 'cluster.local' },
    accessLog: { enabled: false, path: '/dev/stdout', format: 'text' },
    ipPreference: 'ipv4-preferred',
    defaults: {},
  };
}

/** NEG inputs for the kitchen-sink mesh (one zonal NEG per version). */
export function kitchenSinkNegs(project: string): Record<string, string[]> {
  const neg = (name: string) => `projects/${project}/zones/us-central1-a/networkEndpointGroups/${name}`;
  return {
    'web/v1': [neg('web-v1')],
    'catalog/v1': [neg('catalog-v1')],
    'catalog/v2': [`https://www.googleapis.com/compute/v1/${neg('catalog-v2')}`],
    'payments/v1': [neg('payments-v1')],
    'payments/v2': [neg('payments-v2')],
    'cache/v1': [neg('cache-v1')],
  };
}
