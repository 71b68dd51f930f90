/**
 * Stage 1 of loading: Envoy's strict proto3-JSON reading, done by walking the descriptors so every
 * problem names its field path (`@bufbuild/protobuf`'s `fromJson` rejects the same things but says
 * only "key is unknown" with no path). While walking it also applies Envoy's leniencies, so the
 * JSON handed to `fromJson` afterwards is plain proto3 JSON:
 * - enum names are matched case-insensitively and rewritten to their canonical spelling;
 * - a single object where a list is expected becomes a one-element list;
 * - `null` means "not set".
 * Everything else is strict: unknown fields, wrong JSON types, durations that are not strings,
 * oneof members set together, `@type` URLs that resolve to no known message.
 */
import { type DescEnum, type DescField, type DescMessage, ScalarType } from '@bufbuild/protobuf';
import type { Problem } from '../../errors/index.js';
import { envoyRegistry, TYPE_URL_PREFIX, typeNameOf } from './descriptors.js';

/** JSON as parsed from YAML or JSON text. */
export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** Result of {@link readStrict}: the normalized JSON and every problem found, in document order. */
export interface StrictResult {
  /** Normalized proto3 JSON (valid for `fromJson` when `problems` is empty). */
  readonly json: Json;
  /** Problems found; an unresolvable `@type` is PROXY_E_UNSUPPORTED and its subtree is dropped. */
  readonly problems: Problem[];
}

/** Reads `value` as a `desc` message, strictly; `path` prefixes every reported path. */
export function readStrict(desc: DescMessage, value: unknown, path: string): StrictResult {
  const problems: Problem[] = [];
  const json = readMessage(desc, value, path, problems);
  return { json: json === undefined ? {} : json, problems };
}

/** Joins a path and a field name. */
export function joinPath(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

/** Path of a map entry; keys with dots (extension names) are quoted so the path stays readable. */
export function mapKeyPath(path: string, key: string): string {
  return `${path}[${JSON.stringify(key)}]`;
}

const DURATION = /^-?\d+(\.\d{1,9})?s$/;
const MAX_DURATION_SECONDS = 315_576_000_000;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/;
const BASE64 = /^[A-Za-z0-9+/\-_]*={0,2}$/;
const WRAPPERS: Readonly<Record<string, ScalarType>> = {
  'google.protobuf.DoubleValue': ScalarType.DOUBLE,
  'google.protobuf.FloatValue': ScalarType.FLOAT,
  'google.protobuf.Int64Value': ScalarType.INT64,
  'google.protobuf.UInt64Value': ScalarType.UINT64,
  'google.protobuf.Int32Value': ScalarType.INT32,
  'google.protobuf.UInt32Value': ScalarType.UINT32,
  'google.protobuf.BoolValue': ScalarType.BOOL,
  'google.protobuf.StringValue': ScalarType.STRING,
  'google.protobuf.BytesValue': ScalarType.BYTES,
};

/** A plain JSON object: not a list, and not a Set, Date or byte array a YAML tag can produce. */
function isObject(v: unknown): v is Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Why `value` is not plain JSON (what Struct and Value can hold), or undefined when it is. Walks
 * with an explicit stack: these values nest freely.
 */
function notJson(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null || typeof v === 'boolean') continue;
    if (typeof v === 'number') {
      if (!Number.isFinite(v)) return `${v} is not a JSON number`;
    } else if (typeof v === 'string') {
      if (LONE_SURROGATE.test(v)) return 'a string holds an unpaired UTF-16 surrogate (not valid UTF-8)';
    } else if (Array.isArray(v)) {
      stack.push(...v);
    } else if (isObject(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (LONE_SURROGATE.test(k)) return 'a key holds an unpaired UTF-16 surrogate (not valid UTF-8)';
        stack.push(x);
      }
    } else {
      return `${describe(v)} is not JSON (a YAML tag such as !!binary, !!set or a timestamp?)`;
    }
  }
  return undefined;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') {
    const kind = (v as object).constructor?.name;
    return isObject(v) || kind === undefined ? 'an object' : `a ${kind} (from a YAML tag?)`;
  }
  if (typeof v === 'string') return `the string ${JSON.stringify(v.length > 60 ? `${v.slice(0, 60)}…` : v)}`;
  return `${typeof v} ${String(v)}`;
}

