/**
 * A small declarative description of the model's shape. One description drives three things, so
 * they cannot drift apart: the structural checks of `validate()` (model/schema/check.ts), the
 * published JSON Schema (`docs/mesh.schema.json`, model/schema/json-schema.ts) and the field
 * tables of the model reference (`docs/model-reference.md`, model/schema/reference.ts).
 *
 * The helpers are typed against the TypeScript contract (`model/types.ts`): `object<T>()` demands
 * exactly one field description per property of `T`, marked `required` exactly when the property
 * is, and `oneOf<T>()` one entry per member of a string union. Adding a field to the contract
 * without describing it here is a compile error.
 */
import type { ErrorCode } from '../../errors/index.js';

/** A named kind of string (DNS label, duration, regex...) with its check and its JSON Schema form. */
export interface StringFormat {
  /** Short name, used in the reference doc. */
  readonly name: string;
  /** Problem code when a value does not conform. */
  readonly code: ErrorCode;
  /** What is allowed, in words. */
  readonly allowed: string;
  /** ECMA-262 pattern for the JSON Schema. @default - no pattern (checked only by crossmesh) */
  readonly pattern?: string;
  /** JSON Schema `format` keyword. @default - none */
  readonly jsonFormat?: string;
  /** Returns `undefined` when the value conforms, otherwise a detail for the message (may be empty). */
  readonly check: (value: string) => string | undefined;
}

/** Fields shared by every shape. */
interface ShapeBase {
  /** Name under which the shape is published in the JSON Schema `$defs` and the reference. @default - inline */
  readonly name?: string;
  /** One line on what the value is. @default - none */
  readonly doc?: string;
}

/** A string, optionally of a named format. */
export interface StringShape extends ShapeBase {
  readonly type: 'string';
  /** @default - any string */
  readonly format?: StringFormat;
  /** @default - 1 */
  readonly minLength?: number;
  /** @default - {@link MAX_STRING} */
  readonly maxLength?: number;
}

/** A finite number. */
export interface NumberShape extends ShapeBase {
  readonly type: 'number';
  readonly integer: boolean;
  /** Inclusive minimum. @default - none */
  readonly min?: number;
  /** Inclusive maximum. @default - none */
  readonly max?: number;
}

/** `true` or `false`. */
export interface BooleanShape extends ShapeBase {
  readonly type: 'boolean';
}

/** One of a fixed set of values, each with a line of documentation. */
export interface EnumShape extends ShapeBase {
  readonly type: 'enum';
  readonly values: readonly (string | number)[];
  /** Documentation per value (same order as `values`). */
  readonly docs: readonly string[];
}

/** A list. */
export interface ArrayShape extends ShapeBase {
  readonly type: 'array';
  readonly items: Shape;
  /** @default - 0 */
  readonly minItems?: number;
  /** @default - no limit */
  readonly maxItems?: number;
}

/** A fixed-length list. */
export interface TupleShape extends ShapeBase {
  readonly type: 'tuple';
  readonly items: readonly Shape[];
}

/** A map from names to values. */
export interface RecordShape extends ShapeBase {
  readonly type: 'record';
  /** Form of the keys. */
  readonly key: StringFormat;
  readonly values: Shape;
  /** @default - 0 */
  readonly minEntries?: number;
}

/** One property of an object. */
export interface Field {
  readonly shape: Shape;
  /** One line on what the field means. */
  readonly doc: string;
  /** The field must be given. @default - optional */
  readonly required?: boolean;
  /** What happens when the field is omitted (optional fields). @default - no default documented */
  readonly default?: string;
}

/** An object with a fixed set of fields; anything else is an unknown field. */
export interface ObjectShape extends ShapeBase {
  readonly type: 'object';
  readonly fields: Readonly<Record<string, Field>>;
}

/** A discriminated union on `kind`: each variant is an object shape without its `kind` field. */
export interface UnionShape extends ShapeBase {
  readonly type: 'union';
  readonly variants: Readonly<Record<string, ObjectShape>>;
}

/** Any shape. */
export type Shape =
  | StringShape
  | NumberShape
  | BooleanShape
  | EnumShape
  | ArrayShape
  | TupleShape
  | RecordShape
  | ObjectShape
  | UnionShape;

/** Strings longer than this are refused (a mesh never needs them; huge inputs stay cheap). */
export const MAX_STRING = 4096;

