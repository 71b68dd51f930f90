/** `crossmesh validate <mesh>`: load, validate and canonicalize a mesh; report every problem. */
import { parseArgs } from 'node:util';
import { EXIT } from '../../errors/entry.js';
import { ERROR_CATALOG, MeshError } from '../../errors/index.js';
import { loadMesh } from '../../model/load.js';
import type { Mesh } from '../../model/types.js';
import type { Command } from '../command.js';
import { onePositional, parseStrict } from './args.js';

function summary(mesh: Mesh): Record<string, number> {
  const services = Object.values(mesh.services);
  return {
    services: services.length,
    versions: services.reduce((n, s) => n + Object.keys(s.versions).length, 0),
    routes: services.reduce((n, s) => n + (s.routes?.length ?? 0), 0),
    gateways: Object.keys(mesh.gateways ?? {}).length,
  };
}

/** The validate command. */
export const command: Command = {
  summary: 'Check a mesh file and report every problem in it',
  help: `Usage: crossmesh validate <mesh.ts|.mts|.js|.json|.yaml|.yml> [--json]

Loads the mesh (a TypeScript file runs without a build), checks it in one pass and prints every
problem path-first, e.g.
  services.catalog.routes[1].destinations[0].weight: must be an integer from 0 to 1000, got 2000 [MESH_E_RANGE]
On success prints a one-line summary.

Options:
  --json       Machine output on stdout: {"ok":true,"mesh":...,"services":n,...} or
               {"ok":false,"code":...,"problems":[{"code","path","message","value","allowed"}]}
  -h, --help   Show this help

Exit codes: 0 valid, 1 invalid mesh or unreadable file, 2 usage. Codes: docs/errors.md.`,
  async run(argv, io) {
    const { values, positionals } = parseStrict('validate', ['--json'], () =>
      parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: { json: { type: 'boolean', default: false } },
      }),
    );
    const file = onePositional('validate', positionals, 'mesh file');
    let mesh: Mesh;
    try {
      mesh = await loadMesh(file);
    } catch (error) {
      if (!(values.json && error instanceof MeshError)) throw error;
      io.stdout.write(
        `${JSON.stringify({ ok: false, file, code: error.code, problems: error.problems }, null, 2)}\n`,
      );
      return ERROR_CATALOG[error.code]?.exit ?? EXIT.internal;
    }
    const counts = summary(mesh);
    if (values.json) {
      io.stdout.write(`${JSON.stringify({ ok: true, file, mesh: mesh.name, ...counts }, null, 2)}\n`);
    } else {
      const parts = Object.entries(counts).map(([k, n]) => `${n} ${n === 1 ? k.slice(0, -1) : k}`);
      io.stdout.write(`ok: ${file}: mesh ${mesh.name} is valid (${parts.join(', ')})\n`);
    }
    return EXIT.ok;
  },
};
