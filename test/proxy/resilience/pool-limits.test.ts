// Two HTTP/1.1 host pools sharing one set of circuit breakers (as the pools of one cluster do),
// against a real keep-alive upstream on loopback (port 0) that holds its responses. Nothing is
// stood in: the pools open real connections.
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { H1Pool, localResources, type PoolEvents } from '../../../proxy/http/h1-upstream.js';
import type { UpstreamCallbacks } from '../../../proxy/http/stream.js';

const servers: net.Server[] = [];
const pools: H1Pool[] = [];
afterEach(async () => {
  for (const p of pools.splice(0)) p.close();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

/** A raw upstream that answers each request only when `release()` is called. */
async function heldUpstream() {
  const waiting: net.Socket[] = [];
  const sockets: net.Socket[] = [];
  const server = net.createServer((socket) => {
    sockets.push(socket);
    socket.on('data', () => waiting.push(socket));
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  servers.push(server);
  server.on('close', () => {
    for (const s of sockets) s.destroy();
  });
  return {
    port: (server.address() as net.AddressInfo).port,
    accepted: () => sockets.length,
    received: () => waiting.length,
    release(): void {
      for (const s of waiting.splice(0)) s.write('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n');
    },
  };
}

function counters() {
  const c = { cxOverflow: 0, pendingOverflow: 0, pending: 0 };
  const events: PoolEvents = {
    onConnectionOpen: () => undefined,
    onConnectionClose: () => undefined,
    onConnectFailure: () => undefined,
    onPendingOverflow: () => {
      c.pendingOverflow++;
    },
    onConnectionOverflow: () => {
      c.cxOverflow++;
    },
    onPendingChange: (d) => {
      c.pending += d;
    },
  };
  return { c, events };
}

/** Sends a GET; resolves with the status, or with the reset reason. */
function send(pool: H1Pool): Promise<number | string> {
  return new Promise((resolve) => {
    const cb: UpstreamCallbacks = {
      onInformational: () => undefined,
      onHeaders: (status) => resolve(status),
      onData: () => undefined,
      onEnd: () => undefined,
      onReset: (reason) => resolve(reason),
      onDrain: () => undefined,
      onUpgrade: (_h, s) => s.destroy(),
    };
    pool.request({ method: 'GET', path: '/', headers: ['host', 'x'], body: 'none', upgrade: false }, cb);
  });
}

async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('H1Pool with shared circuit breakers', () => {
  test('connections and pending requests are counted across the pools', async () => {
    // GIVEN two hosts' pools sharing max_connections 1 and max_pending_requests 1
    const a = await heldUpstream();
    const b = await heldUpstream();
    const shared = localResources(1, 1);
    const { c, events } = counters();
    const target = (port: number) => ({ host: '127.0.0.1', port, connectTimeoutMs: 1000 });
    const poolA = new H1Pool({ target: target(a.port), events, resources: shared });
    const poolB = new H1Pool({ target: target(b.port), events, resources: shared });
    pools.push(poolA, poolB);
    // WHEN A's request holds the one connection, then B gets a request, then A another
    const first = send(poolA);
    await until(() => a.received() === 1);
    const onB = send(poolB);
    await until(() => b.received() === 1);
    const second = send(poolA);
    // THEN B still opened its first connection (past the limit, counted), A's second request waits
    expect(b.accepted()).toBe(1);
    expect(c.cxOverflow).toBe(2);
    expect(c.pending).toBe(1);
    // WHEN B gets another request: the one pending slot is A's
    const refused = await send(poolB);
    // THEN it is refused at once
    expect(refused).toBe('overflow');
    expect(c.pendingOverflow).toBe(1);
    // WHEN the upstreams answer
    a.release();
    b.release();
    expect(await first).toBe(200);
    expect(await onB).toBe(200);
    await until(() => a.received() === 1);
    a.release();
    // THEN A's waiting request went over A's one connection
    expect(await second).toBe(200);
    expect(a.accepted()).toBe(1);
    expect(c.pending).toBe(0);
  });
});