/** Lists and maps longer than this are refused without looking at their items (same reason). */
export const MAX_ITEMS = 100_000;

/** The field descriptions an object of type `T` needs: one per property, `required` exactly when it is. */
export type FieldsOf<T> = {
  readonly [K in keyof T]-?: undefined extends T[K]
    ? Field & { readonly required?: false }
    : Field & { readonly required: true; readonly default?: never };
};

/** The members of union `T` whose `kind` admits `K`, without `kind`. */
export type VariantOf<T, K extends string> = T extends { readonly kind: infer KK }
  ? K extends KK
    ? Omit<T, 'kind'>
    : never
  : never;

/** An object shape typed against `T`. */
export function object<T>(fields: FieldsOf<T>, meta: ShapeBase = {}): ObjectShape {
  return { type: 'object', fields: fields as Readonly<Record<string, Field>>, ...meta };
}

/** A discriminated union typed against `T`: one object shape per `kind`. */
export function union<T extends { readonly kind: string }>(
  variants: { readonly [K in T['kind']]: ObjectShape },
  meta: ShapeBase = {},
): UnionShape {
  return { type: 'union', variants, ...meta };
}

/** A string enum typed against `T`: every member documented, none missing, none extra. */
export function oneOf<T extends string>(
  values: { readonly [K in T]: string },
  meta: ShapeBase = {},
): EnumShape {
  const entries = Object.entries(values) as [string, string][];
  return { type: 'enum', values: entries.map(([v]) => v), docs: entries.map(([, d]) => d), ...meta };
}

/** A number enum. */
export function numbers(values: readonly number[], meta: ShapeBase = {}): EnumShape {
  return { type: 'enum', values, docs: values.map(() => ''), ...meta };
}

/** A string. */
export function string(
  format?: StringFormat,
  limits: { minLength?: number; maxLength?: number } = {},
): StringShape {
  return { type: 'string', ...(format === undefined ? {} : { format }), ...limits };
}

/** An integer in `[min, max]`. */
export function integer(min?: number, max?: number): NumberShape {
  return {
    type: 'number',
    integer: true,
    ...(min === undefined ? {} : { min }),
    ...(max === undefined ? {} : { max }),
  };
}

/** A boolean. */
export const boolean: BooleanShape = { type: 'boolean' };

/** A list of `items`. */
export function array(items: Shape, limits: { minItems?: number; maxItems?: number } = {}): ArrayShape {
  return { type: 'array', items, ...limits };
}

/** A fixed-length list. */
export function tuple(...items: Shape[]): TupleShape {
  return { type: 'tuple', items };
}

/** A map keyed by `key`-formatted names. */
export function record(key: StringFormat, values: Shape, minEntries?: number): RecordShape {
  return { type: 'record', key, values, ...(minEntries === undefined ? {} : { minEntries }) };
}

/** A required field. */
export function req(
  shape: Shape,
  doc: string,
): Field & { readonly required: true; readonly default?: never } {
  return { shape, doc, required: true };
}

/** An optional field and what happens without it. */
export function opt(shape: Shape, doc: string, defaultText: string): Field & { readonly required?: false } {
  return { shape, doc, default: defaultText };
}

/** The allowed values of a shape, in words (for messages). */
export function describeShape(shape: Shape): string {
  switch (shape.type) {
    case 'string':
      return shape.format === undefined ? 'a string' : shape.format.allowed;
    case 'number':
      return shape.integer ? rangeText('an integer', shape) : rangeText('a number', shape);
    case 'boolean':
      return 'true or false';
    case 'enum':
      return `one of ${shape.values.map((v) => JSON.stringify(v)).join(', ')}`;
    case 'array':
      return shape.minItems ? `a list of at least ${shape.minItems}` : 'a list';
    case 'tuple':
      return `a list of exactly ${shape.items.length}`;
    case 'record':
      return 'an object keyed by name';
    case 'object':
      return 'an object';
    case 'union':
      return `an object with kind ${Object.keys(shape.variants)
        .map((k) => JSON.stringify(k))
        .join(', ')}`;
  }
}

function rangeText(what: string, shape: NumberShape): string {
  if (shape.min !== undefined && shape.max !== undefined) return `${what} from ${shape.min} to ${shape.max}`;
  if (shape.min !== undefined) return `${what} of at least ${shape.min}`;
  if (shape.max !== undefined) return `${what} of at most ${shape.max}`;
  return what;
}
