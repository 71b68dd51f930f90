/**
 * `crossmesh plan|apply|destroy --target traffic-director` end to end through the CLI entry.
 * Stood in: the Google Cloud networkservices, networksecurity and compute REST APIs, by
 * test/helpers/gcp/standin.ts (no GCP here); `--endpoint` makes the provider skip credentials.
 */
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { main } from '../../../bin/cli.js';
import { GcpStandin } from '../../helpers/gcp/standin.js';

let standin: GcpStandin;

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
  const code = await main([...argv, '--target', 'traffic-director', 'examples/shop/mesh.ts'], {
    stdout,
    stderr,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

beforeAll(async () => {
  standin = await GcpStandin.start();
});

afterAll(async () => {
  await standin.close();
});

describe('crossmesh plan|apply|destroy --target traffic-director', () => {
  test('plan, apply, an empty re-plan, destroy; warnings and progress on stderr', async () => {
    // GIVEN an empty project
    const common = ['--project', 'my-project', '--endpoint', standin.url, '--allow-drop'];
    // WHEN plan, apply, plan, destroy run
    const plan = await run('plan', ...common);
    const apply = await run('apply', ...common);
    const again = await run('plan', ...common, '--json');
    const destroy = await run('destroy', ...common);
    // THEN each succeeds, apply creates everything, the re-plan is empty and destroy empties the project
    expect(
      [plan.code, apply.code, again.code, destroy.code],
      plan.stderr + apply.stderr + destroy.stderr,
    ).toEqual([0, 0, 0, 0]);
    expect(plan.stdout).toContain('BackendService');
    expect(apply.stderr).toMatch(/\[1\/22\] create HealthCheck shop-catalog-hc/);
    expect(apply.stderr).toContain('waiting for create');
    expect(apply.stderr).toContain('warning: BackendService shop-frontend-v1 has no backends');
    expect(apply.stderr).toMatch(/warning: accessLog: access-log dropped/);
    expect(JSON.parse(again.stdout)).toMatchObject({ changes: [] });
    expect(standin.snapshot().size).toBe(0);
  });

  test('render writes the manifest, one file per resource and a README', async () => {
    // GIVEN / WHEN
    const stdout = new Sink();
    const stderr = new Sink();
    const code = await main(
      [
        'render',
        '--target',
        'traffic-director',
        '--allow-drop',
        '--options',
        '{"project":"my-project"}',
        'examples/shop/mesh.ts',
      ],
      { stdout, stderr },
    );
    // THEN
    expect(code, stderr.text).toBe(0);
    expect(stdout.text).toContain('--- traffic-director.json ---');
    expect(stdout.text).toContain('--- meshes/shop.json ---');
    expect(stdout.text).toContain('--- README.md ---');
    expect(stderr.text).toMatch(/warning: dropped accessLog: access-log/);
  });

  test('without --project it fails with a usage error naming the option', async () => {
    // GIVEN / WHEN
    const result = await run('plan', '--endpoint', standin.url, '--allow-drop');
    // THEN
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--project');
  });

  test('without --allow-drop the unsupported features of examples/shop are listed and nothing is written', async () => {
    // GIVEN / WHEN
    standin.resetCalls();
    const result = await run('apply', '--project', 'my-project', '--endpoint', standin.url);
    // THEN
    expect(result.code).toBe(3);
    expect(result.stderr).toContain('access-log');
    expect(standin.mutatingCalls).toBe(0);
  });
});
