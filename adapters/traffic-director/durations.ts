/**
 * Model durations in the two shapes Google APIs use. Rendered in the canonical form the server
 * writes back (proto3 JSON: 0, 3, 6 or 9 fractional digits), so a read-back compares equal.
 */
import { toMs } from '../../model/duration.js';
import type { Duration } from '../../model/types.js';

/** `google.protobuf.Duration` as proto3 JSON: `250ms` → `"0.250s"`, `2s` → `"2s"`. */
export function googleDuration(duration: Duration): string {
  const ms = toMs(duration);
  const seconds = Math.floor(ms / 1000);
  const millis = ms % 1000;
  return millis === 0 ? `${seconds}s` : `${seconds}.${String(millis).padStart(3, '0')}s`;
}

/** compute's Duration message: `{ seconds: "10" }`, with `nanos` only when non-zero. */
export function computeDuration(duration: Duration): { readonly seconds: string; readonly nanos?: number } {
  const ms = toMs(duration);
  const seconds = String(Math.floor(ms / 1000));
  const nanos = (ms % 1000) * 1_000_000;
  return nanos === 0 ? { seconds } : { seconds, nanos };
}

/** Whole seconds, rounded up, at least `min` (compute's `*Sec` integer fields). */
export function wholeSeconds(duration: Duration, min = 1): number {
  return Math.max(min, Math.ceil(toMs(duration) / 1000));
}
