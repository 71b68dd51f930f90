// The HTTP/1 upstream pool against real loopback TCP servers (port 0) that speak raw bytes, so
// each test controls exactly what the "upstream" sends. Nothing is stood in.
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { H1Pool, type PoolEvents } from '../../../proxy/http/h1-upstream.js';
import type { HeaderList } from '../../../proxy/http/headers.js';
import type { UpstreamCallbacks } from '../../../proxy/http/stream.js';

const servers: net.Server[] = [];
const pools: H1Pool[] = [];

afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function rawServer(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer(onConnection);
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as net.AddressInfo).port;
}

function countingEvents(): PoolEvents & { opened: number; failed: number } {
  const e = {
    opened: 0,
    failed: 0,
    onConnectionOpen() {
      e.opened++;
    },
    onConnectionClose() {},
    onConnectFailure() {
      e.failed++;
    },
    onPendingOverflow() {},
  };
  return e;
}

interface Outcome {
  status?: number;
  headers?: HeaderList;
  body: string;
  reset?: { reason: string; beforeHeaders: boolean };
}

function send(pool: H1Pool, path = '/'): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Outcome = { body: '' };
    const cb: UpstreamCallbacks = {
      onInformational: () => undefined,
      onHeaders: (status, headers) => {
        out.status = status;
        out.headers = headers;
      },
      onData: (c) => {
        out.body += c.toString();
      },
      onEnd: () => resolve(out),
      onReset: (reason, beforeHeaders) => {
        out.reset = { reason, beforeHeaders };
        resolve(out);
      },
      onDrain: () => undefined,
      onUpgrade: (_h, s) => s.destroy(),
    };
    pool.request({ method: 'GET', path, headers: ['host', 'x'], body: 'none', upgrade: false }, cb);
  });
}

/** Answers every request on a connection with a fixed keep-alive 200. */
function keepAliveResponder(socket: net.Socket): void {
  let buf = '';
  socket.on('data', (d) => {
    buf += d.toString('latin1');
    while (buf.includes('\r\n\r\n')) {
      buf = buf.slice(buf.indexOf('\r\n\r\n') + 4);
      socket.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
    }
  });
}

describe('H1Pool', () => {
  test('reuses one keep-alive connection for sequential requests', async () => {
    // GIVEN
    let connections = 0;
    const port = await rawServer((s) => {
      connections++;
      keepAliveResponder(s);
    });
    const events = countingEvents();
    const pool = new H1Pool({ target: { host: '127.0.0.1', port, connectTimeoutMs: 1000 }, events });
    pools.push(pool);
    // WHEN
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await send(pool));
    // THEN
    expect(results.map((r) => r.body)).toEqual(['ok', 'ok', 'ok', 'ok', 'ok']);
    expect(connections).toBe(1);
    expect(events.opened).toBe(1);
  });

  test('reports a connection failure before headers when nothing listens', async () => {
    // GIVEN a port that was just freed
    const port = await rawServer(() => undefined);
    await new Promise((r) => (servers.pop() as net.Server).close(r));
    const events = countingEvents();
    const pool = new H1Pool({ target: { host: '127.0.0.1', port, connectTimeoutMs: 1000 }, events });
    pools.push(pool);
    // WHEN
    const r = await send(pool);
    // THEN
    expect(r.reset).toEqual({ reason: 'connection failure', beforeHeaders: true });
    expect(events.failed).toBe(1);
  });

  test('replays a bodiless request once when a reused connection was closed by the upstream', async () => {
    // GIVEN an upstream that closes each connection right after its first response
    let connections = 0;
    const port = await rawServer((s) => {
      connections++;
      let answered = false;
      s.on('data', () => {
        if (answered) {
          s.destroy();
          return;
        }
        answered = true;
        s.write('HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok');
      });
    });
    const pool = new H1Pool({
      target: { host: '127.0.0.1', port, connectTimeoutMs: 1000 },
      events: countingEvents(),
    });
    pools.push(pool);
    // WHEN
    const first = await send(pool);
    const second = await send(pool);
    // THEN the second request silently moved to a fresh connection
    expect(first.body).toBe('ok');
    expect(second.body).toBe('ok');
    expect(connections).toBe(2);
  });

  test('reads a close-delimited body to the end', async () => {
    // GIVEN
    const port = await rawServer((s) => {
      s.once('data', () => s.end('HTTP/1.1 200 OK\r\n\r\nuntil close'));
    });
    const pool = new H1Pool({
      target: { host: '127.0.0.1', port, connectTimeoutMs: 1000 },
      events: countingEvents(),
    });
    pools.push(pool);
    // WHEN
    const r = await send(pool);
    // THEN
    expect(r.status).toBe(200);
    expect(r.body).toBe('until close');
  });

  test('a malformed upstream response is a protocol error, not a crash', async () => {
    // GIVEN
    const port = await rawServer((s) => {
      s.once('data', () => s.write('HTTP/1.1 2OO Fine\r\n\r\n'));
    });
    const pool = new H1Pool({
      target: { host: '127.0.0.1', port, connectTimeoutMs: 1000 },
      events: countingEvents(),
    });
    pools.push(pool);
    // WHEN
    const r = await send(pool);
    // THEN
    expect(r.reset).toEqual({ reason: 'protocol error', beforeHeaders: true });
  });

  test('closes connections idle longer than the idle timeout', async () => {
    // GIVEN a keep-alive upstream that reports when its connection closes, and a 300 ms idle timeout
    let closedAt = 0;
    const port = await rawServer((sock) => {
      keepAliveResponder(sock);
      sock.on('close', () => {
        closedAt = Date.now();
      });
    });
    let idleTimeouts = 0;
    const pool = new H1Pool({
      target: { host: '127.0.0.1', port, connectTimeoutMs: 1000 },
      events: {
        ...countingEvents(),
        onIdleTimeout: () => {
          idleTimeouts++;
        },
      },
      idleTimeoutMs: 300,
    });
    pools.push(pool);
    // WHEN one request completes and the connection then sits idle
    await send(pool);
    const idleFrom = Date.now();
    await new Promise((r) => setTimeout(r, 1000));
    // THEN the pool closed it after the timeout (within one sweep), counted as an idle timeout
    expect(closedAt).toBeGreaterThanOrEqual(idleFrom + 250);
    expect(pool.connections).toBe(0);
    expect(idleTimeouts).toBe(1);
  });

  test('idle_timeout 0 never closes an idle connection (Envoy: 0 disables it)', async () => {
    // GIVEN a keep-alive upstream and a pool with idle timeout 0
    let closed = false;
    const port = await rawServer((sock) => {
      keepAliveResponder(sock);
      sock.on('close', () => {
        closed = true;
      });
    });
    const events = countingEvents();
    const pool = new H1Pool({
      target: { host: '127.0.0.1', port, connectTimeoutMs: 1000 },
      events,
      idleTimeoutMs: 0,
    });
    pools.push(pool);
    // WHEN a request completes and the connection sits idle past a sweep
    await send(pool);
    await new Promise((r) => setTimeout(r, 1200));
    // THEN it is still open and reused by the next request
    expect(closed).toBe(false);
    expect((await send(pool)).status).toBe(200);
    expect(events.opened).toBe(1);
  });
});
