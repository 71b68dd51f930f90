/**
 * Structural checking of `unknown` input against a shape description. It never throws on any
 * input (null, arrays, functions, cycles, throwing getters, revoked proxies, huge strings): every
 * problem becomes a {@link Problem}, and the result is a clean plain-data copy holding only the
 * parts that passed, so the semantic checks can still run on the rest and report everything in
 * one pass. Array items that fail stay as `undefined` holes, so indices in later paths stay true.
 */
import { describeValue as describeAny, type Problem } from '../../errors/index.js';
import {
  describeShape,
  type Field,
  MAX_ITEMS,
  MAX_STRING,
  type ObjectShape,
  type Shape,
  type UnionShape,
} from './shape.js';

/** `T` after structural checking: every field may be missing, every list item may be a hole. */
export type Loose<T> = T extends readonly (infer E)[]
  ? readonly (Loose<E> | undefined)[]
  : T extends object
    ? { readonly [K in keyof T]?: Loose<T[K]> }
    : T;

/** Appends `key` to a model path: `a.b` for simple keys, `a["odd key"]` otherwise. */
export function childPath(path: string, key: string): string {
  if (isSimpleKey(key)) return path === '' ? key : `${path}.${key}`;
  const shown = key.length > 64 ? `${key.slice(0, 61)}...` : key;
  return `${path}[${JSON.stringify(shown)}]`;
}

// Field names repeat across a mesh (ports, protocol, ...): remember which are simple.
const simpleKeys = new Map<string, boolean>();
function isSimpleKey(key: string): boolean {
  let simple = simpleKeys.get(key);
  if (simple === undefined) {
    simple = /^[A-Za-z0-9_-]+$/.test(key);
    if (simpleKeys.size < 10_000) simpleKeys.set(key, simple);
  }
  return simple;
}

/** Appends a list index to a model path. */
export function indexPath(path: string, index: number): string {
  return `${path}[${index}]`;
}

/** Describes a value for a message; never throws (a revoked proxy throws on every inspection). */
function describeValue(value: unknown): string {
  try {
    return describeAny(value);
  } catch {
    return 'an unreadable value';
  }
}

/** A value safe to keep in a problem (JSON-shaped, short). */
export function safeValue(value: unknown): unknown {
  if (typeof value === 'string') return value.length > 200 ? `${value.slice(0, 197)}...` : value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  if (typeof value === 'boolean' || value === null) return value;
  return describeValue(value);
}

type Kind = 'string' | 'number' | 'boolean' | 'null' | 'undefined' | 'array' | 'object' | 'other';

function kindOf(value: unknown): Kind {
  try {
    if (value === null) return 'null';
    if (Array.isArray(value)) return 'array';
    const t = typeof value;
    if (t === 'string' || t === 'number' || t === 'boolean' || t === 'undefined') return t;
    if (t === 'object' && Object.prototype.toString.call(value) === '[object Object]') return 'object';
    return 'other';
  } catch {
    // A revoked proxy throws on every inspection.
    return 'other';
  }
}

function wordFor(kind: Kind, value: unknown): string {
  switch (kind) {
    case 'array':
      return 'a list';
    case 'object':
      return 'an object';
    case 'null':
      return 'null';
    case 'undefined':
      return 'nothing';
    case 'other': {
      if (typeof value === 'function') return 'a function';
      if (typeof value !== 'object') return `a ${typeof value}`;
      try {
        return `a ${Object.prototype.toString.call(value).slice(8, -1)}`;
      } catch {
        return 'an unreadable object';
      }
    }
    default:
      return `${describeValue(value)}`;
  }
}

/** Returned by {@link read} when a property getter or proxy throws; the reason is in `lastReadError`. */
const UNREADABLE = Symbol('unreadable');
let lastReadError = '';

function read(container: object, key: string | number): unknown {
  try {
    return (container as Record<string | number, unknown>)[key];
  } catch (error) {
    lastReadError = error instanceof Error ? error.message : String(error);
    return UNREADABLE;
  }
}

