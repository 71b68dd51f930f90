// Active health checking against real servers on loopback port 0: node:http (HTTP/1.1), node:https
// with openssl-made certificates,
// node:http2 (h2c), a node:net TCP server, and an @grpc/grpc-js server implementing
// grpc.health.v1 (an independent gRPC implementation). Nothing is stood in.
import http from 'node:http';
import http2 from 'node:http2';
import https from 'node:https';
import net from 'node:net';
import * as grpc from '@grpc/grpc-js';
import { afterEach, describe, expect, test } from 'vitest';
import type { Cluster, HealthCheck } from '../../../../proxy/config/envoy.js';
import { StatsStore } from '../../../../proxy/stats/store.js';
import { parseHealthResponse } from '../../../../proxy/upstream/health/index.js';
import { ClusterManager, HealthFlag, type Host } from '../../../../proxy/upstream/index.js';
import { makeCerts } from '../../e2e/helpers.js';
import { healthCheckedCluster, listen as listenOn } from './fixtures.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Listens on loopback port 0; the server is closed after the test. */
function listen(server: net.Server | http.Server | http2.Http2Server): Promise<number> {
  return listenOn(server, cleanups);
}

/** Cluster `svc` over `ports`, checked every 20 ms; two checks flip a host unless `hc` says otherwise. */
function clusterWith(ports: number[], hc: Partial<HealthCheck>): Cluster {
  return healthCheckedCluster(ports, { unhealthy_threshold: 2, healthy_threshold: 2, ...hc });
}

function start(
  cluster: Cluster,
  store = new StatsStore(),
): { cm: ClusterManager; store: StatsStore; hosts: readonly Host[] } {
  const cm = new ClusterManager([cluster], store);
  cleanups.push(() => cm.close());
  return { cm, store, hosts: cm.get('svc')?.hosts ?? [] };
}

// A deadline, not a timing bound: conditions are polled and met as soon as they hold; 10 s leaves
// room for a loaded 2-core CI machine.
async function until(cond: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

const failed = (h: Host | undefined) => ((h?.healthFlags ?? 0) & HealthFlag.FAILED_ACTIVE_HC) !== 0;

describe('HTTP health checks', () => {
  test('hosts start failed, pass on the first success, fail after the threshold, recover after healthy_threshold', async () => {
    // GIVEN an HTTP server whose status we control
    let status = 200;
    const seen: Array<{ host?: string; ua?: string; path?: string }> = [];
    const port = await listen(
      http.createServer((req, res) => {
        seen.push({ host: req.headers.host, ua: req.headers['user-agent'], path: req.url });
        res.writeHead(status).end();
      }),
    );
    // WHEN
    const { cm, store, hosts } = start(
      clusterWith([port], {
        http_health_check: { path: '/healthz', retriable_statuses: [{ start: '503', end: '504' }] },
      }),
    );
    // THEN the host is failed+pending until the first check answers
    expect(hosts[0]?.healthFlagsText()).toBe('/failed_active_hc/pending_active_hc');
    expect(cm.healthCheckers()[0]?.timing).toMatchObject({
      intervalMs: 20,
      timeoutMs: 500,
      unhealthyThreshold: 2,
      healthyThreshold: 2,
    });
    await cm.ready();
    expect(failed(hosts[0])).toBe(false);
    expect(seen[0]).toEqual({ host: 'svc', ua: 'Envoy/HC', path: '/healthz' });
    // WHEN the server answers a retriable 503: two failures are needed
    status = 503;
    await until(() => failed(hosts[0]));
    expect(store.counter('cluster.svc.health_check.failure').value).toBeGreaterThanOrEqual(2);
    expect(store.gauge('cluster.svc.health_check.healthy').value).toBe(0);
    expect(cm.get('svc')?.chooseHost({})).toBe(hosts[0]); // panic: the only host still takes traffic
    // WHEN it recovers
    status = 200;
    await until(() => !failed(hosts[0]));
    expect(store.counter('cluster.svc.health_check.success').value).toBeGreaterThanOrEqual(3);
  });

  test('an unexpected status fails the host immediately; x-envoy-degraded marks it degraded', async () => {
    // GIVEN
    let status = 200;
    let degraded = false;
    const port = await listen(
      http.createServer((_req, res) =>
        res.writeHead(status, degraded ? { 'x-envoy-degraded': '1' } : {}).end(),
      ),
    );
    const { cm, store, hosts } = start(
      clusterWith([port], { unhealthy_threshold: 100, http_health_check: { path: '/' } }),
    );
    await cm.ready();
    // WHEN
    degraded = true;
    await until(() => hosts[0]?.degraded === true);
    degraded = false;
    status = 500;
    // THEN one bad answer is enough despite unhealthy_threshold 100
    await until(() => failed(hosts[0]));
    expect(store.counter('cluster.svc.health_check.failure').value).toBeLessThan(5);
  });

  test('a config update keeps a checked host healthy instead of failing it until the next check', async () => {
    // GIVEN a healthy checked host
    const port = await listen(http.createServer((_req, res) => res.writeHead(200).end()));
    const config = clusterWith([port], {
      interval: '60s',
      no_traffic_interval: '60s',
      http_health_check: { path: '/' },
    });
    const v1 = start(config);
    await v1.cm.ready();
    // WHEN a new manager replaces it
    const v2 = new ClusterManager([config], v1.store, { previous: v1.cm });
    cleanups.push(() => v2.close());
    // THEN the same host object is still healthy, and ready() does not wait for a new first check
    expect(v2.get('svc')?.hosts[0]).toBe(v1.hosts[0]);
    expect(failed(v2.get('svc')?.hosts[0])).toBe(false);
    await v2.ready();
  });

  test('HTTP/2 (h2c) codec', async () => {
    // GIVEN an h2c server
    const server = http2.createServer();
    server.on('stream', (stream, headers) => {
      stream.respond({ ':status': headers[':path'] === '/ok' ? 200 : 404 });
      stream.end();
    });
    const port = await listen(server);
    // WHEN
    const { cm, hosts } = start(
      clusterWith([port], { http_health_check: { path: '/ok', codec_client_type: 'HTTP2' } }),
    );
    await cm.ready();
    // THEN
    expect(failed(hosts[0])).toBe(false);
  });

  test('a closed port is a network failure and a hung server a timeout', async () => {
    // GIVEN a port nobody listens on and a server that never answers
    const dead = await listen(net.createServer());
    await (cleanups.pop() as () => Promise<void>)();
    const hung = await listen(net.createServer(() => {}));
    const store = new StatsStore();
    // WHEN
    const { cm, hosts } = start(
      clusterWith([dead, hung], { timeout: '0.050s', http_health_check: { path: '/' } }),
      store,
    );
    await cm.ready();
    // THEN both stay failed, failures counted as network failures
    expect(failed(hosts[0])).toBe(true);
    expect(failed(hosts[1])).toBe(true);
    expect(store.counter('cluster.svc.health_check.network_failure').value).toBeGreaterThanOrEqual(2);
  });
});

describe('health checks over the cluster TLS socket', () => {
  test('HTTPS checks verify the upstream against trusted_ca and SNI', async () => {
    // GIVEN an HTTPS server with a certificate for backend.internal (openssl-made CA)
    const tls = makeCerts(['backend.internal']);
    const port = await listen(
      https.createServer({ cert: tls.cert, key: tls.key }, (_req, res) => res.writeHead(200).end()),
    );
    const withTls = (ca: string): Cluster => ({
      ...clusterWith([port], { http_health_check: { path: '/' } }),
      transport_socket: {
        name: 'envoy.transport_sockets.tls',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
          sni: 'backend.internal',
          common_tls_context: { validation_context: { trusted_ca: { inline_string: ca } } },
        },
      },
    });
    // WHEN checked with the right CA, and with an unrelated one
    const good = start(withTls(tls.ca));
    await good.cm.ready();
    const other = makeCerts(['other.internal']);
    const bad = new ClusterManager([withTls(other.ca)], new StatsStore());
    cleanups.push(() => bad.close());
    await bad.ready();
    // THEN
    expect(failed(good.hosts[0])).toBe(false);
    expect(failed(bad.get('svc')?.hosts[0])).toBe(true);
  });
});

