// Spawns the real CLI on real files (the shop example and files in a temporary directory);
// nothing is stood in. The exit-3 case uses the real appmesh target when it is registered.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { TARGETS } from '../../adapters/registry.js';
import { crossmesh } from './run.js';

let dir: string;
let fiveMistakes: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'crossmesh-cli-'));
  fiveMistakes = join(dir, 'five.yaml');
  await writeFile(
    fiveMistakes,
    [
      'name: Shop', // 1: not a DNS label
      'services:',
      '  frontend:',
      '    ports: [{ port: 8080, protocol: htp }]', // 2: bad protocol
      '    versions: { v1: {} }',
      '    backends: [catalgo]', // 3: unknown backend
      '  catalog:',
      '    ports: [{ port: 8080, protocol: http }]',
      '    versions: { v1: {}, v2: {} }',
      '    routes:',
      '      - name: split',
      '        destinations: [{ version: v1, weight: 2000 }, { version: v3 }]', // 4: weight, 5: version
      '',
    ].join('\n'),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('crossmesh validate', () => {
  test('the shop example is valid: exit 0 and a one-line summary', async () => {
    // GIVEN / WHEN
    const result = await crossmesh('validate', 'examples/shop/mesh.ts');
    // THEN
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      'ok: examples/shop/mesh.ts: mesh shop is valid (4 services, 5 versions, 6 routes, 1 gateway)\n',
    );
  });

  test('a mesh with five mistakes: all five printed path-first with codes, exit 1', async () => {
    // GIVEN the five-mistake mesh WHEN validated
    const result = await crossmesh('validate', fiveMistakes);
    // THEN
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines[0]).toBe('crossmesh: 5 problems');
    expect(
      lines
        .slice(1)
        .map((l) => l.trim().replace(/: .* \[/, ' ['))
        .sort(),
    ).toEqual(
      [
        'name [MESH_E_NAME]',
        'services.frontend.ports[0].protocol [MESH_E_ENUM]',
        'services.frontend.backends[0] [MESH_E_REF]',
        'services.catalog.routes[0].destinations[0].weight [MESH_E_RANGE]',
        'services.catalog.routes[0].destinations[1].version [MESH_E_REF]',
      ].sort(),
    );
    expect(result.stderr).toContain('got 2000');
  });

  test('--json prints the problems as data on stdout', async () => {
    // GIVEN / WHEN
    const bad = await crossmesh('validate', '--json', fiveMistakes);
    const good = await crossmesh('validate', 'examples/shop/mesh.yaml', '--json');
    // THEN
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.ok).toBe(false);
    expect(report.problems).toHaveLength(5);
    expect(report.problems[0]).toEqual(
      expect.objectContaining({ code: 'MESH_E_NAME', path: 'name', value: 'Shop' }),
    );
    expect(good.code).toBe(0);
    expect(JSON.parse(good.stdout)).toEqual({
      ok: true,
      file: 'examples/shop/mesh.yaml',
      mesh: 'shop',
      services: 4,
      versions: 5,
      routes: 6,
      gateways: 1,
      targets: {},
    });
  });

  test('usage errors exit 2 and name the allowed options; a missing file exits 1', async () => {
    // GIVEN / WHEN
    const unknown = await crossmesh('validate', '--strict', 'examples/shop/mesh.ts');
    const none = await crossmesh('validate');
    const missing = await crossmesh('validate', join(dir, 'nope.json'));
    // THEN
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('allowed options: --target, --json, --help');
    expect(unknown.stderr).toContain('[CLI_E_USAGE]');
    expect(none.code).toBe(2);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('[CLI_E_FILE]');
  });

  test('--target checks what each target can express, without rendering', async () => {
    // GIVEN the shop WHEN checked against json (everything) with --json
    const result = await crossmesh('validate', 'examples/shop/mesh.ts', '--target', 'json', '--json');
    // THEN it is expressible, with nothing approximated
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).targets).toEqual({ json: { approximated: [] } });
    const plain = await crossmesh('validate', 'examples/shop/mesh.ts', '--target', 'json');
    expect(plain.stdout).toContain('; expressible on json');
    const unknown = await crossmesh('validate', 'examples/shop/mesh.ts', '--target', 'nope');
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('[TARGET_E_UNKNOWN]');
  });

  test.skipIf(!('appmesh' in TARGETS))(
    '--target exits 3 listing every use a target cannot express',
    async () => {
      // GIVEN the shop (authorization by method, which App Mesh has no equivalent for)
      const result = await crossmesh('validate', 'examples/shop/mesh.ts', '--target', 'appmesh');
      // THEN
      expect(result.code).toBe(3);
      expect(result.stderr).toContain('services.catalog.authorization.rules[0].methods');
      expect(result.stderr).toContain('[TARGET_E_UNSUPPORTED]');
    },
  );

  test('--help documents usage and exit codes', async () => {
    const result = await crossmesh('validate', '--help');
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('Usage: crossmesh validate');
    expect(result.stdout).toContain(
      'Exit codes: 0 valid, 1 invalid mesh or unreadable file, 2 usage or unknown target,',
    );
  });
});
