// Cluster-wide circuit breakers (max_connections, max_pending_requests) and the connection overflow
// counters through the real proxy, against real node:http upstreams on loopback (port 0) that count
// the TCP connections they accept and can hold their responses. Nothing is stood in.
import http from 'node:http';
import http2 from 'node:http2';
import type net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer, listenLoopback } from '../e2e/helpers.js';
import { counter, gauge, get, startScenario } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** An upstream that counts accepted connections; while `held`, responses wait for `release()`. */
async function countingUpstream() {
  const state = { accepted: 0, open: 0, maxOpen: 0, received: 0, held: false };
  const waiting: http.ServerResponse[] = [];
  const server = http.createServer((_req, res) => {
    state.received++;
    if (state.held) waiting.push(res);
    else res.end('ok');
  });
  server.keepAliveTimeout = 60_000;
  server.on('connection', (socket: net.Socket) => {
    state.accepted++;
    state.open++;
    state.maxOpen = Math.max(state.maxOpen, state.open);
    socket.on('close', () => {
      state.open--;
    });
  });
  const port = await listenLoopback(closer, server);
  return {
    state,
    port,
    release(): void {
      state.held = false;
      for (const res of waiting.splice(0)) res.end('ok');
    },
  };
}

/** Waits until `condition` holds (10 s deadline: a loaded 2-core machine can be slow). */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not reached in 10 s');
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Sends `n` requests at once and returns their results. */
function burst(port: number, n: number) {
  return Promise.all(Array.from({ length: n }, () => get(port)));
}

describe('max_connections', () => {
  test('holds for the cluster: one host under 20 concurrent requests gets 2 connections, the rest wait', async () => {
    // GIVEN one host held busy, max_connections 2 with track_remaining
    const up = await countingUpstream();
    up.state.held = true;
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: { circuit_breakers: { thresholds: [{ max_connections: 2, track_remaining: true }] } },
    });
    // WHEN 20 requests arrive at once
    const results = burst(port, 20);
    await until(() => up.state.received === 2);
    // THEN two connections carry two requests; the others wait (pending), and the overflow is counted
    expect(up.state.accepted).toBe(2);
    expect(counter(proxy, 'cluster.svc.upstream_cx_overflow')).toBeGreaterThan(0);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.cx_open')).toBe(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_cx')).toBe(0);
    await until(() => gauge(proxy, 'cluster.svc.upstream_rq_pending_active') === 18);
    // WHEN the upstream answers
    up.release();
    const done = await results;
    // THEN every request succeeded over those same two connections
    expect(done.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(up.state.accepted).toBe(2);
    expect(gauge(proxy, 'cluster.svc.upstream_rq_pending_active')).toBe(0);
    expect(counter(proxy, 'cluster.svc.upstream_rq_pending_total')).toBe(20);
    expect(gauge(proxy, 'cluster.svc.upstream_cx_active')).toBe(2);
  });

  test('3 hosts, max_connections 2: counted across hosts; only a host with no connection opens one past it (Envoy)', async () => {
    // GIVEN three held hosts behind round robin, max_connections 2
    const ups = [await countingUpstream(), await countingUpstream(), await countingUpstream()];
    for (const u of ups) u.state.held = true;
    const { port, proxy } = await startScenario(closer, {
      ports: ups.map((u) => u.port),
      cluster: { circuit_breakers: { thresholds: [{ max_connections: 2, track_remaining: true }] } },
    });
    // WHEN 20 requests arrive at once
    const results = burst(port, 20);
    await until(() => ups.reduce((n, u) => n + u.state.received, 0) === 3);
    await until(() => gauge(proxy, 'cluster.svc.upstream_rq_pending_active') === 17);
    // THEN two connections were opened under the limit and the third host got its first connection
    // past it (Envoy: "a host selected by load balancing has at least one connection"), never more:
    // one connection per host, each carrying one request at a time, and the overflow counted
    expect(ups.map((u) => u.state.accepted)).toEqual([1, 1, 1]);
    expect(counter(proxy, 'cluster.svc.upstream_cx_overflow')).toBeGreaterThanOrEqual(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.cx_open')).toBe(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_cx')).toBe(0);
    // WHEN the hosts answer
    for (const u of ups) u.release();
    const done = await results;
    // THEN all succeeded and no host ever had a second connection
    expect(done.map((r) => r.status)).toEqual(Array(20).fill(200));
    expect(ups.map((u) => u.state.maxOpen)).toEqual([1, 1, 1]);
    expect(ups.reduce((n, u) => n + u.state.accepted, 0)).toBe(3);
  });

  test('without the limit each waiting request gets its own connection (the limit is what holds them back)', async () => {
    // GIVEN the same held host with Envoy's default limits
    const up = await countingUpstream();
    up.state.held = true;
    const { port, proxy } = await startScenario(closer, { ports: [up.port] });
    // WHEN 5 requests arrive at once
    const results = burst(port, 5);
    await until(() => up.state.received === 5);
    up.release();
    await results;
    // THEN 5 connections, no overflow
    expect(up.state.accepted).toBe(5);
    expect(counter(proxy, 'cluster.svc.upstream_cx_overflow')).toBe(0);
  });
});

