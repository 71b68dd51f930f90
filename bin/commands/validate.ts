/**
 * `crossmesh validate <mesh> [--target <t>...]`: load, validate and canonicalize a mesh and report
 * every problem; with `--target`, also check that each named target can express every feature the
 * mesh uses (without rendering anything).
 */
import { parseArgs } from 'node:util';
import { TARGETS } from '../../adapters/registry.js';
import { EXIT } from '../../errors/entry.js';
import { ERROR_CATALOG, MeshError, type Problem } from '../../errors/index.js';
import { loadMesh } from '../../model/load.js';
import { type ApproximatedFeature, checkCapabilities, unsupportedProblems } from '../../model/render.js';
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

/** What the capability check of one target found. */
interface TargetCheck {
  readonly target: string;
  readonly problems: readonly Problem[];
  readonly approximated: readonly ApproximatedFeature[];
}

async function checkTargets(names: readonly string[], mesh: Mesh): Promise<TargetCheck[]> {
  const known = Object.keys(TARGETS);
  const unknown = names.filter((n) => !Object.hasOwn(TARGETS, n));
  if (unknown.length > 0) {
    throw new MeshError(
      'TARGET_E_UNKNOWN',
      `unknown target ${unknown.map((n) => JSON.stringify(n)).join(', ')}; targets: ${known.join(', ')}`,
      {
        path: '--target',
        value: unknown[0],
        allowed: known.join(', '),
      },
    );
  }
  const checks: TargetCheck[] = [];
  for (const name of [...new Set(names)]) {
    const load = TARGETS[name];
    if (load === undefined) continue;
    const target = await load();
    const report = checkCapabilities(target, mesh);
    checks.push({
      target: name,
      problems: unsupportedProblems(target, report.unsupported),
      approximated: report.approximated,
    });
  }
  return checks;
}

/** The validate command. */
export const command: Command = {
  summary: 'Check a mesh file and report every problem in it',
  help: `Usage: crossmesh validate <mesh.ts|.mts|.js|.json|.yaml|.yml> [--target <name>]... [--json]

Loads the mesh (a TypeScript file runs without a build), checks it in one pass and prints every
problem path-first, e.g.
  services.catalog.routes[1].destinations[0].weight: must be an integer from 0 to 1000, got 2000 [MESH_E_RANGE]
On success prints a one-line summary.

Options:
  --target <name>  Also check that this target can express every feature the mesh uses (repeat for
                   several; targets: ${Object.keys(TARGETS).join(', ')}). Nothing is rendered.
                   Approximations are printed as notes.
  --json           Machine output on stdout: {"ok":true,"mesh":...,"services":n,...,"targets":{...}} or
                   {"ok":false,"code":...,"problems":[{"code","path","message","value","allowed"}]}
  -h, --help       Show this help

Exit codes: 0 valid, 1 invalid mesh or unreadable file, 2 usage or unknown target,
3 a --target cannot express features the mesh uses. Codes: docs/errors.md.`,
  async run(argv, io) {
    const { values, positionals } = parseStrict('validate', ['--target', '--json'], () =>
      parseArgs({
        args: [...argv],
        allowPositionals: true,
        strict: true,
        options: { json: { type: 'boolean', default: false }, target: { type: 'string', multiple: true } },
      }),
    );
    const file = onePositional('validate', positionals, 'mesh file');
    const fail = (error: unknown): number => {
      if (!(values.json && error instanceof MeshError)) throw error;
      io.stdout.write(
        `${JSON.stringify({ ok: false, file, code: error.code, problems: error.problems }, null, 2)}\n`,
      );
      return ERROR_CATALOG[error.code]?.exit ?? EXIT.internal;
    };
    let mesh: Mesh;
    let checks: TargetCheck[];
    try {
      mesh = await loadMesh(file);
      checks = await checkTargets(values.target ?? [], mesh);
    } catch (error) {
      return fail(error);
    }
    const unsupported = checks.flatMap((c) => c.problems);
    if (!values.json) {
      for (const check of checks) {
        for (const a of check.approximated) {
          io.stderr.write(`note: ${check.target} approximates ${a.path}: ${a.feature} (${a.note})\n`);
        }
      }
    }
    if (unsupported.length > 0) {
      const names = checks.filter((c) => c.problems.length > 0).map((c) => c.target);
      return fail(
        MeshError.fromProblems(
          unsupported,
          `${unsupported.length} feature use${unsupported.length === 1 ? '' : 's'} cannot be expressed on ${names.join(', ')}`,
        ),
      );
    }
    const counts = summary(mesh);
    if (values.json) {
      const targets = Object.fromEntries(checks.map((c) => [c.target, { approximated: c.approximated }]));
      io.stdout.write(
        `${JSON.stringify({ ok: true, file, mesh: mesh.name, ...counts, targets }, null, 2)}\n`,
      );
    } else {
      const parts = Object.entries(counts).map(([k, n]) => `${n} ${n === 1 ? k.slice(0, -1) : k}`);
      const on = checks.length === 0 ? '' : `; expressible on ${checks.map((c) => c.target).join(', ')}`;
      io.stdout.write(`ok: ${file}: mesh ${mesh.name} is valid (${parts.join(', ')})${on}\n`);
    }
    return EXIT.ok;
  },
};
