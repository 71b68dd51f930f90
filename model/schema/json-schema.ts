/**
 * The published JSON Schema of a mesh (`docs/mesh.schema.json`), generated from the same shape
 * description that drives validation. It covers the structure (types, required and unknown
 * fields, enums, ranges, name and duration patterns); cross-field rules (references, weights,
 * protocols) are checked only by `crossmesh validate`.
 */
import { MESH_SHAPE } from './mesh-shape.js';
import { MAX_ITEMS, MAX_STRING, type ObjectShape, type Shape } from './shape.js';

type Json = { [key: string]: unknown };

/** Where the schema is published (its `$id`). */
export const MESH_SCHEMA_ID = 'https://crossmesh.dev/schemas/mesh.schema.json';

/** Builds the JSON Schema (draft 2020-12) of a mesh. Deterministic. */
export function meshJsonSchema(): Json {
  const defs = new Map<string, Json>();

  const emit = (shape: Shape, inline = false): Json => {
    if (shape.name !== undefined && !inline) {
      if (!defs.has(shape.name)) {
        defs.set(shape.name, {});
        defs.set(shape.name, emit(shape, true));
      }
      return { $ref: `#/$defs/${shape.name}` };
    }
    const doc = shape.doc === undefined ? {} : { description: shape.doc };
    switch (shape.type) {
      case 'string':
        return {
          ...doc,
          type: 'string',
          minLength: shape.minLength ?? 1,
          maxLength: shape.maxLength ?? MAX_STRING,
          ...(shape.format?.pattern === undefined ? {} : { pattern: shape.format.pattern }),
          ...(shape.format?.jsonFormat === undefined ? {} : { format: shape.format.jsonFormat }),
        };
      case 'number':
        return {
          ...doc,
          type: shape.integer ? 'integer' : 'number',
          ...(shape.min === undefined ? {} : { minimum: shape.min }),
          ...(shape.max === undefined ? {} : { maximum: shape.max }),
        };
      case 'boolean':
        return { ...doc, type: 'boolean' };
      case 'enum':
        return { ...doc, enum: [...shape.values] };
      case 'array':
        return {
          ...doc,
          type: 'array',
          items: emit(shape.items),
          ...(shape.minItems === undefined ? {} : { minItems: shape.minItems }),
          maxItems: shape.maxItems ?? MAX_ITEMS,
        };
      case 'tuple':
        return {
          ...doc,
          type: 'array',
          prefixItems: shape.items.map((item) => emit(item)),
          items: false,
          minItems: shape.items.length,
          maxItems: shape.items.length,
        };
      case 'record':
        return {
          ...doc,
          type: 'object',
          ...(shape.key.pattern === undefined ? {} : { propertyNames: { pattern: shape.key.pattern } }),
          additionalProperties: emit(shape.values),
          ...(shape.minEntries === undefined ? {} : { minProperties: shape.minEntries }),
          maxProperties: MAX_ITEMS,
        };
      case 'object':
        return { ...doc, ...objectSchema(shape, emit, undefined) };
      case 'union':
        return {
          ...doc,
          type: 'object',
          required: ['kind'],
          oneOf: Object.entries(shape.variants).map(([kind, variant]) => objectSchema(variant, emit, kind)),
        };
    }
  };

  const root = emit(MESH_SHAPE, true);
  const sortedDefs = Object.fromEntries([...defs.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  return {
    $schema: 'https://json-schema.org/draft/2020-12/schema',
    $id: MESH_SCHEMA_ID,
    title: 'crossmesh mesh',
    ...root,
    $defs: sortedDefs,
  };
}

function objectSchema(shape: ObjectShape, emit: (shape: Shape) => Json, kind: string | undefined): Json {
  const properties: Json = kind === undefined ? {} : { kind: { const: kind } };
  const required: string[] = kind === undefined ? [] : ['kind'];
  for (const [name, field] of Object.entries(shape.fields)) {
    const description = field.default === undefined ? field.doc : `${field.doc} Default: ${field.default}.`;
    properties[name] = { ...emit(field.shape), description };
    if (field.required === true) required.push(name);
  }
  return {
    type: 'object',
    properties,
    ...(required.length === 0 ? {} : { required }),
    additionalProperties: false,
  };
}

/**
 * JSON text laid out the way the repository's formatter (biome) lays it out, so the generated
 * schema passes `npm run lint` untouched: objects one key a line, arrays of scalars on one line
 * when they fit in 110 columns.
 */
export function formatJson(value: unknown, width = 110): string {
  const render = (v: unknown, indent: string, prefixLength: number): string => {
    if (Array.isArray(v)) {
      if (v.length === 0) return '[]';
      const scalars = v.every((x) => x === null || typeof x !== 'object');
      const inline = `[${v.map((x) => JSON.stringify(x)).join(', ')}]`;
      if (scalars && prefixLength + inline.length + 1 <= width) return inline;
      const inner = `${indent}  `;
      return `[\n${v.map((x) => `${inner}${render(x, inner, inner.length)}`).join(',\n')}\n${indent}]`;
    }
    if (v !== null && typeof v === 'object') {
      const entries = Object.entries(v);
      if (entries.length === 0) return '{}';
      const inner = `${indent}  `;
      const lines = entries.map(([k, x]) => {
        const key = `${inner}${JSON.stringify(k)}: `;
        return `${key}${render(x, inner, key.length)}`;
      });
      return `{\n${lines.join(',\n')}\n${indent}}`;
    }
    return JSON.stringify(v);
  };
  return `${render(value, '', 0)}\n`;
}
