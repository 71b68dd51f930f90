/**
 * cfn-lint on templates that use every App Mesh feature the constructs map, beyond what the shop
 * example uses: multi-port services with TCP routes, gRPC and HTTP/2, every header and query
 * match, health checks of each kind, connection pools, a multi-listener gateway with TLS and
 * prefix rewrites, a gRPC gateway, a private DNS namespace, file and SDS certificates, and the ECS
 * sidecar and gateway tasks. The L2 gap fillers (cdk/private/l2.ts) write L1 properties by hand,
 * so this is where a misspelled property would show.
 *
 * Real parts only: aws-cdk-lib synthesizes into a temporary directory; cfn-lint 1.x (preinstalled)
 * checks the templates against the CloudFormation resource specifications.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { App, Stack } from 'aws-cdk-lib';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import type { AppMeshOptions } from '../../adapters/appmesh/types.js';
import { CrossmeshAppMesh } from '../../cdk/crossmesh-mesh.js';
import { addAppMeshGateway, addAppMeshSidecar } from '../../cdk/ecs.js';
import type { MeshInput } from '../../model/types.js';

const run = promisify(execFile);

/** A mesh using every feature App Mesh supports. */
const kitchenSink = {
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

/** Adds a mesh stack and a workload stack (a sidecar per version, a task per gateway) to `app`. */
function addMesh(app: App, id: string, options: AppMeshOptions): void {
  const stack = new Stack(app, `${id}Mesh`);
  const mesh = new CrossmeshAppMesh(stack, 'Mesh', { mesh: kitchenSink, options });
  const workloads = new Stack(app, `${id}Workloads`);
  for (const [service, spec] of Object.entries(kitchenSink.services)) {
    for (const version of Object.keys(spec.versions)) {
      const task = new ecs.FargateTaskDefinition(workloads, `${service}-${version}`, {
        cpu: 256,
        memoryLimitMiB: 512,
      });
      task.addContainer('app', { image: ecs.ContainerImage.fromRegistry('example/app:1') });
      addAppMeshSidecar(task, { mesh, service, version, sdsSocketPath: '/run/spire/sockets/agent.sock' });
    }
  }
  for (const gateway of Object.keys(kitchenSink.gateways)) {
    const task = new ecs.FargateTaskDefinition(workloads, `gateway-${gateway}`, {
      cpu: 256,
      memoryLimitMiB: 512,
    });
    addAppMeshGateway(task, { mesh, gateway, sdsSocketPath: '/run/spire/sockets/agent.sock' });
  }
}

describe('cfn-lint on every mapped App Mesh feature', () => {
  let outdir: string;
  let templates: string[];

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'crossmesh-cdk-lint-'));
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    addMesh(app, 'Sds', { namespaceType: 'private-dns', vpc: 'vpc-0abc123' });
    addMesh(app, 'Files', { discovery: 'dns', certificates: 'file' });
    app.synth();
    templates = readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(outdir, f));
  });

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  test('cfn-lint --ignore-checks W3696 finds nothing', async () => {
    // GIVEN four templates: SDS certificates with a private DNS namespace, and file certificates with DNS discovery
    expect(templates).toHaveLength(4);
    // WHEN
    const result = await run('cfn-lint', ['--ignore-checks', 'W3696', '--', ...templates], {
      maxBuffer: 16 * 1024 * 1024,
    }).then(
      ({ stdout }) => ({ code: 0, stdout }),
      (error: { code?: number | string; stdout?: string }) => {
        if (typeof error.code !== 'number') throw error;
        return { code: error.code, stdout: error.stdout ?? '' };
      },
    );
    // THEN
    expect(result.stdout).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