/** A copy safe to keep in a Problem (JSON-safe, bounded). */
function sample(v: unknown): unknown {
  if (typeof v === 'string') return v.length > 200 ? `${v.slice(0, 200)}…` : v;
  if (typeof v === 'number' || typeof v === 'boolean' || v === null) return v;
  return describe(v);
}

function invalid(problems: Problem[], path: string, message: string, value: unknown, allowed: string): void {
  problems.push({
    code: 'PROXY_E_INVALID',
    path,
    message: `${path || '(root)'}: ${message}`,
    value: sample(value),
    allowed,
  });
}

function readMessage(
  desc: DescMessage,
  value: unknown,
  path: string,
  problems: Problem[],
  owner?: AnyOwner,
): Json | undefined {
  const wkt = readWellKnown(desc, value, path, problems, owner);
  if (wkt !== NOT_WKT) return wkt;
  if (!isObject(value)) {
    invalid(
      problems,
      path,
      `expected an object (${desc.typeName}), got ${describe(value)}`,
      value,
      'an object',
    );
    return undefined;
  }
  const out: { [key: string]: Json } = {};
  const seenField = new Map<DescField, string>();
  const seenOneof = new Map<string, string>();
  for (const [key, raw] of Object.entries(value)) {
    const fieldPath = joinPath(path, key);
    const field = fieldsByKey(desc).get(key);
    if (field === undefined) {
      const hint = suggest(
        key,
        desc.fields.map((f) => f.name),
      );
      problems.push({
        code: 'PROXY_E_UNKNOWN_FIELD',
        path: fieldPath,
        message: `${fieldPath}: unknown field "${key}" in ${desc.typeName}${hint === undefined ? '' : ` (did you mean "${hint}"?)`}`,
        value: key,
        allowed: `a field of ${desc.typeName}`,
      });
      continue;
    }
    if (raw === null && field.message?.typeName !== 'google.protobuf.Value') continue;
    const twin = seenField.get(field);
    if (twin !== undefined) {
      invalid(
        problems,
        fieldPath,
        `field ${field.name} is given twice (as "${twin}" and "${key}")`,
        key,
        'once',
      );
      continue;
    }
    seenField.set(field, key);
    if (field.oneof !== undefined) {
      const other = seenOneof.get(field.oneof.name);
      if (other !== undefined) {
        problems.push({
          code: 'PROXY_E_INVALID',
          path: fieldPath,
          message: `${fieldPath}: "${other}" and "${key}" are both set but belong to the same oneof ${field.oneof.name} of ${desc.typeName}; set only one`,
          value: key,
          allowed: `one of ${field.oneof.fields.map((f) => f.name).join(', ')}`,
        });
        continue;
      }
      seenOneof.set(field.oneof.name, key);
    }
    // An unknown typed config is reported at the element holding it, with that element's name.
    const owner: AnyOwner | undefined =
      field.name === 'typed_config'
        ? { path, name: typeof value['name'] === 'string' ? value['name'] : undefined }
        : undefined;
    const read = readField(field, raw, fieldPath, problems, owner);
    if (read !== undefined) out[key] = read;
  }
  return out;
}

/** Where an Any sits, for messages: the element that holds it and that element's name. */
interface AnyOwner {
  readonly path: string;
  readonly name: string | undefined;
}

const keyMaps = new WeakMap<DescMessage, ReadonlyMap<string, DescField>>();

/** A message's fields by proto name and by JSON name (proto3 JSON accepts both), built once per type. */
function fieldsByKey(desc: DescMessage): ReadonlyMap<string, DescField> {
  let map = keyMaps.get(desc);
  if (map === undefined) {
    const m = new Map<string, DescField>();
    for (const f of desc.fields) {
      m.set(f.jsonName, f);
      m.set(f.name, f);
    }
    map = m;
    keyMaps.set(desc, map);
  }
  return map;
}

