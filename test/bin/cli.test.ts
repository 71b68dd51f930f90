// Spawns the real CLI; nothing is stood in.
import { describe, expect, test } from 'vitest';
import { crossmesh } from './run.js';

describe('crossmesh', () => {
  test('--help lists validate and render with the exit codes; no command exits 2', async () => {
    // GIVEN / WHEN
    const help = await crossmesh('--help');
    const none = await crossmesh();
    const unknown = await crossmesh('valdate');
    // THEN
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^ {2}validate +Check a mesh file/m);
    expect(help.stdout).toMatch(/^ {2}render +Render a mesh/m);
    expect(help.stdout).toContain(
      'Exit codes: 0 ok, 1 invalid mesh or input, 2 usage, 3 target cannot express the mesh',
    );
    expect(none.code).toBe(2);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('[CLI_E_USAGE]');
  });
});
