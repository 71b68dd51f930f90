/**
 * CrossmeshTrafficDirectorManifest: the Traffic Director manifest in the cloud assembly, and the
 * hand-over to `crossmesh apply --target traffic-director`.
 *
 * Real parts: aws-cdk-lib synthesizes into a temporary directory, the Traffic Director renderer
 * and cloud target are the real ones, the mesh file is read back with the CLI's own loader, and
 * the real `crossmesh apply` runs on the assembly. Stood in: the Google Cloud networkservices,
 * networksecurity and compute REST APIs (test/helpers/gcp/standin.ts, which validates every
 * request against the discovery documents), because there is no GCP here.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { App, Stack } from 'aws-cdk-lib';
import { Annotations, Match } from 'aws-cdk-lib/assertions';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import {
  desiredResources,
  NEGS_ENV,
  renderTrafficDirector,
  trafficDirectorCloudTargetFromEnv,
} from '../../adapters/traffic-director/index.js';
import type { TrafficDirectorManifest } from '../../adapters/traffic-director/types.js';
import { main } from '../../bin/cli.js';
import {
  CrossmeshTrafficDirectorManifest,
  TRAFFIC_DIRECTOR_METADATA,
} from '../../cdk/traffic-director-manifest.js';
import shop from '../../examples/shop/mesh.js';
import { canonicalize, toCanonicalJson } from '../../model/canonical.js';
import { loadMesh } from '../../model/load.js';
import type { MeshInput } from '../../model/types.js';
import { GcpStandin } from '../helpers/gcp/standin.js';
import { testApp } from './helpers.js';

const PROJECT = 'crossmesh-test';

/** Collects what the CLI writes. */
class Sink extends Writable {
  text = '';
  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}
const NEGS = {
  'catalog/v1': ['projects/crossmesh-test/zones/europe-west1-b/networkEndpointGroups/catalog-v1'],
};

describe('CrossmeshTrafficDirectorManifest in a synthesized assembly', () => {
  let outdir: string;
  let construct: CrossmeshTrafficDirectorManifest;
  let metadata: unknown[];

  beforeAll(() => {
    outdir = mkdtempSync(join(tmpdir(), 'crossmesh-cdk-td-'));
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'ShopGcp');
    construct = new CrossmeshTrafficDirectorManifest(stack, 'TrafficDirector', {
      mesh: shop,
      project: PROJECT,
      negs: NEGS,
      allowDrop: true,
    });
    new CrossmeshTrafficDirectorManifest(new Stack(app, 'Other'), 'TrafficDirector', {
      mesh: shop,
      project: PROJECT,
      allowDrop: true,
    });
    const assembly = app.synth();
    metadata = assembly
      .getStackArtifact('ShopGcp')
      .findMetadataByType(TRAFFIC_DIRECTOR_METADATA)
      .map((m) => m.data);
  });

  afterAll(() => {
    rmSync(outdir, { recursive: true, force: true });
  });

  test('writes the rendered manifest next to the template, equal to the renderer output', () => {
    // GIVEN the shop rendered directly (access logs dropped: Traffic Director does not configure them)
    expect(construct.dropped.map((d) => d.feature)).toEqual(['access-log', 'access-log.json']);
    const expected = renderTrafficDirector(canonicalize(shop), { project: PROJECT, negs: NEGS });
    // WHEN the assembly file is read
    const written = JSON.parse(
      readFileSync(join(outdir, 'ShopGcp.crossmesh-traffic-director.json'), 'utf8'),
    ) as TrafficDirectorManifest;
    // THEN
    expect(construct.manifestFile).toBe('ShopGcp.crossmesh-traffic-director.json');
    expect(written).toEqual(expected);
    expect(written.apiVersion).toBe('crossmesh.traffic-director/v1');
    expect(written.resources.length).toBeGreaterThan(0);
  });

  test('writes the canonical mesh and the NEG inputs, and names every file in the assembly metadata', () => {
    // GIVEN / WHEN
    const meshText = readFileSync(join(outdir, 'ShopGcp.crossmesh-mesh.json'), 'utf8');
    const negs = JSON.parse(
      readFileSync(join(outdir, 'ShopGcp.crossmesh-traffic-director.negs.json'), 'utf8'),
    );
    // THEN
    expect(meshText).toBe(toCanonicalJson(canonicalize(shop)));
    expect(negs).toEqual(NEGS);
    expect(metadata).toEqual([
      {
        manifest: 'ShopGcp.crossmesh-traffic-director.json',
        mesh: 'ShopGcp.crossmesh-mesh.json',
        negs: 'ShopGcp.crossmesh-traffic-director.negs.json',
        project: PROJECT,
      },
    ]);
  });

  test('crossmesh apply on the assembly files would create exactly the manifest', async () => {
    // GIVEN what `CROSSMESH_TD_NEGS=@<negs> crossmesh apply --target traffic-director --project P <mesh>` loads
    const mesh = await loadMesh(join(outdir, 'ShopGcp.crossmesh-mesh.json'));
    const target = trafficDirectorCloudTargetFromEnv({
      [NEGS_ENV]: `@${join(outdir, 'ShopGcp.crossmesh-traffic-director.negs.json')}`,
    });
    // WHEN it computes its desired resources
    const desired = target.desired(mesh, { project: PROJECT, allowDrop: true });
    // THEN they are the manifest's resources
    const manifest = JSON.parse(
      readFileSync(join(outdir, 'ShopGcp.crossmesh-traffic-director.json'), 'utf8'),
    ) as TrafficDirectorManifest;
    expect(desired).toEqual(desiredResources(manifest));
  });

  test('the documented flow: crossmesh apply on the assembly creates the manifest, and a re-plan is empty', async () => {
    // GIVEN the Google Cloud APIs stood in (test/helpers/gcp/standin.ts: no GCP here) and the NEG file in the environment
    const standin = await GcpStandin.start({ pendingPolls: 0 });
    const previous = process.env[NEGS_ENV];
    process.env[NEGS_ENV] = `@${join(outdir, 'ShopGcp.crossmesh-traffic-director.negs.json')}`;
    try {
      const cli = async (...argv: string[]) => {
        const stdout = new Sink();
        const stderr = new Sink();
        const code = await main(
          [
            ...argv,
            '--target',
            'traffic-director',
            '--project',
            PROJECT,
            '--endpoint',
            standin.url,
            '--allow-drop',
            join(outdir, 'ShopGcp.crossmesh-mesh.json'),
          ],
          { stdout, stderr },
        );
        return { code, stdout: stdout.text, stderr: stderr.text };
      };
      // WHEN apply, then plan, run on the assembly's mesh file
      const apply = await cli('apply');
      const plan = await cli('plan', '--json');
      // THEN every manifest resource exists and nothing is left to change
      expect(apply.code, apply.stderr).toBe(0);
      expect(plan.code, plan.stderr).toBe(0);
      expect(JSON.parse(plan.stdout)).toMatchObject({ changes: [] });
      expect(standin.snapshot().size).toBe(construct.manifest.resources.length);
    } finally {
      if (previous === undefined) delete process.env[NEGS_ENV];
      else process.env[NEGS_ENV] = previous;
      await standin.close();
    }
  });

  test('a stack without NEGs gets no NEG file and a warning that backends route nowhere', () => {
    // GIVEN / WHEN
    const manifest = JSON.parse(
      readFileSync(join(outdir, 'Other.crossmesh-traffic-director.json'), 'utf8'),
    ) as TrafficDirectorManifest;
    // THEN
    expect(() => readFileSync(join(outdir, 'Other.crossmesh-traffic-director.negs.json'))).toThrow(/ENOENT/);
    expect(manifest.warnings.length).toBeGreaterThan(0);
  });
});

