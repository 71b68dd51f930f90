/**
 * `crossmesh proxy -c` with a bootstrap that points at a control plane (`dynamic_resources` with
 * ADS): the real CLI as a child process, the project's real control plane (controlplane/server.ts
 * over gRPC on loopback, port 0) serving hand-written Envoy resources, real node:http upstreams.
 * Also the corpus's `examples__dynamic-config-cp__envoy.yaml` run in process, its control plane
 * host name mapped to loopback through the proxy's DNS lookup seam and its fixed ports replaced by
 * the ones bound here. Nothing is stood in.
 */
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, test } from 'vitest';
import { Snapshot } from '../../../controlplane/snapshot.js';
import { TYPE } from '../../../controlplane/types.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { startDynamicProxy, type XdsProxyHandle } from '../../../proxy/xds/dynamic.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import {
  adsBootstrap,
  adsBootstrapFile,
  edsCluster,
  freePort,
  httpGet,
  httpListener,
  lastNack,
  routedGet,
  taggedRoutes as routes,
  type SpawnedProxy,
  spawnProxy as spawnCli,
  startControlPlane,
} from './fixtures.js';

const CORPUS = new URL('../../../../shared/envoy-corpus/', import.meta.url);
const CORPUS_DYNAMIC = 'examples__dynamic-config-cp__envoy.yaml';

function snapshot(upstreamPort: number, rc: Record<string, unknown>, listenerName = 'ingress'): Snapshot {
  const { cluster, cla } = edsCluster('app', upstreamPort);
  return Snapshot.fromResources({
    [TYPE.cluster]: [cluster],
    [TYPE.endpoint]: [cla],
    [TYPE.listener]: [httpListener(listenerName, String(rc.name))],
    [TYPE.route]: [rc],
  });
}

/** GET through the proxy (Host: app, over Node's keep-alive agent): status, body, route version. */
function call(port: number, path = '/'): Promise<{ status: number; body: string; routes: string }> {
  return routedGet(port, path, { headers: { host: 'app' }, pooled: true });
}

/** A dynamic bootstrap file (YAML, as a user writes it) naming the control plane on `cpPort`. */
function bootstrapFile(cpPort: number): string {
  return adsBootstrapFile(cpPort, {
    tmpPrefix: 'crossmesh-dyn-',
    node: '{ id: edge, cluster: edge, metadata: { team: shop }, locality: { zone: z1 } }',
    firstMessageOnly: true,
    h2: 'explicit',
  });
}

/** Spawns `crossmesh proxy -c file`, collecting its stderr. */
function spawnProxy(file: string): SpawnedProxy {
  return spawnCli(file, ['--log-level', 'warning']);
}

/** The corpus's dynamic bootstrap, its control plane port set to `cpPort` and its admin to port 0. */
function corpusBootstrap(cpPort: number): string {
  return readFileSync(new URL(CORPUS_DYNAMIC, CORPUS), 'utf8')
    .replace('port_value: 18000', `port_value: ${cpPort}`)
    .replace('port_value: 19000', 'port_value: 0');
}

/** Starts a proxy from corpus bootstrap text, its `go-control-plane` host resolving to loopback. */
function startCorpusProxy(text: string, readyTimeoutMs?: number): Promise<XdsProxyHandle> {
  return startDynamicProxy(loadBootstrap(text), {
    logLevel: 'off',
    ...(readyTimeoutMs === undefined ? {} : { readyTimeoutMs }),
    dnsLookup: async () => [{ address: '127.0.0.1', family: 4 }],
  });
}

