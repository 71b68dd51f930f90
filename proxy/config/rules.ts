/**
 * Stage 3 of loading: the constraints Envoy's protos declare with protoc-gen-validate
 * (`(validate.rules)`, `(validate.required)`), checked as Envoy checks them before it accepts a
 * config: required fields and oneofs, string lengths and header-name forms, number and duration
 * bounds, list sizes, allowed enum values. The rules are read from the descriptors, so they follow
 * the vendored Envoy API rather than a hand-copied list.
 *
 * Works on canonical proto3 JSON (proto field names, enum names, durations and 64-bit integers as
 * strings). Rules Envoy hardly uses (e-mail, URI, UUID forms, timestamps, bytes) are not checked.
 */
import {
  type DescExtension,
  type DescField,
  type DescMessage,
  getOption,
  hasOption,
  type Message,
  toJson,
} from '@bufbuild/protobuf';
import type { Problem } from '../../errors/index.js';
import { envoyRegistry, typeNameOf } from './descriptors.js';
import { type Json, joinPath, mapKeyPath } from './strict.js';

/** Checks every declared rule in `json` (a `desc` message); problems are appended. */
export function checkRules(desc: DescMessage, json: Json, path: string, problems: Problem[]): void {
  const ext = extensions();
  if (ext === undefined) return;
  checkMessage(ext, desc, json, path, problems);
}

interface Extensions {
  readonly rules: DescExtension;
  readonly required: DescExtension;
  readonly fieldRules: DescMessage;
}

let cached: Extensions | null | undefined;

function extensions(): Extensions | undefined {
  if (cached === undefined) {
    const registry = envoyRegistry();
    const rules = registry.getExtension('validate.rules');
    const required = registry.getExtension('validate.required');
    const fieldRules = registry.getMessage('validate.FieldRules');
    cached =
      rules === undefined || required === undefined || fieldRules === undefined
        ? null
        : { rules, required, fieldRules };
  }
  return cached ?? undefined;
}

type Obj = { readonly [key: string]: Json };

function isObj(v: Json | undefined): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** What checking one message type needs, computed once per type. */
interface Plan {
  readonly requiredOneofs: readonly (readonly string[])[];
  readonly ruled: readonly (readonly [DescField, FieldRules])[];
  readonly nested: ReadonlyMap<string, DescField>;
}

const plans = new Map<DescMessage, Plan>();

function planFor(ext: Extensions, desc: DescMessage): Plan {
  let plan = plans.get(desc);
  if (plan === undefined) {
    plan = {
      requiredOneofs: desc.oneofs
        .filter((o) => hasOption(o, ext.required) && getOption(o, ext.required) === true)
        .map((o) => o.fields.map((f) => f.name)),
      ruled: desc.fields.flatMap((f) => {
        const rules = fieldRules(ext, f);
        return rules === undefined ? [] : [[f, rules] as const];
      }),
      nested: new Map(desc.fields.filter((f) => f.message !== undefined).map((f) => [f.name, f])),
    };
    plans.set(desc, plan);
  }
  return plan;
}

function checkMessage(
  ext: Extensions,
  desc: DescMessage,
  json: Json,
  path: string,
  problems: Problem[],
): void {
  if (desc.typeName.startsWith('google.protobuf.') || !isObj(json)) return;
  const plan = planFor(ext, desc);
  for (const names of plan.requiredOneofs) {
    if (!names.some((n) => json[n] !== undefined)) {
      push(problems, path, `one of ${names.join(', ')} must be set`, undefined, `one of ${names.join(', ')}`);
    }
  }
  for (const [field, rules] of plan.ruled) {
    applyFieldRules(field, rules, json[field.name], joinPath(path, field.name), problems);
  }
  for (const [key, value] of Object.entries(json)) {
    const field = plan.nested.get(key);
    const message = field?.message;
    if (field === undefined || message === undefined) continue;
    const fieldPath = joinPath(path, key);
    if (field.fieldKind === 'message') checkNested(ext, message, value, fieldPath, problems);
    else if (field.fieldKind === 'list' && Array.isArray(value)) {
      value.forEach((item, i) => {
        checkNested(ext, message, item, `${fieldPath}[${i}]`, problems);
      });
    } else if (field.fieldKind === 'map' && isObj(value)) {
      for (const [k, v] of Object.entries(value))
        checkNested(ext, message, v, mapKeyPath(fieldPath, k), problems);
    }
  }
}

