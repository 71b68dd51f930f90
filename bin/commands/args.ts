/**
 * Argument handling shared by `validate` and `render`: node:util parseArgs errors become
 * `CLI_E_USAGE` naming the allowed options.
 */
import { MeshError } from '../../errors/index.js';

/**
 * Runs a strict `parseArgs` call and turns its errors (unknown option, missing value) into
 * `CLI_E_USAGE` naming the allowed options.
 */
export function parseStrict<T>(command: string, allowed: readonly string[], parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const list = [...allowed, '--help'].join(', ');
    // The path is the command, so the CLI prints `crossmesh: validate: Unknown option ...`.
    throw new MeshError('CLI_E_USAGE', `${reason}; allowed options: ${list}`, {
      path: command,
      allowed: list,
    });
  }
}

/** The one positional argument (the mesh file), or `CLI_E_USAGE`. */
export function onePositional(command: string, positionals: readonly string[], what: string): string {
  const [first, ...rest] = positionals;
  if (first === undefined || rest.length > 0) {
    throw new MeshError(
      'CLI_E_USAGE',
      `expected exactly one ${what}, got ${positionals.length === 0 ? 'none' : positionals.map((p) => JSON.stringify(p)).join(' ')}; see crossmesh ${command} --help`,
      { path: command, allowed: `one ${what}` },
    );
  }
  return first;
}
