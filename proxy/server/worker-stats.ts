/**
 * Stats across `--concurrency` workers. Every worker owns its own StatsStore (the hot path never
 * synchronises); once a second each worker sends a snapshot to the primary, which forwards it to
 * the worker serving the admin. That worker folds its own live numbers and the latest snapshot of
 * every other worker into one merged store, which is what `/stats` and `/stats/prometheus` show:
 * sums for counters and gauges, merged buckets for histograms, at most about a second old.
 */
import type { Histogram, StatsStore } from '../stats/store.js';

/** One worker's stats as plain data (what crosses the IPC channel). */
export interface StatsSnapshot {
  readonly counters: ReadonlyArray<readonly [string, number]>;
  readonly gauges: ReadonlyArray<readonly [string, number]>;
  readonly histograms: ReadonlyArray<
    readonly [string, { counts: number[]; count: number; sum: number; min: number; max: number }]
  >;
}

/** Message type for a snapshot on the IPC channel. */
export const SNAPSHOT_MESSAGE = 'crossmesh:stats';

/**
 * Takes a snapshot of a store: only stats that were written when `usedOnly` (what crosses IPC),
 * every stat otherwise (the admin worker's own, so `/stats` lists unused stats as Envoy does).
 */
export function snapshot(store: StatsStore, usedOnly = true): StatsSnapshot {
  return {
    counters: store
      .allCounters()
      .filter((c) => !usedOnly || c.used)
      .map((c) => [c.name, c.value] as const),
    gauges: store
      .allGauges()
      .filter((g) => !usedOnly || g.used)
      .map((g) => [g.name, g.value] as const),
    histograms: store
      .allHistograms()
      .filter((h) => !usedOnly || h.count > 0)
      .map(
        (h) =>
          [
            h.name,
            { counts: [...h.bucketCounts], count: h.count, sum: h.sum, min: h.min, max: h.max },
          ] as const,
      ),
  };
}

/**
 * Rebuilds `merged` as `local` plus every remote snapshot. Names that exist only remotely are
 * created, so a stat a single worker touched still shows.
 */
export function mergeInto(merged: StatsStore, local: StatsStore, remotes: Iterable<StatsSnapshot>): void {
  const parts = [snapshot(local, false), ...remotes];
  const counters = new Map<string, number>();
  const gauges = new Map<string, number>();
  const histograms = new Map<string, StatsSnapshot['histograms'][number][1][]>();
  for (const p of parts) {
    for (const [n, v] of p.counters) counters.set(n, (counters.get(n) ?? 0) + v);
    for (const [n, v] of p.gauges) gauges.set(n, (gauges.get(n) ?? 0) + v);
    for (const [n, h] of p.histograms) histograms.set(n, [...(histograms.get(n) ?? []), h]);
  }
  for (const [n, v] of counters) {
    const c = merged.counter(n);
    c.value = v;
    if (v > 0) c.used = true;
  }
  for (const [n, v] of gauges) merged.gauge(n).set(v);
  for (const [n, hs] of histograms) foldHistogram(merged.histogram(n), hs);
}

function foldHistogram(target: Histogram, parts: StatsSnapshot['histograms'][number][1][]): void {
  target.bucketCounts.fill(0);
  target.count = 0;
  target.sum = 0;
  target.min = Number.POSITIVE_INFINITY;
  target.max = Number.NEGATIVE_INFINITY;
  for (const h of parts) {
    h.counts.forEach((c, i) => {
      target.bucketCounts[i] = (target.bucketCounts[i] ?? 0) + c;
    });
    target.count += h.count;
    target.sum += h.sum;
    target.min = Math.min(target.min, h.min);
    target.max = Math.max(target.max, h.max);
  }
  if (target.count > 0) target.used = true;
}
