/**
 * `crossmesh proxy -c` with a bootstrap that points at a control plane (`dynamic_resources` with
 * ADS): the real CLI as a child process, the project's real control plane (controlplane/server.ts
 * over gRPC on loopback, port 0) serving hand-written Envoy resources, real node:http upstreams.
 * Also the corpus's `examples__dynamic-config-cp__envoy.yaml` run in process, its control plane
 * host name mapped to loopback through the proxy's DNS lookup seam and its fixed ports replaced by
 * the ones bound here. Nothing is stood in.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { SnapshotCache } from '../../../controlplane/cache.js';
import { XdsServer } from '../../../controlplane/server.js';
import { Snapshot } from '../../../controlplane/snapshot.js';
import { TYPE } from '../../../controlplane/types.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { startDynamicProxy, type XdsProxyHandle } from '../../../proxy/xds/dynamic.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';

const CLI = fileURLToPath(new URL('../../../bin/crossmesh.js', import.meta.url));
const CORPUS = new URL('../../../../shared/envoy-corpus/', import.meta.url);
const HCM =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';
const ROUTER = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const ADS = { ads: {}, resource_api_version: 'V3' };

/** A listener on an ephemeral loopback port whose routes come over RDS. */
function listener(name: string, routes: string): Record<string, unknown> {
  return {
    name,
    address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
    filter_chains: [
      {
        filters: [
          {
            name: 'envoy.filters.network.http_connection_manager',
            typed_config: {
              '@type': HCM,
              stat_prefix: name,
              rds: { route_config_name: routes, config_source: ADS },
              http_filters: [{ name: 'envoy.filters.http.router', typed_config: { '@type': ROUTER } }],
            },
          },
        ],
      },
    ],
  };
}

/** Every request to `cluster`, with a response header naming the route configuration's version. */
function routes(name: string, cluster: string, tag: string): Record<string, unknown> {
  return {
    name,
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [{ match: { prefix: '/' }, route: { cluster } }],
        response_headers_to_add: [{ header: { key: 'x-routes', value: tag } }],
      },
    ],
  };
}

/** An EDS cluster and its endpoints on loopback. */
function edsCluster(
  name: string,
  port: number,
): { cluster: Record<string, unknown>; cla: Record<string, unknown> } {
  return {
    cluster: { name, type: 'EDS', connect_timeout: '1s', eds_cluster_config: { eds_config: ADS } },
    cla: {
      cluster_name: name,
      endpoints: [
        {
          lb_endpoints: [
            { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
          ],
        },
      ],
    },
  };
}

function snapshot(upstreamPort: number, rc: Record<string, unknown>, listenerName = 'ingress'): Snapshot {
  const { cluster, cla } = edsCluster('app', upstreamPort);
  return Snapshot.fromResources({
    [TYPE.cluster]: [cluster],
    [TYPE.endpoint]: [cla],
    [TYPE.listener]: [listener(listenerName, String(rc.name))],
    [TYPE.route]: [rc],
  });
}

/** GET through the proxy: status, body and the route-version header. */
function call(port: number, path = '/'): Promise<{ status: number; body: string; routes: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port, path, headers: { host: 'app' } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, body, routes: String(res.headers['x-routes'] ?? '') }),
      );
    }).on('error', reject);
  });
}

/** A dynamic bootstrap file (YAML, as a user writes it) naming the control plane on `cpPort`. */
function bootstrapFile(cpPort: number): string {
  const file = join(mkdtempSync(join(tmpdir(), 'crossmesh-dyn-')), 'bootstrap.yaml');
  writeFileSync(
    file,
    [
      'node: { id: edge, cluster: edge, metadata: { team: shop }, locality: { zone: z1 } }',
      'admin: { address: { socket_address: { address: 127.0.0.1, port_value: 0 } } }',
      'dynamic_resources:',
      '  ads_config:',
      '    api_type: GRPC',
      '    transport_api_version: V3',
      '    set_node_on_first_message_only: true',
      '    grpc_services: [{ envoy_grpc: { cluster_name: xds } }]',
      '  lds_config: { ads: {}, resource_api_version: V3 }',
      '  cds_config: { ads: {}, resource_api_version: V3 }',
      'static_resources:',
      '  clusters:',
      '  - name: xds',
      '    type: STATIC',
      '    connect_timeout: 1s',
      '    typed_extension_protocol_options:',
      '      envoy.extensions.upstreams.http.v3.HttpProtocolOptions:',
      '        "@type": type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      '        explicit_http_config: { http2_protocol_options: {} }',
      '    load_assignment:',
      '      cluster_name: xds',
      `      endpoints: [{ lb_endpoints: [{ endpoint: { address: { socket_address: { address: 127.0.0.1, port_value: ${cpPort} } } } }] }]`,
      '',
    ].join('\n'),
  );
  return file;
}

