/**
 * Validates HTTP requests against the official botocore service models in
 * `../shared/api-models/aws/` (App Mesh is REST-JSON, Cloud Map is JSON 1.1). The request is
 * decoded with the model's own HTTP bindings (URI labels, query string, body or payload member,
 * `X-Amz-Target`), then checked shape by shape: structure members (unknown members are
 * violations), required members, unions (exactly one member), enums, string and list lengths,
 * numeric ranges, patterns and primitive types. Test helpers run every request an adapter sends
 * through this, so a request the real API would refuse fails the test even where the stand-in
 * (moto) accepts it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** A botocore shape (the subset of keys validation reads). */
interface Shape {
  readonly type: string;
  readonly members?: Readonly<Record<string, MemberRef>>;
  readonly required?: readonly string[];
  readonly union?: boolean;
  readonly member?: { readonly shape: string };
  readonly key?: { readonly shape: string };
  readonly value?: { readonly shape: string };
  readonly enum?: readonly string[];
  readonly min?: number;
  readonly max?: number;
  readonly pattern?: string;
  readonly payload?: string;
}

interface MemberRef {
  readonly shape: string;
  readonly location?: 'uri' | 'querystring' | 'header' | 'headers' | 'statusCode';
  readonly locationName?: string;
}

interface Operation {
  readonly name: string;
  readonly http: { readonly method: string; readonly requestUri: string };
  readonly input?: { readonly shape: string };
}

/** A botocore service-2 model. */
export interface ServiceModel {
  readonly metadata: {
    readonly protocol: string;
    readonly targetPrefix?: string;
    readonly serviceId: string;
  };
  readonly operations: Readonly<Record<string, Operation>>;
  readonly shapes: Readonly<Record<string, Shape>>;
}

/** One problem with a request. */
export interface Violation {
  /** Operation name, or `?` when none matched. */
  readonly operation: string;
  /** Path inside the input, e.g. `spec.listeners[0].portMapping.port`. */
  readonly path: string;
  readonly message: string;
}

/** The decoded request. */
export interface DecodedRequest {
  /** Operation name, undefined when the request matches no operation of the model. */
  readonly operation: string | undefined;
  /** The input structure rebuilt from the HTTP request. */
  readonly input: Record<string, unknown>;
  /** Everything wrong with it (empty when valid). */
  readonly violations: readonly Violation[];
}

/** A raw HTTP request. */
export interface RawRequest {
  readonly method: string;
  /** Path and query, as on the request line. */
  readonly url: string;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly body: string;
}

const MODEL_DIR = fileURLToPath(new URL('../../../../shared/api-models/aws/', import.meta.url));

const cache = new Map<string, ServiceModel>();

/** Loads a model file from `../shared/api-models/aws/` (cached). */
export function loadModel(
  file: 'appmesh-2019-01-25.json' | 'servicediscovery-2017-03-14.json',
): ServiceModel {
  let model = cache.get(file);
  if (model === undefined) {
    model = JSON.parse(readFileSync(`${MODEL_DIR}${file}`, 'utf8')) as ServiceModel;
    cache.set(file, model);
  }
  return model;
}

/** Matches a REST request line against an operation's `requestUri` template; returns the URI labels. */
function matchUri(template: string, pathname: string): Record<string, string> | undefined {
  const [templatePath = ''] = template.split('?');
  const want = templatePath.split('/');
  const got = pathname.split('/');
  if (want.length !== got.length) return undefined;
  const labels: Record<string, string> = {};
  for (const [i, part] of want.entries()) {
    const actual = got[i] ?? '';
    const label = /^\{(\w+)\+?\}$/.exec(part);
    if (label !== null) {
      if (actual === '') return undefined;
      labels[label[1] as string] = decodeURIComponent(actual);
    } else if (part !== actual) {
      return undefined;
    }
  }
  return labels;
}

