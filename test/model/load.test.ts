// Loads real files from a temporary directory (TypeScript through tsx, JSON, YAML); nothing is
// stood in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { MeshError } from '../../errors/index.js';
import { toCanonicalJson } from '../../model/canonical.js';
import { loadMesh, loadMeshInput } from '../../model/load.js';

const shop = new URL('../../examples/shop/', import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crossmesh-load-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function error(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (e) {
    if (e instanceof MeshError) return e;
    throw e;
  }
  throw new Error('expected a MeshError');
}

describe('loadMesh', () => {
  test('the shop in TypeScript, JSON and YAML yields byte-identical canonical JSON', async () => {
    // GIVEN the three forms of the example WHEN loaded
    const [ts, json, yaml] = await Promise.all(
      ['mesh.ts', 'mesh.json', 'mesh.yaml'].map((f) => loadMesh(join(shop, f))),
    );
    // THEN one canonical form
    const expected = toCanonicalJson(ts as NonNullable<typeof ts>);
    const hint = 'mesh.json/mesh.yaml are stale: run `npx tsx examples/shop/generate.ts`';
    expect(toCanonicalJson(json as NonNullable<typeof json>), hint).toBe(expected);
    expect(toCanonicalJson(yaml as NonNullable<typeof yaml>), hint).toBe(expected);
  });

  test('a TypeScript module may export `mesh` instead of a default export', async () => {
    // GIVEN a .mts file exporting const mesh
    const file = join(dir, 'named.mts');
    await writeFile(
      file,
      "export const mesh = { name: 'n', services: { a: { ports: [{ port: 1, protocol: 'tcp' as const }], versions: { v: {} } } } };\n",
    );
    // WHEN loaded THEN it is the mesh
    expect((await loadMesh(file)).name).toBe('n');
  });

  test('a .ts file outside an ESM package (loaded as CommonJS) may default-export the mesh', async () => {
    // GIVEN a .ts file in a directory without package.json "type": "module"
    const file = join(dir, 'cjs-default.ts');
    await writeFile(
      file,
      "export const unrelated = 2;\nexport default { name: 'c', services: { a: { ports: [{ port: 1, protocol: 'tcp' }], versions: { v: {} } } } };\n",
    );
    // WHEN loaded THEN the default export is the mesh
    expect((await loadMesh(file)).name).toBe('c');
  });

  test('a module without a mesh export is MESH_E_LOAD naming what it exports', async () => {
    const file = join(dir, 'empty.ts');
    await writeFile(file, 'export const other = 1;\n');
    const e = await error(loadMeshInput(file));
    expect(e.code).toBe('MESH_E_LOAD');
    expect(e.message).toContain('other');
  });

  test('a module that does not compile or throws is MESH_E_LOAD with the file path', async () => {
    const broken = join(dir, 'broken.ts');
    await writeFile(broken, 'export default {{;\n');
    const throwing = join(dir, 'throwing.ts');
    await writeFile(throwing, "throw new Error('nope');\n");
    for (const file of [broken, throwing]) {
      const e = await error(loadMeshInput(file));
      expect(e.code).toBe('MESH_E_LOAD');
      expect(e.path).toBe(file);
    }
  });

  test('unreadable, unparsable and unknown files are CLI_E_FILE', async () => {
    // GIVEN bad files
    const badJson = join(dir, 'bad.json');
    await writeFile(badJson, '{"name": ');
    const badYaml = join(dir, 'bad.yaml');
    await writeFile(badYaml, 'name: [\n');
    const dupYaml = join(dir, 'dup.yml');
    await writeFile(dupYaml, 'name: a\nname: b\n');
    // WHEN loaded THEN each is CLI_E_FILE with its path
    for (const file of [
      join(dir, 'missing.json'),
      join(dir, 'missing.ts'),
      badJson,
      badYaml,
      dupYaml,
      join(dir, 'x.toml'),
    ]) {
      const e = await error(loadMeshInput(file));
      expect(e.code).toBe('CLI_E_FILE');
      expect(e.path).toBe(file);
    }
  });

  test('a loaded file with mistakes reports validation problems, not load errors', async () => {
    const file = join(dir, 'invalid.yaml');
    await writeFile(file, 'name: shop\nservices:\n  web:\n    ports: []\n    versions: {v1: {}}\n');
    const e = await error(loadMesh(file));
    expect(e.code).toBe('MESH_E_REQUIRED');
    expect(e.path).toBe('services.web.ports');
  });
});