function ownKeys(value: object): string[] | undefined {
  try {
    return Object.keys(value);
  } catch {
    return undefined;
  }
}

function lengthOf(value: readonly unknown[]): number | undefined {
  try {
    return value.length;
  } catch {
    return undefined;
  }
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, (previous[j - 1] ?? 0) + cost);
    }
    previous = current;
  }
  return previous[b.length] ?? 3;
}

/** ` (did you mean "x"?)` for the first allowed name within two edits of `key`, else `''`. */
export function suggestion(key: string, allowed: Iterable<string>): string {
  const lower = key.toLowerCase();
  let close: string | undefined;
  for (const a of allowed) {
    if (a.toLowerCase() === lower || editDistance(a, key) <= 2) {
      close = a;
      break;
    }
  }
  return close === undefined ? '' : ` (did you mean "${close}"?)`;
}

/** Sets an own property, even `__proto__` (which plain assignment would turn into a prototype change). */
function put(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') {
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  } else {
    target[key] = value;
  }
}

function typeProblem(shape: Shape, kind: Kind, value: unknown, path: string, problems: Problem[]): undefined {
  const allowed = describeShape(shape);
  problems.push({
    code: 'MESH_E_TYPE',
    path,
    message: `must be ${allowed}, got ${wordFor(kind, value)}`,
    value: safeValue(value),
    allowed,
  });
  return undefined;
}