/** Spawns `crossmesh proxy -c file`, collecting its stderr. */
function spawnProxy(file: string): { child: ChildProcess; stderr: () => string } {
  const child = spawn(process.execPath, [CLI, 'proxy', '-c', file, '--log-level', 'warning'], {
    env: { ...process.env, CROSSMESH_DEV: '1' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (c: string) => {
    stderr += c;
  });
  return { child, stderr: () => stderr };
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
    const cache = new SnapshotCache();
    cache.setSnapshot('edge', snapshot(blue.port, routes('main', 'app', 'v1')));
    const server = new XdsServer(cache);
    const cp = await server.listen('127.0.0.1', 0);
    closer.add(() => server.close());
    // AND a dynamic bootstrap file naming that control plane (YAML, as a user writes it)
    const file = bootstrapFile(cp.port);
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
    await expect
      .poll(() => server.status().nodes.find((n) => n.id === 'edge')?.lastNack?.message ?? '', {
        timeout: 5000,
      })
      .toMatch(/missing/);
    // AND the last good configuration keeps serving
    expect(await call(port)).toMatchObject({ status: 200, body: 'green GET /', routes: 'v2' });
    expect(stderr()).toMatch(/NACK RDS/);

    // WHEN it gets SIGTERM
    const exited = new Promise<number | null>((resolve) => child?.once('exit', resolve));
    child.kill('SIGTERM');
    // THEN it drains, closes its xDS stream and exits 0
    expect(await exited).toBe(0);
  }, 60_000);

  test('started before its control plane, it waits for it (as Envoy does) and serves once it comes', async () => {
    // GIVEN a port where the control plane will listen, nothing there yet
    const upstream = await httpUpstream(closer, 'late');
    const reserve = new XdsServer(new SnapshotCache());
    const { port: cpPort } = await reserve.listen('127.0.0.1', 0);
    await reserve.close();
    // WHEN the proxy starts first, and the control plane only a while later
    const spawned = spawnProxy(bootstrapFile(cpPort));
    closer.add(() => spawned.child.kill('SIGKILL'));
    await new Promise((r) => setTimeout(r, 1500));
    expect(spawned.child.exitCode).toBeNull();
    const cache = new SnapshotCache();
    cache.setSnapshot('edge', snapshot(upstream.port, routes('main', 'app', 'late')));
    const server = new XdsServer(cache);
    await server.listen('127.0.0.1', cpPort);
    closer.add(() => server.close());
    // THEN the proxy connects, starts and serves
    await expect.poll(spawned.stderr, { timeout: 30_000 }).toMatch(/listening ingress=127\.0\.0\.1:\d+/);
    const port = Number(/ingress=127\.0\.0\.1:(\d+)/.exec(spawned.stderr())?.[1]);
    expect(await call(port)).toMatchObject({ status: 200, body: 'late GET /', routes: 'late' });
  }, 60_000);

  test('SIGTERM while it waits for its control plane exits 0', async () => {
    // GIVEN a proxy waiting for a control plane that is not there (it says it is reconnecting)
    const reserve = new XdsServer(new SnapshotCache());
    const { port: cpPort } = await reserve.listen('127.0.0.1', 0);
    await reserve.close();
    const spawned = spawnProxy(bootstrapFile(cpPort));
    closer.add(() => spawned.child.kill('SIGKILL'));
    await expect.poll(spawned.stderr, { timeout: 30_000 }).toMatch(/reconnecting/);
    // WHEN it gets SIGTERM
    const exited = new Promise<number | null>((resolve) => spawned.child.once('exit', resolve));
    spawned.child.kill('SIGTERM');
    // THEN it stops waiting and exits 0
    expect(await exited).toBe(0);
  }, 60_000);
});

