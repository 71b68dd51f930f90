/**
 * The one error root for crossmesh. Every failure a user can see is a {@link MeshError} with a
 * stable `code` from the catalogue (`errors/catalog.ts`, documented in `docs/errors.md`), the
 * path of the offending field, and a message that says what was given and what is allowed.
 */
import { ERROR_CATALOG, type ErrorCode } from './catalog.js';

export type { ErrorCode } from './catalog.js';
export { ERROR_CATALOG } from './catalog.js';

const BRAND = Symbol.for('crossmesh.MeshError');

/** One problem found in user input: where it is, what was given and what is allowed. */
export interface Problem {
  /** Stable code from the catalogue, e.g. `MESH_E_WEIGHTS_SUM`. */
  readonly code: ErrorCode;
  /** Dotted path to the field, e.g. `services.catalog.routes[1].destinations[0].weight`; `''` for the root. */
  readonly path: string;
  /** Human message; already says what was given and what is allowed. */
  readonly message: string;
  /** The value that was given, when there is one (kept JSON-safe). */
  readonly value?: unknown;
  /** What is allowed, in words (e.g. `an integer between 0 and 100`). */
  readonly allowed?: string;
}

/** Options for {@link MeshError}. */
export interface MeshErrorOptions {
  /** Dotted path to the offending field. @default - the root (`''`) */
  readonly path?: string;
  /** The value given. @default - no value recorded */
  readonly value?: unknown;
  /** What is allowed. @default - not stated separately */
  readonly allowed?: string;
  /** All problems, when one error reports several (validation gathers them in one pass). @default - this error alone */
  readonly problems?: readonly Problem[];
  /** Underlying cause. @default - none */
  readonly cause?: unknown;
}

/**
 * The root of every crossmesh error. `instanceof MeshError` works across duplicated installs of
 * the package (checked through a global symbol, as undici does).
 */
export class MeshError extends Error {
  /** Stable code from the catalogue. */
  readonly code: ErrorCode;
  /** Dotted path to the offending field; `''` for the root. */
  readonly path: string;
  /** The value that was given, when there is one. */
  readonly value?: unknown;
  /** What is allowed. */
  readonly allowed?: string;
  /** Every problem this error reports (at least itself). */
  readonly problems: readonly Problem[];

  constructor(code: ErrorCode, message: string, options: MeshErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'MeshError';
    this.code = code;
    this.path = options.path ?? '';
    if (options.value !== undefined) this.value = options.value;
    if (options.allowed !== undefined) this.allowed = options.allowed;
    this.problems = options.problems ?? [
      {
        code,
        path: this.path,
        message,
        ...(options.value === undefined ? {} : { value: options.value }),
        ...(options.allowed === undefined ? {} : { allowed: options.allowed }),
      },
    ];
    Object.defineProperty(this, BRAND, { value: true });
  }

  static override [Symbol.hasInstance](candidate: unknown): boolean {
    return typeof candidate === 'object' && candidate !== null && BRAND in candidate;
  }

  /** The process exit code the CLI uses for this error's code. */
  get exitCode(): number {
    return ERROR_CATALOG[this.code]?.exit ?? 70;
  }

  /** Builds one error from a non-empty list of problems (the first problem's code leads). */
  static fromProblems(problems: readonly Problem[], headline?: string): MeshError {
    const [first] = problems;
    if (first === undefined) throw new RangeError('MeshError.fromProblems needs at least one problem');
    const message =
      headline ??
      (problems.length === 1
        ? formatProblem(first)
        : `${problems.length} problems:\n${problems.map((p) => `  - ${formatProblem(p)}`).join('\n')}`);
    return new MeshError(first.code, message, {
      path: first.path,
      problems,
      ...(first.value === undefined ? {} : { value: first.value }),
      ...(first.allowed === undefined ? {} : { allowed: first.allowed }),
    });
  }
}

/** Formats a problem path-first, the way the CLI prints it: `path: message [CODE]`. */
export function formatProblem(problem: Problem): string {
  return `${problem.path === '' ? '(root)' : problem.path}: ${problem.message} [${problem.code}]`;
}

/** Renders a value for an error message: short, JSON-like, never throws. */
export function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (typeof value === 'string')
    return JSON.stringify(value.length > 80 ? `${value.slice(0, 77)}...` : value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (typeof value === 'bigint') return `${value}n`;
  if (Array.isArray(value)) return `an array of ${value.length}`;
  if (typeof value === 'function') return 'a function';
  try {
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
  } catch {
    return 'an object';
  }
}