describe('TCP health checks', () => {
  test('send and fuzzy in-order receive', async () => {
    // GIVEN a server answering PING with "xxPONGyyOK"
    const port = await listen(
      net.createServer((s) => {
        s.on('error', () => {});
        s.on('data', (d) => {
          if (d.toString() === 'PING') s.write('xxPONGyyOK');
        });
      }),
    );
    // WHEN
    const { cm, hosts } = start(
      clusterWith([port], {
        tcp_health_check: {
          send: { text: Buffer.from('PING').toString('hex') },
          receive: [
            { text: Buffer.from('PONG').toString('hex') },
            { text: Buffer.from('OK').toString('hex') },
          ],
        },
      }),
    );
    await cm.ready();
    // THEN
    expect(failed(hosts[0])).toBe(false);
  });

  test('connect-only check and a bad hex payload is a config error', async () => {
    // GIVEN
    const port = await listen(net.createServer((s) => s.on('error', () => {})));
    const { cm, hosts } = start(clusterWith([port], { tcp_health_check: {} }));
    await cm.ready();
    // THEN
    expect(failed(hosts[0])).toBe(false);
    expect(
      () =>
        new ClusterManager(
          [clusterWith([port], { tcp_health_check: { send: { text: 'PING' } } })],
          new StatsStore(),
        ),
    ).toThrow(
      expect.objectContaining({
        path: 'static_resources.clusters[0].health_checks[0].tcp_health_check.send.text',
      }),
    );
  });
});