function readField(
  field: DescField,
  raw: unknown,
  path: string,
  problems: Problem[],
  owner: AnyOwner | undefined,
): Json | undefined {
  switch (field.fieldKind) {
    case 'scalar':
      return readScalar(field.scalar, raw, path, problems);
    case 'enum':
      return readEnum(field.enum, raw, path, problems);
    case 'message':
      return readMessage(field.message, raw, path, problems, owner);
    case 'list': {
      // Envoy accepts a single value where a list is expected.
      const items = Array.isArray(raw) ? raw : [raw];
      const out: Json[] = [];
      items.forEach((item, i) => {
        const itemPath = `${path}[${i}]`;
        if (item === null) {
          invalid(problems, itemPath, 'a list item cannot be null', item, 'a value');
          return;
        }
        const read =
          field.listKind === 'scalar'
            ? readScalar(field.scalar, item, itemPath, problems)
            : field.listKind === 'enum'
              ? readEnum(field.enum, item, itemPath, problems)
              : readMessage(field.message, item, itemPath, problems);
        if (read !== undefined) out.push(read);
      });
      return out;
    }
    case 'map': {
      if (!isObject(raw)) {
        invalid(problems, path, `expected an object (a map), got ${describe(raw)}`, raw, 'an object');
        return undefined;
      }
      const out: { [key: string]: Json } = {};
      for (const [k, v] of Object.entries(raw)) {
        const entryPath = mapKeyPath(path, k);
        checkMapKey(field.mapKey, k, entryPath, problems);
        if (v === null) continue;
        const read =
          field.mapKind === 'scalar'
            ? readScalar(field.scalar, v, entryPath, problems)
            : field.mapKind === 'enum'
              ? readEnum(field.enum, v, entryPath, problems)
              : readMessage(field.message, v, entryPath, problems, { path: entryPath, name: k });
        if (read !== undefined) out[k] = read;
      }
      return out;
    }
  }
}

function checkMapKey(type: ScalarType, key: string, path: string, problems: Problem[]): void {
  if (type === ScalarType.STRING) return;
  if (type === ScalarType.BOOL) {
    if (key !== 'true' && key !== 'false')
      invalid(problems, path, 'map key must be true or false', key, 'a bool');
    return;
  }
  if (!/^-?\d+$/.test(key)) invalid(problems, path, 'map key must be an integer', key, 'an integer');
}

function readEnum(desc: DescEnum, raw: unknown, path: string, problems: Problem[]): Json | undefined {
  const names = desc.values.map((v) => v.name);
  if (typeof raw === 'string') {
    // Envoy reads enum names case-insensitively (`strict_dns`, `tlsv1_3`).
    const upper = raw.toUpperCase();
    const match = desc.values.find((v) => v.name.toUpperCase() === upper);
    if (match !== undefined) return match.name;
  } else if (typeof raw === 'number' && Number.isInteger(raw)) {
    const match = desc.values.find((v) => v.number === raw);
    if (match !== undefined) return match.name;
  }
  invalid(
    problems,
    path,
    `${describe(raw)} is not a value of ${desc.typeName}; allowed: ${names.join(', ')}`,
    raw,
    names.join(', '),
  );
  return undefined;
}

const INT_RANGES: Partial<Record<ScalarType, readonly [bigint, bigint]>> = {
  [ScalarType.INT32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.SINT32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.SFIXED32]: [-(2n ** 31n), 2n ** 31n - 1n],
  [ScalarType.UINT32]: [0n, 2n ** 32n - 1n],
  [ScalarType.FIXED32]: [0n, 2n ** 32n - 1n],
  [ScalarType.INT64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.SINT64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.SFIXED64]: [-(2n ** 63n), 2n ** 63n - 1n],
  [ScalarType.UINT64]: [0n, 2n ** 64n - 1n],
  [ScalarType.FIXED64]: [0n, 2n ** 64n - 1n],
};