describe('crossmesh proxy -c with dynamic_resources', () => {
  const closer = new Closer();
  let child: ChildProcess | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    await closer.closeAll();
  });

  test('connects to the control plane it names, serves what it pushes, takes updates, NACKs a bad push and keeps the last good config', async () => {
    // GIVEN two upstreams and a control plane on port 0 serving node "edge" a listener routed to `app` (EDS: blue)
    const blue = await httpUpstream(closer, 'blue');
    const green = await httpUpstream(closer, 'green');
    const {
      cache,
      server,
      port: cpPort,
    } = await startControlPlane(closer, 'edge', snapshot(blue.port, routes('main', 'app', 'v1')));
    // AND a dynamic bootstrap file naming that control plane (YAML, as a user writes it)
    const file = bootstrapFile(cpPort);
    // WHEN `crossmesh proxy -c` starts with it
    const spawned = spawnProxy(file);
    child = spawned.child;
    const stderr = spawned.stderr;
    await expect.poll(stderr, { timeout: 30_000 }).toMatch(/listening ingress=127\.0\.0\.1:\d+/);
    const port = Number(/ingress=127\.0\.0\.1:(\d+)/.exec(stderr())?.[1]);
    // THEN traffic flows as pushed: the listener, its RDS routes and the EDS endpoints
    expect(await call(port)).toMatchObject({ status: 200, body: 'blue GET /', routes: 'v1' });
    // AND the control plane saw the node with its bootstrap identity
    await expect.poll(() => server.status().nodes.find((n) => n.id === 'edge')?.inSync).toBe(true);

    // WHEN the control plane moves `app` to green and changes the route configuration
    cache.setSnapshot('edge', snapshot(green.port, routes('main', 'app', 'v2')));
    // THEN the running proxy follows, on the same port
    await expect.poll(async () => (await call(port)).body, { timeout: 5000 }).toBe('green GET /');
    expect((await call(port)).routes).toBe('v2');

    // WHEN it pushes a route configuration naming a cluster that does not exist (the loader refuses it)
    cache.setSnapshot('edge', snapshot(green.port, routes('main', 'missing', 'v3')));
    // THEN the proxy NACKs it, naming the problem, and the control plane records the NACK
    await expect.poll(() => lastNack(server, 'edge'), { timeout: 5000 }).toMatch(/missing/);
    // AND the last good configuration keeps serving
    expect(await call(port)).toMatchObject({ status: 200, body: 'green GET /', routes: 'v2' });
    expect(stderr()).toMatch(/NACK RDS/);

    // WHEN it gets SIGTERM
    child.kill('SIGTERM');
    // THEN it drains, closes its xDS stream and exits 0
    expect(await spawned.exited).toBe(0);
  }, 60_000);

  test('started before its control plane, it waits for it (as Envoy does) and serves once it comes', async () => {
    // GIVEN a port where the control plane will listen, nothing there yet
    const upstream = await httpUpstream(closer, 'late');
    const cpPort = await freePort();
    // WHEN the proxy starts first, and the control plane only a while later
    const spawned = spawnProxy(bootstrapFile(cpPort));
    closer.add(() => spawned.child.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(spawned.child.exitCode).toBeNull();
    await startControlPlane(closer, 'edge', snapshot(upstream.port, routes('main', 'app', 'late')), {
      port: cpPort,
    });
    // THEN the proxy connects, starts and serves
    await expect.poll(spawned.stderr, { timeout: 30_000 }).toMatch(/listening ingress=127\.0\.0\.1:\d+/);
    const port = Number(/ingress=127\.0\.0\.1:(\d+)/.exec(spawned.stderr())?.[1]);
    expect(await call(port)).toMatchObject({ status: 200, body: 'late GET /', routes: 'late' });
  }, 60_000);

  test('SIGTERM while it waits for its control plane exits 0', async () => {
    // GIVEN a proxy waiting for a control plane that is not there (it says it is reconnecting)
    const cpPort = await freePort();
    const spawned = spawnProxy(bootstrapFile(cpPort));
    closer.add(() => spawned.child.kill('SIGKILL'));
    await expect.poll(spawned.stderr, { timeout: 30_000 }).toMatch(/reconnecting/);
    // WHEN it gets SIGTERM
    spawned.child.kill('SIGTERM');
    // THEN it stops waiting and exits 0
    expect(await spawned.exited).toBe(0);
  }, 60_000);
});

