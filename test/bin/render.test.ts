// Spawns the real CLI on the shop example and writes into a temporary directory. The exit-3 test
// uses the real appmesh target when it is registered (it cannot express fault injection).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TARGETS } from '../../adapters/registry.js';
import { toCanonicalJson } from '../../model/canonical.js';
import { loadMesh } from '../../model/load.js';
import { crossmesh } from './run.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crossmesh-render-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('crossmesh render', () => {
  test('--target json prints the canonical JSON on stdout', async () => {
    // GIVEN / WHEN
    const result = await crossmesh('render', '--target', 'json', 'examples/shop/mesh.ts');
    // THEN the bytes are the canonical form
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(toCanonicalJson(await loadMesh('examples/shop/mesh.ts')));
  });

  test('-o writes the target files, and YAML input gives the same bytes', async () => {
    // GIVEN / WHEN
    const out = join(dir, 'json-out');
    const result = await crossmesh('render', '--target', 'json', 'examples/shop/mesh.yaml', '-o', out);
    // THEN
    expect(result.code).toBe(0);
    expect(result.stderr).toContain(`wrote 1 file to ${out}`);
    expect(await readFile(join(out, 'mesh.json'), 'utf8')).toBe(
      toCanonicalJson(await loadMesh('examples/shop/mesh.ts')),
    );
  });

  test('unknown target exits 2 listing the targets; missing --target exits 2', async () => {
    const unknown = await crossmesh('render', '--target', 'nginx', 'examples/shop/mesh.ts');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('[TARGET_E_UNKNOWN]');
    expect(unknown.stderr).toContain('json');
    const missing = await crossmesh('render', 'examples/shop/mesh.ts');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--target: is required');
  });

  test('bad --options exit 2; options the target refuses exit 2 with TARGET_E_OPTION', async () => {
    const bad = await crossmesh('render', '--target', 'json', '--options', '[1]', 'examples/shop/mesh.ts');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('[CLI_E_USAGE]');
    const refused = await crossmesh(
      'render',
      '--target',
      'json',
      '--options',
      '{"x":1}',
      'examples/shop/mesh.ts',
    );
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('[TARGET_E_OPTION]');
  });

  test.skipIf(!('appmesh' in TARGETS))(
    'a feature the target cannot express: exit 3 with every use listed; --allow-drop warns and renders',
    async () => {
      // GIVEN a mesh with fault injection and mirroring (App Mesh has neither)
      const file = join(dir, 'chaos.json');
      await writeFile(
        file,
        JSON.stringify({
          name: 'chaos',
          services: {
            web: {
              ports: [{ port: 8080, protocol: 'http' }],
              versions: { v1: {} },
              routes: [
                {
                  name: 'r',
                  destinations: [{}],
                  fault: { abort: { httpStatus: 503, percent: 1 } },
                  mirror: { service: 'web' },
                },
              ],
            },
          },
        }),
      );
      // WHEN rendered without and with --allow-drop
      const refused = await crossmesh('render', '--target', 'appmesh', file);
      const dropped = await crossmesh(
        'render',
        '--target',
        'appmesh',
        '--allow-drop',
        file,
        '-o',
        join(dir, 'am'),
      );
      // THEN
      expect(refused.code).toBe(3);
      expect(refused.stderr).toContain('services.web.routes[0].fault.abort');
      expect(refused.stderr).toContain('services.web.routes[0].mirror');
      expect(refused.stderr).toContain('[TARGET_E_UNSUPPORTED]');
      expect(refused.stderr).toContain('--allow-drop renders without them');
      expect(dropped.stderr).toContain(
        'warning: dropped services.web.routes[0].fault.abort: route.fault.abort',
      );
      expect(dropped.stderr).toContain('warning: dropped services.web.routes[0].mirror: route.mirror');
    },
  );

  test('--help documents usage, --allow-drop and exit codes', async () => {
    const result = await crossmesh('render', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('--allow-drop');
    expect(result.stdout).toContain('3 the target cannot express features the mesh uses');
  });
});
