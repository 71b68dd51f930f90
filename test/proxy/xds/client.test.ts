/**
 * The proxy's xDS client against the crossmesh control plane, over real gRPC on loopback. The
 * shop is rendered for the loopback placement; each state the client applies is turned into a
 * static bootstrap and loaded by the proxy's strict loader WITH the bundled proxy's supported
 * subset, which is exactly what the runtime would run. Nothing is stood in (no proxy runtime is
 * started here: applying a state is the loader's check).
 */
import { afterEach, describe, expect, test } from 'vitest';
import { localPlacement } from '../../../adapters/envoy/placement.js';
import { renderEnvoy } from '../../../adapters/envoy/render.js';
import { MeshPublisher } from '../../../controlplane/publisher.js';
import { XdsServer } from '../../../controlplane/server.js';
import type { Mesh } from '../../../model/types.js';
import { loadState, readDynamicBootstrap } from '../../../proxy/xds/bootstrap.js';
import { XdsClient, type XdsState } from '../../../proxy/xds/client.js';
import { kitchenSinkMesh, shopMesh } from '../../adapters/envoy/fixtures.js';

let server: XdsServer | undefined;
let client: XdsClient | undefined;

afterEach(async () => {
  client?.close();
  await server?.close();
});

/** Renders for loopback (the `crossmesh up` placement), or the static one (one host per instance). */
function render(mesh: Mesh, cpPort: number, placement: 'loopback' | 'static' = 'loopback') {
  let port = 20000;
  const controlPlane = { host: '127.0.0.1', port: cpPort };
  if (placement === 'static') return renderEnvoy(mesh, { controlPlane });
  return renderEnvoy(mesh, { placement: localPlacement(mesh, () => port++), controlPlane });
}

async function controlPlane(mesh: Mesh, placement: 'loopback' | 'static' = 'loopback') {
  const publisher = new MeshPublisher();
  server = new XdsServer(publisher.cache);
  const { port } = await server.listen('127.0.0.1', 0);
  const output = render(mesh, port, placement);
  publisher.publish(output);
  return { publisher, port, output };
}

function weightsOf(state: XdsState): unknown {
  const outbound = state.routes.get('outbound') as {
    virtual_hosts: { name: string; routes: { route?: unknown }[] }[];
  };
  const catalog = outbound.virtual_hosts.find((v) => v.name === 'catalog:8080');
  return catalog?.routes[1]?.route;
}

