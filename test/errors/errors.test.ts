import { readFileSync } from 'node:fs';
import { describe, expect, test } from 'vitest';
import { ERROR_CATALOG, MeshError } from '../../errors/index.js';

describe('MeshError', () => {
  test('carries code, path, value and allowed, and maps to the catalogue exit code', () => {
    // GIVEN / WHEN
    const error = new MeshError('MESH_E_RANGE', 'must be 0-1000, got 2000', {
      path: 'services.a.routes[0].destinations[0].weight',
      value: 2000,
      allowed: 'an integer from 0 to 1000',
    });
    // THEN
    expect(error.code).toBe('MESH_E_RANGE');
    expect(error.path).toBe('services.a.routes[0].destinations[0].weight');
    expect(error.exitCode).toBe(1);
    expect(error.problems).toEqual([
      {
        code: 'MESH_E_RANGE',
        path: 'services.a.routes[0].destinations[0].weight',
        message: 'must be 0-1000, got 2000',
        value: 2000,
        allowed: 'an integer from 0 to 1000',
      },
    ]);
  });

  test('instanceof survives a duplicated install (brand symbol, not prototype)', () => {
    // GIVEN an error-shaped object made by "another copy" of the class
    const foreign = Object.defineProperty(new Error('x'), Symbol.for('crossmesh.MeshError'), { value: true });
    // THEN
    expect(foreign instanceof MeshError).toBe(true);
    expect(new Error('plain') instanceof MeshError).toBe(false);
  });

  test('fromProblems keeps every problem and leads with the first', () => {
    const error = MeshError.fromProblems([
      { code: 'MESH_E_REF', path: 'a', message: 'one' },
      { code: 'MESH_E_NAME', path: 'b', message: 'two' },
    ]);
    expect(error.code).toBe('MESH_E_REF');
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('b: two [MESH_E_NAME]');
  });

  test('every catalogue code appears in docs/errors.md and every documented code exists', () => {
    const page = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
    const documented = new Set([...page.matchAll(/^\| `([A-Z_]+)` \|/gm)].map((m) => m[1]));
    expect([...documented].sort()).toEqual(Object.keys(ERROR_CATALOG).sort());
  });
});