/** Checks `value` against `shape`, appending problems; returns the clean copy, or `undefined` when unusable. */
export function checkShape(shape: Shape, value: unknown, path: string, problems: Problem[]): unknown {
  const kind = kindOf(value);
  switch (shape.type) {
    case 'string': {
      if (kind !== 'string') return typeProblem(shape, kind, value, path, problems);
      const text = value as string;
      const min = shape.minLength ?? 1;
      const max = shape.maxLength ?? MAX_STRING;
      if (text.length < min || text.length > max) {
        const allowed = min === 0 ? `at most ${max} characters` : `${min} to ${max} characters`;
        problems.push({
          code: text.length === 0 ? 'MESH_E_REQUIRED' : 'MESH_E_RANGE',
          path,
          message: text.length === 0 ? 'must not be empty' : `must be ${allowed}, got ${text.length}`,
          value: safeValue(text),
          allowed,
        });
        return undefined;
      }
      if (shape.format !== undefined && !(min === 0 && text === '')) {
        const detail = shape.format.check(text);
        if (detail !== undefined) {
          problems.push({
            code: shape.format.code,
            path,
            message: `must be ${shape.format.allowed}, got ${describeValue(text)}${detail === '' ? '' : `: ${detail}`}`,
            value: safeValue(text),
            allowed: shape.format.allowed,
          });
          return undefined;
        }
      }
      return text;
    }
    case 'number': {
      if (kind !== 'number' || !Number.isFinite(value))
        return typeProblem(shape, kind, value, path, problems);
      const n = value as number;
      const allowed = describeShape(shape);
      if (shape.integer && !Number.isInteger(n)) {
        problems.push({
          code: 'MESH_E_TYPE',
          path,
          message: `must be ${allowed}, got ${n}`,
          value: n,
          allowed,
        });
        return undefined;
      }
      if ((shape.min !== undefined && n < shape.min) || (shape.max !== undefined && n > shape.max)) {
        problems.push({
          code: 'MESH_E_RANGE',
          path,
          message: `must be ${allowed}, got ${n}`,
          value: n,
          allowed,
        });
        return undefined;
      }
      return n;
    }
    case 'boolean':
      return kind === 'boolean' ? value : typeProblem(shape, kind, value, path, problems);
    case 'enum': {
      if (kind !== 'string' && kind !== 'number') return typeProblem(shape, kind, value, path, problems);
      if (!shape.values.includes(value as string | number)) {
        const allowed = describeShape(shape);
        problems.push({
          code: 'MESH_E_ENUM',
          path,
          message: `must be ${allowed}, got ${describeValue(value)}`,
          value: safeValue(value),
          allowed,
        });
        return undefined;
      }
      return value;
    }
    case 'array':
    case 'tuple': {
      if (kind !== 'array') return typeProblem(shape, kind, value, path, problems);
      const list = value as readonly unknown[];
      const length = lengthOf(list);
      if (length === undefined) return typeProblem(shape, kind, value, path, problems);
      const min = shape.type === 'tuple' ? shape.items.length : (shape.minItems ?? 0);
      const max = shape.type === 'tuple' ? shape.items.length : (shape.maxItems ?? MAX_ITEMS);
      const allowed =
        length > max && shape.type === 'array' ? `a list of at most ${max}` : describeShape(shape);
      if (length < min || length > max) {
        problems.push({
          code: length === 0 ? 'MESH_E_REQUIRED' : 'MESH_E_RANGE',
          path,
          message: `must be ${allowed}, got ${length} item${length === 1 ? '' : 's'}`,
          value: safeValue(value),
          allowed,
        });
        // A tuple of the wrong length, or a list too long to check item by item (a sparse
        // `new Array(1e9)` must not hang validation), is not looked into.
        if (shape.type === 'tuple' || length > max) return undefined;
      }
      const out: unknown[] = [];
      for (let i = 0; i < length; i++) {
        const itemShape = shape.type === 'tuple' ? shape.items[i] : shape.items;
        if (itemShape === undefined) break;
        out.push(readAndCheck(itemShape, list, i, indexPath(path, i), problems, true));
      }
      return out;
    }
    case 'record': {
      if (kind !== 'object') return typeProblem(shape, kind, value, path, problems);
      const keys = ownKeys(value as object);
      if (keys === undefined) return typeProblem(shape, kind, value, path, problems);
      if (keys.length > MAX_ITEMS) {
        problems.push({
          code: 'MESH_E_RANGE',
          path,
          message: `must have at most ${MAX_ITEMS} entries, got ${keys.length}`,
          allowed: `at most ${MAX_ITEMS} entries`,
        });
        return undefined;
      }
      const tooFew = keys.length < (shape.minEntries ?? 0);
      if (tooFew) {
        problems.push({
          code: 'MESH_E_REQUIRED',
          path,
          message: `must have at least ${shape.minEntries} entr${shape.minEntries === 1 ? 'y' : 'ies'}`,
          value: safeValue(value),
          allowed: `at least ${shape.minEntries} named entr${shape.minEntries === 1 ? 'y' : 'ies'}`,
        });
      }
      const out: Record<string, unknown> = {};
      for (const key of keys) {
        const keyPath = childPath(path, key);
        const detail = key.length > MAX_STRING ? '' : shape.key.check(key);
        if (detail !== undefined) {
          problems.push({
            code: shape.key.code,
            path: keyPath,
            message: `name must be ${shape.key.allowed}, got ${describeValue(key)}`,
            value: safeValue(key),
            allowed: shape.key.allowed,
          });
        }
        // Entries with a bad name are still checked and kept, and entries that fail stay as
        // `undefined`, so references to them resolve and are not reported a second time.
        put(out, key, readAndCheck(shape.values, value as object, key, keyPath, problems, true));
      }
      return tooFew ? undefined : out;
    }
    case 'object':
      if (kind !== 'object') return typeProblem(shape, kind, value, path, problems);
      return checkObject(shape, value as object, path, problems, false);
    case 'union':
      if (kind !== 'object') return typeProblem(shape, kind, value, path, problems);
      return checkUnion(shape, value as object, path, problems);
  }
}

