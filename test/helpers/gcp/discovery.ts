/**
 * A generic validator for Google discovery-document schemas, used by the GCP stand-in to reject
 * every request that the real API would reject for its shape: unknown fields, wrong JSON types,
 * values outside an enum, malformed durations, missing required fields (discovery documents mark
 * them in the description: "Required. ..." or "This field is required"), path parameters that do
 * not match their pattern and unknown query parameters.
 *
 * The compute schema (test/helpers/gcp/compute-schema.ts) is written in the same schema dialect,
 * so one validator serves networkservices, networksecurity and compute.
 */
import { readFileSync } from 'node:fs';

/** A discovery-document schema node. */
export interface DiscoverySchema {
  readonly id?: string;
  readonly type?: string;
  readonly format?: string;
  readonly $ref?: string;
  readonly description?: string;
  readonly readOnly?: boolean;
  readonly enum?: readonly string[];
  readonly items?: DiscoverySchema;
  readonly properties?: Readonly<Record<string, DiscoverySchema>>;
  readonly additionalProperties?: DiscoverySchema;
}

/** A discovery-document method. */
export interface DiscoveryMethod {
  readonly id: string;
  readonly httpMethod: string;
  readonly flatPath: string;
  readonly path: string;
  readonly parameters?: Readonly<
    Record<
      string,
      {
        readonly location: string;
        readonly required?: boolean;
        readonly pattern?: string;
        readonly type?: string;
      }
    >
  >;
  readonly request?: { readonly $ref: string };
  readonly response?: { readonly $ref: string };
}

/** The parts of a discovery document the stand-in uses. */
export interface DiscoveryDocument {
  readonly name: string;
  readonly parameters: Readonly<Record<string, unknown>>;
  readonly schemas: Readonly<Record<string, DiscoverySchema>>;
  readonly resources: Readonly<Record<string, DiscoveryResource>>;
}

interface DiscoveryResource {
  readonly methods?: Readonly<Record<string, DiscoveryMethod>>;
  readonly resources?: Readonly<Record<string, DiscoveryResource>>;
}

/** One violation: the field path (Google's dotted form) and what is wrong. */
export interface Violation {
  readonly field: string;
  readonly description: string;
}

