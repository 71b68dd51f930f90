// Cluster manager tests. DNS: `localhost` is resolved for real through the OS resolver; the
// refresh/failure/change cases use a stand-in lookup function (a real DNS server whose answers
// change on demand is not available here), passed through the documented `lookup` option.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, test } from 'vitest';
import type { Cluster } from '../../../proxy/config/envoy.js';
import { StatsStore } from '../../../proxy/stats/store.js';
import { ClusterManager, HealthFlag, type Host, type LookupFn } from '../../../proxy/upstream/index.js';

function endpoints(
  list: Array<{
    address: string;
    port?: number;
    weight?: number;
    priority?: number;
    health?: 'UNHEALTHY' | 'DEGRADED';
  }>,
): Cluster['load_assignment'] {
  const byPriority = new Map<number, typeof list>();
  for (const e of list) byPriority.set(e.priority ?? 0, [...(byPriority.get(e.priority ?? 0) ?? []), e]);
  return {
    cluster_name: 'x',
    endpoints: [...byPriority.entries()].map(([priority, es]) => ({
      priority,
      lb_endpoints: es.map((e) => ({
        endpoint: { address: { socket_address: { address: e.address, port_value: e.port ?? 80 } } },
        ...(e.weight === undefined ? {} : { load_balancing_weight: e.weight }),
        ...(e.health === undefined ? {} : { health_status: e.health }),
      })),
    })),
  };
}

const managers: ClusterManager[] = [];
function manager(clusters: Cluster[], lookup?: LookupFn, store = new StatsStore()): ClusterManager {
  const cm = new ClusterManager(clusters, store, lookup === undefined ? {} : { lookup });
  managers.push(cm);
  return cm;
}
afterEach(() => {
  for (const m of managers.splice(0)) m.close();
});

function share(cm: ClusterManager, name: string, n = 10_000): Map<string, number> {
  const c = cm.get(name);
  const counts = new Map<string, number>();
  for (let i = 0; i < n; i++) {
    const h = c?.chooseHost({}) as Host;
    counts.set(h.toString(), (counts.get(h.toString()) ?? 0) + 1);
  }
  return counts;
}

