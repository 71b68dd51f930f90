// Property tests (fast-check) on random meshes. Files are real (a temporary directory, read back
// through the real loaders); Ajv independently checks the published JSON Schema. Nothing is
// stood in.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { ERROR_CATALOG, MeshError } from '../../errors/index.js';
import { canonicalize, toCanonicalJson } from '../../model/canonical.js';
import { detectFeatures } from '../../model/detect.js';
import { loadMesh } from '../../model/load.js';
import { meshJsonSchema } from '../../model/schema/json-schema.js';
import { findProblems, validate } from '../../model/validate.js';
import { nodePaths, validMesh } from './arbitraries.js';

let dir: string;
let counter = 0;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crossmesh-prop-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The node a model path (`services.a.routes[0]["odd key"].x`) names, or undefined. */
function resolve(root: unknown, path: string): unknown {
  let node: unknown = root;
  for (const [, dotted, index, quoted] of path.matchAll(
    /\.?([A-Za-z0-9_-]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g,
  )) {
    const key = dotted ?? (index === undefined ? JSON.parse(quoted as string) : Number(index));
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string | number, unknown>)[key];
  }
  return node;
}

/** Runs `run`; anything thrown must be a MeshError whose every problem has a documented code. */
function onlyMeshErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof MeshError)) throw error;
    expect(error.problems.length).toBeGreaterThan(0);
    for (const problem of error.problems) expect(ERROR_CATALOG[problem.code], problem.code).toBeDefined();
  }
}

describe('random valid meshes', () => {
  test('validate accepts them (the generator only builds valid meshes)', () => {
    fc.assert(
      fc.property(validMesh, (mesh) => {
        expect(findProblems(mesh)).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  test('canonicalize is idempotent and the JSON Schema accepts input and canonical form', () => {
    // GIVEN the published schema, compiled by Ajv
    const ajv = new Ajv2020({ strict: true, allErrors: true });
    addFormats.default(ajv);
    const schema = ajv.compile(meshJsonSchema());
    fc.assert(
      fc.property(validMesh, (mesh) => {
        // WHEN canonicalized twice
        const once = canonicalize(mesh);
        const twice = canonicalize(once);
        // THEN nothing changes, and both forms conform to the schema
        expect(toCanonicalJson(twice)).toBe(toCanonicalJson(once));
        expect(schema(mesh), JSON.stringify(schema.errors)).toBe(true);
        expect(schema(JSON.parse(toCanonicalJson(once))), JSON.stringify(schema.errors)).toBe(true);
        // AND every feature use points at a node that exists (and resolve() does tell)
        expect(resolve(once, 'services["no such"].ports[0]')).toBeUndefined();
        for (const use of detectFeatures(once)) {
          expect(resolve(once, use.path), `${use.feature} at ${use.path}`).not.toBeUndefined();
        }
      }),
      { numRuns: 150 },
    );
  });

  test('canonical JSON round-trips through files: value → JSON → load → JSON, and via YAML', async () => {
    await fc.assert(
      fc.asyncProperty(validMesh, async (mesh) => {
        // GIVEN the canonical JSON of a value
        const expected = toCanonicalJson(canonicalize(mesh));
        // WHEN written as canonical JSON and as YAML of the input, then loaded
        const json = join(dir, `m${counter}.json`);
        const yaml = join(dir, `m${counter++}.yaml`);
        await writeFile(json, expected);
        await writeFile(yaml, stringify(mesh));
        // THEN the same bytes come back
        expect(toCanonicalJson(await loadMesh(json))).toBe(expected);
        expect(toCanonicalJson(await loadMesh(yaml))).toBe(expected);
      }),
      { numRuns: 40 },
    );
  });

  test('a TypeScript mesh file gives the same canonical JSON as the value it exports', async () => {
    await fc.assert(
      fc.asyncProperty(validMesh, async (mesh) => {
        const file = join(dir, `m${counter++}.mts`);
        await writeFile(file, `export default ${JSON.stringify(mesh)};\n`);
        expect(toCanonicalJson(await loadMesh(file))).toBe(toCanonicalJson(canonicalize(mesh)));
      }),
      { numRuns: 8 },
    );
  });
});

describe('random invalid input', () => {
  test('anything at all: validation throws nothing but MeshError', () => {
    fc.assert(
      fc.property(
        fc.anything({
          withNullPrototype: true,
          withBigInt: true,
          withDate: true,
          withMap: true,
          withSet: true,
          withSparseArray: true,
          withBoxedValues: true,
        }),
        (value) => {
          onlyMeshErrors(() => validate(value));
          onlyMeshErrors(() => canonicalize(value));
        },
      ),
      { numRuns: 300 },
    );
  });

  test('a valid mesh with one node replaced or removed: only MeshError, or a valid mesh', () => {
    fc.assert(
      fc.property(
        validMesh.chain((mesh) => {
          const paths = nodePaths(mesh).filter((p) => p.length > 0);
          return fc.tuple(
            fc.constant(mesh),
            fc.constantFrom(...paths),
            fc.oneof(
              fc.constant(undefined),
              fc.anything(),
              fc.constantFrom('', 'nope', -1, 0, 1e9, '2 s', '/(', 'Bad Name'),
            ),
          );
        }),
        ([mesh, path, replacement]) => {
          // GIVEN one node changed
          const copy = structuredClone(mesh);
          let node: Record<string | number, unknown> = copy;
          for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
          const last = path[path.length - 1] as string | number;
          if (replacement === undefined) delete node[last];
          else node[last] = replacement;
          // WHEN validated and canonicalized THEN only MeshError escapes
          onlyMeshErrors(() => canonicalize(copy));
          for (const problem of findProblems(copy)) {
            expect(typeof problem.code).toBe('string');
            expect(typeof problem.path).toBe('string');
            expect(() => JSON.stringify(problem)).not.toThrow();
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});
