/**
 * The stats store: named counters, gauges and histograms with Envoy's semantics.
 *
 * The hot path never builds a name: components resolve their handles once (at config load) and
 * then only touch a number field (`counter.inc()` is one add on a plain object). Names are only
 * looked at when the admin server renders them.
 */
import { extractTags, type StatTag } from './tags.js';

/** Envoy's default histogram bucket bounds (milliseconds for time histograms). */
export const DEFAULT_HISTOGRAM_BUCKETS: readonly number[] = [
  0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000,
  3600000,
];

/** The quantiles Envoy reports for histograms in `/stats` (percent). */
export const SUPPORTED_QUANTILES: readonly number[] = [0, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 100];

/** What every stat shares: its full name and the Envoy tag-extracted form used by Prometheus. */
abstract class StatBase {
  /** Full dotted name, e.g. `cluster.backend.upstream_rq_total`. */
  readonly name: string;
  /** True once the stat was written (Envoy's `usedonly` filter). */
  used = false;
  private extracted: { readonly name: string; readonly tags: readonly StatTag[] } | undefined;

  constructor(name: string) {
    this.name = name;
  }

  /** The name with tag values removed (`cluster.upstream_rq_total`), computed once on demand. */
  get tagExtractedName(): string {
    this.extracted ??= extractTags(this.name);
    return this.extracted.name;
  }

  /** Tags extracted from the name, in Envoy's order (`envoy_cluster_name=backend`, ...). */
  get tags(): readonly StatTag[] {
    this.extracted ??= extractTags(this.name);
    return this.extracted.tags;
  }
}

/** A monotonically increasing count. */
export class Counter extends StatBase {
  /** Current value. */
  value = 0;

  /** Adds one. */
  inc(): void {
    this.value++;
    this.used = true;
  }

  /** Adds `n` (non-negative). */
  add(n: number): void {
    this.value += n;
    this.used = true;
  }

  /** Back to zero (`/reset_counters`). */
  reset(): void {
    this.value = 0;
  }
}

/** A value that goes up and down, or is computed when read (uptime, memory). */
export class Gauge extends StatBase {
  private current = 0;
  private supplier: (() => number) | undefined;

  /** Current value (calls the supplier when one is set). */
  get value(): number {
    return this.supplier === undefined ? this.current : this.supplier();
  }

  /** Sets the value. */
  set(v: number): void {
    this.current = v;
    this.used = true;
  }

  /** Adds one. */
  inc(): void {
    this.current++;
    this.used = true;
  }

  /** Subtracts one. */
  dec(): void {
    this.current--;
    this.used = true;
  }

  /** Adds `n` (may be negative). */
  add(n: number): void {
    this.current += n;
    this.used = true;
  }

  /** Subtracts `n`. */
  sub(n: number): void {
    this.current -= n;
    this.used = true;
  }

  /** Makes the gauge computed: `fn` runs whenever the value is read (admin output only). */
  setSupplier(fn: () => number): void {
    this.supplier = fn;
    this.used = true;
  }
}

/** A distribution of values in Envoy's default buckets, with estimated quantiles. */
export class Histogram extends StatBase {
  /** Upper bounds of the buckets (inclusive), ascending. */
  readonly bounds: readonly number[];
  /** Count per bucket (not cumulative); the last slot counts values above every bound. */
  readonly bucketCounts: Float64Array;
  /** Number of recorded values. */
  count = 0;
  /** Sum of recorded values. */
  sum = 0;
  /** Smallest recorded value (Infinity when empty). */
  min = Number.POSITIVE_INFINITY;
  /** Largest recorded value (-Infinity when empty). */
  max = Number.NEGATIVE_INFINITY;

  constructor(name: string, bounds: readonly number[] = DEFAULT_HISTOGRAM_BUCKETS) {
    super(name);
    this.bounds = bounds;
    this.bucketCounts = new Float64Array(bounds.length + 1);
  }

  /** Records one value (milliseconds for time histograms). */
  record(value: number): void {
    if (!(value >= 0)) return; // NaN and negatives would poison sum and quantiles; Envoy records unsigned
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    this.bucketCounts[i] = (this.bucketCounts[i] as number) + 1;
    this.count++;
    this.sum += value;
    if (value < this.min) this.min = value;
    if (value > this.max) this.max = value;
    this.used = true;
  }

  /**
   * Estimated value at quantile `q` (0..1), interpolating inside the bucket and clamped to the
   * recorded min/max; NaN when empty.
   */
  quantile(q: number): number {
    if (this.count === 0) return Number.NaN;
    if (q <= 0) return this.min;
    if (q >= 1) return this.max;
    const rank = q * this.count;
    let seen = 0;
    for (let i = 0; i < this.bucketCounts.length; i++) {
      const inBucket = this.bucketCounts[i] as number;
      if (inBucket === 0) continue;
      if (seen + inBucket >= rank) {
        const lower = Math.max(i === 0 ? 0 : (this.bounds[i - 1] as number), this.min);
        const upper = Math.min(i < this.bounds.length ? (this.bounds[i] as number) : this.max, this.max);
        const estimate = lower + ((rank - seen) / inBucket) * (upper - lower);
        return Math.min(Math.max(estimate, this.min), this.max);
      }
      seen += inBucket;
    }
    return this.max;
  }
}

/** Any stat. */
export type Stat = Counter | Gauge | Histogram;

/**
 * The store: one handle per name, created on first request and returned again afterwards.
 * Asking for an existing name with another type is a programming error and throws.
 */
export class StatsStore {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly histograms = new Map<string, Histogram>();

  /** The counter called `name` (created at zero on first use). */
  counter(name: string): Counter {
    let c = this.counters.get(name);
    if (c === undefined) {
      this.assertFree(name, 'counter');
      c = new Counter(name);
      this.counters.set(name, c);
    }
    return c;
  }

  /** The gauge called `name` (created at zero on first use). */
  gauge(name: string): Gauge {
    let g = this.gauges.get(name);
    if (g === undefined) {
      this.assertFree(name, 'gauge');
      g = new Gauge(name);
      this.gauges.set(name, g);
    }
    return g;
  }

  /** The histogram called `name` (Envoy's default buckets). */
  histogram(name: string): Histogram {
    let h = this.histograms.get(name);
    if (h === undefined) {
      this.assertFree(name, 'histogram');
      h = new Histogram(name);
      this.histograms.set(name, h);
    }
    return h;
  }

  /** Every counter, sorted by name. */
  allCounters(): Counter[] {
    return [...this.counters.values()].sort(byName);
  }

  /** Every gauge, sorted by name. */
  allGauges(): Gauge[] {
    return [...this.gauges.values()].sort(byName);
  }

  /** Every histogram, sorted by name. */
  allHistograms(): Histogram[] {
    return [...this.histograms.values()].sort(byName);
  }

  /** Zeroes every counter, as Envoy's `/reset_counters` does (gauges and histograms keep their values). */
  reset(): void {
    for (const c of this.counters.values()) c.reset();
  }

  private assertFree(name: string, kind: string): void {
    const existing = this.counters.has(name)
      ? 'counter'
      : this.gauges.has(name)
        ? 'gauge'
        : this.histograms.has(name)
          ? 'histogram'
          : undefined;
    if (existing !== undefined) {
      throw new TypeError(`stat ${name} is already a ${existing}, cannot also be a ${kind}`);
    }
  }
}

function byName(a: StatBase, b: StatBase): number {
  return a.name < b.name ? -1 : a.name > b.name ? 1 : 0;
}
