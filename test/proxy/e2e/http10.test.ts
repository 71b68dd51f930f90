// HTTP/1.0 clients over real sockets: raw bytes from a net client into the real proxy, a real
// node:http upstream, port 0. Nothing is stood in.
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { bootstrapJson, Closer, httpUpstream, ingressPort, rawExchange, startFromJson } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** A proxy that only routes the virtual host `legacy.example`, with the given HTTP/1 options. */
async function proxy(upstreamPort: number, http1: Record<string, unknown>): Promise<number> {
  const handle = await startFromJson(
    closer,
    bootstrapJson({
      routeConfig: {
        virtual_hosts: [
          {
            name: 'legacy',
            domains: ['legacy.example'],
            routes: [{ match: { prefix: '/' }, route: { cluster: 'up' } }],
          },
        ],
      },
      clusters: [{ name: 'up', ports: [upstreamPort] }],
      hcm: { http_protocol_options: http1 },
    }),
  );
  return ingressPort(handle);
}

describe('HTTP/1.0 clients', () => {
  test('without Host, default_host_for_http_10 routes the request and the answer is HTTP/1.0, then closes', async () => {
    // GIVEN accept_http_10 with a default host
    const up = await httpUpstream(closer, 'up');
    const port = await proxy(up.port, { accept_http_10: true, default_host_for_http_10: 'legacy.example' });
    // WHEN an HTTP/1.0 client sends no Host
    const { data, closed } = await rawExchange(port, 'GET /old HTTP/1.0\r\n\r\n');
    // THEN the default host picked the virtual host and reached the upstream as Host
    expect(data.startsWith('HTTP/1.0 200 OK\r\n')).toBe(true);
    expect(data).toContain('\r\nconnection: close\r\n');
    expect(data.endsWith('up GET /old')).toBe(true);
    expect(closed).toBe(true);
    expect(up.seen.map((r) => r.headers.host)).toEqual(['legacy.example']);
  });

  test('without Host and without a default host the request gets 400 and the upstream sees nothing', async () => {
    // GIVEN accept_http_10 alone
    const up = await httpUpstream(closer, 'up');
    const port = await proxy(up.port, { accept_http_10: true });
    // WHEN
    const { data, closed } = await rawExchange(port, 'GET / HTTP/1.0\r\n\r\n');
    // THEN
    expect(data.startsWith('HTTP/1.0 400 ')).toBe(true);
    expect(closed).toBe(true);
    expect(up.seen).toEqual([]);
  });

  test('Connection: keep-alive keeps an HTTP/1.0 connection open for the next request', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'up');
    const port = await proxy(up.port, { accept_http_10: true });
    const socket = net.connect(port, '127.0.0.1');
    closer.add(async () => {
      socket.destroy();
    });
    let data = '';
    socket.on('data', (d) => {
      data += d.toString('latin1');
    });
    const responses = (n: number) =>
      new Promise<void>((resolve) => {
        const check = () => {
          if (data.split('HTTP/1.0 200 OK').length - 1 >= n && data.endsWith(`up GET /${n}`)) resolve();
          else setTimeout(check, 10);
        };
        check();
      });
    // WHEN two keep-alive requests go over the one connection
    socket.write('GET /1 HTTP/1.0\r\nHost: legacy.example\r\nConnection: keep-alive\r\n\r\n');
    await responses(1);
    socket.write('GET /2 HTTP/1.0\r\nHost: legacy.example\r\nConnection: keep-alive\r\n\r\n');
    await responses(2);
    // THEN both were answered as HTTP/1.0 keep-alive on the same connection
    expect(data.split('\r\nconnection: keep-alive\r\n').length - 1).toBe(2);
    expect(socket.destroyed).toBe(false);
    expect(up.seen.map((r) => r.url)).toEqual(['/1', '/2']);
  });
});
