// Merging per-worker stats for the admin of a --concurrency proxy: real StatsStores, pure data.
import { describe, expect, test } from 'vitest';
import { mergeInto, snapshot } from '../../../proxy/server/worker-stats.js';
import { StatsStore } from '../../../proxy/stats/store.js';

describe('worker stats merge', () => {
  test('sums counters and gauges and folds histogram buckets across workers', () => {
    // GIVEN two workers' stores
    const a = new StatsStore();
    const b = new StatsStore();
    a.counter('cluster.x.upstream_rq_total').add(3);
    b.counter('cluster.x.upstream_rq_total').add(4);
    b.counter('cluster.y.upstream_rq_total').add(1);
    a.gauge('http.in.downstream_cx_active').set(2);
    b.gauge('http.in.downstream_cx_active').set(5);
    a.histogram('cluster.x.upstream_rq_time').record(3);
    b.histogram('cluster.x.upstream_rq_time').record(700);
    // WHEN the admin worker (a) merges b's snapshot, twice (the merge is idempotent)
    const merged = new StatsStore();
    mergeInto(merged, a, [snapshot(b)]);
    mergeInto(merged, a, [snapshot(b)]);
    // THEN
    expect(merged.counter('cluster.x.upstream_rq_total').value).toBe(7);
    expect(merged.counter('cluster.y.upstream_rq_total').value).toBe(1);
    expect(merged.gauge('http.in.downstream_cx_active').value).toBe(7);
    const h = merged.histogram('cluster.x.upstream_rq_time');
    expect(h.count).toBe(2);
    expect(h.min).toBe(3);
    expect(h.max).toBe(700);
    expect(h.sum).toBe(703);
  });
});