function header(headers: RawRequest['headers'], name: string): string | undefined {
  const value = headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

/** Decodes and validates one request against `model`. */
export function validateRequest(model: ServiceModel, request: RawRequest): DecodedRequest {
  const url = new URL(request.url, 'http://stand-in');
  let operation: Operation | undefined;
  let labels: Record<string, string> = {};
  if (model.metadata.protocol === 'json') {
    const target = header(request.headers, 'x-amz-target') ?? '';
    const [prefix, name] = target.split('.');
    if (prefix === model.metadata.targetPrefix && name !== undefined) operation = model.operations[name];
  } else {
    for (const candidate of Object.values(model.operations)) {
      if (candidate.http.method !== request.method) continue;
      const matched = matchUri(candidate.http.requestUri, url.pathname);
      if (matched !== undefined) {
        operation = candidate;
        labels = matched;
        break;
      }
    }
  }
  if (operation === undefined) {
    return {
      operation: undefined,
      input: {},
      violations: [
        {
          operation: '?',
          path: '',
          message: `no ${model.metadata.serviceId} operation for ${request.method} ${request.url}`,
        },
      ],
    };
  }
  const violations: Violation[] = [];
  const add = (path: string, message: string) =>
    violations.push({ operation: operation.name, path, message });
  let body: unknown = {};
  if (request.body.trim() !== '') {
    try {
      body = JSON.parse(request.body);
    } catch {
      add('', 'body is not JSON');
    }
  }
  const input: Record<string, unknown> = {};
  const inputShape = operation.input === undefined ? undefined : model.shapes[operation.input.shape];
  if (inputShape !== undefined) {
    const bodyMembers: Record<string, unknown> =
      typeof body === 'object' && body !== null && !Array.isArray(body)
        ? { ...(body as Record<string, unknown>) }
        : {};
    for (const [name, ref] of Object.entries(inputShape.members ?? {})) {
      if (ref.location === 'uri') {
        const value = labels[ref.locationName ?? name];
        if (value !== undefined) input[name] = coerce(model, ref.shape, value);
      } else if (ref.location === 'querystring') {
        const value = url.searchParams.get(ref.locationName ?? name);
        if (value !== null) input[name] = coerce(model, ref.shape, value);
      } else if (ref.location === 'header') {
        const value = header(request.headers, ref.locationName ?? name);
        if (value !== undefined) input[name] = coerce(model, ref.shape, value);
      } else if (inputShape.payload === name) {
        input[name] = body;
      } else if (name in bodyMembers) {
        input[name] = bodyMembers[name];
        delete bodyMembers[name];
      }
    }
    if (inputShape.payload === undefined) {
      for (const extra of Object.keys(bodyMembers))
        add(extra, `unknown member ${JSON.stringify(extra)} in the request body`);
    }
    checkShape(model, operation.input?.shape as string, input, '', add);
  }
  return { operation: operation.name, input, violations };
}

/** URI and query values arrive as text: convert to the member's primitive type before checking. */
function coerce(model: ServiceModel, shapeName: string, text: string): unknown {
  const shape = model.shapes[shapeName];
  if (shape?.type === 'integer' || shape?.type === 'long') return /^-?\d+$/.test(text) ? Number(text) : text;
  if (shape?.type === 'boolean') return text === 'true' ? true : text === 'false' ? false : text;
  return text;
}

function describe(value: unknown): string {
  const text = JSON.stringify(value);
  return text === undefined ? String(value) : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

function checkShape(
  model: ServiceModel,
  shapeName: string,
  value: unknown,
  path: string,
  add: (path: string, message: string) => void,
): void {
  const shape = model.shapes[shapeName];
  if (shape === undefined) {
    add(path, `model has no shape ${shapeName}`);
    return;
  }
  const at = path === '' ? '(input)' : path;
  switch (shape.type) {
    case 'structure': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        add(at, `${shapeName} must be an object, got ${describe(value)}`);
        return;
      }
      const record = value as Record<string, unknown>;
      const members = shape.members ?? {};
      for (const key of Object.keys(record)) {
        if (!(key in members)) add(join(path, key), `${shapeName} has no member ${JSON.stringify(key)}`);
      }
      for (const required of shape.required ?? []) {
        if (record[required] === undefined || record[required] === null) {
          add(join(path, required), `${shapeName}.${required} is required`);
        }
      }
      const present = Object.keys(members).filter((k) => record[k] !== undefined && record[k] !== null);
      if (shape.union === true && present.length !== 1) {
        add(
          at,
          `${shapeName} is a union: set exactly one of ${Object.keys(members).join(', ')}, got ${present.length} (${present.join(', ')})`,
        );
      }
      for (const key of present)
        checkShape(model, (members[key] as MemberRef).shape, record[key], join(path, key), add);
      return;
    }
    case 'list': {
      if (!Array.isArray(value)) {
        add(at, `${shapeName} must be a list, got ${describe(value)}`);
        return;
      }
      if (shape.min !== undefined && value.length < shape.min)
        add(at, `${shapeName} needs at least ${shape.min} items, got ${value.length}`);
      if (shape.max !== undefined && value.length > shape.max)
        add(at, `${shapeName} allows at most ${shape.max} items, got ${value.length}`);
      for (const [i, item] of value.entries())
        checkShape(model, shape.member?.shape as string, item, `${path}[${i}]`, add);
      return;
    }
    case 'map': {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) {
        add(at, `${shapeName} must be a map, got ${describe(value)}`);
        return;
      }
      for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
        checkShape(model, shape.key?.shape as string, k, join(path, k), add);
        checkShape(model, shape.value?.shape as string, v, join(path, k), add);
      }
      return;
    }
    case 'string': {
      if (typeof value !== 'string') {
        add(at, `${shapeName} must be a string, got ${describe(value)}`);
        return;
      }
      if (shape.enum !== undefined && !shape.enum.includes(value)) {
        add(at, `${shapeName} must be one of ${shape.enum.join(', ')}, got ${describe(value)}`);
      }
      if (shape.min !== undefined && value.length < shape.min)
        add(at, `${shapeName} must be at least ${shape.min} characters, got ${value.length}`);
      if (shape.max !== undefined && value.length > shape.max)
        add(at, `${shapeName} must be at most ${shape.max} characters, got ${value.length}`);
      if (shape.pattern !== undefined && !new RegExp(shape.pattern, 'u').test(value)) {
        add(at, `${shapeName} must match /${shape.pattern}/, got ${describe(value)}`);
      }
      return;
    }
    case 'integer':
    case 'long': {
      if (typeof value !== 'number' || !Number.isInteger(value)) {
        add(at, `${shapeName} must be an integer, got ${describe(value)}`);
        return;
      }
      if (shape.min !== undefined && value < shape.min)
        add(at, `${shapeName} must be >= ${shape.min}, got ${value}`);
      if (shape.max !== undefined && value > shape.max)
        add(at, `${shapeName} must be <= ${shape.max}, got ${value}`);
      return;
    }
    case 'double':
    case 'float':
      if (typeof value !== 'number') add(at, `${shapeName} must be a number, got ${describe(value)}`);
      return;
    case 'boolean':
      if (typeof value !== 'boolean') add(at, `${shapeName} must be a boolean, got ${describe(value)}`);
      return;
    case 'timestamp':
      if (typeof value !== 'number' && typeof value !== 'string')
        add(at, `${shapeName} must be a timestamp, got ${describe(value)}`);
      return;
    default:
      add(at, `${shapeName} has type ${shape.type}, which this validator does not check`);
  }
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}