describe('ClusterManager', () => {
  test('parses connection settings into plain options', () => {
    // GIVEN
    const dir = mkdtempSync(join(tmpdir(), 'cm-'));
    writeFileSync(join(dir, 'ca.pem'), 'CA-PEM');
    const cm = manager([
      {
        name: 'backend',
        connect_timeout: '0.250s',
        lb_policy: 'LEAST_REQUEST',
        load_assignment: endpoints([{ address: '127.0.0.1', port: 8080 }]),
        circuit_breakers: {
          thresholds: [
            { max_connections: 10, max_retries: 5 },
            { priority: 'HIGH', max_requests: 7 },
          ],
        },
        typed_extension_protocol_options: {
          'envoy.extensions.upstreams.http.v3.HttpProtocolOptions': {
            '@type': 'type.googleapis.com/envoy.extensions.upstreams.http.v3.HttpProtocolOptions',
            explicit_http_config: { http2_protocol_options: {} },
            common_http_protocol_options: { idle_timeout: '30s', max_requests_per_connection: 100 },
          },
        },
        transport_socket: {
          name: 'envoy.transport_sockets.tls',
          typed_config: {
            '@type': 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext',
            sni: 'backend.internal',
            common_tls_context: {
              alpn_protocols: ['h2'],
              validation_context: { trusted_ca: { filename: join(dir, 'ca.pem') } },
              tls_params: { tls_minimum_protocol_version: 'TLSv1_3' },
            },
          },
        },
      },
    ]);
    // WHEN
    const c = cm.get('backend');
    // THEN
    expect(c).toMatchObject({
      connectTimeoutMs: 250,
      protocol: 'http2',
      idleTimeoutMs: 30_000,
      maxRequestsPerConnection: 100,
      lbPolicy: 'LEAST_REQUEST',
      circuitBreakers: {
        default: { maxConnections: 10, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 5 },
        high: { maxRequests: 7 },
      },
    });
    expect(c?.tls?.sni).toBe('backend.internal');
    expect(c?.tls?.alpn).toEqual(['h2']);
    expect(c?.tls?.minVersion).toBe('TLSv1.3');
    expect(c?.tls?.ca?.toString()).toBe('CA-PEM');
    expect(c?.hosts.map(String)).toEqual(['127.0.0.1:8080']);
  });

  test('defaults follow Envoy', () => {
    // GIVEN / WHEN
    const c = manager([{ name: 'c', load_assignment: endpoints([{ address: '::1' }]) }]).get('c');
    // THEN
    expect(c).toMatchObject({
      connectTimeoutMs: 5000,
      protocol: 'http1',
      idleTimeoutMs: 3_600_000,
      lbPolicy: 'ROUND_ROBIN',
      overprovisioningFactor: 1.4,
      panicThresholdPercent: 50,
    });
    expect(c?.hosts[0]?.toString()).toBe('[::1]:80');
  });

  test('every bad cluster is reported with its path in one error', () => {
    // GIVEN
    const bad: Cluster[] = [
      { name: 'a', type: 'STATIC', load_assignment: endpoints([{ address: 'not-an-ip' }]) },
      { name: 'b', type: 'EDS' },
      { name: 'a', load_assignment: endpoints([{ address: '10.0.0.1', port: 0 }]) },
    ];
    // WHEN / THEN
    try {
      manager(bad);
      expect.unreachable();
    } catch (error) {
      expect((error as { problems: Array<{ path: string }> }).problems.map((p) => p.path)).toEqual([
        'static_resources.clusters[0].load_assignment.endpoints[0].lb_endpoints[0].endpoint.address.socket_address.address',
        'static_resources.clusters[1].type',
        'static_resources.clusters[2].name',
      ]);
    }
  });

  test.each([
    [{ lb_policy: 'CLUSTER_PROVIDED' }, 'static_resources.clusters[0].lb_policy', 'PROXY_E_UNSUPPORTED'],
    [
      { maglev_lb_config: { table_size: '65536' } },
      'static_resources.clusters[0].maglev_lb_config.table_size',
      'PROXY_E_INVALID',
    ],
    [
      { least_request_lb_config: { choice_count: 1 } },
      'static_resources.clusters[0].least_request_lb_config.choice_count',
      'PROXY_E_INVALID',
    ],
    [{ connect_timeout: '0s' }, 'static_resources.clusters[0].connect_timeout', 'PROXY_E_INVALID'],
    [
      { type: 'LOGICAL_DNS', load_assignment: endpoints([{ address: 'a' }, { address: 'b' }]) },
      'static_resources.clusters[0].load_assignment',
      'PROXY_E_INVALID',
    ],
  ] as const)('rejects %j', (extra, path, code) => {
    // GIVEN / WHEN / THEN
    expect(() =>
      manager([
        { name: 'c', load_assignment: endpoints([{ address: '10.0.0.1' }]), ...(extra as object) } as Cluster,
      ]),
    ).toThrow(expect.objectContaining({ path, code }));
  });

  test("circuit-breaker counters keep Envoy's open and remaining gauges", () => {
    // GIVEN max_requests 2 with track_remaining
    const store = new StatsStore();
    const cm = manager(
      [{ name: 'cb', circuit_breakers: { thresholds: [{ max_requests: 2, track_remaining: true }] } }],
      undefined,
      store,
    );
    const rq = cm.get('cb')?.resources.default.requests;
    // WHEN two requests are taken
    rq?.inc();
    rq?.inc();
    // THEN the breaker is open
    expect(rq?.canCreate()).toBe(false);
    expect(store.gauge('cluster.cb.circuit_breakers.default.rq_open').value).toBe(1);
    expect(store.gauge('cluster.cb.circuit_breakers.default.remaining_rq').value).toBe(0);
    // WHEN one finishes
    rq?.dec();
    // THEN
    expect(rq?.canCreate()).toBe(true);
    expect(store.gauge('cluster.cb.circuit_breakers.default.rq_open').value).toBe(0);
    expect(store.gauge('cluster.cb.circuit_breakers.default.remaining_rq').value).toBe(1);
    expect(cm.get('cb')?.resources.high.retries.max).toBe(3);
  });

  test('retries: max_retries, or a retry budget over active + pending requests', () => {
    // GIVEN one priority with max_retries 1 and one with a 50% budget (min 1)
    const cm = manager([
      {
        name: 'r',
        circuit_breakers: {
          thresholds: [
            { max_retries: 1 },
            { priority: 'HIGH', retry_budget: { budget_percent: { value: 50 }, min_retry_concurrency: 1 } },
          ],
        },
      },
    ]);
    const { default: def, high } = cm.get('r')?.resources ?? {};
    // WHEN / THEN max_retries
    expect(def?.canRetry(100, 0)).toBe(true);
    def?.retries.inc();
    expect(def?.canRetry(100, 0)).toBe(false);
    // WHEN / THEN budget: 50% of 4 active + 2 pending = 3 retries
    high?.retries.inc();
    high?.retries.inc();
    expect(high?.canRetry(4, 2)).toBe(true);
    high?.retries.inc();
    expect(high?.canRetry(4, 2)).toBe(false);
    expect(high?.canRetry(0, 0)).toBe(false); // min_retry_concurrency 1, 3 in flight
  });

  test('exposes cluster_manager stats', () => {
    // GIVEN
    const store = new StatsStore();
    // WHEN
    manager([{ name: 'a' }, { name: 'b' }], undefined, store);
    // THEN
    expect(store.gauge('cluster_manager.active_clusters').value).toBe(2);
  });
});

