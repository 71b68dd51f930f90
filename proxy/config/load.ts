/**
 * The Envoy v3 configuration loader: text in, a validated, frozen {@link Bootstrap} out, read the
 * way Envoy reads it (see ../shared/PLATFORM.md and docs/proxy-compatibility.md).
 *
 * Stages, each gathering every problem it finds before the loader throws once:
 * 1. YAML or JSON text → a JSON value (PROXY_E_PARSE, with line numbers);
 * 2. strict proto3 JSON against Envoy's descriptors (strict.ts): unknown fields
 *    (PROXY_E_UNKNOWN_FIELD), wrong types, enums, durations, oneof conflicts (PROXY_E_INVALID),
 *    unknown `@type` (PROXY_E_UNSUPPORTED); enum case and single-object lists normalized;
 * 3. `@bufbuild/protobuf` fromJson/toJson → canonical proto3 JSON (proto names, defaults omitted);
 *    `--config-yaml` is merged here with protobuf MergeFrom semantics, as Envoy merges it;
 * 4. protoc-gen-validate rules declared in Envoy's protos (rules.ts, PROXY_E_INVALID);
 * 5. the supported subset (supported.ts, PROXY_E_UNSUPPORTED);
 * 6. deprecated spellings rewritten to current ones (canonicalize.ts);
 * 7. cross-field checks Envoy makes at start-up: unique names, known route clusters... (semantic.ts).
 */
import { readFileSync } from 'node:fs';
import { extname } from 'node:path';
import { type DescMessage, fromBinary, fromJson, type JsonValue, toBinary, toJson } from '@bufbuild/protobuf';
import { isScalar, LineCounter, parseDocument, visit } from 'yaml';
import { MeshError, type Problem } from '../../errors/index.js';
import { canonicalize } from './canonicalize.js';
import { envoyMessage, envoyRegistry, TYPE_URL_PREFIX } from './descriptors.js';
import type { Bootstrap, XdsResourceTypes, XdsTypeUrl } from './envoy.js';
import { duplicateKeys } from './json-keys.js';
import { checkRules } from './rules.js';
import { checkSemantics } from './semantic.js';
import { type Json, readStrict } from './strict.js';
import { checkSupported, type FieldUse } from './supported.js';

/** Options for {@link loadBootstrap}. */
export interface LoadOptions {
  /** Syntax of `text`. @default - `yaml` (YAML 1.2, which also reads JSON) */
  readonly format?: 'yaml' | 'json';
  /** Name used in messages (a file path, `--config-yaml`). @default - `config` */
  readonly source?: string;
  /**
   * Envoy's `--config-yaml`: a YAML bootstrap merged over `text` with protobuf MergeFrom
   * semantics (scalars replaced, messages merged, lists appended). @default - no override
   */
  readonly configYaml?: string;
  /**
   * Receives one warning per deprecated field used.
   * @default - `process.emitWarning` (printed on stderr as `[PROXY_W_DEPRECATED] CrossmeshProxyConfigWarning: ...`)
   */
  readonly onWarning?: (warning: ConfigWarning) => void;
}

/**
 * Something a loaded config uses that deserves attention: a field Envoy has deprecated and warns
 * about (`PROXY_W_DEPRECATED`).
 */
export interface ConfigWarning {
  readonly code: 'PROXY_W_DEPRECATED';
  /** The feature, e.g. `envoy.config.route.v3.RouteMatch.grpc` (a `<message>.<field>` name). */
  readonly feature: string;
  /** Every place the config uses it. */
  readonly paths: readonly string[];
  /** One line naming the feature, the first place and the count. */
  readonly message: string;
}

/** Options for {@link validateEnvoyResource}. */
export interface ValidateOptions {
  /** Also require the bundled proxy's supported subset. @default - false (Envoy's rules only) */
  readonly supportedOnly?: boolean;
  /** With `supportedOnly`: collects the deprecated fields set. @default - not collected */
  readonly deprecated?: FieldUse[];
  /** Prefix for reported paths, e.g. the resource's name. @default - `''` */
  readonly path?: string;
}

const BOOTSTRAP = 'envoy.config.bootstrap.v3.Bootstrap';

/**
 * Loads a bootstrap from a file (`-c`): `.yaml`/`.yml` is read as YAML and any other name as JSON,
 * as Envoy does; binary and text protobuf forms (`.pb`, `.pb_text`) are refused.
 * @throws MeshError PROXY_E_FILE, PROXY_E_PARSE, PROXY_E_UNKNOWN_FIELD, PROXY_E_INVALID, PROXY_E_UNSUPPORTED
 */