describe('gRPC health checks', () => {
  function healthService(statusFor: (service: string) => number): grpc.Server {
    const server = new grpc.Server();
    const decodeRequest = (b: Buffer): string =>
      b.length > 2 && b[0] === 0x0a ? b.subarray(2, 2 + (b[1] as number)).toString() : '';
    server.addService(
      {
        Check: {
          path: '/grpc.health.v1.Health/Check',
          requestStream: false,
          responseStream: false,
          requestSerialize: (s: string) => Buffer.from(s),
          requestDeserialize: decodeRequest,
          responseSerialize: (status: number) => Buffer.from([0x08, status]),
          responseDeserialize: (b: Buffer) => b[1] as number,
        },
      },
      {
        Check: (call: grpc.ServerUnaryCall<string, number>, cb: grpc.sendUnaryData<number>) =>
          cb(null, statusFor(call.request)),
      },
    );
    return server;
  }

  test('SERVING is healthy, NOT_SERVING is not', async () => {
    // GIVEN a grpc-js server: service "good" SERVING (1), anything else NOT_SERVING (2)
    const server = healthService((s) => (s === 'good' ? 1 : 2));
    const port = await new Promise<number>((r, j) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? j(e) : r(p))),
    );
    cleanups.push(() => new Promise<void>((r) => server.tryShutdown(() => r())));
    // WHEN
    const good = start(clusterWith([port], { grpc_health_check: { service_name: 'good' } }));
    await good.cm.ready();
    const bad = new ClusterManager(
      [clusterWith([port], { grpc_health_check: { service_name: 'bad' } })],
      new StatsStore(),
    );
    cleanups.push(() => bad.close());
    await bad.ready();
    // THEN
    expect(failed(good.hosts[0])).toBe(false);
    expect(failed(bad.get('svc')?.hosts[0])).toBe(true);
  });

  test('parses HealthCheckResponse frames defensively', () => {
    // GIVEN / WHEN / THEN
    expect(parseHealthResponse(Buffer.from([0, 0, 0, 0, 2, 0x08, 1]))).toBe(1);
    expect(parseHealthResponse(Buffer.from([0, 0, 0, 0, 0]))).toBe(0);
    expect(parseHealthResponse(Buffer.from([0, 0, 0, 0, 9, 0x08]))).toBeUndefined();
    expect(parseHealthResponse(Buffer.from([1, 0, 0, 0, 0]))).toBeUndefined();
  });
});

describe('check intervals', () => {
  test('no-traffic, edge, unhealthy and jitter intervals follow Envoy', async () => {
    // GIVEN checkers whose intervals all differ, with a random source pinned low, then high
    const port = await listen(net.createServer());
    await (cleanups.pop() as () => Promise<void>)();
    const config = clusterWith([port], {
      interval: '1s',
      no_traffic_interval: '60s',
      no_traffic_healthy_interval: '30s',
      unhealthy_interval: '5s',
      unhealthy_edge_interval: '7s',
      healthy_edge_interval: '2s',
      interval_jitter: '0.5s',
      interval_jitter_percent: 10,
      initial_jitter: '100s',
      http_health_check: { path: '/' },
    });
    const build = (random: () => number) => {
      const cm = new ClusterManager([config], new StatsStore(), { random });
      cleanups.push(() => cm.close());
      const checker = cm.healthCheckers()[0];
      if (checker === undefined) throw new Error('checker expected');
      return { cm, checker, host: cm.get('svc')?.hosts[0] as Host };
    };
    const { cm, checker, host } = build(() => 0);
    // WHEN / THEN: before any traffic a failed host waits no_traffic_interval, a healthy one no_traffic_healthy_interval
    expect(checker.nextDelay(host, undefined)).toBe(60_000);
    host.clearHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    expect(checker.nextDelay(host, undefined)).toBe(30_000);
    // once the cluster carried traffic: interval, edge intervals, unhealthy interval
    cm.get('svc')?.stats.upstream_cx_total.inc();
    expect(checker.nextDelay(host, undefined)).toBe(1000);
    expect(checker.nextDelay(host, 'healthy')).toBe(2000);
    host.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    expect(checker.nextDelay(host, 'unhealthy')).toBe(7000);
    expect(checker.nextDelay(host, undefined)).toBe(5000);
    // and jitter adds up to interval_jitter plus interval_jitter_percent of the base
    const high = build(() => 0.999);
    high.cm.get('svc')?.stats.upstream_cx_total.inc();
    high.host.clearHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    expect(high.checker.nextDelay(high.host, undefined)).toBeCloseTo(1000 + 0.999 * 500 + 0.999 * 100, 5);
  });
});

describe('health check config', () => {
  test.each([
    [{ timeout: '0s', http_health_check: { path: '/' } }, 'timeout'],
    [{ unhealthy_threshold: 0, http_health_check: { path: '/' } }, 'unhealthy_threshold'],
    [{ http_health_check: { path: 'x' } }, 'http_health_check.path'],
    [
      { http_health_check: { path: '/', expected_statuses: [{ start: '300', end: '200' }] } },
      'http_health_check.expected_statuses[0]',
    ],
    [{}, ''],
  ])('rejects %j', (hc, field) => {
    // GIVEN / WHEN / THEN
    const path = `static_resources.clusters[0].health_checks[0]${field === '' ? '' : `.${field}`}`;
    expect(
      () => new ClusterManager([clusterWith([1], hc as Partial<HealthCheck>)], new StatsStore()),
    ).toThrow(expect.objectContaining({ path }));
  });
});
