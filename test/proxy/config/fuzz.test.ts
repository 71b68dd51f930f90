// Property tests: random mutations of valid configs (a corpus file and a rich hand-written one)
// through the real loader. Whatever the input, the loader returns a config or throws a MeshError,
// never anything else (no TypeError, RangeError or stack overflow). Nothing is stood in.
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { MeshError } from '../../../errors/index.js';
import { loadBootstrap, validateEnvoyResource } from '../../../proxy/config/index.js';

type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

// FUZZ_RUNS raises the run count for a local soak; the suite default stays small (shared CPUs).
const RUNS = Number(process.env['FUZZ_RUNS'] ?? 200);
const CORPUS = new URL('../../../../shared/envoy-corpus/', import.meta.url);
const BASES: JsonValue[] = [
  parse(readFileSync(new URL('examples__front-proxy__envoy.yaml', CORPUS), 'utf8')) as JsonValue,
  parse(readFileSync(new URL('examples__locality-load-balancing__envoy.yaml', CORPUS), 'utf8')) as JsonValue,
  JSON.parse(
    readFileSync(new URL('istio__pkg__bootstrap__testdata__default_golden.json', CORPUS), 'utf8'),
  ) as JsonValue,
];

/** Every path (list of keys/indexes) to a node in `value`. */
function paths(
  value: JsonValue,
  prefix: (string | number)[] = [],
  out: (string | number)[][] = [],
): (string | number)[][] {
  out.push(prefix);
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) paths(v, [...prefix, i], out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) paths(v, [...prefix, k], out);
  }
  return out;
}

type Mutation =
  | { kind: 'replace'; with: JsonValue }
  | { kind: 'delete' }
  | { kind: 'rename'; to: string }
  | { kind: 'wrap' };

/** A deep copy of `base` with one mutation applied at `path`. */
function mutate(base: JsonValue, path: (string | number)[], m: Mutation): JsonValue {
  const root = structuredClone(base);
  if (path.length === 0) return m.kind === 'replace' ? m.with : m.kind === 'wrap' ? [root] : root;
  let parent: JsonValue = root;
  for (const key of path.slice(0, -1))
    parent = (parent as Record<string, JsonValue>)[key as string] as JsonValue;
  const last = path[path.length - 1] as string | number;
  const container = parent as Record<string | number, JsonValue>;
  const current = container[last] as JsonValue;
  if (m.kind === 'replace') container[last] = m.with;
  else if (m.kind === 'wrap') container[last] = [current];
  else if (m.kind === 'delete') {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete container[last];
  } else if (!Array.isArray(parent)) {
    delete container[last];
    container[m.to] = current;
  }
  return root;
}

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    with: fc.jsonValue({ maxDepth: 3 }) as fc.Arbitrary<JsonValue>,
  }),
  fc.record({
    kind: fc.constant('replace' as const),
    with: fc.constantFrom<JsonValue>(
      '',
      '-1s',
      '1e400s',
      'NaN',
      -1,
      2 ** 53,
      1.5,
      '1e3',
      '@type',
      { '@type': 'type.googleapis.com/google.protobuf.Struct', value: 1 },
      { '@type': 'type.googleapis.com/google.protobuf.Duration', value: '1s' },
      { '@type': 42 },
      'strict_dns',
      'tlsv1_3',
      'STATIC',
      'LOGICAL_DNS',
      'service1-envoy',
      'backend',
      '*',
      'localhost',
      '::1',
      [],
      {},
      [null],
    ),
  }),
  fc.record({ kind: fc.constant('delete' as const) }),
  fc.record({
    kind: fc.constant('rename' as const),
    to: fc.constantFrom('@type', 'lbPolicy', 'typedConfig', 'x', '__proto__', 'constructor'),
  }),
  fc.record({ kind: fc.constant('wrap' as const) }),
);

