// CONNECT termination through the real proxy (Envoy's "CONNECT support": a route with
// connect_matcher and upgrade_configs [{upgrade_type: CONNECT, connect_config: {}}]): HTTP/1.1
// CONNECT over raw sockets and HTTP/2 CONNECT streams with a node:http2 client, tunnelled to a real
// TCP echo server on loopback (port 0). Nothing is stood in.
import { mkdtempSync, readFileSync } from 'node:fs';
import http2 from 'node:http2';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import { MeshError } from '../../../errors/index.js';
import { bootstrapJson, Closer, httpUpstream, ingressPort, rawExchange, startFromJson } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** A TCP server that writes back every byte it reads (and ends when the peer ends). */
async function echoServer(): Promise<number> {
  const server = net.createServer((s) => {
    s.on('error', () => undefined);
    s.pipe(s);
  });
  const sockets = new Set<net.Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closer.add(
    () =>
      new Promise((r) => {
        for (const s of sockets) s.destroy();
        server.close(r);
      }),
  );
  return (server.address() as net.AddressInfo).port;
}

/** A virtual host whose one route terminates CONNECT to `cluster`, beside a plain `/` route. */
function connectRoutes(cluster: string, upgradeConfig: Record<string, unknown> = { connect_config: {} }) {
  return {
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        routes: [
          {
            match: { connect_matcher: {} },
            route: { cluster, upgrade_configs: [{ upgrade_type: 'CONNECT', ...upgradeConfig }] },
          },
          { match: { prefix: '/' }, route: { cluster } },
        ],
      },
    ],
  };
}

/** Opens a raw connection, sends `bytes`, and resolves with the socket once `until` was read. */
function readUntil(
  port: number,
  bytes: string,
  until: string,
): Promise<{ socket: net.Socket; data: string }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    closer.add(() => socket.destroy());
    let data = '';
    socket.on('error', reject);
    socket.on('connect', () => socket.write(bytes));
    const onData = (d: Buffer) => {
      data += d.toString('latin1');
      if (data.includes(until)) {
        socket.off('data', onData);
        resolve({ socket, data });
      }
    };
    socket.on('data', onData);
  });
}

describe('HTTP/1.1 CONNECT termination', () => {
  test('answers 200 and splices the connection with a TCP echo server', async () => {
    // GIVEN an echo server and a proxy that terminates CONNECT to it
    const echo = await echoServer();
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: connectRoutes('echo'),
        clusters: [{ name: 'echo', ports: [echo] }],
        hcm: { upgrade_configs: [{ upgrade_type: 'CONNECT' }] },
        admin: true,
      }),
    );
    // WHEN a client sends CONNECT with early tunnel bytes right behind the head, then more bytes
    const { socket, data } = await readUntil(
      ingressPort(proxy),
      'CONNECT echo.internal:5000 HTTP/1.1\r\nHost: echo.internal:5000\r\n\r\nearly|',
      'early|',
    );
    const more = new Promise<string>((r) => socket.once('data', (d) => r(d.toString('latin1'))));
    socket.write('later');
    // THEN the proxy answered 200 without body framing and both chunks came back through the tunnel
    expect(data.startsWith('HTTP/1.1 200 OK\r\n')).toBe(true);
    const head = data.slice(0, data.indexOf('\r\n\r\n')).toLowerCase();
    expect(head).not.toContain('content-length');
    expect(head).not.toContain('transfer-encoding');
    expect(await more).toBe('later');
    expect(proxy.stats.counter('http.ingress_http.downstream_cx_upgrades_total').value).toBe(1);
  });

  test('the tunnel is logged in Envoy’s default format, with no path', async () => {
    // GIVEN a proxy that terminates CONNECT and logs to a file
    const echo = await echoServer();
    const logPath = path.join(mkdtempSync(path.join(os.tmpdir(), 'crossmesh-connect-')), 'access.log');
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: connectRoutes('echo'),
        clusters: [{ name: 'echo', ports: [echo] }],
        hcm: {
          upgrade_configs: [{ upgrade_type: 'CONNECT' }],
          access_log: [
            {
              name: 'envoy.access_loggers.file',
              typed_config: {
                '@type': 'type.googleapis.com/envoy.extensions.access_loggers.file.v3.FileAccessLog',
                path: logPath,
              },
            },
          ],
        },
      }),
    );
    // WHEN a tunnel opens and carries a few bytes
    const { socket } = await readUntil(
      ingressPort(proxy),
      'CONNECT echo.internal:5000 HTTP/1.1\r\nHost: echo.internal:5000\r\n\r\nabc',
      'abc',
    );
    socket.destroy();
    await proxy.close();
    // THEN one line: CONNECT, `-` for the path, 200 to the echo host
    const lines = readFileSync(logPath, 'utf8').trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toContain('"CONNECT - HTTP/1.1" 200 - ');
    expect(lines[0]).toContain(`"echo.internal:5000" "127.0.0.1:${echo}"`);
  });

  test('a failed upstream connect is a 503 and the connection closes', async () => {
    // GIVEN a cluster whose only host refuses connections
    const closed = await echoServer();
    const port = closed;
    await closer.closeAll();
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: connectRoutes('gone'),
        clusters: [{ name: 'gone', ports: [port] }],
        hcm: { upgrade_configs: [{ upgrade_type: 'CONNECT' }] },
      }),
    );
    // WHEN
    const res = await rawExchange(ingressPort(proxy), 'CONNECT gone.internal:80 HTTP/1.1\r\nHost: x\r\n\r\n');
    // THEN
    expect(res.data.startsWith('HTTP/1.1 503 ')).toBe(true);
    expect(res.closed).toBe(true);
  });

  test('CONNECT that nothing enables gets 403 and the bytes behind it are never parsed', async () => {
    // GIVEN a proxy with no CONNECT upgrade on the connection manager and no connect route
    const up = await httpUpstream(closer, 'h1');
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: {
          virtual_hosts: [
            { name: 'a', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'h1' } }] },
          ],
        },
        clusters: [{ name: 'h1', ports: [up.port] }],
      }),
    );
    // WHEN a CONNECT carries a would-be smuggled request behind its head
    const res = await rawExchange(
      ingressPort(proxy),
      'CONNECT h1.internal:80 HTTP/1.1\r\nHost: h1.internal:80\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: a\r\n\r\n',
    );
    // THEN one 403, the connection closes, and the upstream saw nothing
    expect(res.data.startsWith('HTTP/1.1 403 ')).toBe(true);
    expect(res.data.match(/HTTP\/1\.1 /g)).toHaveLength(1);
    expect(res.closed).toBe(true);
    expect(up.seen).toHaveLength(0);
  });

  test.each([
    ['an origin-form target', 'CONNECT /x HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a target without a port', 'CONNECT echo.internal HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['port 0', 'CONNECT echo.internal:0 HTTP/1.1\r\nHost: a\r\n\r\n'],
    ['a body', 'CONNECT echo.internal:80 HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\n\r\nabc'],
  ])('a malformed CONNECT (%s) is a 400 and closes the connection', async (_what, bytes) => {
    // GIVEN a proxy that terminates CONNECT
    const echo = await echoServer();
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: connectRoutes('echo'),
        clusters: [{ name: 'echo', ports: [echo] }],
        hcm: { upgrade_configs: [{ upgrade_type: 'CONNECT' }] },
      }),
    );
    // WHEN
    const res = await rawExchange(ingressPort(proxy), bytes);
    // THEN
    expect(res.data.startsWith('HTTP/1.1 400 ')).toBe(true);
    expect(res.closed).toBe(true);
  });

  test('a connect route without connect_config stops start-up naming the field', async () => {
    // GIVEN a route that would forward CONNECT upstream as is (Envoy's behaviour without connect_config)
    const json = bootstrapJson({
      routeConfig: connectRoutes('echo', {}),
      clusters: [{ name: 'echo', ports: [1] }],
      hcm: { upgrade_configs: [{ upgrade_type: 'CONNECT' }] },
    });
    // WHEN
    const started = startFromJson(closer, json);
    // THEN
    const error = await started.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('PROXY_E_UNSUPPORTED');
    expect((error as MeshError).path).toContain('routes[0].route.upgrade_configs');
  });
});