describe('XdsClient', () => {
  test('a sidecar gets a coherent state whose static form the bundled proxy loads', async () => {
    // GIVEN the shop served by the control plane
    const { port, output } = await controlPlane(shopMesh({ runnable: true }));
    const sidecar = output.proxies.find((p) => p.id === 'sidecar/frontend/v1/0');
    const { base, server: address, node } = readDynamicBootstrap(sidecar?.bootstrap);
    const states: XdsState[] = [];
    // WHEN the frontend sidecar connects (its own bootstrap names the control plane)
    expect(address).toBe(`127.0.0.1:${port}`);
    client = new XdsClient({
      server: address,
      node,
      apply: (state) => {
        loadState(base, state);
        states.push(state);
      },
    });
    client.start();
    await client.ready();
    // THEN listeners, routes, clusters and endpoints all arrived, and the proxy's loader accepts them
    const state = states.at(-1) as XdsState;
    expect([...state.listeners.keys()]).toEqual(['inbound|8080', 'outbound']);
    expect([...state.routes.keys()].sort()).toEqual(['inbound|8080', 'outbound']);
    expect([...state.clusters.keys()]).toContain('catalog|v2');
    expect([...state.endpoints.keys()]).toContain('payments|v1');
    const { bootstrap } = loadState(base, state);
    expect(
      bootstrap.static_resources?.clusters?.find((c: { name?: string }) => c.name === 'catalog|v1'),
    ).toMatchObject({ type: 'STATIC' });
    // AND the control plane sees the node in sync
    await expect
      .poll(() => server?.status().nodes.find((n) => n.id === 'sidecar/frontend/v1/0')?.inSync)
      .toBe(true);
  });

  test('a mesh change reaches the client as a new state', async () => {
    // GIVEN a connected client
    const { publisher, port } = await controlPlane(shopMesh({ runnable: true }));
    const states: XdsState[] = [];
    client = new XdsClient({
      server: `127.0.0.1:${port}`,
      node: { id: 'sidecar/frontend/v1/0' },
      apply: (s) => void states.push(s),
    });
    client.start();
    await client.ready();
    // WHEN the catalog split changes to 50/50
    publisher.publish(render(shopMesh({ runnable: true, catalogWeights: [50, 50] }), port));
    // THEN the client applies the new weights
    await expect
      .poll(() => states.length > 0 && JSON.stringify(weightsOf(states.at(-1) as XdsState)))
      .toContain('"weight":50');
  });

  test('a state the bundled proxy cannot run is NACKed, reported, and the last good state stays', async () => {
    // GIVEN the kitchen sink's web sidecar (a tcp_proxy access_log: not in the bundled proxy's subset)
    const { port, output } = await controlPlane(kitchenSinkMesh('off'), 'static');
    const sidecar = output.proxies.find((p) => p.id === 'sidecar/web/v1/0');
    const { base } = readDynamicBootstrap(sidecar?.bootstrap);
    let applied = 0;
    client = new XdsClient({
      server: `127.0.0.1:${port}`,
      node: { id: 'sidecar/web/v1/0' },
      warmingTimeoutMs: 200,
      apply: (state) => {
        loadState(base, state);
        applied += 1;
      },
    });
    // WHEN it connects
    client.start();
    // THEN it NACKs, the control plane records the NACK naming the unsupported field, and nothing was applied
    await expect
      .poll(() => server?.status().nodes[0]?.lastNack?.message ?? '')
      .toMatch(/not supported by the bundled proxy/);
    expect(client.nacks.length).toBeGreaterThan(0);
    expect(applied).toBe(0);
  });

  test('after the control plane restarts, the client reconnects, keeps its state meanwhile, and takes new updates', async () => {
    // GIVEN a connected client
    const first = await controlPlane(shopMesh({ runnable: true }));
    const states: XdsState[] = [];
    client = new XdsClient({
      server: `127.0.0.1:${first.port}`,
      node: { id: 'sidecar/frontend/v1/0' },
      apply: (s) => void states.push(s),
    });
    client.start();
    await client.ready();
    const applied = states.length;
    // WHEN the control plane goes away and comes back on the same port with a new split
    await server?.close();
    const publisher = new MeshPublisher();
    server = new XdsServer(publisher.cache);
    await server.listen('127.0.0.1', first.port);
    // (while it was away, the last state stayed in force)
    expect(client.applied).toBe(states.at(-1));
    publisher.publish(render(shopMesh({ runnable: true, catalogWeights: [30, 70] }), first.port));
    // THEN the client reconnects and applies it
    await expect
      .poll(() => states.length > applied && JSON.stringify(weightsOf(states.at(-1) as XdsState)), {
        timeout: 10_000,
      })
      .toContain('"weight":70');
    expect(server.status().nodes[0]).toMatchObject({ id: 'sidecar/frontend/v1/0', connected: true });
  });

  test('delta (DELTA_GRPC): a coherent state, and after a restart only what changed comes back, the rest kept', async () => {
    // GIVEN a client speaking incremental ADS to the shop's control plane
    const first = await controlPlane(shopMesh({ runnable: true }));
    const states: XdsState[] = [];
    client = new XdsClient({
      server: `127.0.0.1:${first.port}`,
      node: { id: 'sidecar/frontend/v1/0' },
      protocol: 'delta',
      apply: (s) => void states.push(s),
    });
    client.start();
    await client.ready();
    // THEN the same coherent state as over SotW arrives (listeners, named routes and endpoints)
    const initial = states.at(-1) as XdsState;
    expect([...initial.listeners.keys()]).toEqual(['inbound|8080', 'outbound']);
    expect([...initial.routes.keys()].sort()).toEqual(['inbound|8080', 'outbound']);
    expect([...initial.endpoints.keys()]).toContain('payments|v1');
    // WHEN the control plane restarts on the same port with a new split
    await server?.close();
    const publisher = new MeshPublisher();
    const sent: { type: string; names: readonly string[] }[] = [];
    server = new XdsServer(publisher.cache, {
      onResponse: (_s, type, _v, names) => sent.push({ type, names }),
    });
    await server.listen('127.0.0.1', first.port);
    publisher.publish(render(shopMesh({ runnable: true, catalogWeights: [30, 70] }), first.port));
    // THEN the client reconnects saying what it holds, gets the new split, and keeps everything else
    await expect
      .poll(() => JSON.stringify(weightsOf(states.at(-1) as XdsState)), { timeout: 10_000 })
      .toContain('"weight":70');
    const after = states.at(-1) as XdsState;
    expect([...after.listeners.keys()]).toEqual(['inbound|8080', 'outbound']);
    expect([...after.endpoints.keys()].sort()).toEqual([...initial.endpoints.keys()].sort());
    expect(after.clusters.size).toBe(initial.clusters.size);
    // AND the restarted control plane sent only the changed route configuration
    expect(sent.flatMap((r) => r.names)).toEqual(['outbound']);
  });
});