describe('priorities and health', () => {
  test('all traffic goes to priority 0 while it is healthy enough', () => {
    // GIVEN 4 hosts in P0, 1 unhealthy: health 75% x 1.4 = 105% -> capped 100
    const cm = manager([
      {
        name: 'p',
        load_assignment: endpoints([
          { address: '10.0.0.1' },
          { address: '10.0.0.2' },
          { address: '10.0.0.3' },
          { address: '10.0.0.4', health: 'UNHEALTHY' },
          { address: '10.0.1.1', priority: 1 },
        ]),
      },
    ]);
    // WHEN
    const c = cm.get('p');
    // THEN
    expect(c?.priorityLoads()).toEqual([100, 0]);
    expect(share(cm, 'p').get('10.0.1.1:80')).toBeUndefined();
    expect(share(cm, 'p').get('10.0.0.4:80')).toBeUndefined();
  });

  test('load spills to priority 1 by the overprovisioning factor', () => {
    // GIVEN P0 with 1 of 2 healthy: 50% x 1.4 = 70% health
    const cm = manager([
      {
        name: 'p',
        load_assignment: endpoints([
          { address: '10.0.0.1' },
          { address: '10.0.0.2', health: 'UNHEALTHY' },
          { address: '10.0.1.1', priority: 1 },
        ]),
      },
    ]);
    // WHEN
    const loads = cm.get('p')?.priorityLoads() ?? [];
    const counts = share(cm, 'p', 20_000);
    // THEN 70% to P0, 30% to P1
    expect(loads[0]).toBeCloseTo(70, 5);
    expect(loads[1]).toBeCloseTo(30, 5);
    expect(Math.abs((counts.get('10.0.1.1:80') ?? 0) / 20_000 - 0.3)).toBeLessThan(0.02);
  });

  test('degraded hosts take the load the healthy ones cannot carry', () => {
    // GIVEN P0 with one healthy and one degraded host: healthy 50% x 1.4 = 70, degraded 70
    const cm = manager([
      {
        name: 'd',
        load_assignment: endpoints([{ address: '10.0.0.1' }, { address: '10.0.0.2', health: 'DEGRADED' }]),
      },
    ]);
    // WHEN
    const counts = share(cm, 'd', 20_000);
    // THEN 70% healthy, the remaining 30% degraded
    expect(Math.abs((counts.get('10.0.0.2:80') ?? 0) / 20_000 - 0.3)).toBeLessThan(0.02);
    expect(cm.get('d')?.priorityLoads()).toEqual([100]);
  });

  test('health changes at run time rebalance, and panic uses every host', () => {
    // GIVEN one priority, 4 hosts
    const store = new StatsStore();
    const cm = manager(
      [
        {
          name: 'p',
          load_assignment: endpoints([
            { address: '10.0.0.1' },
            { address: '10.0.0.2' },
            { address: '10.0.0.3' },
            { address: '10.0.0.4' },
          ]),
        },
      ],
      undefined,
      store,
    );
    const c = cm.get('p');
    const [h1, h2, h3] = c?.hosts ?? [];
    // WHEN one host fails an active health check
    h1?.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    // THEN it gets no traffic
    expect(share(cm, 'p').get('10.0.0.1:80')).toBeUndefined();
    expect(store.gauge('cluster.p.membership_healthy').value).toBe(3);
    expect(h1?.healthFlagsText()).toBe('/failed_active_hc');
    // WHEN three of four are unhealthy (25% < 50% panic threshold)
    h2?.setHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK);
    h3?.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    const panicCounts = share(cm, 'p');
    // THEN every host gets traffic again and lb_healthy_panic counts it
    expect(panicCounts.size).toBe(4);
    expect(store.counter('cluster.p.lb_healthy_panic').value).toBeGreaterThan(0);
    // WHEN they recover
    h1?.clearHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    h2?.clearHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK);
    h3?.clearHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    // THEN
    expect(h1?.healthy).toBe(true);
    expect(store.gauge('cluster.p.membership_healthy').value).toBe(4);
  });

  test('excluded hosts are avoided when others exist', () => {
    // GIVEN
    const cm = manager([
      { name: 'p', load_assignment: endpoints([{ address: '10.0.0.1' }, { address: '10.0.0.2' }]) },
    ]);
    const c = cm.get('p');
    const first = c?.hosts[0] as Host;
    // WHEN
    const picks = Array.from({ length: 200 }, () => c?.chooseHost({ excluded: new Set([first]) }));
    // THEN (3 re-picks of a 50/50 choice: a leak is rare)
    expect(picks.filter((h) => h === first).length).toBeLessThan(20);
  });

  test('an empty cluster has no host and counts upstream_cx_none_healthy', () => {
    // GIVEN
    const store = new StatsStore();
    const cm = manager([{ name: 'empty' }], undefined, store);
    // WHEN
    const host = cm.get('empty')?.chooseHost({});
    // THEN
    expect(host).toBeUndefined();
    expect(store.counter('cluster.empty.upstream_cx_none_healthy').value).toBe(1);
  });
});