function checkNested(
  ext: Extensions,
  desc: DescMessage,
  value: Json,
  path: string,
  problems: Problem[],
): void {
  if (desc.typeName === 'google.protobuf.Any' && isObj(value) && typeof value['@type'] === 'string') {
    const inner = envoyRegistry().getMessage(typeNameOf(value['@type']));
    if (inner !== undefined) checkMessage(ext, inner, value, path, problems);
    return;
  }
  checkMessage(ext, desc, value, path, problems);
}

/**
 * validate.FieldRules of a field, as proto3 JSON: proto2 presence means only the rules actually
 * written in Envoy's .proto appear (the message form would report every unset rule as its default).
 */
interface FieldRulesJson {
  readonly message?: { readonly skip?: boolean; readonly required?: boolean };
  readonly [kind: string]: RuleSet | undefined;
}
interface FieldRules {
  readonly message?: { readonly skip?: boolean; readonly required?: boolean };
  readonly type: { readonly case: string | undefined; readonly value?: RuleSet };
}

const rulesCache = new Map<DescField, FieldRules | undefined>();

function fieldRules(ext: Extensions, field: DescField): FieldRules | undefined {
  if (rulesCache.has(field)) return rulesCache.get(field);
  let rules: FieldRules | undefined;
  if (hasOption(field, ext.rules))
    rules = fromRulesJson(toJson(ext.fieldRules, getOption(field, ext.rules) as Message) as FieldRulesJson);
  rulesCache.set(field, rules);
  return rules;
}

function fromRulesJson(json: FieldRulesJson): FieldRules {
  const kind = Object.keys(json).find((k) => k !== 'message');
  return {
    ...(json.message === undefined ? {} : { message: json.message }),
    type: kind === undefined ? { case: undefined } : { case: kind, value: json[kind] as RuleSet },
  };
}
type Num = number | bigint;
interface RuleSet {
  readonly required?: boolean;
  readonly const?: unknown;
  readonly lt?: unknown;
  readonly lte?: unknown;
  readonly gt?: unknown;
  readonly gte?: unknown;
  readonly in?: readonly unknown[];
  readonly notIn?: readonly unknown[];
  readonly minLen?: Num;
  readonly maxLen?: Num;
  readonly len?: Num;
  readonly minBytes?: Num;
  readonly maxBytes?: Num;
  readonly prefix?: string;
  readonly suffix?: string;
  readonly contains?: string;
  readonly notContains?: string;
  readonly pattern?: string;
  readonly ignoreEmpty?: boolean;
  readonly strict?: boolean;
  readonly wellKnownRegex?: string;
  readonly definedOnly?: boolean;
  readonly minItems?: Num;
  readonly maxItems?: Num;
  readonly unique?: boolean;
  readonly items?: FieldRulesJson;
  readonly minPairs?: Num;
  readonly maxPairs?: Num;
}

