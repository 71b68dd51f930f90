/**
 * Helpers that turn canonical proto3-JSON values from a loaded config (see `envoy.ts`) into the
 * plain numbers the runtime uses. The loader has already validated the syntax, so these only
 * convert; they still refuse garbage so a hand-built config cannot smuggle NaN into a timer.
 */

const DURATION = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/;

/**
 * Milliseconds in a proto3-JSON Duration (`"1.500s"` → 1500, `"0.000250s"` → 0.25).
 * `undefined` gives `fallbackMs`, so callers write `parseDuration(c.connect_timeout, 5000)`.
 */
export function parseDuration(value: string | undefined, fallbackMs: number): number;
export function parseDuration(value: string | undefined): number | undefined;
export function parseDuration(value: string | undefined, fallbackMs?: number): number | undefined {
  if (value === undefined) return fallbackMs;
  const m = DURATION.exec(value);
  if (m === null) throw new RangeError(`not a proto3 JSON duration: ${JSON.stringify(value)}`);
  const seconds = Number(m[2]);
  const nanos = m[3] === undefined ? 0 : Number(m[3].padEnd(9, '0'));
  const ms = seconds * 1000 + nanos / 1e6;
  return m[1] === undefined ? ms : -ms;
}

/** A 64-bit integer from proto3 JSON (a string) as a number; `undefined` gives `fallback`. */
export function parseInt64(value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new RangeError(`not a safe 64-bit integer: ${JSON.stringify(value)}`);
  return n;
}