function readAndCheck(
  shape: Shape,
  container: object,
  key: string | number,
  path: string,
  problems: Problem[],
  required: boolean,
): unknown {
  const got = read(container, key);
  if (got === UNREADABLE) {
    problems.push({
      code: 'MESH_E_TYPE',
      path,
      message: `could not be read: ${lastReadError}`,
      allowed: describeShape(shape),
    });
    return undefined;
  }
  if (got === undefined) {
    if (required) {
      problems.push({
        code: 'MESH_E_REQUIRED',
        path,
        message: `is required: ${describeShape(shape)}`,
        allowed: describeShape(shape),
      });
    }
    return undefined;
  }
  return checkShape(shape, got, path, problems);
}

const fieldLists = new WeakMap<ObjectShape, readonly (readonly [string, Field])[]>();
function fieldsOf(shape: ObjectShape): readonly (readonly [string, Field])[] {
  let fields = fieldLists.get(shape);
  if (fields === undefined) {
    fields = Object.entries(shape.fields);
    fieldLists.set(shape, fields);
  }
  return fields;
}

function checkObject(
  shape: ObjectShape,
  value: object,
  path: string,
  problems: Problem[],
  discriminated: boolean,
): Record<string, unknown> | undefined {
  const keys = ownKeys(value);
  if (keys === undefined) {
    problems.push({ code: 'MESH_E_TYPE', path, message: 'could not be read', allowed: 'an object' });
    return undefined;
  }
  for (const key of keys) {
    if (!Object.hasOwn(shape.fields, key) && !(discriminated && key === 'kind')) {
      const allowed = [...(discriminated ? ['kind'] : []), ...Object.keys(shape.fields)];
      const given = read(value, key);
      problems.push({
        code: 'MESH_E_UNKNOWN_FIELD',
        path: childPath(path, key),
        message: `is not a field here${suggestion(key, allowed)}; allowed: ${allowed.join(', ')}`,
        value: safeValue(given === UNREADABLE ? undefined : given),
        allowed: allowed.join(', '),
      });
    }
  }
  // A field that was given but failed stays as an own `undefined` property, so the semantic checks
  // can tell "missing" (`!('f' in o)`) from "given but invalid" and do not report it twice.
  const out: Record<string, unknown> = {};
  for (const [field, description] of fieldsOf(shape)) {
    const got = read(value, field);
    const fieldPath = childPath(path, field);
    if (got === UNREADABLE) {
      problems.push({
        code: 'MESH_E_TYPE',
        path: fieldPath,
        message: `could not be read: ${lastReadError}`,
        allowed: describeShape(description.shape),
      });
      out[field] = undefined;
    } else if (got === undefined) {
      if (description.required === true) {
        const allowed = describeShape(description.shape);
        problems.push({
          code: 'MESH_E_REQUIRED',
          path: fieldPath,
          message: `is required: ${allowed}`,
          allowed,
        });
      }
    } else {
      out[field] = checkShape(description.shape, got, fieldPath, problems);
    }
  }
  return out;
}

function checkUnion(shape: UnionShape, value: object, path: string, problems: Problem[]): unknown {
  const kinds = Object.keys(shape.variants);
  const allowed = `one of ${kinds.map((k) => JSON.stringify(k)).join(', ')}`;
  const got = read(value, 'kind');
  const kind = got === UNREADABLE ? undefined : got;
  if (kind === undefined) {
    problems.push({
      code: 'MESH_E_REQUIRED',
      path: childPath(path, 'kind'),
      message: `is required: ${allowed}`,
      allowed,
    });
    return undefined;
  }
  const variant =
    typeof kind === 'string' && Object.hasOwn(shape.variants, kind) ? shape.variants[kind] : undefined;
  if (variant === undefined) {
    problems.push({
      code: 'MESH_E_ENUM',
      path: childPath(path, 'kind'),
      message: `must be ${allowed}, got ${describeValue(kind)}`,
      value: safeValue(kind),
      allowed,
    });
    return undefined;
  }
  const out = checkObject(variant, value, path, problems, true);
  return out === undefined ? undefined : { kind, ...out };
}
