/**
 * `crossmesh plan|apply|destroy --target appmesh` end to end, through the CLI entry, against real
 * moto_server behind the validating shim (test/helpers/aws/moto.ts: re-serialized timestamps and
 * errors, an in-memory stand-in for VirtualService/VirtualGateway/GatewayRoute, which moto lacks).
 * Credentials come from the standard AWS chain (environment variables here).
 */
import { spawn } from 'node:child_process';
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { appMeshDesired } from '../../../adapters/appmesh/index.js';
import { createAppMeshProvider } from '../../../adapters/appmesh/provider.js';
import { computePlan } from '../../../adapters/plan/engine.js';
import { main } from '../../../bin/cli.js';
import shop from '../../../examples/shop/mesh.js';
import { canonicalize } from '../../../model/canonical.js';
import { type AwsStandIn, startAwsStandIn } from '../../helpers/aws/moto.js';

let aws: AwsStandIn;

class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

async function run(...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new Sink();
  const stderr = new Sink();
  const code = await main(
    [
      ...argv,
      '--target',
      'appmesh',
      'examples/shop/mesh.ts',
      '--endpoint',
      aws.endpoint,
      '--region',
      'us-east-1',
      '--allow-drop',
    ],
    { stdout, stderr },
  );
  return { code, stdout: stdout.text, stderr: stderr.text };
}

beforeAll(async () => {
  process.env['AWS_ACCESS_KEY_ID'] = 'AKIDCROSSMESHCLI';
  process.env['AWS_SECRET_ACCESS_KEY'] = 'crossmesh-cli-secret';
  aws = await startAwsStandIn();
});

afterAll(async () => {
  await aws?.close();
});

afterEach(() => {
  expect(aws.violations).toEqual([]);
});

describe('crossmesh plan|apply|destroy --target appmesh', () => {
  test('every command prints the discontinuation notice; apply converges and destroy cleans up', async () => {
    // GIVEN an empty account / WHEN plan, apply, plan, destroy run
    const plan = await run('plan');
    const apply = await run('apply');
    const again = await run('plan');
    const destroy = await run('destroy');

    // THEN each printed the notice
    for (const result of [plan, apply, again, destroy]) {
      expect(result.stderr).toContain('AWS discontinued App Mesh on 2026-09-30');
    }
    // AND the first plan listed the creates, the apply succeeded, the next plan was empty
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain('VirtualNode');
    expect(plan.stdout).toContain('catalog-v1');
    expect(apply.code).toBe(0);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('No changes');
    // AND the dropped feature was reported, not silent
    expect(plan.stderr).toContain('authorization.methods');
    expect(destroy.code).toBe(0);
  });

  test('render options come from CROSSMESH_APPMESH_OPTIONS, and bad ones are refused naming the field', async () => {
    // GIVEN DNS discovery chosen through the environment
    process.env['CROSSMESH_APPMESH_OPTIONS'] = '{"discovery":"dns"}';
    try {
      // WHEN a plan is computed
      const plan = await run('plan');
      // THEN no Cloud Map resource is planned
      expect(plan.code).toBe(0);
      expect(plan.stdout).toContain('VirtualNode');
      expect(plan.stdout).not.toContain('CloudMap');
      // AND an unknown option fails with exit 2 and its path
      process.env['CROSSMESH_APPMESH_OPTIONS'] = '{"discovery":"consul"}';
      const bad = await run('plan');
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain('options.discovery');
    } finally {
      delete process.env['CROSSMESH_APPMESH_OPTIONS'];
    }
  });

  test('an apply process killed mid-apply (after a write went through, before its answer) converges when re-run', async () => {
    // GIVEN the 12th write of a `crossmesh apply` child process is performed but never answered
    aws.inject({ nthMutating: 12, kind: 'hold' });
    const child = spawn(
      process.execPath,
      [
        'bin/crossmesh.js',
        'apply',
        '--target',
        'appmesh',
        'examples/shop/mesh.ts',
        '--endpoint',
        aws.endpoint,
        '--region',
        'us-east-1',
        '--allow-drop',
      ],
      { env: { ...process.env, CROSSMESH_DEV: '1' }, stdio: 'ignore' },
    );
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));

    // WHEN the process is killed while it waits for that answer
    await aws.held();
    child.kill('SIGKILL');
    expect(await exited).toBeNull();
    aws.inject({ nthMutating: Number.POSITIVE_INFINITY, kind: 'error' });

    // THEN part of the mesh exists, a re-run applies the rest, and live state equals the mesh
    const mesh = canonicalize(shop);
    const provider = createAppMeshProvider(mesh.name, { endpoint: aws.endpoint, region: 'us-east-1' });
    const desired = appMeshDesired(mesh, { allowDrop: true });
    const rest = await computePlan(provider, mesh.name, desired);
    expect(rest.unchanged.length).toBe(12);
    const rerun = await run('apply');
    expect(rerun.code).toBe(0);
    expect((await computePlan(provider, mesh.name, desired)).changes).toEqual([]);
    const managed = (await provider.list([])).filter((l) => l.managed).map((l) => l.id);
    expect(managed.sort()).toEqual(desired.map((d) => d.id).sort());
    expect((await run('destroy')).code).toBe(0);
  });
});
