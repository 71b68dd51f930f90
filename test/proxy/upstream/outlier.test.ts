// Outlier detection over a real ClusterManager and StatsStore. Time is injected (`now`) and the
// interval is run by calling onInterval(), so ejection expiry is tested without sleeping for
// Envoy's 30 s base ejection time; the detector's own timer is the same method on a setInterval.
import { afterEach, describe, expect, test } from 'vitest';
import type { Cluster, OutlierDetection } from '../../../proxy/config/envoy.js';
import { StatsStore } from '../../../proxy/stats/store.js';
import { ClusterManager, HealthFlag, type Host, OutlierDetector } from '../../../proxy/upstream/index.js';

const managers: ClusterManager[] = [];
const detectors: OutlierDetector[] = [];
afterEach(() => {
  for (const d of detectors.splice(0)) d.stop();
  for (const m of managers.splice(0)) m.close();
});

function setup(n: number, od: OutlierDetection = {}) {
  const store = new StatsStore();
  const cluster: Cluster = {
    name: 'svc',
    load_assignment: {
      cluster_name: 'svc',
      endpoints: [
        {
          lb_endpoints: Array.from({ length: n }, (_, i) => ({
            endpoint: { address: { socket_address: { address: `10.0.0.${i + 1}`, port_value: 80 } } },
          })),
        },
      ],
    },
  };
  const cm = new ClusterManager([cluster], store);
  managers.push(cm);
  const c = cm.get('svc');
  if (c === undefined) throw new Error('cluster missing');
  let clock = 1_000_000;
  const detector = new OutlierDetector(c, od, store, 'static_resources.clusters[0].outlier_detection', {
    now: () => clock,
    random: () => 0.5,
  });
  detectors.push(detector);
  return {
    store,
    cluster: c,
    hosts: c.hosts as Host[],
    detector,
    advance: (ms: number) => {
      clock += ms;
    },
  };
}

const ejected = (h: Host | undefined) => ((h?.healthFlags ?? 0) & HealthFlag.FAILED_OUTLIER_CHECK) !== 0;