export function loadBootstrapFile(
  path: string,
  options: Omit<LoadOptions, 'format' | 'source'> = {},
): Bootstrap {
  const ext = extname(path).toLowerCase();
  if (ext === '.pb' || ext === '.pb_text') {
    throw new MeshError(
      'PROXY_E_UNSUPPORTED',
      `${path}: binary and text protobuf configs are not supported; use YAML or JSON`,
      {
        path: '',
        value: ext,
        allowed: '.yaml, .yml or .json',
      },
    );
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new MeshError(
      'PROXY_E_FILE',
      `${path}: cannot read the configuration file (${(err as Error).message})`,
      {
        value: path,
        cause: err,
      },
    );
  }
  // Envoy reads .yaml/.yml as YAML and every other name as JSON (MessageUtil::loadFromFile).
  const format = ext === '.yaml' || ext === '.yml' ? 'yaml' : 'json';
  return loadBootstrap(text, { ...options, format, source: path });
}

/**
 * Loads a bootstrap from text (YAML or JSON) and returns it validated, canonical and deeply frozen.
 * @throws MeshError with every problem found (`error.problems`), each naming its field path
 */
export function loadBootstrap(text: string, options: LoadOptions = {}): Bootstrap {
  const source = options.source ?? 'config';
  const desc = envoyMessage(BOOTSTRAP);
  const problems: Problem[] = [];
  // Problems of the main text get their source from the headline; the override's are labelled.
  const base = parseToMessage(desc, text, options.format ?? 'yaml', '', problems);
  const override =
    options.configYaml === undefined
      ? undefined
      : parseToMessage(desc, options.configYaml, 'yaml', '--config-yaml: ', problems);
  if (base === undefined || (options.configYaml !== undefined && override === undefined)) {
    throw fail(source, problems);
  }
  // Concatenated protobuf encodings decode as MergeFrom: exactly how Envoy merges --config-yaml.
  const merged =
    override === undefined
      ? base
      : fromBinary(desc, concat(toBinary(desc, base), toBinary(desc, override)), {
          readUnknownFields: false,
        });
  const deprecated: FieldUse[] = [];
  const canonical = finish(desc, merged, '', { supportedOnly: true, deprecated }, problems);
  // The cross-field checks rely on what the earlier stages guarantee (required fields present).
  if (problems.length === 0) checkSemantics(canonical as Bootstrap, problems);
  if (problems.length > 0) throw fail(source, problems);
  warnDeprecated(source, deprecated, options.onWarning ?? emitWarning);
  return deepFreeze(canonical) as Bootstrap;
}

/**
 * Validates one xDS resource (Listener, RouteConfiguration, Cluster, ClusterLoadAssignment or
 * Secret) strictly against Envoy's protos and returns it as canonical proto3 JSON.
 * `json` may be in proto3 JSON form with either proto or JSON field names.
 * @throws MeshError naming the path of every problem
 */
export function validateEnvoyResource<T extends XdsTypeUrl>(
  typeUrl: T,
  json: unknown,
  options: ValidateOptions = {},
): XdsResourceTypes[T] {
  const allowed: readonly string[] = XDS_TYPES;
  if (!allowed.includes(typeUrl)) {
    throw new MeshError(
      'PROXY_E_INVALID',
      `${String(typeUrl)} is not an xDS resource type this validator knows`,
      {
        value: typeUrl,
        allowed: XDS_TYPES.join(', '),
      },
    );
  }
  const desc = envoyMessage(typeUrl.slice(TYPE_URL_PREFIX.length));
  const path = options.path ?? '';
  const problems: Problem[] = [];
  if (nesting(json) > MAX_DEPTH) {
    throw new MeshError('PROXY_E_INVALID', `${path || typeUrl}: nested more than ${MAX_DEPTH} levels deep`, {
      path,
      allowed: `at most ${MAX_DEPTH} levels`,
    });
  }
  const message = toMessage(desc, json, path, problems);
  if (message === undefined) throw fail(typeUrl, problems);
  const canonical = finish(desc, message, path, options, problems);
  if (problems.length > 0) throw fail(path === '' ? typeUrl : path, problems);
  return deepFreeze(canonical) as unknown as XdsResourceTypes[T];
}

const XDS_TYPES: readonly XdsTypeUrl[] = [
  'type.googleapis.com/envoy.config.listener.v3.Listener',
  'type.googleapis.com/envoy.config.route.v3.RouteConfiguration',
  'type.googleapis.com/envoy.config.cluster.v3.Cluster',
  'type.googleapis.com/envoy.config.endpoint.v3.ClusterLoadAssignment',
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.Secret',
];

type Message = ReturnType<typeof fromJson>;

function parseToMessage(
  desc: DescMessage,
  text: string,
  format: 'yaml' | 'json',
  label: string,
  problems: Problem[],
): Message | undefined {
  const value = parseText(text, format, label, problems);
  if (value === undefined) return undefined;
  return toMessage(desc, value, '', problems, label);
}