const HEADER_NAME = /^:?[0-9a-zA-Z!#$%&'*+\-.^_|~`]+$/;
const HEADER_VALUE_STRICT = /^[^\u0000-\u0008\u000A-\u001F\u007F]*$/;
const HEADER_VALUE_LOOSE = /^[^\u0000\u000A\u000D]*$/;

function applyFieldRules(
  field: DescField,
  rules: FieldRules,
  value: Json | undefined,
  path: string,
  problems: Problem[],
) {
  // PGV checks a oneof member's rules only when that member is the one set.
  if (value === undefined && field.oneof !== undefined) return;
  if (rules.message?.required === true && value === undefined) {
    push(problems, path, 'is required', undefined, 'a value');
    return;
  }
  const set = rules.type.value;
  if (rules.type.case === undefined || set === undefined) return;
  // Fields with explicit presence (messages, wrappers, oneof members, proto3 optional) are only
  // checked when set; scalars without presence are checked at their default, as PGV does.
  const hasPresence =
    field.fieldKind === 'message' || field.oneof !== undefined || field.proto.proto3Optional;
  if (value === undefined && hasPresence) {
    if (set.required === true) push(problems, path, 'is required', undefined, 'a value');
    return;
  }
  applyRuleSet(rules.type.case, set, field, value, path, problems);
}

function applyRuleSet(
  kind: string,
  set: RuleSet,
  field: DescField | undefined,
  value: Json | undefined,
  path: string,
  problems: Problem[],
): void {
  switch (kind) {
    case 'string':
      checkString(set, typeof value === 'string' ? value : '', path, problems);
      return;
    case 'duration':
      checkDuration(set, value, path, problems);
      return;
    case 'repeated':
      checkRepeated(kind, set, Array.isArray(value) ? value : [], path, problems);
      return;
    case 'map': {
      const size = isObj(value) ? Object.keys(value).length : 0;
      checkCount(set.minPairs, set.maxPairs, size, 'entries', path, problems);
      return;
    }
    case 'enum': {
      const num = field?.enum?.values.find((v) => v.name === value)?.number ?? 0;
      if (set.in !== undefined && set.in.length > 0 && !set.in.includes(num)) {
        push(
          problems,
          path,
          `${JSON.stringify(value ?? null)} is not allowed here`,
          value,
          describeEnum(field, set.in),
        );
      }
      if (set.notIn?.includes(num)) {
        push(
          problems,
          path,
          `${JSON.stringify(value ?? null)} is not allowed here`,
          value,
          `not ${describeEnum(field, set.notIn)}`,
        );
      }
      return;
    }
    case 'any': {
      if (set.required === true && value === undefined)
        push(problems, path, 'is required', undefined, 'a typed config');
      const url = isObj(value) ? value['@type'] : undefined;
      if (typeof url === 'string' && set.in !== undefined && set.in.length > 0 && !set.in.includes(url)) {
        push(problems, path, `typed config ${url} is not allowed here`, url, (set.in as string[]).join(', '));
      }
      return;
    }
    case 'bool':
      if (set.const === true && value !== true) push(problems, path, 'must be true', value, 'true');
      return;
    case 'float':
    case 'double':
    case 'int32':
    case 'int64':
    case 'uint32':
    case 'uint64':
    case 'sint32':
    case 'sint64':
    case 'fixed32':
    case 'fixed64':
    case 'sfixed32':
    case 'sfixed64':
      checkNumber(kind === 'float' || kind === 'double', set, value, path, problems);
      return;
    default:
      return;
  }
}

function describeEnum(field: DescField | undefined, numbers: readonly unknown[]): string {
  const names = numbers.map((n) => field?.enum?.values.find((v) => v.number === n)?.name ?? String(n));
  return names.join(', ');
}

function checkString(set: RuleSet, value: string, path: string, problems: Problem[]): void {
  if (set.ignoreEmpty === true && value === '') return;
  const chars = [...value].length;
  const bytes = Buffer.byteLength(value);
  if (set.const !== undefined && value !== set.const)
    push(problems, path, `must be ${JSON.stringify(set.const)}`, value, String(set.const));
  if (set.len !== undefined && chars !== Number(set.len))
    push(problems, path, `must be exactly ${set.len} characters`, value, `${set.len} characters`);
  if (set.minLen !== undefined && chars < Number(set.minLen)) {
    push(
      problems,
      path,
      value === '' ? 'must not be empty' : `must be at least ${set.minLen} characters`,
      value,
      `at least ${set.minLen} characters`,
    );
  }
  if (set.maxLen !== undefined && chars > Number(set.maxLen))
    push(
      problems,
      path,
      `must be at most ${set.maxLen} characters`,
      value,
      `at most ${set.maxLen} characters`,
    );
  if (set.minBytes !== undefined && bytes < Number(set.minBytes)) {
    push(
      problems,
      path,
      value === '' ? 'must not be empty' : `must be at least ${set.minBytes} bytes`,
      value,
      `at least ${set.minBytes} bytes`,
    );
  }
  if (set.maxBytes !== undefined && bytes > Number(set.maxBytes))
    push(problems, path, `must be at most ${set.maxBytes} bytes`, value, `at most ${set.maxBytes} bytes`);
  if (set.prefix !== undefined && set.prefix !== '' && !value.startsWith(set.prefix))
    push(
      problems,
      path,
      `must start with ${JSON.stringify(set.prefix)}`,
      value,
      `a string starting with ${set.prefix}`,
    );
  if (set.suffix !== undefined && set.suffix !== '' && !value.endsWith(set.suffix))
    push(
      problems,
      path,
      `must end with ${JSON.stringify(set.suffix)}`,
      value,
      `a string ending with ${set.suffix}`,
    );
  if (set.contains !== undefined && set.contains !== '' && !value.includes(set.contains))
    push(
      problems,
      path,
      `must contain ${JSON.stringify(set.contains)}`,
      value,
      `a string containing ${set.contains}`,
    );
  if (set.notContains !== undefined && set.notContains !== '' && value.includes(set.notContains))
    push(
      problems,
      path,
      `must not contain ${JSON.stringify(set.notContains)}`,
      value,
      `a string without ${set.notContains}`,
    );
  if (set.in !== undefined && set.in.length > 0 && !set.in.includes(value))
    push(problems, path, `must be one of ${set.in.join(', ')}`, value, set.in.join(', '));
  if (set.notIn?.includes(value))
    push(problems, path, `must not be ${JSON.stringify(value)}`, value, `not ${set.notIn.join(', ')}`);
  if (set.pattern !== undefined && set.pattern !== '') {
    const re = compile(set.pattern);
    if (re !== undefined && !re.test(value))
      push(problems, path, `must match ${set.pattern}`, value, `a string matching ${set.pattern}`);
  }
  if (set.wellKnownRegex !== undefined) {
    const strict = set.strict !== false;
    if (
      set.wellKnownRegex === 'HTTP_HEADER_NAME' &&
      value !== '' &&
      !(strict ? HEADER_NAME.test(value) : HEADER_VALUE_LOOSE.test(value))
    ) {
      push(problems, path, 'is not a valid HTTP header name', value, 'an HTTP header name (RFC 7230 token)');
    }
    if (
      set.wellKnownRegex === 'HTTP_HEADER_VALUE' &&
      !(strict ? HEADER_VALUE_STRICT : HEADER_VALUE_LOOSE).test(value)
    ) {
      push(
        problems,
        path,
        'is not a valid HTTP header value',
        value,
        'an HTTP header value without control characters',
      );
    }
  }
}

const patterns = new Map<string, RegExp | undefined>();
/** PGV patterns are RE2; the few JS cannot compile are skipped rather than guessed at. */
function compile(pattern: string): RegExp | undefined {
  if (!patterns.has(pattern)) {
    let re: RegExp | undefined;
    try {
      re = new RegExp(pattern, 'u');
    } catch {
      re = undefined;
    }
    patterns.set(pattern, re);
  }
  return patterns.get(pattern);
}

function checkRepeated(
  kind: string,
  set: RuleSet,
  items: readonly Json[],
  path: string,
  problems: Problem[],
): void {
  if (kind !== 'repeated') return;
  checkCount(set.minItems, set.maxItems, items.length, 'items', path, problems);
  if (set.unique === true && new Set(items.map((i) => JSON.stringify(i))).size !== items.length) {
    push(problems, path, 'must not contain duplicates', undefined, 'unique items');
  }
  const itemRules = set.items === undefined ? undefined : fromRulesJson(set.items);
  const itemKind = itemRules?.type.case;
  const itemSet = itemRules?.type.value;
  if (itemKind !== undefined && itemSet !== undefined) {
    items.forEach((item, i) => {
      applyRuleSet(itemKind, itemSet, undefined, item, `${path}[${i}]`, problems);
    });
  }
}

function checkCount(
  min: Num | undefined,
  max: Num | undefined,
  n: number,
  what: string,
  path: string,
  problems: Problem[],
) {
  if (min !== undefined && n < Number(min))
    push(problems, path, `needs at least ${min} ${what}, got ${n}`, n, `at least ${min} ${what}`);
  if (max !== undefined && n > Number(max))
    push(problems, path, `allows at most ${max} ${what}, got ${n}`, n, `at most ${max} ${what}`);
}

function checkNumber(
  float: boolean,
  set: RuleSet,
  value: Json | undefined,
  path: string,
  problems: Problem[],
): void {
  // Integers compare as bigint (64-bit values are strings in proto3 JSON), floats as numbers.
  const toCmp = (v: unknown): number | bigint | undefined => {
    if (v === undefined || v === null) return undefined;
    if (float) return Number(v);
    if (typeof v === 'bigint') return v;
    if (typeof v === 'number' && Number.isInteger(v)) return BigInt(v);
    if (typeof v === 'string' && /^-?\d+$/.test(v)) return BigInt(v);
    return undefined;
  };
  const v = toCmp(value ?? 0);
  if (v === undefined) return;
  bounds(v, toCmp(set.gt), toCmp(set.gte), toCmp(set.lt), toCmp(set.lte), String, value, path, problems);
  const c = toCmp(set.const);
  if (c !== undefined && v !== c) push(problems, path, `must be ${c}`, value, String(c));
  if (set.in !== undefined && set.in.length > 0 && !set.in.map(toCmp).includes(v)) {
    push(problems, path, `must be one of ${set.in.join(', ')}`, value, set.in.join(', '));
  }
  if (set.notIn?.map(toCmp).includes(v))
    push(problems, path, `must not be ${v}`, value, `not ${set.notIn.join(', ')}`);
}

/** PGV bound semantics: gt/gte with lt/lte form a range; when the lower bound exceeds the upper one the range is exclusive (outside). */
function bounds<T extends number | bigint>(
  v: T,
  gt: T | undefined,
  gte: T | undefined,
  lt: T | undefined,
  lte: T | undefined,
  show: (x: T) => string,
  given: unknown,
  path: string,
  problems: Problem[],
): void {
  const lower = gt ?? gte;
  const upper = lt ?? lte;
  const aboveLower = lower === undefined || (gt !== undefined ? v > gt : v >= (gte as T));
  const belowUpper = upper === undefined || (lt !== undefined ? v < lt : v <= (lte as T));
  const lowerText =
    gt !== undefined ? `greater than ${show(gt)}` : gte !== undefined ? `at least ${show(gte)}` : '';
  const upperText =
    lt !== undefined ? `less than ${show(lt)}` : lte !== undefined ? `at most ${show(lte)}` : '';
  const shown = JSON.stringify(given ?? 0);
  if (lower !== undefined && upper !== undefined && lower > upper) {
    if (!aboveLower && !belowUpper)
      push(
        problems,
        path,
        `must be ${lowerText} or ${upperText}, got ${shown}`,
        given,
        `${lowerText} or ${upperText}`,
      );
    return;
  }
  const allowed = [lowerText, upperText].filter((s) => s !== '').join(' and ');
  if (!aboveLower || !belowUpper) push(problems, path, `must be ${allowed}, got ${shown}`, given, allowed);
}

function nanosOfString(s: string): bigint {
  const m = /^(-)?(\d+)(?:\.(\d{1,9}))?s$/.exec(s);
  if (m === null) return 0n;
  const n = BigInt(m[2] as string) * 1_000_000_000n + BigInt((m[3] ?? '').padEnd(9, '0'));
  return m[1] === undefined ? n : -n;
}

function showNanos(n: bigint): string {
  const neg = n < 0n;
  const abs = neg ? -n : n;
  const frac = (abs % 1_000_000_000n).toString().padStart(9, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${abs / 1_000_000_000n}${frac === '' ? '' : `.${frac}`}s`;
}

function checkDuration(set: RuleSet, value: Json | undefined, path: string, problems: Problem[]): void {
  if (value === undefined) {
    if (set.required === true) push(problems, path, 'is required', undefined, 'a duration');
    return;
  }
  if (typeof value !== 'string') return;
  const v = nanosOfString(value);
  const d = (x: unknown) => (typeof x === 'string' ? nanosOfString(x) : undefined);
  bounds(v, d(set.gt), d(set.gte), d(set.lt), d(set.lte), showNanos, value, path, problems);
  const c = d(set.const);
  if (c !== undefined && v !== c) push(problems, path, `must be ${showNanos(c)}`, value, showNanos(c));
}

function push(problems: Problem[], path: string, what: string, value: unknown, allowed: string): void {
  problems.push({
    code: 'PROXY_E_INVALID',
    path,
    message: `${path || '(root)'}: ${what}`,
    ...(value === undefined ? {} : { value: typeof value === 'bigint' ? String(value) : value }),
    allowed,
  });
}
