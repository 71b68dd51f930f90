// Pure unit tests: the stats store and its renderings need no I/O, nothing is stood in.
import { describe, expect, test } from 'vitest';
import {
  ClusterStats,
  extractTags,
  formatStatsJson,
  formatStatsPrometheus,
  formatStatsText,
  HttpConnectionManagerStats,
  ListenerHttpStats,
  ListenerStats,
  listenerStatAddress,
  ServerStats,
  StatsStore,
  sanitizeStatName,
  TcpProxyStats,
} from '../../../proxy/stats/index.js';

describe('StatsStore', () => {
  test('returns the same handle for the same name', () => {
    // GIVEN
    const store = new StatsStore();
    // WHEN
    const a = store.counter('cluster.x.upstream_rq_total');
    const b = store.counter('cluster.x.upstream_rq_total');
    a.inc();
    b.add(2);
    // THEN
    expect(a).toBe(b);
    expect(a.value).toBe(3);
  });

  test('refuses one name as two kinds', () => {
    // GIVEN
    const store = new StatsStore();
    store.counter('a.b');
    // WHEN / THEN
    expect(() => store.gauge('a.b')).toThrow(/already a counter/);
  });

  test('reset zeroes counters only, like /reset_counters', () => {
    // GIVEN
    const store = new StatsStore();
    store.counter('c').add(5);
    store.gauge('g').set(7);
    store.histogram('h').record(3);
    // WHEN
    store.reset();
    // THEN
    expect(store.counter('c').value).toBe(0);
    expect(store.gauge('g').value).toBe(7);
    expect(store.histogram('h').count).toBe(1);
  });

  test('gauges go up and down and can be computed', () => {
    // GIVEN
    const store = new StatsStore();
    const g = store.gauge('x');
    // WHEN
    g.inc();
    g.inc();
    g.dec();
    g.add(10);
    g.sub(3);
    // THEN
    expect(g.value).toBe(8);
    // WHEN a supplier is set
    g.setSupplier(() => 42);
    // THEN
    expect(g.value).toBe(42);
  });

  test('histograms bucket with Envoy bounds and ignore NaN and negatives', () => {
    // GIVEN
    const h = new StatsStore().histogram('t');
    // WHEN
    for (const v of [0.2, 0.5, 3, 7, 7, 2000, 5_000_000, Number.NaN, -1]) h.record(v);
    // THEN
    expect(h.count).toBe(7);
    expect(h.bucketCounts[0]).toBe(2); // <= 0.5
    expect(h.bucketCounts[2]).toBe(1); // (1, 5]
    expect(h.bucketCounts[3]).toBe(2); // (5, 10]
    expect(h.bucketCounts[h.bounds.length]).toBe(1); // above 3600000
    expect(h.quantile(0)).toBe(0.2);
    expect(h.quantile(1)).toBe(5_000_000);
    const p50 = h.quantile(0.5);
    expect(p50).toBeGreaterThan(5);
    expect(p50).toBeLessThanOrEqual(10);
  });
});

describe('tag extraction', () => {
  test.each([
    ['cluster.backend.upstream_rq_total', 'cluster.upstream_rq_total', [['envoy.cluster_name', 'backend']]],
    [
      'cluster.backend.upstream_rq_2xx',
      'cluster.upstream_rq_xx',
      [
        ['envoy.response_code_class', '2'],
        ['envoy.cluster_name', 'backend'],
      ],
    ],
    [
      'cluster.backend.upstream_rq_503',
      'cluster.upstream_rq',
      [
        ['envoy.response_code', '503'],
        ['envoy.cluster_name', 'backend'],
      ],
    ],
    [
      'http.ingress_http.downstream_rq_total',
      'http.downstream_rq_total',
      [['envoy.http_conn_manager_prefix', 'ingress_http']],
    ],
    [
      'listener.0.0.0.0_10000.http.ingress_http.downstream_rq_5xx',
      'listener.http.downstream_rq_xx',
      [
        ['envoy.response_code_class', '5'],
        ['envoy.http_conn_manager_prefix', 'ingress_http'],
        ['envoy.listener_address', '0.0.0.0_10000'],
      ],
    ],
    [
      'listener.[__1]_8080.downstream_cx_total',
      'listener.downstream_cx_total',
      [['envoy.listener_address', '[__1]_8080']],
    ],
    ['tcp.db.downstream_cx_total', 'tcp.downstream_cx_total', [['envoy.tcp_prefix', 'db']]],
    ['server.live', 'server.live', []],
  ])('%s', (full, name, tags) => {
    // GIVEN a full stat name
    // WHEN
    const out = extractTags(full);
    // THEN
    expect(out.name).toBe(name);
    expect(out.tags.map((t) => [t.name, t.value])).toEqual(tags);
  });

  test('listener addresses are formatted like Envoy', () => {
    // GIVEN / WHEN / THEN
    expect(listenerStatAddress('0.0.0.0', 10000)).toBe('0.0.0.0_10000');
    expect(listenerStatAddress('::1', 8080)).toBe('[__1]_8080');
  });
});