describe('config updates (previous manager)', () => {
  test('unchanged endpoints keep their Host objects, stats and in-flight counts', () => {
    // GIVEN a manager with two endpoints, one busy and degraded by EDS health
    const store = new StatsStore();
    const v1 = manager(
      [{ name: 'u', load_assignment: endpoints([{ address: '10.0.0.1' }, { address: '10.0.0.2' }]) }],
      undefined,
      store,
    );
    const [a, b] = v1.get('u')?.hosts ?? [];
    (a as Host).activeRequests = 3;
    (a as Host).stats.rq_total.add(7);
    (a as Host).setHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK);
    // WHEN the update keeps 10.0.0.1, reweights 10.0.0.2 and adds 10.0.0.3 (marked unhealthy)
    const v2 = new ClusterManager(
      [
        {
          name: 'u',
          load_assignment: endpoints([
            { address: '10.0.0.1' },
            { address: '10.0.0.2', weight: 5 },
            { address: '10.0.0.3', health: 'UNHEALTHY' },
          ]),
        },
      ],
      store,
      { previous: v1 },
    );
    managers.push(v2);
    const hosts = v2.get('u')?.hosts ?? [];
    // THEN the unchanged endpoint is the same object with its counters; the ejection does not carry over
    expect(hosts[0]).toBe(a);
    expect(hosts[0]?.activeRequests).toBe(3);
    expect(hosts[0]?.stats.rq_total.value).toBe(7);
    expect(hosts[0]?.healthy).toBe(true);
    expect(hosts[1]).not.toBe(b);
    expect(hosts[1]?.weight).toBe(5);
    expect(hosts[2]?.healthFlagsText()).toBe('/failed_eds_health');
    // AND health changes of the kept host now reach the new cluster
    (a as Host).setHealthFlag(HealthFlag.FAILED_ACTIVE_HC);
    expect(store.gauge('cluster.u.membership_healthy').value).toBe(1);
  });

  test('circuit breakers carry over with the new limits: the kept pools still count against them', () => {
    // GIVEN a cluster with max_connections 2, both taken by its hosts' pools
    const store = new StatsStore();
    const breakers = (max: number) => ({
      circuit_breakers: { thresholds: [{ max_connections: max, track_remaining: true }] },
    });
    const v1 = manager(
      [{ name: 'u', load_assignment: endpoints([{ address: '10.0.0.1' }]), ...breakers(2) }],
      undefined,
      store,
    );
    const old = v1.get('u')?.resources.default;
    old?.connections.inc();
    old?.connections.inc();
    // WHEN an update raises the limit to 3
    const v2 = new ClusterManager(
      [{ name: 'u', load_assignment: endpoints([{ address: '10.0.0.1' }]), ...breakers(3) }],
      store,
      { previous: v1 },
    );
    managers.push(v2);
    // THEN the same counters serve the new version: 2 in use of 3
    const kept = v2.get('u')?.resources.default;
    expect(kept).toBe(old);
    expect(kept?.connections.max).toBe(3);
    expect(kept?.connections.count).toBe(2);
    expect(store.gauge('cluster.u.circuit_breakers.default.remaining_cx').value).toBe(1);
    expect(store.gauge('cluster.u.circuit_breakers.default.cx_open').value).toBe(0);
  });

  test('a rejected update leaves the circuit breakers as they were', () => {
    // GIVEN a cluster with max_connections 2
    const store = new StatsStore();
    const v1 = manager(
      [
        {
          name: 'u',
          load_assignment: endpoints([{ address: '10.0.0.1' }]),
          circuit_breakers: { thresholds: [{ max_connections: 2 }] },
        },
      ],
      undefined,
      store,
    );
    // WHEN an update raising it also carries an invalid cluster
    const update = () =>
      new ClusterManager(
        [
          {
            name: 'u',
            load_assignment: endpoints([{ address: '10.0.0.1' }]),
            circuit_breakers: { thresholds: [{ max_connections: 5 }] },
          },
          { name: 'bad', connect_timeout: '0s', load_assignment: endpoints([{ address: '10.0.0.2' }]) },
        ],
        store,
        { previous: v1 },
      );
    // THEN the update is refused and the running cluster keeps its limit
    expect(update).toThrow(/connect_timeout/);
    expect(v1.get('u')?.resources.default.connections.max).toBe(2);
  });
});

