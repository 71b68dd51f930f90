/**
 * `crossmesh` command-line entry. Sub-commands load lazily (one file each in bin/commands/) so
 * `crossmesh --help` and `crossmesh validate` do not pay for the cloud SDKs.
 */
import { EXIT } from '../errors/entry.js';
import { ERROR_CATALOG, formatProblem, MeshError } from '../errors/index.js';
import type { Command, CommandIO } from './command.js';

interface CommandEntry {
  readonly summary: string;
  readonly load: () => Promise<{ readonly command: Command }>;
}

/** Every sub-command, in the order `--help` lists them. */
const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  // Each issue adds its commands here: validate, render, plan, apply, destroy, proxy,
  // control-plane, up, status, compose.
  validate: {
    summary: 'Check a mesh file and report every problem in it',
    load: () => import('./commands/validate.js'),
  },
  render: {
    summary: 'Render a mesh for a target to stdout or files',
    load: () => import('./commands/render.js'),
  },
  plan: {
    summary: 'Show what apply would change in a cloud target',
    load: () => import('./commands/plan.js'),
  },
  apply: { summary: 'Make a cloud target match the mesh', load: () => import('./commands/apply.js') },
  destroy: {
    summary: 'Delete what crossmesh manages for the mesh',
    load: () => import('./commands/destroy.js'),
  },
  proxy: {
    summary: 'Run the bundled Envoy-compatible proxy from an Envoy v3 bootstrap',
    load: () => import('./commands/proxy.js'),
  },
  'control-plane': {
    summary: 'Serve a mesh to Envoy proxies over xDS, pushing mesh-file changes live',
    load: () => import('./commands/control-plane.js'),
  },
  up: {
    summary: 'Run the mesh locally: control plane, sidecars, services; pushes mesh edits live',
    load: () => import('./commands/up.js'),
  },
  status: {
    summary: 'Show what crossmesh up runs, with xDS and upstream health',
    load: () => import('./commands/status.js'),
  },
  compose: {
    summary: 'Write the mesh as a docker-compose file (same topology as up)',
    load: () => import('./commands/compose.js'),
  },
};

const VERSION = '0.1.0';

function topHelp(): string {
  const width = Math.max(...Object.keys(COMMANDS).map((n) => n.length), 8);
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(width)}  ${c.summary}`);
  return [
    'crossmesh: one TypeScript service-mesh model for AWS App Mesh, GCP Traffic Director and a local mesh.',
    '',
    'Usage: crossmesh <command> [options]',
    '',
    'Commands:',
    ...lines,
    '',
    "Run `crossmesh <command> --help` for a command's options.",
    '',
    'Exit codes: 0 ok, 1 invalid mesh or input, 2 usage, 3 target cannot express the mesh,',
    '4 cloud API failure, 5 proxy configuration rejected, 6 plan has changes (--detailed-exitcode),',
    '70 internal error. Every error code is listed in docs/errors.md.',
    '',
  ].join('\n');
}

/** Runs the CLI with `argv` (without `node` and the script); resolves to the exit code. */
export async function main(
  argv: readonly string[],
  io: CommandIO = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.stdout.write(topHelp());
    return name === undefined ? EXIT.usage : EXIT.ok;
  }
  if (name === '--version' || name === '-v') {
    io.stdout.write(`${VERSION}\n`);
    return EXIT.ok;
  }
  const entry = COMMANDS[name];
  if (entry === undefined) {
    io.stderr.write(
      `crossmesh: unknown command ${JSON.stringify(name)}; commands: ${Object.keys(COMMANDS).join(', ')} [CLI_E_USAGE]\n`,
    );
    return EXIT.usage;
  }
  try {
    const { command } = await entry.load();
    if (rest.includes('--help') || rest.includes('-h')) {
      io.stdout.write(command.help.endsWith('\n') ? command.help : `${command.help}\n`);
      return EXIT.ok;
    }
    return await command.run(rest, io);
  } catch (error) {
    return reportError(error, io);
  }
}

/** Prints an error path-first and returns its exit code. Never prints a raw stack for user errors. */
export function reportError(error: unknown, io: CommandIO): number {
  if (error instanceof MeshError) {
    if (error.problems.length > 1) {
      io.stderr.write(`crossmesh: ${error.problems.length} problems\n`);
      for (const problem of error.problems) io.stderr.write(`  ${formatProblem(problem)}\n`);
    } else {
      const [problem] = error.problems;
      io.stderr.write(`crossmesh: ${problem ? formatProblem(problem) : error.message}\n`);
    }
    return ERROR_CATALOG[error.code]?.exit ?? EXIT.internal;
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  io.stderr.write(`crossmesh: internal error [INTERNAL_E_BUG]\n${detail}\n`);
  return EXIT.internal;
}