function onlyMeshErrors(run: () => unknown): void {
  try {
    run();
  } catch (err) {
    if (!(err instanceof MeshError)) throw err;
    expect(err.problems.length).toBeGreaterThan(0);
  }
}

describe('loader robustness', () => {
  test('random structural mutations of real configs give a config or a MeshError', () => {
    // GIVEN real configs and random one-step mutations (1-3 of them)
    const arb = fc
      .integer({ min: 0, max: BASES.length - 1 })
      .chain((b) =>
        fc.tuple(fc.constant(b), fc.array(fc.tuple(fc.nat(), mutation), { minLength: 1, maxLength: 3 })),
      );
    fc.assert(
      fc.property(arb, ([b, steps]) => {
        // WHEN mutated and loaded as JSON
        let value = BASES[b] as JsonValue;
        for (const [pick, m] of steps) {
          const all = paths(value);
          value = mutate(value, all[pick % all.length] as (string | number)[], m);
        }
        // THEN only MeshErrors escape
        onlyMeshErrors(() =>
          loadBootstrap(JSON.stringify(value), { format: 'json', onWarning: () => undefined }),
        );
      }),
      { numRuns: RUNS },
    );
  });

  test('random byte-level edits of YAML text give a config or a MeshError', () => {
    // GIVEN a real YAML config and random splices of text into it
    const text = readFileSync(new URL('examples__local_ratelimit__envoy.yaml', CORPUS), 'utf8');
    fc.assert(
      fc.property(
        fc.nat(),
        fc.nat({ max: 20 }),
        fc.oneof(
          fc.string({ maxLength: 12 }),
          fc.constantFrom(
            ' .inf',
            ' .nan',
            ' !!binary aGk=',
            ' !!set {a}',
            '? [a]: b',
            ' &x',
            ' *x',
            '<<: *x',
            ' ~',
            '\t',
            ' "\\ud800"',
            '\n---\n',
          ),
        ),
        (at, cut, insert) => {
          // WHEN spliced and loaded
          const i = at % text.length;
          const edited = text.slice(0, i) + insert + text.slice(i + cut);
          // THEN only MeshErrors escape
          onlyMeshErrors(() => loadBootstrap(edited, { onWarning: () => undefined }));
        },
      ),
      { numRuns: RUNS },
    );
  });

  test('arbitrary JSON as an xDS resource gives a resource or a MeshError', () => {
    // GIVEN arbitrary JSON values
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
        // WHEN validated as a Listener
        // THEN only MeshErrors escape
        onlyMeshErrors(() =>
          validateEnvoyResource('type.googleapis.com/envoy.config.listener.v3.Listener', value),
        );
      }),
      { numRuns: RUNS },
    );
  });

  test('a deeply nested input is refused without overflowing the stack', () => {
    // GIVEN a value nested 100 000 levels deep where a message is expected
    let deep = '1';
    for (let i = 0; i < 100_000; i++) deep = `[${deep}]`;
    // WHEN loaded
    // THEN it is a MeshError, not a RangeError
    onlyMeshErrors(() => loadBootstrap(`{"node": ${deep}}`, { format: 'json' }));
    // AND inside a Struct, where any JSON is allowed, in JSON and in YAML
    const err = (() => {
      try {
        loadBootstrap(`{"node": {"metadata": {"a": ${deep}}}}`, { format: 'json' });
      } catch (e) {
        return e as MeshError;
      }
      return undefined;
    })();
    expect(err?.code).toBe('PROXY_E_PARSE');
    expect(err?.message).toContain('levels deep');
    onlyMeshErrors(() => loadBootstrap(`node: {metadata: {a: ${'['.repeat(5000)}1${']'.repeat(5000)}}}`));
    let nested: unknown = 1;
    for (let i = 0; i < 10_000; i++) nested = { and_rules: nested };
    onlyMeshErrors(() =>
      validateEnvoyResource('type.googleapis.com/envoy.config.listener.v3.Listener', { name: nested }),
    );
  });
});