/** Loads a discovery document from ../shared/api-models/google/. */
export function loadDiscovery(file: string): DiscoveryDocument {
  const url = new URL(`../../../../shared/api-models/google/${file}`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as DiscoveryDocument;
}

/** Every method of a document, flattened. */
export function methodsOf(doc: DiscoveryDocument): DiscoveryMethod[] {
  const out: DiscoveryMethod[] = [];
  const walk = (resource: DiscoveryResource) => {
    for (const method of Object.values(resource.methods ?? {})) out.push(method);
    for (const child of Object.values(resource.resources ?? {})) walk(child);
  };
  for (const resource of Object.values(doc.resources)) walk(resource);
  return out;
}

/** Whether a property's description marks it as required. */
export function isRequired(schema: DiscoverySchema): boolean {
  const text = schema.description ?? '';
  return /^Required\./.test(text) || /This field is required\./.test(text);
}

/** proto3 JSON `google.protobuf.Duration`: seconds with up to nine fractional digits. */
const DURATION_RE = /^-?\d{1,12}(\.\d{1,9})?s$/;
const INT64_RE = /^-?\d+$/;

/** Options of {@link validateValue}. */
export interface ValidateOptions {
  /** Check required fields (false for the fields a PATCH leaves out of its mask). @default true */
  readonly required?: boolean;
}

/**
 * Validates `value` against a schema; returns every violation (empty when valid). Read-only
 * (output-only) fields are accepted and ignored, as Google does.
 */
export function validateValue(
  schemas: Readonly<Record<string, DiscoverySchema>>,
  schema: DiscoverySchema,
  value: unknown,
  field: string,
  options: ValidateOptions = {},
): Violation[] {
  const resolved = schema.$ref === undefined ? schema : schemas[schema.$ref];
  if (resolved === undefined) return [{ field, description: `schema ${schema.$ref} is missing` }];
  const type = resolved.type;
  const bad = (description: string): Violation[] => [{ field, description }];
  if (value === null) return [];
  switch (type) {
    case 'string': {
      if (resolved.format === 'int64' || resolved.format === 'uint64') {
        return typeof value === 'string' && INT64_RE.test(value)
          ? []
          : typeof value === 'number' && Number.isInteger(value)
            ? []
            : bad(`Invalid value at '${field}' (TYPE_INT64), ${JSON.stringify(value)}`);
      }
      // proto3 JSON also accepts an enum by number (clients asking `enum-encoding=int` send them).
      if (resolved.enum !== undefined && typeof value === 'number' && Number.isInteger(value)) {
        return value >= 0 && value < resolved.enum.length
          ? []
          : bad(`Invalid value at '${field}' (${resolved.id ?? 'enum'}), ${value}`);
      }
      if (typeof value !== 'string')
        return bad(`Invalid value at '${field}' (TYPE_STRING), ${JSON.stringify(value)}`);
      if (resolved.enum !== undefined && !resolved.enum.includes(value)) {
        return bad(
          `Invalid value at '${field}' (${resolved.id ?? 'enum'}), "${value}"; allowed: ${resolved.enum.join(', ')}`,
        );
      }
      if (resolved.format === 'google-duration' && !DURATION_RE.test(value)) {
        return bad(
          `Invalid value at '${field}' (type.googleapis.com/google.protobuf.Duration), Field '${field}', Illegal duration format; duration must end with 's'`,
        );
      }
      return [];
    }
    case 'integer':
      if (typeof value === 'number' && Number.isInteger(value)) {
        if (resolved.format?.startsWith('uint') === true && value < 0)
          return bad(`Invalid value at '${field}' (TYPE_UINT32), ${value}`);
        return [];
      }
      return typeof value === 'string' && INT64_RE.test(value)
        ? []
        : bad(`Invalid value at '${field}' (TYPE_INT32), ${JSON.stringify(value)}`);
    case 'number':
      return typeof value === 'number'
        ? []
        : bad(`Invalid value at '${field}' (TYPE_DOUBLE), ${JSON.stringify(value)}`);
    case 'boolean':
      return typeof value === 'boolean'
        ? []
        : bad(`Invalid value at '${field}' (TYPE_BOOL), ${JSON.stringify(value)}`);
    case 'any':
      return [];
    case 'array': {
      if (!Array.isArray(value))
        return bad(`Invalid value at '${field}', expected a list, got ${JSON.stringify(value)}`);
      const items = resolved.items;
      if (items === undefined) return [];
      return value.flatMap((item, i) => validateValue(schemas, items, item, `${field}[${i}]`));
    }
    case 'object': {
      if (typeof value !== 'object' || Array.isArray(value)) {
        return bad(`Invalid value at '${field}', expected an object, got ${JSON.stringify(value)}`);
      }
      const record = value as Record<string, unknown>;
      if (resolved.additionalProperties !== undefined) {
        const inner = resolved.additionalProperties;
        return Object.entries(record).flatMap(([k, v]) =>
          validateValue(schemas, inner, v, `${field}[${JSON.stringify(k)}]`),
        );
      }
      const properties = resolved.properties ?? {};
      const out: Violation[] = [];
      for (const [key, item] of Object.entries(record)) {
        const property = properties[key];
        if (property === undefined) {
          out.push({
            field: field === '' ? key : `${field}.${key}`,
            description: `Invalid JSON payload received. Unknown name "${key}" at '${field}': Cannot find field.`,
          });
          continue;
        }
        if (property.readOnly === true) continue;
        out.push(...validateValue(schemas, property, item, field === '' ? key : `${field}.${key}`));
      }
      if (options.required !== false) {
        for (const [key, property] of Object.entries(properties)) {
          if (isRequired(property) && property.readOnly !== true && record[key] === undefined) {
            out.push({
              field: field === '' ? key : `${field}.${key}`,
              description: `Field '${key}' is required.`,
            });
          }
        }
      }
      return out;
    }
    default:
      return [];
  }
}

/**
 * Rewrites a stored proto3 message the way the server echoes it: default values (false, 0, "",
 * empty lists and maps) vanish and durations take their canonical spelling (0, 3, 6 or 9
 * fractional digits). Read-only fields are dropped (the server sets its own).
 */
export function normalizeProto3(
  schemas: Readonly<Record<string, DiscoverySchema>>,
  schema: DiscoverySchema,
  value: unknown,
): unknown {
  const resolved = schema.$ref === undefined ? schema : schemas[schema.$ref];
  if (resolved === undefined || value === null || value === undefined) return undefined;
  // A boolean whose default is true has explicit presence (proto3 `optional`): its false is kept
  // and echoed (GrpcRouteMethodMatch.caseSensitive; seen in the recorded gRPC route session).
  if (
    value === false &&
    resolved.type === 'boolean' &&
    /default value is true/i.test(resolved.description ?? '')
  ) {
    return false;
  }
  if (value === false || value === 0 || value === '') return undefined;
  if (resolved.enum !== undefined && typeof value === 'number') {
    // Stored by name, as the server holds the enum; index 0 is the unset default.
    return resolved.enum[value];
  }
  if (resolved.type === 'string' && resolved.format === 'google-duration' && typeof value === 'string') {
    return canonicalDuration(value);
  }
  if (resolved.type === 'array' && Array.isArray(value)) {
    const items = resolved.items;
    const out = value.map((item) =>
      items === undefined ? item : (normalizeProto3(schemas, items, item) ?? emptyLike(item)),
    );
    return out.length === 0 ? undefined : out;
  }
  if (resolved.type === 'object' && typeof value === 'object' && !Array.isArray(value)) {
    const record = value as Record<string, unknown>;
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(record).sort()) {
      const property = resolved.additionalProperties ?? resolved.properties?.[key];
      if (property === undefined || property.readOnly === true) continue;
      const normalized = normalizeProto3(schemas, property, record[key]);
      if (normalized !== undefined) out[key] = normalized;
    }
    return Object.keys(out).length === 0 ? undefined : out;
  }
  return value;
}