function readScalar(type: ScalarType, raw: unknown, path: string, problems: Problem[]): Json | undefined {
  switch (type) {
    case ScalarType.STRING:
      if (typeof raw === 'string' && !LONE_SURROGATE.test(raw)) return raw;
      if (typeof raw === 'string') {
        invalid(
          problems,
          path,
          'the string holds an unpaired UTF-16 surrogate (not valid UTF-8)',
          undefined,
          'valid Unicode',
        );
        return undefined;
      }
      invalid(problems, path, `expected a string, got ${describe(raw)} (quote it in YAML)`, raw, 'a string');
      return undefined;
    case ScalarType.BOOL:
      if (typeof raw === 'boolean') return raw;
      invalid(problems, path, `expected true or false, got ${describe(raw)}`, raw, 'true or false');
      return undefined;
    case ScalarType.BYTES:
      if (typeof raw === 'string' && BASE64.test(raw.replace(/\s/g, ''))) return raw;
      invalid(problems, path, `expected base64 bytes, got ${describe(raw)}`, raw, 'a base64 string');
      return undefined;
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT: {
      if (typeof raw === 'number' && Number.isFinite(raw)) return raw;
      if (raw === 'NaN' || raw === 'Infinity' || raw === '-Infinity') return raw;
      if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
      invalid(problems, path, `expected a number, got ${describe(raw)}`, raw, 'a number');
      return undefined;
    }
    default: {
      const range = INT_RANGES[type];
      if (range === undefined) throw new RangeError(`unhandled scalar type ${type}`);
      let n: bigint | undefined;
      if (typeof raw === 'number' && Number.isInteger(raw)) n = BigInt(raw);
      else if (typeof raw === 'string' && /^-?\d+$/.test(raw)) n = BigInt(raw);
      const allowed = `an integer from ${range[0]} to ${range[1]}`;
      if (n === undefined) {
        invalid(problems, path, `expected an integer, got ${describe(raw)}`, raw, allowed);
        return undefined;
      }
      if (n < range[0] || n > range[1]) {
        invalid(problems, path, `${n} is out of range; allowed: ${allowed}`, raw, allowed);
        return undefined;
      }
      return typeof raw === 'number' ? raw : String(n);
    }
  }
}

const NOT_WKT = Symbol('not a well-known type');

/** proto3 JSON forms of the well-known types; NOT_WKT for ordinary messages. */
function readWellKnown(
  desc: DescMessage,
  value: unknown,
  path: string,
  problems: Problem[],
  owner?: AnyOwner,
): Json | undefined | typeof NOT_WKT {
  const wrapped = WRAPPERS[desc.typeName];
  if (wrapped !== undefined) return readScalar(wrapped, value, path, problems);
  switch (desc.typeName) {
    case 'google.protobuf.Duration': {
      if (typeof value === 'string' && DURATION.test(value)) {
        if (Math.abs(Number.parseFloat(value)) <= MAX_DURATION_SECONDS) return value;
      }
      const hint = typeof value === 'number' ? ` (write "${value}s": durations are strings)` : '';
      invalid(
        problems,
        path,
        `expected a duration string like "5s" or "0.250s", got ${describe(value)}${hint}`,
        value,
        'a string of seconds with an s suffix, e.g. "1.500s"',
      );
      return undefined;
    }
    case 'google.protobuf.Timestamp':
      if (typeof value === 'string' && TIMESTAMP.test(value)) return value;
      invalid(
        problems,
        path,
        `expected an RFC 3339 timestamp, got ${describe(value)}`,
        value,
        'an RFC 3339 timestamp',
      );
      return undefined;
    case 'google.protobuf.FieldMask':
      if (typeof value === 'string') return value;
      invalid(problems, path, `expected a field mask string, got ${describe(value)}`, value, 'a string');
      return undefined;
    case 'google.protobuf.Struct':
    case 'google.protobuf.ListValue':
    case 'google.protobuf.Value': {
      const list = desc.typeName === 'google.protobuf.ListValue';
      if (desc.typeName !== 'google.protobuf.Value' && !(list ? Array.isArray(value) : isObject(value))) {
        const want = list ? 'a list' : 'an object';
        invalid(problems, path, `expected ${want}, got ${describe(value)}`, value, want);
        return undefined;
      }
      const why = notJson(value);
      if (why === undefined) return value as Json;
      invalid(problems, path, `must be plain JSON: ${why}`, undefined, 'JSON values');
      return undefined;
    }
    case 'google.protobuf.Empty':
      if (isObject(value) && Object.keys(value).length === 0) return {};
      invalid(problems, path, `expected {}, got ${describe(value)}`, value, '{}');
      return undefined;
    case 'google.protobuf.Any':
      return readAny(value, path, problems, owner ?? { path, name: undefined });
    default:
      return NOT_WKT;
  }
}

