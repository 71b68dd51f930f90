/**
 * The error catalogue: every code crossmesh can raise, its CLI exit code and its documentation.
 * Each area keeps its codes in `errors/codes/<area>.ts`; `docs/errors.md` is generated from this
 * table and a test fails when the two disagree.
 */
import { CLI_CODES } from './codes/cli.js';
import { LOCAL_CODES } from './codes/local.js';
import { MODEL_CODES } from './codes/model.js';
import { PROXY_CODES } from './codes/proxy.js';
import { TARGET_CODES } from './codes/target.js';
import type { ErrorEntry } from './entry.js';

export type { ErrorEntry } from './entry.js';

/** Every code, by name. */
export const ERROR_CATALOG = {
  ...CLI_CODES,
  ...MODEL_CODES,
  ...TARGET_CODES,
  ...PROXY_CODES,
  ...LOCAL_CODES,
} as const satisfies Record<string, ErrorEntry>;

/** A stable error code. */
export type ErrorCode = keyof typeof ERROR_CATALOG;