describe('OutlierDetector', () => {
  test('5 consecutive 5xx eject a host; a success in between resets the count', () => {
    // GIVEN
    const { hosts, detector, store } = setup(10);
    const h = hosts[0] as Host;
    // WHEN 4 errors, a success, 4 errors
    for (let i = 0; i < 4; i++) detector.reportResponse(h, 503);
    detector.reportResponse(h, 200);
    for (let i = 0; i < 4; i++) detector.reportResponse(h, 500);
    // THEN not ejected
    expect(ejected(h)).toBe(false);
    // WHEN one more
    detector.reportResponse(h, 500);
    // THEN
    expect(ejected(h)).toBe(true);
    expect(detector.isEjected(h)).toBe(true);
    expect(store.gauge('cluster.svc.outlier_detection.ejections_active').value).toBe(1);
    expect(store.counter('cluster.svc.outlier_detection.ejections_enforced_consecutive_5xx').value).toBe(1);
    expect(store.counter('cluster.svc.outlier_detection.ejections_total').value).toBe(1);
  });

  test('an ejected host gets no traffic and comes back after base_ejection_time x ejections', () => {
    // GIVEN
    const { hosts, detector, cluster, advance } = setup(10, { base_ejection_time: '30s' });
    const h = hosts[0] as Host;
    for (let i = 0; i < 5; i++) detector.reportResponse(h, 503);
    // THEN the balancer skips it
    for (let i = 0; i < 100; i++) expect(cluster.chooseHost({})).not.toBe(h);
    // WHEN 29 s pass: still out; 30 s: back
    advance(29_000);
    detector.onInterval();
    expect(ejected(h)).toBe(true);
    advance(1_000);
    detector.onInterval();
    expect(ejected(h)).toBe(false);
    // WHEN ejected a second time, the ejection lasts twice as long
    for (let i = 0; i < 5; i++) detector.reportResponse(h, 503);
    advance(30_000);
    detector.onInterval();
    expect(ejected(h)).toBe(true);
    advance(30_000);
    detector.onInterval();
    expect(ejected(h)).toBe(false);
  });

  test('max_ejection_percent caps ejections but always allows one', () => {
    // GIVEN 3 hosts, 10%: one host may go, the second overflows
    const { hosts, detector, store } = setup(3);
    // WHEN
    for (const h of hosts.slice(0, 2)) for (let i = 0; i < 5; i++) detector.reportResponse(h, 503);
    // THEN
    expect(hosts.filter(ejected)).toHaveLength(1);
    expect(store.counter('cluster.svc.outlier_detection.ejections_overflow').value).toBe(1);
  });

  test('gateway failures are detected but not enforced by default', () => {
    // GIVEN consecutive_5xx set high so only the gateway detector could fire
    const { hosts, detector, store } = setup(10, { consecutive_5xx: 100 });
    // WHEN
    for (let i = 0; i < 5; i++) detector.reportResponse(hosts[0] as Host, 502);
    // THEN
    expect(ejected(hosts[0])).toBe(false);
    expect(
      store.counter('cluster.svc.outlier_detection.ejections_detected_consecutive_gateway_failure').value,
    ).toBe(1);
  });

  test('local-origin failures count as 5xx unless split', () => {
    // GIVEN
    const merged = setup(10);
    const split = setup(10, {
      split_external_local_origin_errors: true,
      consecutive_local_origin_failure: 3,
    });
    // WHEN
    for (let i = 0; i < 5; i++) merged.detector.reportLocalOrigin(merged.hosts[0] as Host, 'connect_failed');
    for (let i = 0; i < 3; i++) split.detector.reportLocalOrigin(split.hosts[0] as Host, 'timeout');
    // THEN
    expect(ejected(merged.hosts[0])).toBe(true);
    expect(ejected(split.hosts[0])).toBe(true);
    expect(
      split.store.counter('cluster.svc.outlier_detection.ejections_enforced_consecutive_local_origin_failure')
        .value,
    ).toBe(1);
  });

  test('success rate ejects the host far below the others', () => {
    // GIVEN 6 hosts with 200 requests each; host 0 succeeds 50%, the rest 99-100%
    const { hosts, detector } = setup(6, { consecutive_5xx: 1000, max_ejection_percent: 50 });
    hosts.forEach((h, hi) => {
      for (let i = 0; i < 200; i++)
        detector.reportResponse(h, hi === 0 ? (i % 2 === 0 ? 500 : 200) : i === 0 && hi === 1 ? 500 : 200);
    });
    // WHEN
    detector.onInterval();
    // THEN
    expect(hosts.map(ejected)).toEqual([true, false, false, false, false, false]);
    expect(detector.successRate(hosts[0] as Host)).toBe(50);
    expect(detector.successRate(hosts[2] as Host)).toBe(100);
  });

  test('failure percentage only when enforced', () => {
    // GIVEN
    const off = setup(5, { consecutive_5xx: 1000, success_rate_minimum_hosts: 100 });
    const on = setup(5, {
      consecutive_5xx: 1000,
      success_rate_minimum_hosts: 100,
      enforcing_failure_percentage: 100,
      max_ejection_percent: 50,
    });
    for (const { hosts, detector } of [off, on]) {
      hosts.forEach((h, hi) => {
        for (let i = 0; i < 60; i++) detector.reportResponse(h, hi === 0 ? 503 : 200);
      });
      // WHEN
      detector.onInterval();
    }
    // THEN
    expect(ejected(off.hosts[0])).toBe(false);
    expect(ejected(on.hosts[0])).toBe(true);
  });

  test('a passing active health check un-ejects', () => {
    // GIVEN
    const { hosts, detector } = setup(10);
    for (let i = 0; i < 5; i++) detector.reportResponse(hosts[0] as Host, 503);
    // WHEN
    detector.onHealthCheckSuccess(hosts[0] as Host);
    // THEN
    expect(ejected(hosts[0])).toBe(false);
  });

  test('bad config is reported with its path', () => {
    // GIVEN / WHEN / THEN
    expect(() => setup(1, { max_ejection_percent: 150 })).toThrow(
      expect.objectContaining({
        path: 'static_resources.clusters[0].outlier_detection.max_ejection_percent',
      }),
    );
  });

  test('the ClusterManager wires a detector for clusters that configure it', () => {
    // GIVEN / WHEN
    const cm = new ClusterManager(
      [{ name: 'o', outlier_detection: { consecutive_5xx: 2 } }],
      new StatsStore(),
    );
    managers.push(cm);
    // THEN
    expect(cm.get('o')?.outlierDetector).toBeInstanceOf(OutlierDetector);
  });
});
