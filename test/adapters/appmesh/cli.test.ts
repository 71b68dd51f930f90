/**
 * `crossmesh plan|apply|destroy --target appmesh` end to end, through the CLI entry, against real
 * moto_server behind the validating shim (test/helpers/aws/moto.ts: re-serialized timestamps and
 * errors, an in-memory stand-in for VirtualService/VirtualGateway/GatewayRoute, which moto lacks).
 * Credentials come from the standard AWS chain (environment variables here).
 */
import { Writable } from 'node:stream';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../../bin/cli.js';
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
});
