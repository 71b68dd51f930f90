/**
 * Writes mesh.json and mesh.yaml from mesh.ts, so the three forms of the example stay the same
 * mesh (test/model/load.test.ts checks they canonicalize to identical bytes).
 * Run after editing mesh.ts: `npx tsx examples/shop/generate.ts`.
 */
import { writeFileSync } from 'node:fs';
import { stringify } from 'yaml';
import { formatJson } from '../../model/schema/json-schema.js';
import mesh from './mesh.js';

const header = [
  '# yaml-language-server: $schema=../../docs/mesh.schema.json',
  '# The shop mesh in YAML: the same mesh as mesh.ts and mesh.json (a test keeps them identical).',
  '# Schema: ../../docs/mesh.schema.json; reference: ../../docs/model-reference.md',
  '# Generated from mesh.ts by `npx tsx examples/shop/generate.ts`.',
  '',
].join('\n');
// `$schema` lets editors check and complete the file; crossmesh ignores it.
writeFileSync(
  new URL('mesh.json', import.meta.url),
  formatJson({ $schema: '../../docs/mesh.schema.json', ...mesh }),
);
writeFileSync(new URL('mesh.yaml', import.meta.url), header + stringify(mesh));