function readAny(value: unknown, path: string, problems: Problem[], owner: AnyOwner): Json | undefined {
  if (!isObject(value)) {
    invalid(
      problems,
      path,
      `expected a typed config object with "@type", got ${describe(value)}`,
      value,
      'an object',
    );
    return undefined;
  }
  const typeUrl = value['@type'];
  if (typeof typeUrl !== 'string' || typeUrl === '') {
    invalid(
      problems,
      joinPath(path, '@type'),
      `a typed config needs "@type": "${TYPE_URL_PREFIX}<message>"`,
      typeUrl,
      'a type URL',
    );
    return undefined;
  }
  const desc = envoyRegistry().getMessage(typeNameOf(typeUrl));
  if (desc === undefined) {
    const label = owner.name === undefined ? owner.path : `${owner.path} (${owner.name})`;
    problems.push({
      code: 'PROXY_E_UNSUPPORTED',
      path: owner.path,
      message: `${label}: typed config ${typeUrl} is not supported by the bundled proxy (it is not in the Envoy v3 API the proxy ships; contrib and alpha extensions are not supported)`,
      value: typeUrl,
      allowed: 'a type URL listed in docs/proxy-compatibility.md',
    });
    return undefined;
  }
  const { '@type': _type, ...rest } = value;
  if (TYPED_STRUCTS.has(desc.typeName)) return readTypedStruct(rest, path, problems, owner);
  if (WRAPPERS[desc.typeName] !== undefined || desc.typeName.startsWith('google.protobuf.')) {
    // Well-known types inside Any carry their JSON form in "value".
    const inner = readWellKnown(desc, rest['value'], joinPath(path, 'value'), problems);
    return inner === NOT_WKT || inner === undefined ? undefined : { '@type': typeUrl, value: inner };
  }
  const inner = readMessage(desc, rest, path, problems);
  return isObject(inner) ? { '@type': typeUrl, ...inner } : undefined;
}

/** Both spellings of TypedStruct: a type URL plus the config as a Struct. */
const TYPED_STRUCTS = new Set(['xds.type.v3.TypedStruct', 'udpa.type.v1.TypedStruct']);

/**
 * A TypedStruct is read as the typed config it describes (`{ "@type": type_url, ...value }`), as
 * Envoy converts it, so the rest of the loader and the runtime only ever see the real message.
 */
function readTypedStruct(
  fields: Record<string, unknown>,
  path: string,
  problems: Problem[],
  owner: AnyOwner,
): Json | undefined {
  for (const key of Object.keys(fields)) {
    if (key !== 'type_url' && key !== 'typeUrl' && key !== 'value') {
      problems.push({
        code: 'PROXY_E_UNKNOWN_FIELD',
        path: joinPath(path, key),
        message: `${joinPath(path, key)}: unknown field "${key}" in TypedStruct (fields: type_url, value)`,
        value: key,
        allowed: 'type_url, value',
      });
      return undefined;
    }
  }
  const typeUrl = fields['type_url'] ?? fields['typeUrl'];
  const value = fields['value'] ?? {};
  if (typeof typeUrl !== 'string' || !isObject(value)) {
    invalid(
      problems,
      path,
      'a TypedStruct needs a type_url string and a value object',
      undefined,
      'type_url and value',
    );
    return undefined;
  }
  return readAny({ ...value, '@type': typeUrl }, joinPath(path, 'value'), problems, owner);
}

/** The closest name by edit distance, when it is close enough to be a likely typo. */
function suggest(key: string, names: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(key.length / 4)) + 1;
  const snake = key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  for (const name of names) {
    const d = distance(snake, name);
    if (d < bestDistance) {
      best = name;
      bestDistance = d;
    }
  }
  return best;
}

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j] as number;
      row[j] = Math.min(
        (row[j] as number) + 1,
        (row[j - 1] as number) + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length] as number;
}
