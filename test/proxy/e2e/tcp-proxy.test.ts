// tcp_proxy listeners end to end: real TCP echo servers on loopback (port 0) behind the real proxy.
// Nothing is stood in.
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer, startFromJson } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

async function echoServer(tag: string): Promise<number> {
  const server = net.createServer((s) => s.on('data', (d) => s.write(`${tag}:${d.toString()}`)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closer.add(() => new Promise((r) => server.close(r)));
  return (server.address() as net.AddressInfo).port;
}

function tcpBootstrap(tcpProxy: Record<string, unknown>, clusters: Record<string, number>) {
  return {
    static_resources: {
      listeners: [
        {
          name: 'tcp',
          address: { socket_address: { address: '127.0.0.1', port_value: 0 } },
          filter_chains: [
            {
              filters: [
                {
                  name: 'envoy.filters.network.tcp_proxy',
                  typed_config: {
                    '@type': 'type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy',
                    stat_prefix: 'tcp_stats',
                    ...tcpProxy,
                  },
                },
              ],
            },
          ],
        },
      ],
      clusters: Object.entries(clusters).map(([name, port]) => ({
        name,
        type: 'STATIC',
        connect_timeout: '1s',
        load_assignment: {
          cluster_name: name,
          endpoints: [
            {
              lb_endpoints: [
                { endpoint: { address: { socket_address: { address: '127.0.0.1', port_value: port } } } },
              ],
            },
          ],
        },
      })),
    },
  };
}

function exchange(port: number, message: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = net.connect(port, '127.0.0.1', () => s.write(message));
    s.once('data', (d) => {
      resolve(d.toString());
      s.end();
    });
    s.on('error', reject);
  });
}

describe('tcp_proxy', () => {
  test('splices a connection to the cluster and counts bytes', async () => {
    // GIVEN
    const port = await echoServer('e');
    const proxy = await startFromJson(closer, tcpBootstrap({ cluster: 'echo' }, { echo: port }));
    const listen = proxy.listeners.get('tcp')?.port as number;
    // WHEN
    const reply = await exchange(listen, 'hello');
    await new Promise((r) => setTimeout(r, 50));
    // THEN
    expect(reply).toBe('e:hello');
    expect(proxy.stats.counter('tcp.tcp_stats.downstream_cx_total').value).toBe(1);
    expect(proxy.stats.counter('tcp.tcp_stats.downstream_cx_rx_bytes_total').value).toBe(5);
    expect(proxy.stats.counter('tcp.tcp_stats.downstream_cx_tx_bytes_total').value).toBe(7);
  });

  test('weighted_clusters spreads connections by weight', async () => {
    // GIVEN weights 1:3
    const a = await echoServer('a');
    const b = await echoServer('b');
    const proxy = await startFromJson(
      closer,
      tcpBootstrap(
        {
          weighted_clusters: {
            clusters: [
              { name: 'a', weight: 1 },
              { name: 'b', weight: 3 },
            ],
          },
        },
        { a, b },
      ),
    );
    const listen = proxy.listeners.get('tcp')?.port as number;
    // WHEN
    const replies = [];
    for (let i = 0; i < 80; i++) replies.push(await exchange(listen, 'x'));
    // THEN about 20 / 60, bounds far from flaky
    const toA = replies.filter((r) => r.startsWith('a:')).length;
    expect(toA).toBeGreaterThan(5);
    expect(toA).toBeLessThan(40);
  });

  test('an unreachable cluster closes the downstream connection, the proxy lives on', async () => {
    // GIVEN
    const proxy = await startFromJson(closer, tcpBootstrap({ cluster: 'dead' }, { dead: 1 }));
    const listen = proxy.listeners.get('tcp')?.port as number;
    // WHEN
    const closed = await new Promise<boolean>((resolve) => {
      const s = net.connect(listen, '127.0.0.1', () => s.write('x'));
      s.on('error', () => undefined);
      s.on('close', () => resolve(true));
    });
    // THEN
    expect(closed).toBe(true);
    expect(proxy.stats.counter('cluster.dead.upstream_cx_connect_fail').value).toBe(1);
  });

  test('a client that half-closes still gets the whole reply (FIN passed through, as Envoy)', async () => {
    // GIVEN an upstream that answers only once its client has finished sending
    const server = net.createServer({ allowHalfOpen: true }, (s) => {
      const got: Buffer[] = [];
      s.on('data', (d) => got.push(d));
      s.on('end', () => s.end(`done:${Buffer.concat(got).toString()}`));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise((r) => server.close(r)));
    const upstream = (server.address() as net.AddressInfo).port;
    const proxy = await startFromJson(closer, tcpBootstrap({ cluster: 'sink' }, { sink: upstream }));
    const listen = proxy.listeners.get('tcp')?.port as number;
    // WHEN the client writes and half-closes straight away
    const reply = await new Promise<string>((resolve, reject) => {
      const chunks: Buffer[] = [];
      const s = net.connect({ port: listen, host: '127.0.0.1', allowHalfOpen: true }, () => s.end('request'));
      s.on('data', (d) => chunks.push(d));
      s.on('end', () => resolve(Buffer.concat(chunks).toString()));
      s.on('error', reject);
    });
    // THEN the upstream saw the FIN and its reply came back through the proxy
    expect(reply).toBe('done:request');
  });
});