function emptyLike(item: unknown): unknown {
  return typeof item === 'object' && item !== null && !Array.isArray(item) ? {} : item;
}

/** `"0.25s"` → `"0.250s"`, `"10.000s"` → `"10s"` (proto3 JSON output form). */
export function canonicalDuration(text: string): string {
  const match = /^(-?)(\d+)(?:\.(\d{1,9}))?s$/.exec(text);
  if (match === null) return text;
  const [, sign, seconds, fraction = ''] = match;
  const nanos = fraction.padEnd(9, '0');
  if (/^0+$/.test(nanos)) return `${sign}${Number(seconds)}s`;
  const digits = nanos.endsWith('000000')
    ? nanos.slice(0, 3)
    : nanos.endsWith('000')
      ? nanos.slice(0, 6)
      : nanos;
  return `${sign}${Number(seconds)}.${digits}s`;
}

/** Rewrites enum values as their numbers (answers to `enum-encoding=int`); other values unchanged. */
export function enumsAsNumbers(
  schemas: Readonly<Record<string, DiscoverySchema>>,
  schema: DiscoverySchema,
  value: unknown,
): unknown {
  const resolved = schema.$ref === undefined ? schema : schemas[schema.$ref];
  if (resolved === undefined || value === null || value === undefined) return value;
  if (resolved.enum !== undefined && typeof value === 'string') {
    const index = resolved.enum.indexOf(value);
    return index === -1 ? value : index;
  }
  if (resolved.type === 'array' && Array.isArray(value) && resolved.items !== undefined) {
    const items = resolved.items;
    return value.map((item) => enumsAsNumbers(schemas, items, item));
  }
  if (resolved.type === 'object' && typeof value === 'object' && !Array.isArray(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value as Record<string, unknown>)) {
      const property = resolved.additionalProperties ?? resolved.properties?.[key];
      out[key] = property === undefined ? item : enumsAsNumbers(schemas, property, item);
    }
    return out;
  }
  return value;
}
