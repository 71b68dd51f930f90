// The published schema is checked with Ajv (an independent JSON Schema 2020-12 validator); nothing
// is stood in.
import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { describe, expect, test } from 'vitest';
import { canonicalize, toCanonicalJson } from '../../../model/canonical.js';
import { formatJson, meshJsonSchema } from '../../../model/schema/json-schema.js';
import { findProblems } from '../../../model/validate.js';

// biome-ignore lint/suspicious/noExplicitAny: tests break meshes at arbitrary depths; a typed shape would forbid the very mistakes under test.
type Editable = Record<string, any>;

const shop = JSON.parse(readFileSync(new URL('../../../examples/shop/mesh.json', import.meta.url), 'utf8'));

function compile() {
  const ajv = new Ajv2020({ strict: true, allErrors: true });
  addFormats.default(ajv);
  return ajv.compile(meshJsonSchema());
}

describe('meshJsonSchema', () => {
  test('compiles under Ajv strict mode and accepts the shop, as written and canonical', () => {
    // GIVEN the schema WHEN compiled
    const check = compile();
    // THEN both forms of the example conform
    expect(check(shop), JSON.stringify(check.errors)).toBe(true);
    expect(check(JSON.parse(toCanonicalJson(canonicalize(shop)))), JSON.stringify(check.errors)).toBe(true);
  });

  test.each<[string, (m: Editable) => void]>([
    ['an unknown field', (m) => (m.services.frontend.retries = 1)],
    ['a bad enum', (m) => (m.services.frontend.ports[0].protocol = 'udp')],
    ['a weight out of range', (m) => (m.services.catalog.routes[1].destinations[0].weight = 2000)],
    ['a bad duration', (m) => (m.services.catalog.policy.timeouts.request = '2 s')],
    ['a bad service name', (m) => (m.services['Bad Name'] = m.services.frontend)],
    ['a missing union kind', (m) => delete m.services.catalog.policy.healthCheck.kind],
    ['a kind with fields of another kind', (m) => (m.services.catalog.policy.healthCheck.kind = 'tcp')],
    ['a missing required field', (m) => delete m.services.frontend.ports],
  ])('rejects %s, as validate does', (_title, breakIt) => {
    // GIVEN the shop with one structural mistake
    const mesh = structuredClone(shop);
    breakIt(mesh);
    // THEN both the schema and crossmesh reject it
    expect(compile()(mesh)).toBe(false);
    expect(findProblems(mesh).length).toBeGreaterThan(0);
  });

  test('docs/mesh.schema.json is the generated schema', () => {
    const published = JSON.parse(
      readFileSync(new URL('../../../docs/mesh.schema.json', import.meta.url), 'utf8'),
    );
    expect(published).toEqual(meshJsonSchema());
  });

  test('formatJson lays JSON out like the repository formatter and parses back unchanged', () => {
    // GIVEN nested data with short and long scalar lists
    const value = {
      a: [1, 2],
      b: { c: [] as number[], d: {} },
      e: Array.from({ length: 40 }, (_, i) => `item-${i}`),
    };
    // WHEN formatted
    const text = formatJson(value);
    // THEN short lists stay on one line, long ones break, and the data is unchanged
    expect(text).toContain('"a": [1, 2],');
    expect(text).toContain('"c": [],');
    expect(text).toContain('"e": [\n    "item-0",');
    expect(JSON.parse(text)).toEqual(value);
  });
});
