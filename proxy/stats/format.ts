/**
 * Renders a {@link StatsStore} the way Envoy's admin does: `/stats` text, `/stats?format=json`
 * and `/stats/prometheus`. Rendering is admin-only work, so it may allocate freely.
 */
import { type Counter, type Gauge, type Histogram, type StatsStore, SUPPORTED_QUANTILES } from './store.js';

/** Which stats to render. */
export interface StatsFilter {
  /** Only stats whose full name this regex finds (partial match, like Envoy's `filter=`). @default - every stat */
  readonly filter?: RegExp;
  /** Only stats that were ever written (`usedonly`). @default false */
  readonly usedOnly?: boolean;
  /** Only one kind (`type=Counters|Gauges|Histograms`). @default - all kinds */
  readonly type?: 'Counters' | 'Gauges' | 'Histograms' | 'All';
}

interface Selected {
  readonly counters: Counter[];
  readonly gauges: Gauge[];
  readonly histograms: Histogram[];
}

function select(store: StatsStore, f: StatsFilter): Selected {
  const keep = (s: { name: string; used: boolean }): boolean =>
    (f.usedOnly !== true || s.used) && (f.filter === undefined || f.filter.test(s.name));
  const type = f.type ?? 'All';
  return {
    counters: type === 'All' || type === 'Counters' ? store.allCounters().filter(keep) : [],
    gauges: type === 'All' || type === 'Gauges' ? store.allGauges().filter(keep) : [],
    histograms: type === 'All' || type === 'Histograms' ? store.allHistograms().filter(keep) : [],
  };
}

function formatQuantileValue(v: number): string {
  if (Number.isNaN(v)) return 'nan';
  return String(Math.round(v * 1000) / 1000);
}

/**
 * Envoy's plain-text `/stats`: counters and gauges merged and sorted by name (`name: value`), then
 * histograms as `name: P0(nan,v) P25(nan,v) ...` (interval quantiles are not tracked, so `nan`),
 * or `name: No recorded values`.
 */
export function formatStatsText(store: StatsStore, f: StatsFilter = {}): string {
  const { counters, gauges, histograms } = select(store, f);
  const scalars: Array<{ name: string; value: number }> = [...counters, ...gauges].sort((a, b) =>
    a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
  );
  let out = '';
  for (const s of scalars) out += `${s.name}: ${s.value}\n`;
  for (const h of histograms) {
    if (h.count === 0) {
      out += `${h.name}: No recorded values\n`;
      continue;
    }
    const parts = SUPPORTED_QUANTILES.map((q) => `P${q}(nan,${formatQuantileValue(h.quantile(q / 100))})`);
    out += `${h.name}: ${parts.join(' ')}\n`;
  }
  return out;
}

/** The JSON shape of `/stats?format=json`. */
export interface StatsJson {
  readonly stats: ReadonlyArray<
    | { readonly name: string; readonly value: number }
    | {
        readonly histograms: {
          readonly supported_quantiles: readonly number[];
          readonly computed_quantiles: ReadonlyArray<{
            readonly name: string;
            readonly values: ReadonlyArray<{
              readonly interval: number | null;
              readonly cumulative: number | null;
            }>;
          }>;
        };
      }
  >;
}

/** Envoy's `/stats?format=json`: `{ stats: [{name, value}..., {histograms: {...}}] }`. */
export function formatStatsJson(store: StatsStore, f: StatsFilter = {}): StatsJson {
  const { counters, gauges, histograms } = select(store, f);
  const scalars = [...counters, ...gauges]
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
    .map((s) => ({ name: s.name, value: s.value }));
  if (histograms.length === 0) return { stats: scalars };
  return {
    stats: [
      ...scalars,
      {
        histograms: {
          supported_quantiles: SUPPORTED_QUANTILES,
          computed_quantiles: histograms.map((h) => ({
            name: h.name,
            values: SUPPORTED_QUANTILES.map((q) => {
              const v = h.quantile(q / 100);
              return { interval: null, cumulative: Number.isNaN(v) ? null : Math.round(v * 1000) / 1000 };
            }),
          })),
        },
      },
    ],
  };
}

/** Prometheus metric name for a tag-extracted Envoy name: `envoy_` + name with every non-word char as `_`. */
export function prometheusName(tagExtractedName: string): string {
  return `envoy_${tagExtractedName.replace(/[^a-zA-Z0-9_]/g, '_')}`;
}

function escapeLabel(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function labels(tags: ReadonlyArray<{ name: string; value: string }>, extra?: string): string {
  const parts = tags.map((t) => `${t.name.replace(/[^a-zA-Z0-9_]/g, '_')}="${escapeLabel(t.value)}"`);
  if (extra !== undefined) parts.push(extra);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

function groupByMetric<T extends { tagExtractedName: string }>(stats: readonly T[]): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const s of stats) {
    const metric = prometheusName(s.tagExtractedName);
    const list = groups.get(metric);
    if (list === undefined) groups.set(metric, [s]);
    else list.push(s);
  }
  return new Map([...groups.entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
}

/**
 * Envoy's `/stats/prometheus`: one `# TYPE` line per metric, tags as labels, histograms as
 * cumulative `_bucket{le=...}` lines plus `_sum` and `_count`.
 */
export function formatStatsPrometheus(store: StatsStore, f: StatsFilter = {}): string {
  const { counters, gauges, histograms } = select(store, f);
  let out = '';
  for (const [metric, list] of groupByMetric(counters)) {
    out += `# TYPE ${metric} counter\n`;
    for (const c of list) out += `${metric}${labels(c.tags)} ${c.value}\n`;
  }
  for (const [metric, list] of groupByMetric(gauges)) {
    out += `# TYPE ${metric} gauge\n`;
    for (const g of list) out += `${metric}${labels(g.tags)} ${g.value}\n`;
  }
  for (const [metric, list] of groupByMetric(histograms)) {
    out += `# TYPE ${metric} histogram\n`;
    for (const h of list) {
      let cumulative = 0;
      for (let i = 0; i < h.bounds.length; i++) {
        cumulative += h.bucketCounts[i] as number;
        out += `${metric}_bucket${labels(h.tags, `le="${h.bounds[i]}"`)} ${cumulative}\n`;
      }
      out += `${metric}_bucket${labels(h.tags, 'le="+Inf"')} ${h.count}\n`;
      out += `${metric}_sum${labels(h.tags)} ${h.sum}\n`;
      out += `${metric}_count${labels(h.tags)} ${h.count}\n`;
    }
  }
  return out;
}
