/**
 * Durations as the model writes them: whole numbers with a unit, `250ms`, `2s`, `1m`, `1h`, or a
 * combination in decreasing unit order (`1m30s`, `1h15m`). Whole numbers only, so every duration
 * is an exact number of milliseconds and the canonical form (the largest exact unit) is unique:
 * `1m30s` and `90000ms` both become `90s`.
 */
import { MeshError } from '../errors/index.js';
import type { Duration } from './types.js';

/** The longest duration the model accepts: one year (`8760h`). */
export const MAX_DURATION_MS = 8760 * 3_600_000;

/** Grammar of a duration (also published in the JSON Schema). `m(?!s)` keeps `1ms` from reading as minutes. */
export const DURATION_PATTERN = '^(?!$)(?:([0-9]+)h)?(?:([0-9]+)m(?!s))?(?:([0-9]+)s)?(?:([0-9]+)ms)?$';

const DURATION_RE = new RegExp(DURATION_PATTERN);
const UNITS: readonly (readonly [string, number])[] = [
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
  ['ms', 1],
];

/** What a duration may look like, in words (used in error messages). */
export const DURATION_ALLOWED =
  'a whole number with a unit (ms, s, m, h), e.g. 250ms, 2s, 1m30s, at most 8760h';

/**
 * Parses a duration to milliseconds. Returns `undefined` when the text is not a duration or
 * exceeds {@link MAX_DURATION_MS}; callers turn that into a `MESH_E_DURATION` problem.
 */
export function parseDuration(text: string): number | undefined {
  if (text.length > 64) return undefined;
  const groups = DURATION_RE.exec(text);
  if (groups === null) return undefined;
  let total = 0;
  for (const [index, [, factor]] of UNITS.entries()) {
    const digits = groups[index + 1];
    if (digits !== undefined) total += Number(digits) * factor;
  }
  return Number.isSafeInteger(total) && total <= MAX_DURATION_MS ? total : undefined;
}

/** Formats milliseconds in the largest unit that divides them exactly (`90000` → `90s`, `0` → `0s`). */
export function formatDuration(ms: number): Duration {
  if (ms === 0) return '0s';
  for (const [unit, factor] of UNITS) {
    if (ms % factor === 0) return `${ms / factor}${unit}`;
  }
  // Unreachable for whole milliseconds; the model never produces fractions.
  return `${ms}ms`;
}

/** Milliseconds of a duration (renderers call this on validated meshes). Throws `MESH_E_DURATION` otherwise. */
export function toMs(duration: Duration): number {
  const ms = parseDuration(duration);
  if (ms === undefined) {
    throw new MeshError('MESH_E_DURATION', `must be ${DURATION_ALLOWED}, got ${JSON.stringify(duration)}`, {
      value: duration,
      allowed: DURATION_ALLOWED,
    });
  }
  return ms;
}

/** The canonical spelling of a duration, or `undefined` when it does not parse. */
export function normalizeDuration(text: string): Duration | undefined {
  const ms = parseDuration(text);
  return ms === undefined ? undefined : formatDuration(ms);
}
