/** Small Envoy JSON builders shared by the resource renderers. */
import type { Duration } from '../../../model/types.js';

/** A plain JSON object, the only shape the renderer emits. */
export type Json = { [key: string]: JsonValue };
/** Any JSON value. */
export type JsonValue = string | number | boolean | null | Json | JsonValue[];

const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;
const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A model duration (`250ms`, `2s`, `1m`) as a proto3 JSON duration (`"0.250s"`). Computed in
 * integer milliseconds so `0.1s`-style values never pick up floating-point noise.
 */
export function envoyDuration(duration: Duration): string {
  const match = DURATION.exec(duration);
  if (match === null) throw new RangeError(`not a canonical duration: ${duration}`);
  const ms = Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1000));
  const seconds = Math.floor(ms / 1000);
  const rest = ms % 1000;
  return rest === 0 ? `${seconds}s` : `${seconds}.${String(rest).padStart(3, '0')}s`;
}

/** A duration in milliseconds (for comparisons, e.g. timeouts vs intervals). */
export function durationMs(duration: Duration): number {
  const match = DURATION.exec(duration);
  if (match === null) throw new RangeError(`not a canonical duration: ${duration}`);
  return Math.round(Number(match[1]) * (UNIT_MS[match[2] ?? 's'] ?? 1000));
}

/**
 * A percentage (0-100, fractions allowed) as an Envoy FractionalPercent. MILLION keeps four
 * decimals of the model's percent exact; HUNDRED is used when the percent is whole, which is
 * what people write and read in dumps.
 */
export function fractionalPercent(percent: number): Json {
  if (Number.isInteger(percent)) return { numerator: percent, denominator: 'HUNDRED' };
  return { numerator: Math.round(percent * 10_000), denominator: 'MILLION' };
}

/** A typed extension config: `{ name, typed_config: { '@type': ..., ...config } }`. */
export function typed(name: string, type: string, config: Json = {}): Json {
  return { name, typed_config: { '@type': `type.googleapis.com/${type}`, ...config } };
}

/** Config source of every dynamic resource: the ADS stream, xDS v3. */
export function adsSource(): Json {
  return { ads: {}, resource_api_version: 'V3' };
}

/** A socket address. */
export function socketAddress(address: string, port: number): Json {
  return { socket_address: { address, port_value: port } };
}

/**
 * Deep copy with object keys sorted, so rendering twice gives byte-identical JSON and snapshot
 * versions (hashes of that JSON) change only when the configuration does. Arrays keep their
 * order: order is meaning in Envoy (routes, filters).
 */
export function sortKeys<T extends JsonValue>(value: T): T {
  if (Array.isArray(value)) return value.map((v) => sortKeys(v)) as T;
  if (value !== null && typeof value === 'object') {
    const out: Json = {};
    for (const key of Object.keys(value).sort()) out[key] = sortKeys((value as Json)[key] as JsonValue);
    return out as T;
  }
  return value;
}