describe('CrossmeshTrafficDirectorManifest errors and warnings', () => {
  const withRateLimit = {
    apiVersion: 'crossmesh/v1',
    name: 'm',
    services: {
      web: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: {} },
        policy: { rateLimit: { requests: 10, per: '1s' } },
      },
    },
  } satisfies MeshInput;

  test('an unsupported feature fails with TARGET_E_UNSUPPORTED and the construct path', () => {
    // GIVEN a rate limit, which Traffic Director cannot express
    const stack = new Stack(testApp(), 'S');
    // WHEN / THEN
    expect(
      () => new CrossmeshTrafficDirectorManifest(stack, 'Td', { mesh: withRateLimit, project: PROJECT }),
    ).toThrow(
      expect.objectContaining({
        code: 'TARGET_E_UNSUPPORTED',
        message: expect.stringMatching(/^S\/Td: /),
        path: 'services.web.policy.rateLimit',
      }),
    );
  });

  test('allowDrop records each dropped feature and each render warning as a synth warning', () => {
    // GIVEN / WHEN
    const stack = new Stack(testApp(), 'S');
    const td = new CrossmeshTrafficDirectorManifest(stack, 'Td', {
      mesh: withRateLimit,
      project: PROJECT,
      allowDrop: true,
    });
    // THEN
    expect(td.dropped.map((d) => d.feature)).toEqual(['policy.rate-limit']);
    const annotations = Annotations.fromStack(stack);
    annotations.hasWarning('/S/Td', Match.stringLikeRegexp('policy.rate-limit dropped'));
    expect(td.manifest.warnings.length).toBeGreaterThan(0);
    annotations.hasWarning('/S/Td', Match.stringLikeRegexp('BackendService m-web-v1 has no backends'));
  });

  test('one manifest per stack: a second one fails with TARGET_E_OPTION naming the first', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'S');
    new CrossmeshTrafficDirectorManifest(stack, 'First', { mesh: shop, project: PROJECT, allowDrop: true });
    // WHEN / THEN
    expect(
      () =>
        new CrossmeshTrafficDirectorManifest(stack, 'Second', {
          mesh: shop,
          project: PROJECT,
          allowDrop: true,
        }),
    ).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', message: expect.stringContaining('S/First') }),
    );
  });

  test('an invalid mesh or project fails at construction with the construct path', () => {
    // GIVEN
    const stack = new Stack(testApp(), 'S');
    // WHEN / THEN
    expect(
      () =>
        new CrossmeshTrafficDirectorManifest(stack, 'Bad', {
          mesh: { name: 'BAD NAME' } as unknown as MeshInput,
          project: PROJECT,
        }),
    ).toThrow(
      expect.objectContaining({
        message: expect.stringMatching(/^S\/Bad: /),
        code: expect.stringMatching(/^MESH_E_/),
      }),
    );
    expect(
      () =>
        new CrossmeshTrafficDirectorManifest(stack, 'NoProject', {
          mesh: shop,
          project: '',
          allowDrop: true,
        }),
    ).toThrow(
      expect.objectContaining({ code: 'TARGET_E_OPTION', message: expect.stringMatching(/^S\/NoProject: /) }),
    );
  });
});
