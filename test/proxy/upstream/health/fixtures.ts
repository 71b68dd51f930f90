// Shared fixtures for the active health-check tests (checker, probe-tls, and tls/health-san): a
// loopback server on port 0 whose sockets are destroyed on close, and the health-checked cluster
// `svc` they hand the cluster manager. Both were copied between those files.
import type net from 'node:net';
import type { Cluster, HealthCheck } from '../../../../proxy/config/envoy.js';

/** Something `listen` can start: node:net, node:http(s), node:http2 and node:tls servers. */
export type Listenable = Pick<net.Server, 'on' | 'listen' | 'close' | 'address'>;

/**
 * Listens on 127.0.0.1 port 0 and returns the port; `cleanups` gets a closer that destroys the
 * sockets still open (plain ones from 'connection', TLS ones from 'secureConnection') first.
 */
export async function listen(server: Listenable, cleanups: Array<() => unknown>): Promise<number> {
  const sockets = new Set<net.Socket>();
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  // TLS servers report the raw socket on 'connection' only for plain net; track secure ones too.
  server.on('secureConnection', (s: net.Socket) => sockets.add(s));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(
    () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/**
 * Cluster `svc` with one loopback host per port, health-checked every 20 ms with a 0.5 s timeout;
 * `hc` adds the thresholds and the check kind, `extra` adds cluster fields (a transport socket).
 */
export function healthCheckedCluster(
  ports: readonly number[],
  hc: Partial<HealthCheck>,
  extra: Record<string, unknown> = {},
): Cluster {
  return {
    name: 'svc',
    health_checks: [
      { timeout: '0.5s', interval: '0.020s', no_traffic_interval: '0.020s', ...hc } as HealthCheck,
    ],
    load_assignment: {
      cluster_name: 'svc',
      endpoints: [
        {
          lb_endpoints: ports.map((p) => ({
            endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: p } } },
          })),
        },
      ],
    },
    ...extra,
  } as Cluster;
}
