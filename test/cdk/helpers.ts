/** Shared by the CDK tests. */
import { App } from 'aws-cdk-lib';
import type { MeshInput } from '../../model/types.js';

/**
 * An app without aws-cdk-lib's built-in template validation: here it would only repeat the
 * W3696 App Mesh sunset warning on every synth; examples-cdk-app.test.ts runs cfn-lint, the real
 * check, on the example's templates.
 */
export function testApp(): App {
  return new App({ builtinCloudFormationValidation: false });
}

/**
 * A mesh using every feature the App Mesh constructs map (for the agreement and cfn-lint tests):
 * multi-port and TCP, gRPC and HTTP/2, every header and query match, each health check kind,
 * pools, weighted cross-service routes, mTLS with an allow-list, a multi-listener gateway with TLS
 * and a prefix rewrite, and a gRPC gateway.
 */
export const kitchenSink = {
  name: 'sink',
  security: { mtls: 'strict' },
  accessLog: { enabled: true, format: 'json' },
  egress: { mode: 'deny-unknown' },
  ipPreference: 'ipv6-preferred',
  services: {
    web: {
      ports: [
        { port: 8080, protocol: 'http' },
        { port: 5432, protocol: 'tcp' },
      ],
      versions: { v1: {}, v2: {} },
      backends: ['api', 'h2', 'db'],
      policy: {
        timeouts: { request: '3s', idle: '90s' },
        retries: { attempts: 2, on: ['server-error', 'reset', 'connect-failure'], perTryTimeout: '1s' },
        healthCheck: { kind: 'http', path: '/healthz' },
        outlierDetection: { consecutive5xx: 7 },
        connectionPool: { maxConnections: 100, maxPendingRequests: 10 },
      },
      routes: [
        {
          name: 'exact',
          match: {
            path: { kind: 'exact', value: '/a' },
            method: 'POST',
            headers: [
              { kind: 'exact', name: 'h-exact', value: 'x' },
              { kind: 'prefix', name: 'h-prefix', value: 'p', invert: true },
              { kind: 'suffix', name: 'h-suffix', value: 's' },
              { kind: 'regex', name: 'h-regex', value: '^r+$' },
              { kind: 'present', name: 'h-present' },
              { kind: 'range', name: 'h-range', start: 1, end: 5 },
            ],
            query: [
              { kind: 'exact', name: 'q', value: '1' },
              { kind: 'present', name: 'debug' },
            ],
          },
          destinations: [
            { version: 'v1', weight: 3 },
            { service: 'h2', weight: 1 },
          ],
        },
        {
          name: 'regex',
          match: { path: { kind: 'regex', value: '/r/.*' } },
          destinations: [{ version: 'v2' }],
        },
        { name: 'rest', destinations: [{}] },
        { name: 'db', port: 5432, destinations: [{}] },
      ],
      authorization: { action: 'allow-listed', rules: [{ from: ['api'] }] },
    },
    api: {
      ports: [{ port: 9090, protocol: 'grpc' }],
      versions: { v1: {} },
      policy: { healthCheck: { kind: 'grpc' }, connectionPool: { maxRequests: 64 } },
      routes: [
        {
          name: 'charge',
          match: {
            grpc: { service: 'shop.Payments', method: 'Charge' },
            headers: [{ kind: 'exact', name: 'tenant', value: 'a' }],
          },
          destinations: [{}],
          policy: { retries: { attempts: 2, on: ['unavailable', 'cancelled'] } },
        },
        { name: 'other', destinations: [{}] },
      ],
    },
    h2: {
      ports: [{ port: 8443, protocol: 'http2' }],
      versions: { v1: {} },
      policy: { connectionPool: { maxRequests: 32 } },
    },
    db: {
      ports: [{ port: 6432, protocol: 'tcp' }],
      versions: { v1: {} },
      policy: { healthCheck: { kind: 'tcp' }, connectionPool: { maxConnections: 10 } },
    },
  },
  gateways: {
    edge: {
      listeners: [
        { port: 8000, protocol: 'http' },
        {
          port: 8443,
          protocol: 'http2',
          tls: { certificateFile: '/tls/cert.pem', privateKeyFile: '/tls/key.pem' },
        },
      ],
      routes: [
        {
          name: 'api',
          match: {
            path: { kind: 'prefix', value: '/api/' },
            host: 'shop.example.com',
            headers: [{ kind: 'present', name: 'x-user' }],
          },
          service: 'web',
          rewrite: { prefix: '/' },
        },
        { name: 'wild', match: { host: '*.example.com' }, service: 'web' },
      ],
    },
    rpc: { listeners: [{ port: 9000, protocol: 'grpc' }], routes: [{ name: 'all', service: 'api' }] },
  },
} satisfies MeshInput;
