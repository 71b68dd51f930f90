// Raw reads (proxy/http/connect.ts): HTTP/1 pool connections read into one shared buffer, so
// whatever outlives a read must be copied. Real loopback TCP servers (port 0) send responses in
// pieces across reads; nothing is stood in.
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { forwardSocket, isRawRead } from '../../../proxy/http/connect.js';
import { H1Pool } from '../../../proxy/http/h1-upstream.js';
import type { HeaderList } from '../../../proxy/http/headers.js';
import type { UpstreamCallbacks } from '../../../proxy/http/stream.js';

const servers: net.Server[] = [];
const pools: H1Pool[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function rawServer(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onConnection);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

function pool(port: number): H1Pool {
  const p = new H1Pool({
    target: { host: '127.0.0.1', port, connectTimeoutMs: 1000 },
    events: {
      onConnectionOpen() {},
      onConnectionClose() {},
      onConnectFailure() {},
      onPendingOverflow() {},
    },
  });
  pools.push(p);
  return p;
}

interface Outcome {
  status: number;
  headers: HeaderList;
  /** The chunks as handed over (kept, not copied by the test). */
  chunks: Buffer[];
}

function send(p: H1Pool, path: string): Promise<Outcome> {
  return new Promise((resolve, reject) => {
    const out: Outcome = { status: 0, headers: [], chunks: [] };
    const cb: UpstreamCallbacks = {
      onInformational: () => undefined,
      onHeaders: (status, headers) => {
        out.status = status;
        out.headers = headers;
      },
      onData: (c) => {
        out.chunks.push(c);
      },
      onEnd: () => resolve(out),
      onReset: (reason) => reject(new Error(reason)),
      onDrain: () => undefined,
      onUpgrade: (_h, s) => s.destroy(),
    };
    p.request({ method: 'GET', path, headers: ['host', 'x'], body: 'none', upgrade: false }, cb);
  });
}

const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('raw reads on HTTP/1 upstream connections', () => {
  test('a head split across reads and body chunks stay intact after later reads reuse the buffer', async () => {
    // GIVEN an upstream that answers each request in five pieces, each its own read
    const port = await rawServer((socket) => {
      let n = 0;
      socket.on('data', async () => {
        n++;
        const body = `${String(n).repeat(4)}abcdefgh`;
        const pieces = [
          'HTTP/1.1 200 OK\r\nContent-Le',
          `ngth: ${body.length * 2}\r\nX-Part: one\r\n`,
          `\r\n${body}`,
          body.toUpperCase(),
        ];
        for (const piece of pieces) {
          socket.write(piece);
          await pause(15);
        }
      });
    });
    const p = pool(port);
    // WHEN two requests go over the one keep-alive connection
    const first = await send(p, '/1');
    const second = await send(p, '/2');
    // THEN every chunk kept from the first response still holds its bytes
    expect(first.status).toBe(200);
    expect(first.headers).toEqual(['content-length', '24', 'x-part', 'one']);
    expect(Buffer.concat(first.chunks).toString()).toBe('1111abcdefgh1111ABCDEFGH');
    expect(first.chunks.length).toBeGreaterThan(1);
    expect(Buffer.concat(second.chunks).toString()).toBe('2222abcdefgh2222ABCDEFGH');
  });

  test('forwardSocket copies an upgraded raw-read connection on and passes its end', async () => {
    // GIVEN a pool connection (raw reads) to a server that sends two pieces, then ends
    const port = await rawServer((socket) => {
      socket.once('data', async () => {
        socket.write('HTTP/1.1 101 Switching Protocols\r\nConnection: upgrade\r\nUpgrade: x\r\n\r\n');
        await pause(15);
        socket.write('first ');
        await pause(15);
        socket.end('second');
      });
    });
    const sinkPort = await rawServer(() => undefined);
    const p = pool(port);
    const upgraded = new Promise<{ socket: net.Socket; rest: Buffer }>((resolve, reject) => {
      const cb: UpstreamCallbacks = {
        onInformational: () => undefined,
        onHeaders: () => reject(new Error('no upgrade')),
        onData: () => undefined,
        onEnd: () => undefined,
        onReset: (reason) => reject(new Error(reason)),
        onDrain: () => undefined,
        onUpgrade: (_h, socket, rest) => resolve({ socket, rest }),
      };
      p.request({ method: 'GET', path: '/', headers: ['host', 'x'], body: 'none', upgrade: true }, cb);
    });
    const { socket: upstream, rest } = await upgraded;
    sockets.push(upstream);
    // WHEN it is forwarded to a client socket
    const received: Buffer[] = [];
    const client = net.connect(sinkPort, '127.0.0.1');
    sockets.push(client);
    const ended = new Promise<void>((resolve) => {
      const server = servers[servers.length - 1] as net.Server;
      server.once('connection', (s) => {
        s.on('data', (d) => received.push(d));
        s.on('end', () => resolve());
      });
    });
    await new Promise<void>((r) => client.once('connect', () => r()));
    if (rest.length > 0) client.write(rest);
    forwardSocket(upstream, client);
    await ended;
    // THEN the bytes arrive whole and in order, and the end is passed on
    expect(isRawRead(upstream)).toBe(true);
    expect(Buffer.concat(received).toString()).toBe('first second');
  });
});