describe('HTTP/2 CONNECT termination', () => {
  test('a CONNECT stream gets 200 and carries bytes both ways to a TCP echo server', async () => {
    // GIVEN an echo server and a proxy that terminates CONNECT to it (h2c with prior knowledge),
    // configured as Envoy's configs/terminate_http2_connect.yaml (allow_connect on as well)
    const echo = await echoServer();
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: connectRoutes('echo'),
        clusters: [{ name: 'echo', ports: [echo] }],
        hcm: {
          upgrade_configs: [{ upgrade_type: 'CONNECT' }],
          http2_protocol_options: { allow_connect: true },
        },
      }),
    );
    const session = http2.connect(`http://127.0.0.1:${ingressPort(proxy)}`);
    closer.add(() => session.destroy());
    // WHEN a CONNECT stream sends two chunks and ends
    const stream = session.request({ ':method': 'CONNECT', ':authority': 'echo.internal:5000' });
    const status = await new Promise<number>((resolve, reject) => {
      stream.once('response', (h) => resolve(Number(h[':status'])));
      stream.once('error', reject);
    });
    let echoed = '';
    stream.setEncoding('latin1');
    stream.on('data', (d: string) => {
      echoed += d;
    });
    const ended = new Promise<void>((r) => stream.once('end', () => r()));
    stream.write('hello ');
    stream.end('h2');
    await ended;
    // THEN the tunnel echoed everything and ended when the echo server ended
    expect(status).toBe(200);
    expect(echoed).toBe('hello h2');
  });

  test('a CONNECT stream nothing enables gets 403; the session keeps serving', async () => {
    // GIVEN a proxy without CONNECT enabled
    const up = await httpUpstream(closer, 'h1');
    const proxy = await startFromJson(
      closer,
      bootstrapJson({
        routeConfig: {
          virtual_hosts: [
            { name: 'a', domains: ['*'], routes: [{ match: { prefix: '/' }, route: { cluster: 'h1' } }] },
          ],
        },
        clusters: [{ name: 'h1', ports: [up.port] }],
      }),
    );
    const session = http2.connect(`http://127.0.0.1:${ingressPort(proxy)}`);
    closer.add(() => session.destroy());
    const statusOf = (headers: http2.OutgoingHttpHeaders) =>
      new Promise<number>((resolve, reject) => {
        const s = session.request(headers);
        s.once('response', (h) => resolve(Number(h[':status'])));
        s.once('error', reject);
        s.resume();
      });
    // WHEN
    const connect = await statusOf({ ':method': 'CONNECT', ':authority': 'h1.internal:80' });
    const get = await statusOf({ ':path': '/ok' });
    // THEN
    expect(connect).toBe(403);
    expect(get).toBe(200);
    expect(up.seen.map((r) => r.url)).toEqual(['/ok']);
  });
});