describe('api_type DELTA_GRPC', () => {
  const closer = new Closer();
  afterAll(() => closer.closeAll());

  test('fetches over incremental ADS: serves, follows changes, NACKs a bad push and keeps the last good config', async () => {
    // GIVEN a control plane recording which ADS variant each stream uses, serving node "delta"
    const blue = await httpUpstream(closer, 'blue');
    const green = await httpUpstream(closer, 'green');
    const cache = new SnapshotCache();
    cache.setSnapshot('delta', snapshot(blue.port, routes('main', 'app', 'v1')));
    const kinds: string[] = [];
    const server = new XdsServer(cache, { onStreamOpen: (stream) => kinds.push(stream.kind) });
    const cp = await server.listen('127.0.0.1', 0);
    closer.add(() => server.close());
    const bootstrap = loadBootstrap(
      JSON.stringify({
        node: { id: 'delta', cluster: 'delta' },
        dynamic_resources: {
          ads_config: {
            api_type: 'DELTA_GRPC',
            transport_api_version: 'V3',
            grpc_services: [{ envoy_grpc: { cluster_name: 'xds' } }],
          },
          lds_config: ADS,
          cds_config: ADS,
        },
        static_resources: {
          clusters: [
            {
              name: 'xds',
              connect_timeout: '1s',
              http2_protocol_options: {},
              load_assignment: {
                cluster_name: 'xds',
                endpoints: [
                  {
                    lb_endpoints: [
                      {
                        endpoint: {
                          address: { socket_address: { address: '127.0.0.1', port_value: cp.port } },
                        },
                      },
                    ],
                  },
                ],
              },
            },
          ],
        },
      }),
      { format: 'json' },
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
    await expect
      .poll(() => server.status().nodes.find((n) => n.id === 'delta')?.lastNack?.message ?? '', {
        timeout: 5000,
      })
      .toMatch(/missing/);
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
  let server: XdsServer;
  let cache: SnapshotCache;

  beforeAll(async () => {
    cache = new SnapshotCache();
    server = new XdsServer(cache);
    closer.add(() => server.close());
  });
  afterEach(async () => {
    await proxy?.close();
  });
  afterAll(() => closer.closeAll());

  test('runs with its control plane host name mapped to loopback', async () => {
    // GIVEN the control plane on port 0 serving node test-id (as the example's go-control-plane does)
    const upstream = await httpUpstream(closer, 'service');
    cache.setSnapshot('test-id', snapshot(upstream.port, routes('local_route', 'app', 'cp'), 'listener_0'));
    const cp = await server.listen('127.0.0.1', 0);
    // AND the real config, its fixed ports (18000, admin 19000) replaced by the bound ones
    const text = readFileSync(new URL('examples__dynamic-config-cp__envoy.yaml', CORPUS), 'utf8')
      .replace('port_value: 18000', `port_value: ${cp.port}`)
      .replace('port_value: 19000', 'port_value: 0');
    const bootstrap = loadBootstrap(text, { source: 'examples__dynamic-config-cp__envoy.yaml' });
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
    const own = new SnapshotCache();
    const cpServer = new XdsServer(own);
    closer.add(() => cpServer.close());
    const cp = await cpServer.listen('127.0.0.1', 0);
    const upstream = await httpUpstream(closer, 'service');
    const text = readFileSync(new URL('examples__dynamic-config-cp__envoy.yaml', CORPUS), 'utf8')
      .replace('port_value: 18000', `port_value: ${cp.port}`)
      .replace('port_value: 19000', 'port_value: 0');
    let adminPort = 0;
    const adminGet = (path: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        get({ host: '127.0.0.1', port: adminPort, path }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
    // WHEN it starts and connects, waiting for a configuration
    const starting = startDynamicProxy(loadBootstrap(text), {
      logLevel: 'off',
      dnsLookup: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    await expect.poll(() => cpServer.status().nodes.find((n) => n.id === 'test-id')?.connected).toBe(true);
    // AND a first configuration arrives
    own.setSnapshot('test-id', snapshot(upstream.port, routes('local_route', 'app', 'one'), 'listener_0'));
    proxy = await starting;
    adminPort = proxy.admin()?.port ?? 0;
    expect(await adminGet('/ready')).toEqual({ status: 200, body: 'LIVE\n' });
    // AND the control plane renames the listener (a listener change: the runtime is replaced)
    own.setSnapshot('test-id', snapshot(upstream.port, routes('local_route', 'app', 'two'), 'listener_1'));
    await expect.poll(() => proxy?.swaps(), { timeout: 10_000 }).toBe(1);
    // THEN the admin is still on its port, LIVE, and lists the new runtime's listener
    expect(proxy.admin()?.port).toBe(adminPort);
    expect(await adminGet('/ready')).toEqual({ status: 200, body: 'LIVE\n' });
    expect((await adminGet('/listeners')).body).toContain('listener_1');
    expect((await adminGet('/listeners')).body).not.toContain('listener_0');
  });

  test('the admin is up before the first configuration and answers 503 INITIALIZING until it runs', async () => {
    // GIVEN a control plane with nothing for the node, and the admin on a Unix socket (known in advance)
    const own = new SnapshotCache();
    const cpServer = new XdsServer(own);
    closer.add(() => cpServer.close());
    const cp = await cpServer.listen('127.0.0.1', 0);
    const upstream = await httpUpstream(closer, 'service');
    const socketPath = join(mkdtempSync(join(tmpdir(), 'crossmesh-admin-')), 'admin.sock');
    const text = readFileSync(new URL('examples__dynamic-config-cp__envoy.yaml', CORPUS), 'utf8')
      .replace('port_value: 18000', `port_value: ${cp.port}`)
      .replace(
        /address:\s*\n\s*socket_address:\s*\n\s*address: 0\.0\.0\.0\s*\n\s*port_value: 19000/,
        `address: { pipe: { path: ${JSON.stringify(socketPath)} } }`,
      );
    expect(text).toContain(socketPath);
    const ready = () =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        get({ socketPath, path: '/ready' }, (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c: string) => {
            body += c;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        }).on('error', reject);
      });
    // WHEN it starts and waits
    const starting = startDynamicProxy(loadBootstrap(text), {
      logLevel: 'off',
      dnsLookup: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    await expect.poll(() => cpServer.status().nodes.find((n) => n.id === 'test-id')?.connected).toBe(true);
    // THEN the admin answers, not ready yet
    expect(await ready()).toEqual({ status: 503, body: 'INITIALIZING\n' });
    // AND once a configuration runs it is LIVE on the same socket
    own.setSnapshot('test-id', snapshot(upstream.port, routes('local_route', 'app', 'one'), 'listener_0'));
    proxy = await starting;
    expect(await ready()).toEqual({ status: 200, body: 'LIVE\n' });
  });

  test('with no control plane answering, start-up fails naming the node and the address it tried', async () => {
    // GIVEN the same config pointing at a port nothing listens on
    const idle = new XdsServer(new SnapshotCache());
    const { port } = await idle.listen('127.0.0.1', 0);
    await idle.close();
    const text = readFileSync(new URL('examples__dynamic-config-cp__envoy.yaml', CORPUS), 'utf8')
      .replace('port_value: 18000', `port_value: ${port}`)
      .replace('port_value: 19000', 'port_value: 0');
    // WHEN started with a short readiness wait
    const starting = startDynamicProxy(loadBootstrap(text), {
      logLevel: 'off',
      readyTimeoutMs: 300,
      dnsLookup: async () => [{ address: '127.0.0.1', family: 4 }],
    });
    // THEN it gives up with a MeshError naming the node and the control plane address
    await expect(starting).rejects.toThrow(
      `test-id: no configuration it can run arrived from 127.0.0.1:${port}`,
    );
  });
});
