// The HTTP/2 upstream pool as Envoy's (conn_pool_base): more sessions when the streams of the open
// ones are used up, within max_connections; GOAWAY and max_requests_per_connection drain a session
// while it still counts; a cancelled waiting request frees its pending slot at once. Through the
// real proxy, against real node:http2 (h2c) upstreams on loopback (port 0) that count their
// sessions and can hold their responses. Nothing is stood in.
import http from 'node:http';
import http2 from 'node:http2';
import net from 'node:net';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer } from '../e2e/helpers.js';
import { counter, gauge, get, startScenario } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** Cluster fields for h2c upstreams, with the cluster's own http2_protocol_options. */
function h2Cluster(http2Options: Record<string, unknown> = {}, extra: Record<string, unknown> = {}) {
  return {
    typed_extension_protocol_options: {
      'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
        '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
        explicit_http_config: { http2_protocol_options: http2Options },
        ...extra,
      },
    },
  };
}

/**
 * An h2c upstream that counts sessions and open sessions; requests to `/slow` wait for
 * `release()` while `held`, the others are answered at once.
 */
async function h2Upstream(settings: http2.Settings = {}) {
  const state = { sessions: 0, openSessions: 0, streams: 0, held: true };
  const sessions: http2.ServerHttp2Session[] = [];
  const waiting: http2.ServerHttp2Stream[] = [];
  const server = http2.createServer({ settings });
  server.on('session', (session) => {
    state.sessions++;
    state.openSessions++;
    sessions.push(session);
    session.on('close', () => {
      state.openSessions--;
    });
  });
  server.on('stream', (stream, headers) => {
    state.streams++;
    stream.on('error', () => undefined);
    if (headers[':path'] === '/slow' && state.held) waiting.push(stream);
    else {
      stream.respond({ ':status': 200 });
      stream.end('ok');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  closer.add(
    () =>
      new Promise((r) => {
        for (const s of sessions) s.destroy();
        server.close(() => r(undefined));
      }),
  );
  return {
    state,
    sessions,
    port: (server.address() as net.AddressInfo).port,
    held: () => waiting.length,
    release(): void {
      state.held = false;
      for (const s of waiting.splice(0)) {
        s.respond({ ':status': 200 });
        s.end('ok');
      }
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

/** `n` concurrent requests to `path`. */
function burst(port: number, n: number, path = '/slow') {
  return Promise.all(Array.from({ length: n }, () => get(port, { path })));
}

describe('HTTP/2 upstream pool', () => {
  test("the upstream's SETTINGS_MAX_CONCURRENT_STREAMS 2 and 6 concurrent requests open 3 sessions", async () => {
    // GIVEN an h2c upstream allowing 2 streams per session, holding its responses
    const up = await h2Upstream({ maxConcurrentStreams: 2 });
    const { port, proxy } = await startScenario(closer, { ports: [up.port], cluster: h2Cluster() });
    // WHEN 6 requests arrive at once
    const results = burst(port, 6);
    // THEN three sessions carry two streams each
    await until(() => up.held() === 6);
    expect(up.state.sessions).toBe(3);
    expect(counter(proxy, 'cluster.svc.upstream_cx_total')).toBe(3);
    expect(counter(proxy, 'cluster.svc.upstream_cx_http2_total')).toBe(3);
    expect(gauge(proxy, 'cluster.svc.upstream_cx_active')).toBe(3);
    expect(counter(proxy, 'cluster.svc.upstream_cx_overflow')).toBe(0);
    expect(gauge(proxy, 'cluster.svc.upstream_rq_pending_active')).toBe(0);
    // WHEN the upstream answers
    up.release();
    // THEN all succeed
    expect((await results).map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(up.state.sessions).toBe(3);
  });

  test("the cluster's max_concurrent_streams 1 opens a session per concurrent request", async () => {
    // GIVEN an upstream with no stream limit of its own, and the cluster's limit of 1
    const up = await h2Upstream();
    const { port } = await startScenario(closer, {
      ports: [up.port],
      cluster: h2Cluster({ max_concurrent_streams: 1 }),
    });
    // WHEN 3 requests arrive at once
    const results = burst(port, 3);
    await until(() => up.held() === 3);
    // THEN 3 sessions
    expect(up.state.sessions).toBe(3);
    up.release();
    expect((await results).map((r) => r.status)).toEqual([200, 200, 200]);
  });

  test('max_connections 2: only 2 sessions, the overflow is counted, the rest wait and succeed', async () => {
    // GIVEN streams limited to 2 per session and max_connections 2
    const up = await h2Upstream({ maxConcurrentStreams: 2 });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: {
        ...h2Cluster(),
        circuit_breakers: { thresholds: [{ max_connections: 2, track_remaining: true }] },
      },
    });
    // WHEN 6 requests arrive at once
    const results = burst(port, 6);
    await until(() => up.held() === 4);
    // THEN two sessions carry four streams; two requests wait, and the overflow is counted
    await until(() => gauge(proxy, 'cluster.svc.upstream_rq_pending_active') === 2);
    expect(up.state.sessions).toBe(2);
    expect(counter(proxy, 'cluster.svc.upstream_cx_overflow')).toBeGreaterThan(0);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.cx_open')).toBe(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_cx')).toBe(0);
    // WHEN the upstream answers
    up.release();
    // THEN every request succeeded over those two sessions
    expect((await results).map((r) => r.status)).toEqual(Array(6).fill(200));
    expect(up.state.sessions).toBe(2);
    expect(gauge(proxy, 'cluster.svc.upstream_rq_pending_active')).toBe(0);
    // (all six waited at first: no session was ready when they came, as in Envoy)
    expect(counter(proxy, 'cluster.svc.upstream_rq_pending_total')).toBe(6);
  });

  test('GOAWAY mid-traffic: in-flight streams finish, new requests go to a new session, the draining one counts until it closes', async () => {
    // GIVEN two requests in flight on the host's one session, max_connections 2
    const up = await h2Upstream();
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: {
        ...h2Cluster(),
        circuit_breakers: { thresholds: [{ max_connections: 2, track_remaining: true }] },
      },
    });
    const inFlight = burst(port, 2);
    await until(() => up.held() === 2);
    expect(up.state.sessions).toBe(1);
    // WHEN the upstream sends GOAWAY (graceful: its open streams may finish)
    up.sessions[0]?.close();
    await until(() => gauge(proxy, 'cluster.svc.upstream_cx_active') === 1 && up.state.sessions === 1);
    const after = await burst(port, 3, '/fast');
    // THEN the new requests went over a second session, while the draining one still counts
    expect(after.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(up.state.sessions).toBe(2);
    expect(gauge(proxy, 'cluster.svc.upstream_cx_active')).toBe(2);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_cx')).toBe(0);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.cx_open')).toBe(1);
    // WHEN the in-flight responses come
    up.release();
    // THEN they finished on the draining session, which then closed and gave its slot back
    expect((await inFlight).map((r) => r.status)).toEqual([200, 200]);
    await until(() => gauge(proxy, 'cluster.svc.upstream_cx_active') === 1);
    expect(up.state.openSessions).toBe(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_cx')).toBe(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.cx_open')).toBe(0);
    expect(counter(proxy, 'cluster.svc.upstream_cx_destroy')).toBe(1);
  });

  test('max_requests_per_connection 2: a session that served 2 streams drains and a new one opens', async () => {
    // GIVEN an h2c upstream and 2 requests per connection
    const up = await h2Upstream();
    up.release();
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: h2Cluster({}, { common_http_protocol_options: { max_requests_per_connection: 2 } }),
    });
    // WHEN 4 requests are sent one after another
    for (let i = 0; i < 4; i++) expect((await get(port)).status).toBe(200);
    // THEN two sessions served them, both retired and closed
    expect(up.state.sessions).toBe(2);
    expect(counter(proxy, 'cluster.svc.upstream_cx_max_requests')).toBe(2);
    await until(() => gauge(proxy, 'cluster.svc.upstream_cx_active') === 0);
    expect(up.state.openSessions).toBe(0);
  });

  test('idle_timeout closes a session without streams; the next request opens a new one', async () => {
    // GIVEN an h2c upstream and an upstream idle_timeout of 200 ms
    const up = await h2Upstream();
    up.release();
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: h2Cluster({}, { common_http_protocol_options: { idle_timeout: '0.200s' } }),
    });
    // WHEN one request is served and the session then stays idle
    expect((await get(port)).status).toBe(200);
    // THEN the session closes, counted as an idle timeout
    await until(() => gauge(proxy, 'cluster.svc.upstream_cx_active') === 0);
    expect(counter(proxy, 'cluster.svc.upstream_cx_idle_timeout')).toBe(1);
    await until(() => up.state.openSessions === 0);
    // WHEN another request comes
    expect((await get(port)).status).toBe(200);
    // THEN it went over a new session
    expect(up.state.sessions).toBe(2);
  });

  test('an upstream that accepts but never sends SETTINGS fails the waiting requests at the connect timeout', async () => {
    // GIVEN a TCP upstream that accepts and stays silent, connect_timeout 0.2 s
    const silent = net.createServer((socket) => {
      socket.on('error', () => undefined);
      closer.add(() => socket.destroy());
    });
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    closer.add(() => new Promise((r) => silent.close(() => r(undefined))));
    const { port, proxy } = await startScenario(closer, {
      ports: [(silent.address() as net.AddressInfo).port],
      cluster: { ...h2Cluster(), connect_timeout: '0.200s' },
    });
    // WHEN two requests come
    const results = await burst(port, 2, '/');
    // THEN both get 503 (UF), counted as a connect timeout; nothing is left pending or open
    expect(results.map((r) => r.status)).toEqual([503, 503]);
    expect(counter(proxy, 'cluster.svc.upstream_cx_connect_timeout')).toBe(1);
    expect(gauge(proxy, 'cluster.svc.upstream_rq_pending_active')).toBe(0);
    await until(() => gauge(proxy, 'cluster.svc.upstream_cx_active') === 0);
  });

  test('a cancelled request waiting for a stream frees its pending slot at once', async () => {
    // GIVEN one stream per session, max_connections 1, max_pending_requests 1, one request in flight
    const up = await h2Upstream({ maxConcurrentStreams: 1 });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: {
        ...h2Cluster(),
        circuit_breakers: {
          thresholds: [{ max_connections: 1, max_pending_requests: 1, track_remaining: true }],
        },
      },
    });
    const first = get(port, { path: '/slow' });
    await until(() => up.held() === 1);
    // WHEN a second request waits for a stream, and its client goes away
    const waiting = http.request({ host: '127.0.0.1', port, path: '/slow', agent: false });
    waiting.on('error', () => undefined);
    waiting.end();
    await until(() => gauge(proxy, 'cluster.svc.upstream_rq_pending_active') === 1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.rq_pending_open')).toBe(1);
    waiting.destroy();
    // THEN its pending slot is free while the first request still holds the session
    await until(() => gauge(proxy, 'cluster.svc.upstream_rq_pending_active') === 0);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.rq_pending_open')).toBe(0);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_pending')).toBe(1);
    expect(counter(proxy, 'cluster.svc.upstream_rq_cancelled')).toBe(1);
    // WHEN the upstream answers
    up.release();
    // THEN the first request succeeds and the cancelled one never reached the upstream
    expect((await first).status).toBe(200);
    expect(up.state.streams).toBe(1);
  });
});
