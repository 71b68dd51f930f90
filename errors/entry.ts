/** One entry of the error catalogue. */
export interface ErrorEntry {
  /** Process exit code the CLI returns for this error. */
  readonly exit: number;
  /** One line: what went wrong. */
  readonly title: string;
  /** What the user should do about it. */
  readonly help: string;
}

/**
 * Exit codes, documented in `docs/errors.md`:
 * 0 success, 1 invalid mesh or config, 2 usage, 3 target cannot express the mesh,
 * 4 remote API failure, 5 proxy configuration rejected, 6 plan has changes (`plan --detailed-exitcode`),
 * 70 internal error.
 */
export const EXIT = {
  ok: 0,
  invalid: 1,
  usage: 2,
  unsupported: 3,
  remote: 4,
  proxyConfig: 5,
  changes: 6,
  internal: 70,
} as const;
