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
import { kitchenSink } from './helpers.js';

const run = promisify(execFile);

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