describe('api_type DELTA_GRPC', () => {
  const closer = new Closer();
  afterAll(() => closer.closeAll());

  test('fetches over incremental ADS: serves, follows changes, NACKs a bad push and keeps the last good config', async () => {
    // GIVEN a control plane recording which ADS variant each stream uses, serving node "delta"
    const blue = await httpUpstream(closer, 'blue');
    const green = await httpUpstream(closer, 'green');
    const kinds: string[] = [];
    const {
      cache,
      server,
      port: cpPort,
    } = await startControlPlane(closer, 'delta', snapshot(blue.port, routes('main', 'app', 'v1')), {
      callbacks: { onStreamOpen: (stream) => kinds.push(stream.kind) },
    });
    const bootstrap = loadBootstrap(
      JSON.stringify(adsBootstrap('delta', cpPort, { apiType: 'DELTA_GRPC' })),
      {
        format: 'json',
      },
    );
    // WHEN the proxy starts from it
    const proxy = await startDynamicProxy(bootstrap, { logLevel: 'off' });
    closer.add(() => proxy.close());
    const port = proxy.runtime()?.listeners.get('ingress')?.port ?? 0;
    // THEN it speaks delta, and serves what it received
    expect(kinds).toEqual(['delta']);
    expect(await call(port)).toMatchObject({ status: 200, body: 'blue GET /', routes: 'v1' });
    // WHEN only the endpoints change
    const swaps = proxy.swaps();
    cache.setSnapshot('delta', snapshot(green.port, routes('main', 'app', 'v1')));
    // THEN the change arrives and applies in place
    await expect.poll(async () => (await call(port)).body, { timeout: 5000 }).toBe('green GET /');
    expect(proxy.swaps()).toBe(swaps);
    // WHEN a route to a missing cluster is pushed
    cache.setSnapshot('delta', snapshot(green.port, routes('main', 'missing', 'v2')));
    // THEN it is NACKed and the last good configuration keeps serving
    await expect.poll(() => lastNack(server, 'delta'), { timeout: 5000 }).toMatch(/missing/);
    expect(await call(port)).toMatchObject({ status: 200, body: 'green GET /', routes: 'v1' });
    // WHEN a good configuration follows
    cache.setSnapshot('delta', snapshot(blue.port, routes('main', 'app', 'v3')));
    // THEN it is taken
    await expect.poll(async () => (await call(port)).routes, { timeout: 5000 }).toBe('v3');
    expect((await call(port)).body).toBe('blue GET /');
  });
});