describe('formatters', () => {
  function sample(): StatsStore {
    const store = new StatsStore();
    const cluster = new ClusterStats(store, 'backend');
    cluster.upstream_rq_total.add(3);
    cluster.recordResponse(200);
    cluster.recordResponse(200);
    cluster.recordResponse(503);
    cluster.upstream_rq_time.record(4);
    cluster.upstream_rq_time.record(30);
    const http = new HttpConnectionManagerStats(store, 'ingress_http');
    http.downstream_rq_total.inc();
    http.recordResponse(204);
    return store;
  }

  test('text is sorted name: value, with histograms after', () => {
    // GIVEN
    const store = sample();
    // WHEN
    const text = formatStatsText(store, { filter: /backend\.upstream_rq_(2xx|200|total|time)$/ });
    // THEN
    const lines = text.trimEnd().split('\n');
    expect(lines.slice(0, 3)).toEqual([
      'cluster.backend.upstream_rq_200: 2',
      'cluster.backend.upstream_rq_2xx: 2',
      'cluster.backend.upstream_rq_total: 3',
    ]);
    expect(lines[3]).toMatch(
      /^cluster\.backend\.upstream_rq_time: P0\(nan,4\) P25\(nan,[\d.]+\) .* P100\(nan,30\)$/,
    );
  });

  test('text reports empty histograms like Envoy and honours usedonly', () => {
    // GIVEN
    const store = new StatsStore();
    store.histogram('a.h');
    store.counter('a.unused');
    store.counter('a.used').inc();
    // WHEN
    const all = formatStatsText(store);
    const used = formatStatsText(store, { usedOnly: true });
    // THEN
    expect(all).toBe('a.unused: 0\na.used: 1\na.h: No recorded values\n');
    expect(used).toBe('a.used: 1\n');
  });

  test('json has Envoy shape', () => {
    // GIVEN
    const store = sample();
    // WHEN
    const json = formatStatsJson(store, { filter: /^cluster\.backend\.upstream_rq_(5..|total|time)$/ });
    // THEN
    expect(json.stats.slice(0, 3)).toEqual([
      { name: 'cluster.backend.upstream_rq_503', value: 1 },
      { name: 'cluster.backend.upstream_rq_5xx', value: 1 },
      { name: 'cluster.backend.upstream_rq_total', value: 3 },
    ]);
    const last = json.stats[3] as {
      histograms: { supported_quantiles: number[]; computed_quantiles: unknown[] };
    };
    expect(last.histograms.supported_quantiles).toEqual([0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100]);
    expect(last.histograms.computed_quantiles).toHaveLength(1);
  });

  test('prometheus uses Envoy metric names, tags and buckets', () => {
    // GIVEN
    const store = sample();
    // WHEN
    const prom = formatStatsPrometheus(store);
    // THEN
    expect(prom).toContain('# TYPE envoy_cluster_upstream_rq_total counter\n');
    expect(prom).toContain('envoy_cluster_upstream_rq_total{envoy_cluster_name="backend"} 3\n');
    expect(prom).toContain(
      'envoy_cluster_upstream_rq_xx{envoy_response_code_class="2",envoy_cluster_name="backend"} 2\n',
    );
    expect(prom).toContain(
      'envoy_cluster_upstream_rq{envoy_response_code="503",envoy_cluster_name="backend"} 1\n',
    );
    expect(prom).toContain(
      'envoy_http_downstream_rq_xx{envoy_response_code_class="2",envoy_http_conn_manager_prefix="ingress_http"} 1\n',
    );
    expect(prom).toContain('# TYPE envoy_cluster_upstream_rq_time histogram\n');
    expect(prom).toContain('envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="1"} 0\n');
    expect(prom).toContain('envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="5"} 1\n');
    expect(prom).toContain('envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="50"} 2\n');
    expect(prom).toContain(
      'envoy_cluster_upstream_rq_time_bucket{envoy_cluster_name="backend",le="+Inf"} 2\n',
    );
    expect(prom).toContain('envoy_cluster_upstream_rq_time_sum{envoy_cluster_name="backend"} 34\n');
    expect(prom).toContain('envoy_cluster_upstream_rq_time_count{envoy_cluster_name="backend"} 2\n');
    // one TYPE line per metric even with several clusters
    expect(prom.match(/# TYPE envoy_cluster_upstream_rq_xx counter/g)).toHaveLength(1);
  });

  test('prometheus escapes label values', () => {
    // GIVEN a cluster name with a quote (names come from config)
    const store = new StatsStore();
    store.counter('cluster.we"ird.upstream_rq_total').inc();
    // WHEN
    const prom = formatStatsPrometheus(store);
    // THEN
    expect(prom).toContain('envoy_cluster_upstream_rq_total{envoy_cluster_name="we\\"ird"} 1\n');
  });
});

describe('bundles', () => {
  const store0 = new StatsStore();
  test('server stats track state and uptime', () => {
    // GIVEN
    const store = new StatsStore();
    const server = new ServerStats(store, Date.now() - 5_000);
    // WHEN
    server.setState('LIVE');
    // THEN
    expect(store.gauge('server.live').value).toBe(1);
    expect(store.gauge('server.state').value).toBe(0);
    expect(store.gauge('server.uptime').value).toBeGreaterThanOrEqual(5);
    // WHEN
    server.setState('DRAINING');
    // THEN
    expect(store.gauge('server.live').value).toBe(0);
    expect(store.gauge('server.state').value).toBe(1);
  });

  test('listener and http bundles use Envoy names', () => {
    // GIVEN
    const store = new StatsStore();
    // WHEN
    new ListenerStats(store, listenerStatAddress('127.0.0.1', 80)).downstream_cx_total.inc();
    new HttpConnectionManagerStats(store, 'in').recordResponse(404);
    // THEN
    expect(store.counter('listener.127.0.0.1_80.downstream_cx_total').value).toBe(1);
    expect(store.counter('http.in.downstream_rq_4xx').value).toBe(1);
    expect(store.counter('http.in.downstream_rq_completed').value).toBe(1);
    expect(store.counter('http.in.downstream_rq_2xx').value).toBe(0);
    // WHEN the per-listener HTTP bundle counts a response
    new ListenerHttpStats(store, listenerStatAddress('0.0.0.0', 10000), 'in').recordResponse(503);
    // THEN it is tagged like Envoy's
    expect(store.counter('listener.0.0.0.0_10000.http.in.downstream_rq_5xx').value).toBe(1);
    expect(
      formatStatsPrometheus(store, { filter: /^listener\.0\.0\.0\.0_10000\.http\.in\.downstream_rq_5xx$/ }),
    ).toContain(
      'envoy_listener_http_downstream_rq_xx{envoy_response_code_class="5",envoy_http_conn_manager_prefix="in",envoy_listener_address="0.0.0.0_10000"} 1',
    );
    // WHEN a tcp_proxy bundle counts a connection
    new TcpProxyStats(store, 'db').downstream_cx_total.inc();
    // THEN
    expect(store.counter('tcp.db.downstream_cx_total').value).toBe(1);
  });

  test('names from config are sanitized like Envoy', () => {
    // GIVEN / WHEN
    new ClusterStats(store0, 'outbound|80||svc:8080');
    // THEN
    const names = store0.allCounters().map((c) => c.name);
    expect(names).toContain('cluster.outbound|80||svc_8080.upstream_rq_total');
    expect(names.some((n) => n.includes(':'))).toBe(false);
    expect(sanitizeStatName('.a:b.')).toBe('a_b');
  });

  test('response codes outside 100..599 are ignored, not crashed on', () => {
    // GIVEN
    const store = new StatsStore();
    const cluster = new ClusterStats(store, 'c');
    // WHEN
    cluster.recordResponse(0);
    cluster.recordResponse(700);
    cluster.recordResponse(Number.NaN);
    // THEN
    expect(store.allCounters().filter((c) => /upstream_rq_(\dxx|\d+)$/.test(c.name))).toEqual([]);
  });
});
