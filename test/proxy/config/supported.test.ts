// The allow-list against Envoy's real descriptors: every message, field and typed config it names
// must exist in the v3 API, so a typo in supported.ts cannot silently allow nothing. Nothing stood in.
import { describe, expect, test } from 'vitest';
import { envoyRegistry } from '../../../proxy/config/descriptors.js';
import { SUPPORTED_FIELDS, SUPPORTED_TYPED_CONFIGS } from '../../../proxy/config/supported.js';

describe('supported subset', () => {
  test('every listed message and field exists in the Envoy v3 API', () => {
    // GIVEN the registry built from Envoy's protos
    const registry = envoyRegistry();
    // WHEN each allow-list entry is looked up
    const missing: string[] = [];
    for (const [message, fields] of Object.entries(SUPPORTED_FIELDS)) {
      const desc = registry.getMessage(message);
      if (desc === undefined) {
        missing.push(message);
        continue;
      }
      for (const name of Object.keys(fields)) {
        if (!desc.fields.some((f) => f.name === name)) missing.push(`${message}.${name}`);
      }
    }
    // THEN nothing is missing
    expect(missing).toEqual([]);
  });

  test('every enum restriction names real values of the field', () => {
    // GIVEN fields restricted to some enum values
    const registry = envoyRegistry();
    const wrong: string[] = [];
    for (const [message, fields] of Object.entries(SUPPORTED_FIELDS)) {
      for (const [name, rule] of Object.entries(fields)) {
        if (rule.values === undefined) continue;
        const field = registry.getMessage(message)?.fields.find((f) => f.name === name);
        const values = field?.enum?.values.map((v) => v.name) ?? [];
        // WHEN compared with the proto enum
        for (const v of rule.values) if (!values.includes(v)) wrong.push(`${message}.${name}=${v}`);
      }
    }
    // THEN every value exists
    expect(wrong).toEqual([]);
  });

  test('every supported typed config is a message of the API and lists its fields', () => {
    // GIVEN the typed configs
    const registry = envoyRegistry();
    // WHEN looked up
    const missing = Object.keys(SUPPORTED_TYPED_CONFIGS).filter((t) => registry.getMessage(t) === undefined);
    // THEN all exist, and each with fields has an allow-list entry (even if empty)
    expect(missing).toEqual([]);
    const unlisted = Object.keys(SUPPORTED_TYPED_CONFIGS).filter(
      (t) => (registry.getMessage(t)?.fields.length ?? 0) > 0 && SUPPORTED_FIELDS[t] === undefined,
    );
    expect(unlisted).toEqual([]);
  });

  test('ignored fields always say why', () => {
    // GIVEN the tolerated-but-ignored fields
    const silent = Object.entries(SUPPORTED_FIELDS).flatMap(([m, fields]) =>
      Object.entries(fields)
        .filter(([, r]) => r.status === 'ignored' && (r.note ?? '').length < 10)
        .map(([f]) => `${m}.${f}`),
    );
    // THEN each has a reason
    expect(silent).toEqual([]);
  });
});
