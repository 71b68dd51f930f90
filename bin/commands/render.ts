/**
 * `crossmesh render --target <t> <mesh> [-o dir]`: render a mesh through a target, failing on
 * features the target cannot express unless `--allow-drop`, which prints each dropped use.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize } from 'node:path';
import { parseArgs } from 'node:util';
import { TARGETS } from '../../adapters/registry.js';
import { EXIT } from '../../errors/entry.js';
import { MeshError } from '../../errors/index.js';
import { loadMesh } from '../../model/load.js';
import { renderWithTarget } from '../../model/render.js';
import type { Command } from '../command.js';
import { onePositional, parseStrict } from './args.js';

function targetOptions(text: string | undefined): object {
  if (text === undefined) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new MeshError('CLI_E_USAGE', `must be a JSON object: ${(error as Error).message}`, {
      path: '--options',
      value: text,
      allowed: 'a JSON object',
    });
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new MeshError('CLI_E_USAGE', 'must be a JSON object', {
      path: '--options',
      value: text,
      allowed: 'a JSON object',
    });
  }
  return parsed;
}

/** The render command. */
export const command: Command = {
  summary: 'Render a mesh for a target (json, envoy, appmesh, ...) to stdout or files',
  help: `Usage: crossmesh render --target <name> <mesh.ts|.json|.yaml> [-o <dir>] [--allow-drop] [--options <json>]

Validates the mesh, checks that the target can express every feature it uses, and renders it.
Without -o the output goes to stdout (several files are separated by "--- <path> ---" lines).

Options:
  --target <name>    Target: ${Object.keys(TARGETS).join(', ')} (required). Capability matrices: docs/targets/
  -o, --out <dir>    Write the target's files under <dir> (created if missing)
  --allow-drop       Render even if the target cannot express some features; each dropped use is
                     printed as a warning on stderr. Without it such a mesh fails with exit 3.
  --options <json>   Target options as a JSON object (see the target's page in docs/targets/)
  -h, --help         Show this help

Exit codes: 0 rendered, 1 invalid mesh or file, 2 usage or unknown target,
3 the target cannot express features the mesh uses. Codes: docs/errors.md.`,
  async run(argv, io) {
    const { values, positionals } = parseStrict(
      'render',
      ['--target', '-o/--out', '--allow-drop', '--options'],
      () =>
        parseArgs({
          args: [...argv],
          allowPositionals: true,
          strict: true,
          options: {
            target: { type: 'string' },
            out: { type: 'string', short: 'o' },
            'allow-drop': { type: 'boolean', default: false },
            options: { type: 'string' },
          },
        }),
    );
    const file = onePositional('render', positionals, 'mesh file');
    const names = Object.keys(TARGETS);
    if (values.target === undefined) {
      throw new MeshError('CLI_E_USAGE', `is required; targets: ${names.join(', ')}`, {
        path: '--target',
        allowed: names.join(', '),
      });
    }
    const load = Object.hasOwn(TARGETS, values.target) ? TARGETS[values.target] : undefined;
    if (load === undefined) {
      throw new MeshError(
        'TARGET_E_UNKNOWN',
        `unknown target ${JSON.stringify(values.target)}; targets: ${names.join(', ')}`,
        {
          path: '--target',
          value: values.target,
          allowed: names.join(', '),
        },
      );
    }
    const options = targetOptions(values.options);
    const mesh = await loadMesh(file);
    const target = await load();
    if (target.notice !== undefined) io.stderr.write(`NOTICE: ${target.notice}\n`);
    let result: ReturnType<typeof renderWithTarget>;
    try {
      result = renderWithTarget(target, mesh, options, { allowDrop: values['allow-drop'] });
    } catch (error) {
      // The uses are listed by the error; say how to go on, as a first-time user rendering the
      // example for App Mesh or Traffic Director lands here.
      if (error instanceof MeshError && error.code === 'TARGET_E_UNSUPPORTED') {
        io.stderr.write(
          `target ${target.name} cannot express every feature this mesh uses; --allow-drop renders without them (each dropped use is printed)\n`,
        );
      }
      throw error;
    }
    for (const d of result.dropped) {
      io.stderr.write(`warning: dropped ${d.path}: ${d.feature} (${target.name}: ${d.reason})\n`);
    }
    for (const a of result.approximated) {
      io.stderr.write(`note: approximated ${a.path}: ${a.feature} (${target.name}: ${a.note})\n`);
    }
    const files = target.files(result.output);
    for (const path of files.keys()) {
      if (isAbsolute(path) || normalize(path).startsWith('..')) {
        throw new MeshError(
          'INTERNAL_E_BUG',
          `target ${target.name} produced a file outside the output directory: ${path}`,
        );
      }
    }
    if (values.out === undefined) {
      const single = files.size === 1;
      for (const [path, content] of files) {
        io.stdout.write(
          single ? content : `--- ${path} ---\n${content}${content.endsWith('\n') ? '' : '\n'}`,
        );
      }
    } else {
      for (const [path, content] of files) {
        const destination = join(values.out, path);
        await mkdir(dirname(destination), { recursive: true });
        await writeFile(destination, content);
      }
      io.stderr.write(`wrote ${files.size} file${files.size === 1 ? '' : 's'} to ${values.out}\n`);
    }
    if (result.dropped.length > 0) {
      io.stderr.write(`warning: ${result.dropped.length} feature use(s) dropped for target ${target.name}\n`);
    }
    return EXIT.ok;
  },
};