/** Stages 2-3: strict reading, then the protobuf message. Unsupported typed configs are dropped but reported. */
function toMessage(
  desc: DescMessage,
  value: unknown,
  path: string,
  problems: Problem[],
  label = '',
): Message | undefined {
  const strict = readStrict(desc, value, path);
  problems.push(...strict.problems.map((p) => (label === '' ? p : { ...p, message: label + p.message })));
  if (strict.problems.some((p) => p.code !== 'PROXY_E_UNSUPPORTED')) return undefined;
  try {
    return fromJson(desc, strict.json as JsonValue, { registry: envoyRegistry() });
  } catch (err) {
    // The strict walk checks what fromJson checks; reaching this is a gap in strict.ts.
    problems.push({
      code: 'PROXY_E_INVALID',
      path,
      message: `${path || '(root)'}: ${(err as Error).message}`,
    });
    return undefined;
  }
}

/** Stages 3-6 on a parsed message: canonical JSON, PGV rules, supported subset, rewrites. */
function finish(
  desc: DescMessage,
  message: Message,
  path: string,
  options: ValidateOptions,
  problems: Problem[],
): Json {
  let canonical: Json;
  try {
    canonical = toJson(desc, message, { registry: envoyRegistry(), useProtoFieldName: true }) as Json;
  } catch (err) {
    // The strict walk refuses what toJson cannot write; reaching this is a gap in strict.ts.
    problems.push({
      code: 'PROXY_E_INVALID',
      path,
      message: `${path || '(root)'}: ${(err as Error).message}`,
    });
    return {};
  }
  checkRules(desc, canonical, path, problems);
  if (options.supportedOnly === true) {
    checkSupported(desc, canonical, path, problems, {
      ...(options.deprecated === undefined ? {} : { deprecated: options.deprecated }),
    });
  }
  canonicalize(desc, canonical, path, problems);
  return canonical;
}

/** One warning per deprecated field, in order of first use. */
function warnDeprecated(source: string, uses: readonly FieldUse[], sink: (w: ConfigWarning) => void): void {
  const byFeature = new Map<string, FieldUse[]>();
  for (const u of uses) {
    const list = byFeature.get(u.feature) ?? [];
    list.push(u);
    byFeature.set(u.feature, list);
  }
  for (const [feature, list] of byFeature) {
    const first = list[0] as FieldUse;
    const more = list.length > 1 ? ` and ${list.length - 1} more place${list.length > 2 ? 's' : ''}` : '';
    const what = `using deprecated option '${feature}', which Envoy will remove (see its version history)`;
    sink({
      code: 'PROXY_W_DEPRECATED',
      feature,
      paths: list.map((u) => u.path),
      message: `${source}: ${first.label}${more}: ${what}`,
    });
  }
}

function emitWarning(w: ConfigWarning): void {
  process.emitWarning(w.message, { type: 'CrossmeshProxyConfigWarning', code: w.code });
}

function fail(source: string, problems: readonly Problem[]): MeshError {
  if (problems.length === 0) {
    return new MeshError('INTERNAL_E_BUG', `${source}: configuration rejected without a reported problem`);
  }
  const headline =
    problems.length === 1
      ? `${source}: ${problems[0]?.message}`
      : `${source}: ${problems.length} problems:\n${problems.map((p) => `  - ${p.message}`).join('\n')}`;
  return MeshError.fromProblems(problems, headline);
}

/** Stage 1: YAML/JSON text to a JSON value; duplicate keys with different values are errors. */
function parseText(text: string, format: 'yaml' | 'json', label: string, problems: Problem[]): unknown {
  const parseProblem = (message: string, value?: unknown) =>
    problems.push({
      code: 'PROXY_E_PARSE',
      path: '',
      message: `${label}${message}`,
      ...(value === undefined ? {} : { value }),
    });
  if (text.trim() === '') {
    parseProblem('the configuration is empty');
    return undefined;
  }
  try {
    return parseUnchecked(text, format, parseProblem);
  } catch (err) {
    // yaml's parser recurses; pathological nesting must not escape as a RangeError.
    parseProblem(`cannot be parsed: ${(err as Error).message}`);
    return undefined;
  }
}

