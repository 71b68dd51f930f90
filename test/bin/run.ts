/**
 * Runs the real CLI (`node bin/crossmesh.js`) as a child process with CROSSMESH_DEV=1, so the
 * TypeScript sources run through tsx without a build. Shared by the CLI tests; not a test file.
 */
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The repository root. */
export const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What a CLI run printed and returned. */
export interface CliResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `crossmesh <args>` from the repository root. */
export function crossmesh(...args: string[]): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/crossmesh.js', ...args],
      { cwd: ROOT, env: { ...process.env, CROSSMESH_DEV: '1' }, timeout: 60_000 },
      (error, stdout, stderr) => {
        const code = error === null ? 0 : typeof error.code === 'number' ? error.code : 1;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
