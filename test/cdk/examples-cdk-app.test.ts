/**
 * examples/cdk-app: `cdk synth` works offline from the repository (no build), and its templates
 * pass cfn-lint with the App Mesh sunset warning W3696 as the only finding.
 *
 * Real parts only: the real AWS CDK CLI (node_modules/aws-cdk) runs the app exactly as a user
 * would (`cdk.json` → `npx tsx bin/app.ts`), with telemetry and notices off so nothing goes to
 * the network, into a temporary output directory; cfn-lint 1.x (preinstalled, Python) checks
 * the templates against the CloudFormation resource specifications. One synth serves every test.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';

const run = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
const appDir = join(root, 'examples/cdk-app');

/** Runs cfn-lint; its exit status is a bitmask (2 error, 4 warning, 8 info), so it is returned, not thrown. */
async function cfnLint(args: readonly string[]): Promise<{ code: number; stdout: string }> {
  try {
    const { stdout } = await run('cfn-lint', [...args], { maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, stdout };
  } catch (error) {
    const failed = error as { code?: number | string; stdout?: string };
    if (typeof failed.code !== 'number') throw error;
    return { code: failed.code, stdout: failed.stdout ?? '' };
  }
}

describe('examples/cdk-app', () => {
  let outdir: string;
  let templates: string[];
  let synthOutput: string;
  let lintIgnoringSunset: { code: number; stdout: string };
  let lintAll: { code: number; stdout: string };

  beforeAll(async () => {
    outdir = mkdtempSync(join(tmpdir(), 'crossmesh-cdk-app-'));
    const { stdout, stderr } = await run(
      process.execPath,
      [join(root, 'node_modules/aws-cdk/bin/cdk'), 'synth', '--no-notices', '--quiet', '--output', outdir],
      {
        cwd: appDir,
        env: { ...process.env, CDK_DISABLE_CLI_TELEMETRY: 'true' },
        maxBuffer: 16 * 1024 * 1024,
      },
    );
    synthOutput = `${stdout}\n${stderr}`;
    templates = readdirSync(outdir)
      .filter((f) => f.endsWith('.template.json'))
      .sort()
      .map((f) => join(outdir, f));
    // Both lint runs at once: each takes seconds of cfn-lint start-up.
    [lintIgnoringSunset, lintAll] = await Promise.all([
      cfnLint(['--ignore-checks', 'W3696', '--', ...templates]),
      cfnLint(['--format', 'json', '--', ...templates]),
    ]);
  }, 120_000);

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  test('cdk synth produces the mesh and workload stacks and the Traffic Director files', () => {
    // GIVEN / WHEN the synth in beforeAll
    // THEN
    expect(templates.map((t) => t.slice(outdir.length + 1))).toEqual([
      'ShopMesh.template.json',
      'ShopWorkloads.template.json',
    ]);
    const files = readdirSync(outdir);
    expect(files).toEqual(
      expect.arrayContaining(['ShopMesh.crossmesh-traffic-director.json', 'ShopMesh.crossmesh-mesh.json']),
    );
    const workloads = JSON.parse(readFileSync(join(outdir, 'ShopWorkloads.template.json'), 'utf8')) as {
      Resources: Record<string, { Type: string; Properties: { ProxyConfiguration?: { Type: string } } }>;
    };
    // THEN one task per service version (sidecar with proxy configuration) and one for the gateway
    const tasks = Object.values(workloads.Resources).filter((r) => r.Type === 'AWS::ECS::TaskDefinition');
    expect(tasks.map((t) => t.Properties.ProxyConfiguration?.Type ?? 'none').sort()).toEqual([
      'APPMESH',
      'APPMESH',
      'APPMESH',
      'APPMESH',
      'APPMESH',
      'none',
    ]);
    // The dropped feature and the discontinuation are said, not silent.
    expect(synthOutput).toMatch(/authorization\.methods dropped/);
    expect(synthOutput).toMatch(/discontinued App Mesh on 2026-09-30/);
    // Versions are labelled by task family, so no sidecar warns that ECS-registered tasks go unseen.
    expect(synthOutput).not.toMatch(/ECS service discovery never registers/);
    expect(synthOutput).not.toMatch(/no APPMESH_SDS_SOCKET_PATH/);
  });

  test('cfn-lint --ignore-checks W3696 exits 0 on every template', () => {
    // GIVEN the synthesized templates
    // WHEN linted (in beforeAll)
    const { code, stdout } = lintIgnoringSunset;
    // THEN
    expect(stdout).toBe('');
    expect(code).toBe(0);
  });

  test('without ignoring it, W3696 (App Mesh sunset) is the only finding', () => {
    // GIVEN / WHEN linted with every check (in beforeAll)
    const { code, stdout } = lintAll;
    // THEN warnings only (bit 4), each of them W3696, on the App Mesh resources
    const findings = JSON.parse(stdout) as { Rule: { Id: string }; Level: string }[];
    expect(code).toBe(4);
    expect(findings.length).toBeGreaterThan(0);
    expect([...new Set(findings.map((f) => `${f.Level}:${f.Rule.Id}`))]).toEqual(['Warning:W3696']);
  });
});
