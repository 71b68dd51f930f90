/**
 * Loading a mesh file: TypeScript/JavaScript (`.ts`, `.mts`, `.js`, `.mjs`; run through tsx, so
 * no build step), JSON, or YAML. All three yield the same canonical mesh. This is the model's
 * only I/O edge.
 */
import { readFile } from 'node:fs/promises';
import { extname, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseDocument } from 'yaml';
import { MeshError } from '../errors/index.js';
import { canonicalize } from './canonical.js';
import type { Mesh } from './types.js';

const CODE = new Set(['.ts', '.mts', '.js', '.mjs']);
const ALLOWED = '.ts, .mts, .js, .mjs, .json, .yaml or .yml';

async function readText(file: string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : String(error);
    throw new MeshError('CLI_E_FILE', `cannot be read: ${reason}`, { path: file, value: file });
  }
}

/**
 * Reads a mesh file and returns what it declares, unvalidated. Throws `CLI_E_FILE` when the file
 * cannot be read or parsed and `MESH_E_LOAD` when a module fails or exports no mesh; the error's
 * `path` is the file (the CLI prints it first), the message says what is wrong with it.
 */
export async function loadMeshInput(file: string): Promise<unknown> {
  const ext = extname(file).toLowerCase();
  if (CODE.has(ext)) return importModule(file);
  if (ext === '.json') {
    const text = await readText(file);
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new MeshError('CLI_E_FILE', `is not valid JSON: ${(error as Error).message}`, {
        path: file,
      });
    }
  }
  if (ext === '.yaml' || ext === '.yml') {
    const text = await readText(file);
    const doc = parseDocument(text, { prettyErrors: true, uniqueKeys: true });
    const [first] = doc.errors;
    if (first !== undefined) {
      throw new MeshError('CLI_E_FILE', `is not valid YAML: ${first.message}`, { path: file });
    }
    return doc.toJS({ maxAliasCount: 1000 }) as unknown;
  }
  throw new MeshError('CLI_E_FILE', `has an unknown mesh file type ${JSON.stringify(ext)}; use ${ALLOWED}`, {
    path: file,
    value: ext,
    allowed: ALLOWED,
  });
}

async function importModule(file: string): Promise<unknown> {
  const absolute = resolve(file);
  await readText(absolute);
  let module: Record<string, unknown>;
  try {
    const { tsImport } = await import('tsx/esm/api');
    module = (await tsImport(pathToFileURL(absolute).href, import.meta.url)) as Record<string, unknown>;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new MeshError('MESH_E_LOAD', `failed to load: ${reason}`, { path: file, cause: error });
  }
  const namespace = exportsOf(module);
  const exported = namespace.default ?? namespace.mesh;
  if (exported === undefined) {
    const names = Object.keys(namespace);
    throw new MeshError(
      'MESH_E_LOAD',
      `exports no mesh: default-export it or export \`const mesh\` (found exports: ${names.length === 0 ? 'none' : names.join(', ')})`,
      { path: file, allowed: 'a default export or an export named mesh' },
    );
  }
  return exported;
}

/**
 * The module's exports. A `.ts` file outside an ESM package loads as CommonJS, and then `default`
 * is the whole `exports` object (holding `default` and `mesh` as properties): unwrap it.
 */
function exportsOf(module: Record<string, unknown>): Record<string, unknown> {
  const inner = module.default;
  if (inner === null || typeof inner !== 'object') return module;
  const exportsObject = inner as Record<string, unknown>;
  const named = Object.keys(module).filter((k) => k !== 'default');
  const isCommonJs =
    named.every((k) => exportsObject[k] === module[k]) &&
    (named.length > 0 || Object.hasOwn(exportsObject, 'default'));
  return isCommonJs ? exportsObject : module;
}

/** Loads, validates and canonicalizes a mesh file. */
export async function loadMesh(file: string): Promise<Mesh> {
  return canonicalize(await loadMeshInput(file));
}