describe('the corpus dynamic bootstrap (examples__dynamic-config-cp__envoy.yaml)', () => {
  const closer = new Closer();
  let proxy: XdsProxyHandle | undefined;

  afterEach(async () => {
    await proxy?.close();
  });
  afterAll(() => closer.closeAll());

  test('runs with its control plane host name mapped to loopback', async () => {
    // GIVEN the control plane on port 0 serving node test-id (as the example's go-control-plane does)
    const upstream = await httpUpstream(closer, 'service');
    const { port: cpPort } = await startControlPlane(
      closer,
      'test-id',
      snapshot(upstream.port, routes('local_route', 'app', 'cp'), 'listener_0'),
    );
    // AND the real config, its fixed ports (18000, admin 19000) replaced by the bound ones
    const bootstrap = loadBootstrap(corpusBootstrap(cpPort), { source: CORPUS_DYNAMIC });
    // WHEN started, `go-control-plane` (its STRICT_DNS host) resolving to loopback
    const looked: string[] = [];
    proxy = await startDynamicProxy(bootstrap, {
      logLevel: 'off',
      dnsLookup: async (host) => {
        looked.push(host);
        return [{ address: '127.0.0.1', family: 4 }];
      },
    });
    // THEN the listener it received serves the pushed route
    const port = proxy.runtime()?.listeners.get('listener_0')?.port ?? 0;
    expect(await call(port, '/x')).toMatchObject({ status: 200, body: 'service GET /x', routes: 'cp' });
    expect(looked).toContain('go-control-plane');
    expect(proxy.admin()?.port).toBeGreaterThan(0);
  });

  test('the admin keeps its port when a listener change replaces the runtime', async () => {
    // GIVEN a control plane with nothing for the node yet, and the example's admin on port 0
    const cp = await startControlPlane(closer, 'test-id', undefined);
    const upstream = await httpUpstream(closer, 'service');
    let adminPort = 0;
    const adminGet = async (path: string) => {
      const { status, body } = await httpGet(adminPort, path, { pooled: true });
      return { status, body };
    };
    // WHEN it starts and connects, waiting for a configuration
    const starting = startCorpusProxy(corpusBootstrap(cp.port));
    await expect.poll(() => cp.server.status().nodes.find((n) => n.id === 'test-id')?.connected).toBe(true);
    // AND a first configuration arrives
    cp.cache.setSnapshot(
      'test-id',
      snapshot(upstream.port, routes('local_route', 'app', 'one'), 'listener_0'),
    );
    proxy = await starting;
    adminPort = proxy.admin()?.port ?? 0;
    expect(await adminGet('/ready')).toEqual({ status: 200, body: 'LIVE\n' });
    // AND the control plane renames the listener (a listener change: the runtime is replaced)
    cp.cache.setSnapshot(
      'test-id',
      snapshot(upstream.port, routes('local_route', 'app', 'two'), 'listener_1'),
    );
    await expect.poll(() => proxy?.swaps(), { timeout: 10_000 }).toBe(1);
    // THEN the admin is still on its port, LIVE, and lists the new runtime's listener
    expect(proxy.admin()?.port).toBe(adminPort);
    expect(await adminGet('/ready')).toEqual({ status: 200, body: 'LIVE\n' });
    expect((await adminGet('/listeners')).body).toContain('listener_1');
    expect((await adminGet('/listeners')).body).not.toContain('listener_0');
  });

  test('the admin is up before the first configuration and answers 503 INITIALIZING until it runs', async () => {
    // GIVEN a control plane with nothing for the node, and the admin on a Unix socket (known in advance)
    const cp = await startControlPlane(closer, 'test-id', undefined);
    const upstream = await httpUpstream(closer, 'service');
    const socketPath = join(mkdtempSync(join(tmpdir(), 'crossmesh-admin-')), 'admin.sock');
    const text = readFileSync(new URL(CORPUS_DYNAMIC, CORPUS), 'utf8')
      .replace('port_value: 18000', `port_value: ${cp.port}`)
      .replace(
        /address:\s*\n\s*socket_address:\s*\n\s*address: 0\.0\.0\.0\s*\n\s*port_value: 19000/,
        `address: { pipe: { path: ${JSON.stringify(socketPath)} } }`,
      );
    expect(text).toContain(socketPath);
    const ready = async () => {
      const { status, body } = await httpGet({ socketPath }, '/ready', { pooled: true });
      return { status, body };
    };
    // WHEN it starts and waits
    const starting = startCorpusProxy(text);
    await expect.poll(() => cp.server.status().nodes.find((n) => n.id === 'test-id')?.connected).toBe(true);
    // THEN the admin answers, not ready yet
    expect(await ready()).toEqual({ status: 503, body: 'INITIALIZING\n' });
    // AND once a configuration runs it is LIVE on the same socket
    cp.cache.setSnapshot(
      'test-id',
      snapshot(upstream.port, routes('local_route', 'app', 'one'), 'listener_0'),
    );
    proxy = await starting;
    expect(await ready()).toEqual({ status: 200, body: 'LIVE\n' });
  });

  test('with no control plane answering, start-up fails naming the node and the address it tried', async () => {
    // GIVEN the same config pointing at a port nothing listens on
    const port = await freePort();
    // WHEN started with a short readiness wait
    const starting = startCorpusProxy(corpusBootstrap(port), 300);
    // THEN it gives up with a MeshError naming the node and the control plane address
    await expect(starting).rejects.toThrow(
      `test-id: no configuration it can run arrived from 127.0.0.1:${port}`,
    );
  });
});
