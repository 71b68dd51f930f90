/**
 * Istio's sidecar bootstrap from ../shared/envoy-corpus/, started as it is against the project's
 * real control plane (controlplane/server.ts). What a machine without Istio needs is mapped: the
 * Unix socket paths go into a temp dir (corpus-map.ts), fixed listener/admin ports become 0, the
 * two loopback TCP clusters point at real node:http upstreams. Stood in: the Istio agent that would
 * listen on `/tmp/XDS`: a byte relay on the mapped socket forwards each connection to the control
 * plane's loopback port, since XdsServer binds TCP only; the gRPC stream is the proxy's own.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { Snapshot } from '../../../controlplane/snapshot.js';
import { TYPE } from '../../../controlplane/types.js';
import { startXdsProxy } from '../../../proxy/xds/dynamic.js';
import { mapPipePaths } from '../config/corpus-map.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import { httpGet, httpListener, startControlPlane, staticCluster } from './fixtures.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const FILE = new URL(
  '../../../../shared/envoy-corpus/istio__pkg__bootstrap__testdata__default_golden.json',
  import.meta.url,
);
const NODE_ID = 'sidecar~1.2.3.4~foo~bar';

type Json = Record<string, unknown>;

/** Listener and admin ports to 0; each endpoint port to the upstream `ports` maps it to. */
function mapPorts(node: unknown, ports: ReadonlyMap<number, number>, inEndpoint = false): void {
  if (Array.isArray(node)) {
    for (const n of node) mapPorts(n, ports, inEndpoint);
    return;
  }
  if (typeof node !== 'object' || node === null) return;
  const o = node as Json;
  for (const [k, v] of Object.entries(o)) {
    if (k === 'port_value' && typeof v === 'number') o[k] = inEndpoint ? (ports.get(v) ?? v) : 0;
    else mapPorts(v, ports, inEndpoint || k === 'lb_endpoints');
  }
}

/** A relay on the Unix socket `file` to `port` on loopback; counts the connections it carried. */
async function relay(file: string, port: number): Promise<{ connections: () => number }> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((down) => {
    connections++;
    const up = net.connect({ host: '127.0.0.1', port });
    sockets.add(down).add(up);
    down.pipe(up).pipe(down);
    const end = () => {
      down.destroy();
      up.destroy();
    };
    down.on('error', end).on('close', end);
    up.on('error', end).on('close', end);
  });
  await new Promise<void>((resolve) => server.listen(file, resolve));
  closer.add(
    () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  );
  return { connections: () => connections };
}

async function get(port: number, urlPath: string): Promise<{ status: number; body: string }> {
  const { status, body } = await httpGet(port, urlPath);
  return { status, body };
}

describe("Istio's sidecar bootstrap", () => {
  test('starts over its Unix-socket ADS cluster and serves both static and pushed listeners', async () => {
    // GIVEN upstreams for the agent (15020) and the app, a control plane serving the sidecar's node
    // one listener and cluster, and the bootstrap with its sockets and ports mapped
    const agent = await httpUpstream(closer, 'agent');
    const app = await httpUpstream(closer, 'app');
    const snapshot = Snapshot.fromResources({
      [TYPE.cluster]: [staticCluster('inbound|8080', app.port)],
      [TYPE.listener]: [
        httpListener(
          'virtualInbound',
          {
            name: 'inbound|8080',
            virtual_hosts: [
              {
                name: 'app',
                domains: ['*'],
                routes: [{ match: { prefix: '/' }, route: { cluster: 'inbound|8080' } }],
              },
            ],
          },
          { statPrefix: 'inbound_0.0.0.0_8080' },
        ),
      ],
    });
    const cp = await startControlPlane(closer, NODE_ID, snapshot);
    const dir = mkdtempSync(path.join(os.tmpdir(), 'cm-istio-'));
    const json = JSON.parse(readFileSync(FILE, 'utf8')) as Json;
    mapPipePaths(json, dir);
    mapPorts(
      json,
      new Map([
        [15020, agent.port],
        [15000, agent.port],
      ]),
    );
    const xds = await relay(path.join(dir, 'XDS'), cp.port);
    // WHEN the proxy starts from it
    const proxy = await startXdsProxy(json, { logLevel: 'off' });
    closer.add(() => proxy.close());
    // THEN the ADS stream went over the Unix socket and the pushed listener serves the app
    expect(xds.connections()).toBeGreaterThan(0);
    const runtime = proxy.runtime();
    const inbound = runtime?.listeners.get('virtualInbound')?.port as number;
    expect(await get(inbound, '/hello')).toEqual({ status: 200, body: 'app GET /hello' });
    // AND the static readiness listener (15021 in Istio) reaches the agent cluster
    const ports = [...(runtime?.listeners.values() ?? [])].map((l) => l.port);
    const results = await Promise.all(
      ports.filter((p) => p !== inbound).map((p) => get(p, '/healthz/ready')),
    );
    expect(results).toContainEqual({ status: 200, body: 'agent GET /healthz/ready' });
    // AND /clusters names both pipe clusters by their socket paths, as Envoy does
    const clusters = await get(proxy.admin()?.port as number, '/clusters');
    expect(clusters.body).toContain(`xds-grpc::${path.join(dir, 'XDS')}::health_flags::healthy\n`);
    expect(clusters.body).toContain(`sds-grpc::${path.join(dir, 'socket')}::health_flags::healthy\n`);
  }, 30_000);
});