describe('max_pending_requests', () => {
  test('a request over the pending limit gets 503 UO with x-envoy-overloaded, counted as pending overflow', async () => {
    // GIVEN one connection (max_connections 1), warmed up, and at most 2 requests waiting for it
    const up = await countingUpstream();
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: {
        circuit_breakers: {
          thresholds: [{ max_connections: 1, max_pending_requests: 2, track_remaining: true }],
        },
      },
    });
    expect((await get(port)).status).toBe(200);
    // WHEN the connection is busy with a held request and 4 more arrive
    up.state.held = true;
    const first = get(port);
    await until(() => up.state.received === 2);
    const more = burst(port, 4);
    await until(() => counter(proxy, 'cluster.svc.upstream_rq_pending_overflow') === 2);
    // THEN two wait, two are refused at once: 503, the overload header, the UO local reply
    expect(gauge(proxy, 'cluster.svc.upstream_rq_pending_active')).toBe(2);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.rq_pending_open')).toBe(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_pending')).toBe(0);
    up.release();
    const results = [await first, ...(await more)];
    const refused = results.filter((r) => r.status === 503);
    expect(refused).toHaveLength(2);
    for (const r of refused) {
      expect(r.headers['x-envoy-overloaded']).toBe('true');
      expect(r.body).toContain('reset reason: overflow');
    }
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    // the warm-up waited for its connection too (Envoy counts that as pending)
    expect(counter(proxy, 'cluster.svc.upstream_rq_pending_total')).toBe(3);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_pending')).toBe(2);
    expect(up.state.accepted).toBe(1);
  });

  test('the Prometheus form carries the overflow counters', async () => {
    // GIVEN a warm one-connection cluster where one request may wait, and the connection busy
    const up = await countingUpstream();
    const { port, admin, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: { circuit_breakers: { thresholds: [{ max_connections: 1, max_pending_requests: 1 }] } },
    });
    expect((await get(port)).status).toBe(200);
    up.state.held = true;
    const first = get(port);
    await until(() => up.state.received === 2);
    // (the next one waits and wanted a connection: cx overflow; two more find the queue full)
    const results = burst(port, 3);
    await until(() => counter(proxy, 'cluster.svc.upstream_rq_pending_overflow') === 2);
    // WHEN the admin's Prometheus page is read
    const page = await get(admin, { path: '/stats/prometheus' });
    up.release();
    await Promise.all([first, results]);
    // THEN both overflow counters are there under Envoy's names
    expect(page.body).toMatch(/envoy_cluster_upstream_rq_pending_overflow\{envoy_cluster_name="svc"\} [1-9]/);
    expect(page.body).toMatch(/envoy_cluster_upstream_cx_overflow\{envoy_cluster_name="svc"\} [1-9]/);
  });
});

const H2_UPSTREAM = {
  typed_extension_protocol_options: {
    'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
      '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
      explicit_http_config: { http2_protocol_options: {} },
    },
  },
};

/** An h2c upstream that counts its sessions and answers 200. */
async function h2Upstream() {
  const state = { sessions: 0, streams: 0 };
  const server = http2.createServer();
  server.on('session', () => {
    state.sessions++;
  });
  server.on('stream', (stream) => {
    state.streams++;
    stream.respond({ ':status': 200 });
    stream.end('ok');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closer.add(() => new Promise((r) => server.close(() => r(undefined))));
  return { state, port: (server.address() as net.AddressInfo).port };
}

describe('HTTP/2 upstreams', () => {
  test("max_connections is counted across the hosts' sessions; each host still gets its one session", async () => {
    // GIVEN three h2c hosts and max_connections 1
    const ups = [await h2Upstream(), await h2Upstream(), await h2Upstream()];
    const { port, proxy } = await startScenario(closer, {
      ports: ups.map((u) => u.port),
      cluster: {
        ...H2_UPSTREAM,
        circuit_breakers: { thresholds: [{ max_connections: 1, track_remaining: true }] },
      },
    });
    // WHEN 12 requests arrive at once
    const done = await burst(port, 12);
    // THEN one session per host (two of them past the limit, counted), all requests multiplexed
    expect(done.map((r) => r.status)).toEqual(Array(12).fill(200));
    expect(ups.map((u) => u.state.sessions)).toEqual([1, 1, 1]);
    expect(ups.reduce((n, u) => n + u.state.streams, 0)).toBe(12);
    expect(counter(proxy, 'cluster.svc.upstream_cx_overflow')).toBe(2);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.cx_open')).toBe(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_cx')).toBe(0);
  });

  test('requests waiting for the session are limited by max_pending_requests (503 UO)', async () => {
    // GIVEN one h2c host, at most one request waiting for its session to connect, and an h2c
    // client whose three requests reach the proxy in one read (one write of three HEADERS frames)
    const up = await h2Upstream();
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: { ...H2_UPSTREAM, circuit_breakers: { thresholds: [{ max_pending_requests: 1 }] } },
    });
    const session = http2.connect(`http://127.0.0.1:${port}`);
    closer.add(() => session.close());
    await new Promise((r) => session.once('remoteSettings', r));
    // WHEN the three requests arrive before the upstream session exists
    const ask = () =>
      new Promise<{ status: number; overloaded: unknown }>((resolve, reject) => {
        const stream = session.request({ ':path': '/', ':authority': 'svc' });
        stream.on('response', (h) =>
          resolve({ status: Number(h[':status']), overloaded: h['x-envoy-overloaded'] }),
        );
        stream.on('error', reject);
        stream.resume();
      });
    const done = await Promise.all([ask(), ask(), ask()]);
    // THEN the first waits for the session, the two arriving while it connects overflow
    expect(done).toEqual([
      { status: 200, overloaded: undefined },
      { status: 503, overloaded: 'true' },
      { status: 503, overloaded: 'true' },
    ]);
    expect(counter(proxy, 'cluster.svc.upstream_rq_pending_overflow')).toBe(2);
    expect(up.state.sessions).toBe(1);
  });
});