function parseUnchecked(
  text: string,
  format: 'yaml' | 'json',
  parseProblem: (message: string, value?: unknown) => void,
): unknown {
  let problem = false;
  const report = (message: string, value?: unknown) => {
    problem = true;
    parseProblem(message, value);
  };
  if (format === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (err) {
      report(
        `not valid JSON (as in Envoy, files not named *.yaml or *.yml are read as JSON): ${(err as Error).message}`,
      );
      return undefined;
    }
    if (nesting(value) > MAX_DEPTH) {
      report(`nested more than ${MAX_DEPTH} levels deep`);
      return undefined;
    }
    // JSON.parse keeps the last of two equal keys; two different values for one field are refused.
    for (const d of duplicateKeys(text))
      report(`line ${d.line}: key "${d.key}" is given twice with different values`, d.key);
    return problem ? undefined : value;
  }
  const lines = new LineCounter();
  let ignored = 0;
  // logLevel 'error': the yaml package would print warnings itself; problems are reported here.
  const doc = parseDocument(text, {
    lineCounter: lines,
    merge: true,
    uniqueKeys: false,
    prettyErrors: true,
    logLevel: 'error',
  });
  const [error] = doc.errors;
  if (error !== undefined) {
    report(`not valid YAML: ${error.message}`);
    return undefined;
  }
  // A key given twice is an error unless both values agree (values are compared only then); a
  // key that is a list or a map has no JSON form.
  visit(doc, {
    Map(_, map) {
      const seen = new Map<string, (typeof map.items)[number]>();
      for (const pair of map.items) {
        // Envoy drops keys tagged !ignore (they hold YAML anchors outside the schema). The key is
        // renamed, not removed, so aliases to anchors inside it still resolve; it goes after toJS.
        if (isScalar(pair.key) && pair.key.tag === '!ignore') {
          pair.key.value = `${IGNORED}${ignored++}`;
          continue;
        }
        if (!isScalar(pair.key)) {
          const pos = lines.linePos((pair.key as { range?: [number] } | null)?.range?.[0] ?? 0);
          report(`line ${pos.line}: a map key must be a plain value, not a list or a map`);
          continue;
        }
        const key = String(pair.key.value);
        if (key === '<<') continue;
        const before = seen.get(key);
        if (before !== undefined && JSON.stringify(jsOf(before.value)) !== JSON.stringify(jsOf(pair.value))) {
          const pos = lines.linePos(pair.key.range?.[0] ?? 0);
          report(`line ${pos.line}: key "${key}" is given twice with different values`, key);
        }
        seen.set(key, pair);
      }
    },
    Scalar(key, node) {
      // Envoy's YAML reader (yaml-cpp) turns these plain scalars into booleans; keys stay strings.
      if (
        key !== 'key' &&
        node.type === 'PLAIN' &&
        node.tag === undefined &&
        typeof node.source === 'string'
      ) {
        const flag = YAML_CPP_BOOLS.get(node.source);
        if (flag !== undefined) node.value = flag;
      }
    },
  });
  if (problem) return undefined;
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (err) {
    report(`not valid YAML: ${(err as Error).message}`);
    return undefined;
  }
  if (ignored > 0) dropIgnored(value);
  if (nesting(value) > MAX_DEPTH) {
    report(`nested more than ${MAX_DEPTH} levels deep`);
    return undefined;
  }
  return value;
}

/** Prefix of the placeholder names `!ignore` keys get until they are dropped (no YAML key has a NUL). */
const IGNORED = '\u0000ignore\u0000';

/** Removes the `!ignore` placeholders from a parsed value, without recursion. */
function dropIgnored(value: unknown): void {
  const stack: unknown[] = [value];
  const seen = new Set<object>();
  while (stack.length > 0) {
    const v = stack.pop();
    if (typeof v !== 'object' || v === null || seen.has(v)) continue;
    seen.add(v);
    for (const key of Object.keys(v)) {
      if (key.startsWith(IGNORED)) delete (v as Record<string, unknown>)[key];
      else stack.push((v as Record<string, unknown>)[key]);
    }
  }
}

/** yaml-cpp's boolean spellings (YAML 1.1), beyond YAML 1.2's true/false. */
const YAML_CPP_BOOLS: ReadonlyMap<string, boolean> = new Map(
  ['y', 'yes', 'true', 'on', 'n', 'no', 'false', 'off'].flatMap((w) => {
    const value = ['y', 'yes', 'true', 'on'].includes(w);
    const forms = [w, w.toUpperCase(), w[0]?.toUpperCase() + w.slice(1)];
    return forms.map((f) => [f, value] as const);
  }),
);

/**
 * Deepest nesting accepted. Real Envoy configs stay under 40 levels (objects and lists counted);
 * protobuf's own JSON parser stops at 100 message levels. The walkers recurse, so this bound also
 * keeps hostile input from exhausting the stack.
 */
const MAX_DEPTH = 100;

/** Nesting depth of a JSON value, computed without recursion. */
function nesting(value: unknown): number {
  let max = 0;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, d] = stack.pop() as [unknown, number];
    if (typeof v !== 'object' || v === null) continue;
    if (d > max) max = d;
    if (max > MAX_DEPTH) return max;
    for (const child of Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

function jsOf(node: unknown): unknown {
  return typeof node === 'object' && node !== null && 'toJSON' in node
    ? (node as { toJSON(): unknown }).toJSON()
    : node;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
