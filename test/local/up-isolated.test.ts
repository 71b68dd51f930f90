/**
 * `crossmesh up --isolate-proxies`: examples/shop with every proxy in its own process
 * (proxy/xds/main.ts), everything real on loopback, as in up.test.ts (same temp copy of the mesh:
 * a free gateway port, commands run from the example's directory).
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { stringify } from 'yaml';
import { type LocalMesh, startLocalMesh } from '../../controlplane/up/local-mesh.js';
import { freePorts } from '../../controlplane/up/ports.js';
import { statePath } from '../../controlplane/up/state.js';

const example = fileURLToPath(new URL('../../examples/shop/', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'crossmesh-up-isolated-'));
let mesh: LocalMesh;
let gatewayPort = 0;

beforeAll(async () => {
  [gatewayPort = 0] = await freePorts(1);
  const doc = JSON.parse(readFileSync(join(example, 'mesh.json'), 'utf8')) as {
    services: Record<string, { versions: Record<string, { local?: { cwd?: string } }> }>;
    gateways: Record<string, { listeners: { port: number }[] }>;
  };
  for (const service of Object.values(doc.services)) {
    for (const version of Object.values(service.versions))
      if (version.local !== undefined) version.local.cwd = example;
  }
  const listener = doc.gateways.ingress?.listeners[0];
  if (listener !== undefined) listener.port = gatewayPort;
  writeFileSync(join(dir, 'shop.yaml'), stringify(doc));
  mesh = await startLocalMesh(join(dir, 'shop.yaml'), { stateDir: dir, isolateProxies: true, watch: false });
}, 90_000);

afterAll(async () => {
  await mesh?.stop();
  // Logs, certificates and state: about 1 MB a run, left behind by every run otherwise.
  rmSync(dir, { recursive: true, force: true });
});

describe('crossmesh up --isolate-proxies', () => {
  test('the shop answers through proxy processes, each with its bootstrap written out', async () => {
    // GIVEN the shop with one process per proxy
    // WHEN a request comes in through the gateway
    const response = await fetch(`http://127.0.0.1:${gatewayPort}/`);
    const body = (await response.json()) as {
      catalog?: { status?: number };
      payments?: { service?: string };
    };
    // THEN every hop answered, and no proxy runs inside this process
    expect(response.status).toBe(200);
    expect(body.catalog?.status).toBe(200);
    expect(body.payments?.service).toBe('payments');
    expect(mesh.proxies.size).toBe(0);
    expect(existsSync(join(dir, '.crossmesh', 'bootstraps', 'sidecar-frontend-v1-0.json'))).toBe(true);
  });

  test('stop ends the proxy processes with the services', async () => {
    // GIVEN / WHEN
    await mesh.stop();
    // THEN the gateway port is closed and the state file gone
    const after = await fetch(`http://127.0.0.1:${gatewayPort}/`).then(
      (r) => r.status,
      () => 0,
    );
    expect(after).toBe(0);
    expect(existsSync(statePath(dir))).toBe(false);
  });
});