describe('locality-weighted balancing', () => {
  function localities(weights: [number, number], unhealthyInSecond = 0): Cluster {
    const group = (zone: string, weight: number, n: number, unhealthy: number) => ({
      locality: { region: 'r', zone },
      load_balancing_weight: weight,
      lb_endpoints: Array.from({ length: n }, (_, i) => ({
        endpoint: {
          address: { socket_address: { address: `10.${zone === 'a' ? 1 : 2}.0.${i + 1}`, port_value: 80 } },
        },
        ...(i < unhealthy ? { health_status: 'UNHEALTHY' as const } : {}),
      })),
    });
    return {
      name: 'loc',
      common_lb_config: { locality_weighted_lb_config: {} },
      load_assignment: {
        cluster_name: 'loc',
        endpoints: [group('a', weights[0], 2, 0), group('b', weights[1], 2, unhealthyInSecond)],
      },
    };
  }

  test('traffic splits by locality weight, then by host', () => {
    // GIVEN zone a weight 1, zone b weight 3
    const cm = manager([localities([1, 3])]);
    // WHEN
    const counts = share(cm, 'loc', 8000);
    const zoneB = [...counts.entries()].filter(([k]) => k.startsWith('10.2.')).reduce((a, [, v]) => a + v, 0);
    // THEN
    expect(zoneB / 8000).toBeCloseTo(0.75, 2);
    expect(counts.size).toBe(4);
  });

  test('a locality losing hosts loses weight by its availability', () => {
    // GIVEN equal weights, zone b with 1 of 2 hosts unhealthy: availability min(1, 1.4 x 1/2) = 0.7
    const cm = manager([localities([1, 1], 1)]);
    // WHEN
    const counts = share(cm, 'loc', 17_000);
    const zoneB = [...counts.entries()].filter(([k]) => k.startsWith('10.2.')).reduce((a, [, v]) => a + v, 0);
    // THEN zone b gets 0.7 / 1.7 of the traffic
    expect(Math.abs(zoneB / 17_000 - 0.7 / 1.7)).toBeLessThan(0.01);
  });

  test('hash balancers refuse locality weighting', () => {
    // GIVEN / WHEN / THEN
    expect(() => manager([{ ...localities([1, 1]), lb_policy: 'MAGLEV' }])).toThrow(
      expect.objectContaining({
        path: 'static_resources.clusters[0].common_lb_config.locality_weighted_lb_config',
      }),
    );
  });
});

