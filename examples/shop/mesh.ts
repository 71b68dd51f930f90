/**
 * The shop: the example mesh the README, the tests and every target use.
 *
 *   ingress gateway → frontend (http) → catalog v1/v2 (90/10; `x-canary: always` forces v2) → inventory
 *                              └──────→ payments (gRPC)
 *
 * Strict mTLS; only the services that need to call each other may (authorization); catalog has
 * timeouts, retries, outlier detection and an active health check. `crossmesh up` runs each
 * version with the demo servers in `services/` (plain node:http, reading PORT).
 */
import { allow, defineMesh, grpc, header, healthCheck, local, match, port, to } from '../../model/index.js';

const run = (name: string, version = 'v1') =>
  local.command(['node', `services/${name}.mjs`], { env: { SERVICE: name, VERSION: version } });

export default defineMesh({
  name: 'shop',
  security: { mtls: 'strict' },
  accessLog: { enabled: true, format: 'json' },
  defaults: {
    timeouts: { request: '5s' },
    outlierDetection: { consecutive5xx: 5 },
  },
  services: {
    frontend: {
      ports: [port.http(8080)],
      versions: { v1: { local: run('frontend') } },
      backends: ['catalog', 'payments'],
      authorization: allow.all(),
    },
    catalog: {
      ports: [port.http(8080)],
      versions: {
        v1: { local: run('catalog', 'v1') },
        v2: { local: run('catalog', 'v2') },
      },
      backends: ['inventory'],
      routes: [
        {
          name: 'canary-header',
          match: { path: match.prefix('/'), headers: [header.exact('x-canary', 'always')] },
          destinations: [to('catalog', 'v2')],
        },
        {
          name: 'split',
          match: { path: match.prefix('/') },
          destinations: [to('catalog', 'v1', 90), to('catalog', 'v2', 10)],
        },
      ],
      policy: {
        timeouts: { request: '2s', idle: '1m' },
        retries: { attempts: 3, on: ['gateway-error', 'connect-failure', 'reset'], perTryTimeout: '500ms' },
        outlierDetection: {
          consecutive5xx: 3,
          interval: '5s',
          baseEjectionTime: '30s',
          maxEjectionPercent: 50,
        },
        healthCheck: healthCheck.http({ path: '/health', interval: '5s', timeout: '1s' }),
      },
      authorization: allow.only(allow.from('frontend', { methods: ['GET', 'HEAD'] })),
    },
    inventory: {
      ports: [port.http(8080)],
      versions: { v1: { local: run('inventory') } },
      authorization: allow.only(allow.from('catalog')),
    },
    payments: {
      ports: [port.grpc(9090)],
      versions: { v1: { local: run('payments') } },
      routes: [
        {
          name: 'charge',
          match: { grpc: grpc.method('shop.Payments', 'Charge') },
          destinations: [to('payments')],
          policy: { timeouts: { request: '3s' }, retries: { attempts: 2, on: ['unavailable'] } },
        },
        { name: 'other', destinations: [to('payments')] },
      ],
      authorization: allow.only(allow.from('frontend')),
    },
  },
  gateways: {
    ingress: {
      listeners: [{ port: 8000, protocol: 'http' }],
      routes: [{ name: 'web', match: { path: match.prefix('/') }, service: 'frontend' }],
    },
  },
});
