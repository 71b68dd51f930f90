/**
 * JSON helpers shared by the renderer and the provider's projection, so both sides of a diff are
 * normalized by the same code.
 */
import type { Json } from '../plan/types.js';

/** A JSON object. */
export type JsonObject = { readonly [key: string]: Json };

/** Whether a value is a plain JSON object. */
export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * Drops proto3 default values (`false`, `0`, `""`, empty lists and maps, `null`) recursively.
 * networkservices and networksecurity speak proto3 JSON: a default value is the same as unset and
 * the server never echoes it, so the desired spec and the live projection both go through this.
 */
export function pruneDefaults(value: Json | undefined): Json | undefined {
  if (value === null || value === undefined || value === false || value === 0 || value === '')
    return undefined;
  if (Array.isArray(value)) {
    // Items keep their position: an empty item inside a list is still an item.
    const items = value.map((item) => pruneDefaults(item) ?? (isObject(item) ? {} : item));
    return items.length === 0 ? undefined : items;
  }
  if (isObject(value)) {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value).sort()) {
      const pruned = pruneDefaults(value[key]);
      if (pruned !== undefined) out[key] = pruned;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

/** Deep copy with object keys sorted (deterministic output, stable diffs); drops `undefined`. */
export function sortKeys(value: Json | undefined): Json | undefined {
  if (Array.isArray(value)) return value.map((item) => sortKeys(item) ?? null);
  if (isObject(value)) {
    const out: Record<string, Json> = {};
    for (const key of Object.keys(value).sort()) {
      const sorted = sortKeys(value[key]);
      if (sorted !== undefined) out[key] = sorted;
    }
    return out;
  }
  return value;
}
