/**
 * Generated documentation. Every page listed here is produced from code, so it cannot drift:
 * `npm run docs` writes them, and test/docs/generated.test.ts fails when a committed page
 * differs from what the code generates. Each area adds its pages to GENERATED_DOCS.
 */
import { appmeshTarget } from '../adapters/appmesh/target.js';
import { envoyTarget } from '../adapters/envoy/index.js';
import { jsonTarget } from '../adapters/json/index.js';
import { TARGETS } from '../adapters/registry.js';
import { trafficDirectorTarget } from '../adapters/traffic-director/index.js';
import { ERROR_CATALOG } from '../errors/index.js';
import { capabilitiesOverviewPage, capabilityMatrixPage } from '../model/render.js';
import { formatJson, meshJsonSchema } from '../model/schema/json-schema.js';
import { modelReferencePage } from '../model/schema/reference.js';
import { proxyCompatibilityPage } from '../proxy/config/compat-doc.js';

/** A generated page: path relative to the repository root, and its content. */
export interface GeneratedDoc {
  readonly path: string;
  readonly generate: () => string | Promise<string>;
}

function errorsPage(): string {
  const rows = Object.entries(ERROR_CATALOG)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([code, e]) => `| \`${code}\` | ${e.exit} | ${e.title} | ${e.help} |`);
  return [
    '# Errors',
    '',
    '<!-- Generated from errors/catalog.ts by `npm run docs`; do not edit by hand. -->',
    '',
    'Every error crossmesh reports is a `MeshError` with a stable `code`, the `path` of the field at',
    'fault, and a message that says what was given and what is allowed. The CLI prints the path first:',
    '',
    '```',
    'crossmesh: services.catalog.routes[1].destinations[0].weight: must be an integer from 0 to 1000, got 2000 [MESH_E_RANGE]',
    '```',
    '',
    '`instanceof MeshError` holds even when two copies of crossmesh are installed. A validation error',
    'carries every problem found in one pass in `error.problems`.',
    '',
    '## Exit codes',
    '',
    '| exit | meaning |',
    '| --- | --- |',
    '| 0 | success |',
    '| 1 | the mesh, a file or other input is invalid |',
    '| 2 | usage: unknown command, option or target |',
    '| 3 | the target cannot express features the mesh uses (see `--allow-drop`) |',
    '| 4 | a cloud API call failed or timed out |',
    '| 5 | the proxy rejected its Envoy configuration |',
    '| 6 | `plan --detailed-exitcode` found changes |',
    '| 70 | internal error (a bug) |',
    '',
    '## Codes',
    '',
    '| code | exit | what happened | what to do |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

/** Every generated page. */
export const GENERATED_DOCS: readonly GeneratedDoc[] = [
  { path: 'docs/errors.md', generate: errorsPage },
  // The bundled proxy's Envoy subset (issue 5), from proxy/config/supported.ts and corpus.ts.
  { path: 'docs/proxy-compatibility.md', generate: proxyCompatibilityPage },
  // The mesh model (issue 2): schema and field reference from model/schema/mesh-shape.ts, and the
  // json target's capability matrix. Other targets add `docs/targets/<name>.md` the same way.
  { path: 'docs/mesh.schema.json', generate: () => formatJson(meshJsonSchema()) },
  { path: 'docs/model-reference.md', generate: modelReferencePage },
  { path: 'docs/targets/json.md', generate: () => capabilityMatrixPage(jsonTarget) },
  // Every registered render target in one table (loads each target lazily, in registry order).
  {
    path: 'docs/capabilities.md',
    generate: async () =>
      capabilitiesOverviewPage(await Promise.all(Object.values(TARGETS).map((load) => load())), (name) =>
        GENERATED_DOCS.some((doc) => doc.path === `docs/targets/${name}.md`),
      ),
  },
  { path: 'docs/targets/appmesh.md', generate: () => capabilityMatrixPage(appmeshTarget) },
  { path: 'docs/targets/traffic-director.md', generate: () => capabilityMatrixPage(trafficDirectorTarget) },
  { path: 'docs/targets/envoy.md', generate: () => capabilityMatrixPage(envoyTarget) },
];
