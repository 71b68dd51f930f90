/** The shape every `crossmesh` sub-command implements (one file each in `bin/commands/`). */
export interface Command {
  /** One line for `crossmesh --help`. */
  readonly summary: string;
  /** Full `--help` text: usage, arguments, options, examples, exit codes. */
  readonly help: string;
  /** Runs the command; resolves to the process exit code. Throws MeshError for user errors. */
  run(argv: readonly string[], io: CommandIO): Promise<number>;
}

/** Where a command writes; tests pass their own. */
export interface CommandIO {
  /** Normal output. */
  readonly stdout: NodeJS.WritableStream;
  /** Diagnostics, warnings and progress. */
  readonly stderr: NodeJS.WritableStream;
}
