// Active health checking, panic routing, outlier detection and circuit breakers through the real
// proxy, with real node:http upstreams on loopback (port 0) and the real admin server. Nothing is
// stood in. Intervals are short (100 ms) to keep the suite fast.
import type http from 'node:http';
import { afterEach, describe, expect, test } from 'vitest';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import { counter, gauge, get, startScenario } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

/** An upstream whose /healthz answers `health.status` and whose other paths answer its name. */
async function checkedUpstream(name: string) {
  const health = { status: 200 };
  const up = await httpUpstream(closer, name, (req, res) => {
    if (req.url === '/healthz') {
      res.statusCode = health.status;
      res.end();
      return;
    }
    res.setHeader('x-upstream', name);
    res.end(name);
  });
  return { ...up, health };
}

// no_traffic_interval: like Envoy, a cluster that never carried traffic is checked every 60 s.
const HEALTH_CHECK = {
  timeout: '0.5s',
  interval: '0.1s',
  no_traffic_interval: '0.1s',
  unhealthy_threshold: 1,
  healthy_threshold: 1,
  http_health_check: { path: '/healthz' },
};

async function adminText(port: number, path: string): Promise<string> {
  return (await get(port, { path })).body;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs = 3000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('active health checking', () => {
  test('a failing host leaves the balancer, shows /failed_active_hc, and returns once it passes', async () => {
    // GIVEN three hosts, one failing its health check
    const ups = [await checkedUpstream('u0'), await checkedUpstream('u1'), await checkedUpstream('u2')];
    (ups[1] as { health: { status: number } }).health.status = 503;
    const { port, admin, proxy } = await startScenario(closer, {
      ports: ups.map((u) => u.port),
      cluster: { health_checks: [HEALTH_CHECK] },
    });
    // WHEN 30 requests
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(String((await get(port)).headers['x-upstream']));
    // THEN the failing host got none, and admin and stats say why
    expect([...seen].sort()).toEqual(['u0', 'u2']);
    const clusters = await adminText(admin, '/clusters');
    expect(clusters).toContain(`svc::127.0.0.1:${ups[1]?.port}::health_flags::/failed_active_hc`);
    expect(clusters).toContain(`svc::127.0.0.1:${ups[0]?.port}::health_flags::healthy`);
    expect(counter(proxy, 'cluster.svc.health_check.attempt')).toBeGreaterThanOrEqual(3);
    expect(counter(proxy, 'cluster.svc.health_check.failure')).toBeGreaterThanOrEqual(1);
    expect(gauge(proxy, 'cluster.svc.membership_healthy')).toBe(2);
    // WHEN the host recovers
    (ups[1] as { health: { status: number } }).health.status = 200;
    await until(() => gauge(proxy, 'cluster.svc.membership_healthy') === 3);
    // THEN it takes traffic again
    const back = new Set<string>();
    for (let i = 0; i < 9; i++) back.add(String((await get(port)).headers['x-upstream']));
    expect(back.has('u1')).toBe(true);
  });

  test('below the panic threshold the cluster balances over every host, as Envoy does', async () => {
    // GIVEN two of three hosts failing (healthy share 33 % < 50 %)
    const ups = [await checkedUpstream('u0'), await checkedUpstream('u1'), await checkedUpstream('u2')];
    for (const u of ups.slice(1)) u.health.status = 503;
    const { port, proxy } = await startScenario(closer, {
      ports: ups.map((u) => u.port),
      cluster: { health_checks: [HEALTH_CHECK] },
    });
    // WHEN
    const seen = new Set<string>();
    for (let i = 0; i < 30; i++) seen.add(String((await get(port)).headers['x-upstream']));
    // THEN panic routing reaches the unhealthy hosts too
    expect(seen.size).toBe(3);
    expect(counter(proxy, 'cluster.svc.lb_healthy_panic')).toBeGreaterThan(0);
  });

  test('tcp_health_check marks a closed port unhealthy', async () => {
    // GIVEN two live hosts, closed by their own closer (the proxy stays up)
    const servers = new Closer();
    closer.add(() => servers.closeAll());
    const live = await httpUpstream(servers, 'live');
    const gone = await httpUpstream(servers, 'gone');
    const { admin, proxy } = await startScenario(closer, {
      ports: [live.port, gone.port],
      cluster: {
        health_checks: [
          {
            timeout: '0.5s',
            interval: '0.1s',
            no_traffic_interval: '0.1s',
            unhealthy_threshold: 1,
            healthy_threshold: 1,
            tcp_health_check: {},
          },
        ],
      },
    });
    // WHEN both servers go away
    await servers.closeAll();
    // THEN the checker notices
    await until(() => gauge(proxy, 'cluster.svc.health_check.healthy') === 0);
    expect(await adminText(admin, '/clusters')).toContain(`${gone.port}::health_flags::/failed_active_hc`);
    expect(counter(proxy, 'cluster.svc.health_check.failure')).toBeGreaterThan(0);
  });
});

describe('outlier detection', () => {
  test('consecutive 5xx eject a host (/failed_outlier_check) and it returns after base_ejection_time', async () => {
    // GIVEN one host answering 500 and one healthy host
    const bad = await httpUpstream(closer, 'bad', (_req, res) => {
      res.statusCode = 500;
      res.setHeader('x-upstream', 'bad');
      res.end();
    });
    const good = await httpUpstream(closer, 'good');
    const { port, admin, proxy } = await startScenario(closer, {
      ports: [bad.port, good.port],
      cluster: {
        outlier_detection: {
          consecutive_5xx: 3,
          interval: '0.1s',
          base_ejection_time: '0.3s',
          max_ejection_percent: 50,
        },
      },
    });
    // WHEN enough requests for three 500s
    for (let i = 0; i < 6; i++) await get(port);
    // THEN the bad host is ejected and shown so
    expect(gauge(proxy, 'cluster.svc.outlier_detection.ejections_active')).toBe(1);
    expect(counter(proxy, 'cluster.svc.outlier_detection.ejections_enforced_total')).toBe(1);
    expect(counter(proxy, 'cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx')).toBe(1);
    expect(await adminText(admin, '/clusters')).toContain(`${bad.port}::health_flags::/failed_outlier_check`);
    const during = [];
    for (let i = 0; i < 6; i++) during.push((await get(port)).status);
    expect(during.every((s) => s === 200)).toBe(true);
    // AND after the ejection time it is back in the balancer
    await until(() => gauge(proxy, 'cluster.svc.outlier_detection.ejections_active') === 0);
    const after = [];
    for (let i = 0; i < 4; i++) after.push((await get(port)).status);
    expect(after).toContain(500);
  });

  test('success-rate detection ejects the outlier at the interval', async () => {
    // GIVEN two good hosts and one always failing; consecutive-5xx ejection off
    const handler = (status: number) => (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.statusCode = status;
      res.end();
    };
    const hosts = [
      await httpUpstream(closer, 'a', handler(200)),
      await httpUpstream(closer, 'b', handler(200)),
      await httpUpstream(closer, 'c', handler(500)),
    ];
    const { port, proxy } = await startScenario(closer, {
      ports: hosts.map((h) => h.port),
      cluster: {
        outlier_detection: {
          interval: '0.2s',
          base_ejection_time: '10s',
          enforcing_consecutive_5xx: 0,
          success_rate_minimum_hosts: 3,
          success_rate_request_volume: 10,
          success_rate_stdev_factor: 1000,
          max_ejection_percent: 50,
        },
      },
    });
    // WHEN traffic keeps coming (at least 10 requests per host per 200 ms interval)
    await until(async () => {
      await Promise.all(Array.from({ length: 45 }, () => get(port)));
      return counter(proxy, 'cluster.svc.outlier_detection.ejections_enforced_success_rate') > 0;
    });
    // THEN an interval ejected the failing host by success rate, and only it
    expect(counter(proxy, 'cluster.svc.outlier_detection.ejections_enforced_success_rate')).toBe(1);
    const after = [];
    for (let i = 0; i < 10; i++) after.push((await get(port)).status);
    expect(after.every((s) => s === 200)).toBe(true);
  });

  test('split local-origin errors: connect failures eject by consecutive_local_origin_failure', async () => {
    // GIVEN a port nobody listens on (a server opened and closed again) beside a live host
    const servers = new Closer();
    const dead = await httpUpstream(servers, 'dead');
    await servers.closeAll();
    const live = await httpUpstream(closer, 'live');
    const { port, proxy } = await startScenario(closer, {
      ports: [dead.port, live.port],
      cluster: {
        outlier_detection: {
          split_external_local_origin_errors: true,
          consecutive_local_origin_failure: 2,
          interval: '10s',
          base_ejection_time: '10s',
          max_ejection_percent: 50,
        },
      },
    });
    // WHEN enough requests for two connect failures on the dead host
    for (let i = 0; i < 6; i++) await get(port);
    // THEN it is ejected for local-origin failures, and the live host serves everything after
    expect(
      counter(proxy, 'cluster.svc.outlier_detection.ejections_enforced_consecutive_local_origin_failure'),
    ).toBe(1);
    const after = [];
    for (let i = 0; i < 4; i++) after.push((await get(port)).status);
    expect(after).toEqual([200, 200, 200, 200]);
  });

  test('consecutive gateway failures eject when enforced (502/503/504 only)', async () => {
    // GIVEN one host answering 502, gateway-failure detection enforced, 5xx detection out of reach
    const bad = await httpUpstream(closer, 'bad', (_req, res) => {
      res.statusCode = 502;
      res.end();
    });
    const good = await httpUpstream(closer, 'good');
    const { port, proxy } = await startScenario(closer, {
      ports: [bad.port, good.port],
      cluster: {
        outlier_detection: {
          consecutive_5xx: 100,
          consecutive_gateway_failure: 2,
          enforcing_consecutive_gateway_failure: 100,
          interval: '10s',
          base_ejection_time: '10s',
          max_ejection_percent: 50,
        },
      },
    });
    // WHEN
    for (let i = 0; i < 6; i++) await get(port);
    // THEN
    expect(
      counter(proxy, 'cluster.svc.outlier_detection.ejections_enforced_consecutive_gateway_failure'),
    ).toBe(1);
    expect(counter(proxy, 'cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx')).toBe(0);
  });

  test('max_ejection_percent keeps the last host in service', async () => {
    // GIVEN two hosts, both failing, at most 50 % ejected
    const handler = (_req: http.IncomingMessage, res: http.ServerResponse) => {
      res.statusCode = 503;
      res.end();
    };
    const a = await httpUpstream(closer, 'a', handler);
    const b = await httpUpstream(closer, 'b', handler);
    const { port, proxy } = await startScenario(closer, {
      ports: [a.port, b.port],
      cluster: {
        outlier_detection: {
          consecutive_5xx: 2,
          interval: '10s',
          base_ejection_time: '10s',
          max_ejection_percent: 50,
        },
      },
    });
    // WHEN
    for (let i = 0; i < 10; i++) await get(port);
    // THEN one ejected, the other overflowed
    expect(gauge(proxy, 'cluster.svc.outlier_detection.ejections_active')).toBe(1);
    expect(counter(proxy, 'cluster.svc.outlier_detection.ejections_overflow')).toBeGreaterThan(0);
  });
});

describe('circuit breakers', () => {
  test('max_requests holds exactly: never more in flight, overflow is 503 UO with x-envoy-overloaded', async () => {
    // GIVEN an upstream that holds every request until released, max_requests 5
    let inFlight = 0;
    let maxInFlight = 0;
    const held: http.ServerResponse[] = [];
    const up = await httpUpstream(closer, 'held', (_req, res) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      held.push(res);
    });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: { circuit_breakers: { thresholds: [{ max_requests: 5, track_remaining: true }] } },
    });
    // WHEN 20 requests at once
    const pending = Array.from({ length: 20 }, () => get(port));
    await until(() => held.length === 5 && counter(proxy, 'cluster.svc.upstream_rq_pending_overflow') === 15);
    // THEN (while held) the breaker is open with nothing remaining
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.rq_open')).toBe(1);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_rq')).toBe(0);
    for (const res of held.splice(0)) {
      inFlight--;
      res.end('done');
    }
    const results = await Promise.all(pending);
    // THEN exactly 5 reached the upstream and 15 overflowed
    expect(maxInFlight).toBe(5);
    expect(results.filter((r) => r.status === 200)).toHaveLength(5);
    const overflowed = results.filter((r) => r.status === 503);
    expect(overflowed).toHaveLength(15);
    expect(overflowed.every((r) => r.headers['x-envoy-overloaded'] === 'true')).toBe(true);
    expect(counter(proxy, 'cluster.svc.upstream_rq_pending_overflow')).toBe(15);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.rq_open')).toBe(0);
    expect(gauge(proxy, 'cluster.svc.circuit_breakers.default.remaining_rq')).toBe(5);
  });

  test('max_connections with max_pending_requests queue a few and refuse the rest', async () => {
    // GIVEN 2 connections and 1 pending request allowed
    const held: http.ServerResponse[] = [];
    const up = await httpUpstream(closer, 'held', (_req, res) => {
      held.push(res);
    });
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      cluster: { circuit_breakers: { thresholds: [{ max_connections: 2, max_pending_requests: 1 }] } },
    });
    // WHEN 6 requests at once
    const pending = Array.from({ length: 6 }, () => get(port));
    await until(() => held.length === 2 && counter(proxy, 'cluster.svc.upstream_rq_pending_overflow') === 3);
    // THEN two run, one waits, three overflow; releasing lets the queued one through
    for (const res of held.splice(0)) res.end('done');
    await until(() => held.length === 1);
    for (const res of held.splice(0)) res.end('done');
    const results = await Promise.all(pending);
    expect(results.filter((r) => r.status === 200)).toHaveLength(3);
    expect(
      results.filter((r) => r.status === 503 && r.headers['x-envoy-overloaded'] === 'true'),
    ).toHaveLength(3);
  });
});
