import { type ErrorEntry, EXIT } from '../entry.js';

/** Codes raised by the `crossmesh` command line. */
export const CLI_CODES = {
  CLI_E_USAGE: {
    exit: EXIT.usage,
    title: 'The command line is not valid.',
    help: 'Run the command with --help to see its arguments and options.',
  },
  CLI_E_FILE: {
    exit: EXIT.invalid,
    title: 'A file named on the command line cannot be read or parsed.',
    help: 'Check the path and the file syntax (TypeScript, JSON or YAML).',
  },
  INTERNAL_E_BUG: {
    exit: EXIT.internal,
    title: 'crossmesh hit an unexpected internal error.',
    help: 'This is a bug: report it with the command and the mesh that caused it.',
  },
} as const satisfies Record<string, ErrorEntry>;