describe('DNS clusters', () => {
  test('STRICT_DNS resolves localhost through the OS resolver', async () => {
    // GIVEN
    const cm = manager([
      {
        name: 'd',
        type: 'STRICT_DNS',
        dns_lookup_family: 'V4_ONLY',
        load_assignment: endpoints([{ address: 'localhost', port: 9000 }]),
      },
    ]);
    // WHEN
    await cm.ready();
    // THEN
    expect(cm.get('d')?.hosts.map(String)).toEqual(['127.0.0.1:9000']);
    expect(cm.get('d')?.hosts[0]?.hostname).toBe('localhost');
  });

  test('STRICT_DNS follows changes, keeps hosts on failure, reuses host objects', async () => {
    // GIVEN a lookup whose answers we control
    let answer: Array<{ address: string; family: number }> | Error = [
      { address: '10.0.0.1', family: 4 },
      { address: '10.0.0.2', family: 4 },
    ];
    let calls = 0;
    const lookup: LookupFn = async () => {
      calls++;
      if (answer instanceof Error) throw answer;
      return answer;
    };
    const store = new StatsStore();
    const cm = manager(
      [
        {
          name: 'd',
          type: 'STRICT_DNS',
          dns_refresh_rate: '0.020s',
          load_assignment: endpoints([{ address: 'svc.local' }]),
        },
      ],
      lookup,
      store,
    );
    await cm.ready();
    const c = cm.get('d');
    const kept = c?.hosts[0];
    // WHEN the answer changes
    answer = [
      { address: '10.0.0.1', family: 4 },
      { address: '10.0.0.3', family: 4 },
    ];
    const before = calls;
    while (calls < before + 2) await new Promise((r) => setTimeout(r, 10));
    // THEN
    expect(c?.hosts.map(String)).toEqual(['10.0.0.1:80', '10.0.0.3:80']);
    expect(c?.hosts[0]).toBe(kept);
    expect(store.counter('cluster.d.membership_change').value).toBeGreaterThan(0);
    // WHEN resolution fails
    answer = new Error('SERVFAIL');
    const failedAt = calls;
    while (calls < failedAt + 2) await new Promise((r) => setTimeout(r, 10));
    // THEN the last good hosts stay
    expect(c?.hosts.map(String)).toEqual(['10.0.0.1:80', '10.0.0.3:80']);
    expect(store.counter('cluster.d.update_failure').value).toBeGreaterThan(0);
  });

  test('a resolver that never answers does not hold start-up', async () => {
    // GIVEN a lookup that hangs
    const store = new StatsStore();
    const cm = new ClusterManager(
      [{ name: 'h', type: 'STRICT_DNS', load_assignment: endpoints([{ address: 'hang.local' }]) }],
      store,
      { lookup: () => new Promise(() => {}), dnsTimeoutMs: 30 },
    );
    managers.push(cm);
    // WHEN / THEN ready() resolves, the round counted as a failure, no hosts
    await cm.ready();
    expect(store.counter('cluster.h.update_failure').value).toBe(1);
    expect(cm.get('h')?.hosts).toEqual([]);
  });

  test('LOGICAL_DNS keeps one host whose address follows DNS; AUTO prefers IPv6', async () => {
    // GIVEN
    let answer = [
      { address: '10.0.0.1', family: 4 },
      { address: 'fd00::1', family: 6 },
    ];
    let calls = 0;
    const lookup: LookupFn = async () => {
      calls++;
      return answer;
    };
    const cm = manager(
      [
        {
          name: 'l',
          type: 'LOGICAL_DNS',
          dns_refresh_rate: '0.020s',
          load_assignment: endpoints([{ address: 'svc.local' }]),
        },
      ],
      lookup,
    );
    await cm.ready();
    const c = cm.get('l');
    const host = c?.hosts[0];
    // THEN
    expect(host?.address).toBe('fd00::1');
    // WHEN
    answer = [{ address: 'fd00::2', family: 6 }];
    const before = calls;
    while (calls < before + 2) await new Promise((r) => setTimeout(r, 10));
    // THEN same host object, new address
    expect(c?.hosts).toHaveLength(1);
    expect(c?.hosts[0]).toBe(host);
    expect(host?.address).toBe('fd00::2');
  });
});
