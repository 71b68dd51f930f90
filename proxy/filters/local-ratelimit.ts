/**
 * `envoy.filters.http.local_ratelimit`: token buckets per filter config (or per downstream
 * connection with `local_rate_limit_per_downstream_connection`). `filter_enabled` decides which
 * requests are checked, `filter_enforced` which of the limited ones are refused (429 by default,
 * body `local_rate_limited`, flag RL); `response_headers_to_add` go on refused responses, and
 * `enable_x_ratelimit_headers: DRAFT_VERSION_03` adds `x-ratelimit-limit/-remaining/-reset` to
 * every checked response. Stats: `<stat_prefix>.http_local_rate_limit.{enabled,enforced,
 * rate_limited,ok}`.
 *
 * Descriptors, as Envoy's LocalRateLimiterImpl: the matched route's `rate_limits` of the filter's
 * `stage` (and its virtual host's, per `vh_rate_limits` of the per-route config) produce
 * descriptors (proxy/router/rate-limits.ts); each one equal to a configured descriptor takes a
 * token from that descriptor's bucket, lowest fill rate first, stopping at the first empty one.
 * The default bucket is consumed as well when no descriptor matched or
 * `always_consume_default_token_bucket` is true (its default). The x-ratelimit headers describe
 * the bucket that refused the request, else the matched descriptor with the lowest fill rate,
 * else the default bucket.
 *
 * A bucket refills lazily: on each request it adds `tokens_per_fill` for every whole
 * `fill_interval` passed since the last fill, capped at `max_tokens`. That is Envoy's timer-driven
 * refill computed on demand, so an idle filter costs nothing. Buckets shared by every request
 * (not per connection) come from {@link sharedBuckets}: local ones in a single process, leased
 * from the `--concurrency` primary in a worker (proxy/filters/bucket-lease.ts), so N workers
 * admit the configured rate, not N times it.
 */
import { MeshError } from '../../errors/index.js';
import type { LocalRateLimit, TokenBucket } from '../config/envoy.js';
import { parseDuration } from '../config/values.js';
import type { HeaderList } from '../http/headers.js';
import { HeaderMutation } from '../router/header-mutation.js';
import type { RouteRequest } from '../router/index.js';
import {
  collectDescriptors,
  descriptorKey,
  type RouteRateLimits,
  type VhRateLimits,
} from '../router/rate-limits.js';
import type { Counter, StatsStore } from '../stats/store.js';
import type { FilterCallbacks, FilterRequest, HttpFilter } from './filter.js';
import { draw, fractionOf } from './percent.js';

/** A token bucket with lazy refill. */
export class TokenBucketState {
  private tokens: number;
  private lastFill: number;

  constructor(
    /** Capacity (and the initial fill). */
    readonly maxTokens: number,
    /** Tokens added per interval. */
    readonly tokensPerFill: number,
    /** Interval in ms. */
    readonly fillIntervalMs: number,
    private readonly now: () => number,
  ) {
    this.tokens = maxTokens;
    this.lastFill = now();
  }

  private refill(now: number): void {
    const fills = Math.floor((now - this.lastFill) / this.fillIntervalMs);
    if (fills > 0) {
      this.tokens = Math.min(this.maxTokens, this.tokens + fills * this.tokensPerFill);
      this.lastFill += fills * this.fillIntervalMs;
    }
  }

  /** Takes one token if there is one. */
  consume(): boolean {
    this.refill(this.now());
    if (this.tokens < 1) return false;
    this.tokens--;
    return true;
  }

  /** Tokens left now. */
  get remaining(): number {
    this.refill(this.now());
    return this.tokens;
  }

  /** Seconds until the next fill (for `x-ratelimit-reset`). */
  get resetSeconds(): number {
    return Math.ceil(this.msToNextFill / 1000);
  }

  /** Milliseconds until the next fill. */
  get msToNextFill(): number {
    const now = this.now();
    this.refill(now);
    return this.lastFill + this.fillIntervalMs - now;
  }

  /** Puts back tokens taken and not spent (a worker's expired lease), up to the capacity. */
  giveBack(count: number): void {
    this.refill(this.now());
    if (count > 0) this.tokens = Math.min(this.maxTokens, this.tokens + count);
  }
}

function parseBucket(b: TokenBucket | undefined, path: string): BucketSpec {
  if (b === undefined) {
    throw new MeshError('PROXY_E_INVALID', 'local rate limiting needs a token_bucket', {
      path,
      allowed: 'token_bucket: { max_tokens, tokens_per_fill, fill_interval }',
    });
  }
  const max = b.max_tokens;
  if (!(Number.isInteger(max) && max >= 1)) {
    throw new MeshError('PROXY_E_INVALID', `max_tokens must be an integer >= 1, got ${max}`, {
      path: `${path}.max_tokens`,
      value: max,
      allowed: 'an integer >= 1',
    });
  }
  const perFill = b.tokens_per_fill ?? 1;
  if (!(Number.isInteger(perFill) && perFill >= 1)) {
    throw new MeshError('PROXY_E_INVALID', `tokens_per_fill must be an integer >= 1, got ${perFill}`, {
      path: `${path}.tokens_per_fill`,
      value: perFill,
      allowed: 'an integer >= 1',
    });
  }
  let intervalMs: number;
  try {
    intervalMs = parseDuration(b.fill_interval, Number.NaN);
  } catch {
    intervalMs = Number.NaN;
  }
  // Envoy requires fill_interval >= 50 ms.
  if (!(intervalMs >= 50)) {
    throw new MeshError('PROXY_E_INVALID', 'fill_interval must be at least 50ms', {
      path: `${path}.fill_interval`,
      value: b.fill_interval,
      allowed: 'a duration of 0.05s or more',
    });
  }
  return { maxTokens: max, tokensPerFill: perFill, fillIntervalMs: intervalMs };
}

/** A bucket's settings. */
export interface BucketSpec {
  /** Capacity (and the initial fill). */
  readonly maxTokens: number;
  /** Tokens added per interval. */
  readonly tokensPerFill: number;
  /** Interval in ms (>= 50). */
  readonly fillIntervalMs: number;
}

/** What the filter needs of a token bucket: one in this process, or leased from the primary. */
export interface RateLimitBucket {
  readonly maxTokens: number;
  /** Tokens per ms (Envoy consumes matched descriptors lowest fill rate first). */
  readonly fillRate: number;
  /**
   * Takes a token: true or false now, or undefined when the answer comes later through `done`
   * (a leased bucket that must ask the primary); `done` is only called in that case.
   */
  consume(done: (allowed: boolean) => void): boolean | undefined;
  /** Tokens left now (for `x-ratelimit-remaining`). */
  readonly remaining: number;
  /** Seconds until the next fill (for `x-ratelimit-reset`). */
  readonly resetSeconds: number;
}

/** Makes the bucket for a config path (`key`, the same in every worker) and its settings. */
export type BucketFactory = (key: string, spec: BucketSpec) => RateLimitBucket;

/** A {@link TokenBucketState} as a {@link RateLimitBucket}. */
class LocalBucket implements RateLimitBucket {
  readonly fillRate: number;
  readonly maxTokens: number;
  private readonly state: TokenBucketState;

  constructor(spec: BucketSpec, now: () => number) {
    this.state = new TokenBucketState(spec.maxTokens, spec.tokensPerFill, spec.fillIntervalMs, now);
    this.maxTokens = spec.maxTokens;
    this.fillRate = spec.tokensPerFill / spec.fillIntervalMs;
  }

  consume(): boolean {
    return this.state.consume();
  }

  get remaining(): number {
    return this.state.remaining;
  }

  get resetSeconds(): number {
    return this.state.resetSeconds;
  }
}

/** A factory of buckets private to this process. */
export function localBuckets(now: () => number = Date.now): BucketFactory {
  return (_key, spec) => new LocalBucket(spec, now);
}

let shared: BucketFactory = localBuckets();

/**
 * Where buckets shared by every request of a filter config come from. A `--concurrency` worker
 * sets a leasing factory (proxy/filters/bucket-lease.ts) before it compiles its configuration;
 * the default keeps buckets in this process. Per-connection buckets are always local.
 */
export function sharedBuckets(factory?: BucketFactory): BucketFactory {
  if (factory !== undefined) shared = factory;
  return shared;
}

/**
 * What the local rate limit filter reads beyond {@link FilterRequest}: the pipeline passes the
 * routed request and the matched route (whose `rate_limits` produce descriptors).
 */
interface RouteFacts {
  readonly request?: RouteRequest;
  readonly route?: { readonly rateLimits: RouteRateLimits };
}

/** Options of {@link LocalRateLimitFilter} beyond its config. */
export interface LocalRateLimitOptions {
  /** Random source in [0, 1) for percentages. @default Math.random */
  readonly random?: () => number;
  /** Clock in ms. @default Date.now */
  readonly now?: () => number;
  /** The filter's name in `http_filters`. @default `envoy.filters.http.local_ratelimit` */
  readonly name?: string;
  /** True for a per-route config (only those read `vh_rate_limits`, as in Envoy). @default false */
  readonly perRoute?: boolean;
  /** `node.cluster`, the `source_cluster` action's value. @default '' */
  readonly localCluster?: string;
  /** Shared buckets. @default - {@link sharedBuckets} */
  readonly buckets?: BucketFactory;
}

/** The buckets requests are checked against: the default one and one per descriptor. */
interface Limiter {
  readonly fallback: RateLimitBucket;
  readonly descriptors: ReadonlyMap<string, RateLimitBucket>;
}

/** The compiled local rate limit filter. */
export class LocalRateLimitFilter implements HttpFilter {
  /** The filter's name in `http_filters` (the key of per-route configs). */
  readonly name: string;
  private readonly limiter: Limiter | undefined;
  private readonly perConnection = new WeakMap<object, Limiter>();
  private readonly spec: BucketSpec;
  private readonly descriptorSpecs: ReadonlyArray<readonly [string, BucketSpec]>;
  private readonly stage: number;
  private readonly vhRateLimits: VhRateLimits;
  private readonly alwaysConsumeDefault: boolean;
  private readonly localCluster: string;
  private readonly random: () => number;
  private readonly now: () => number;
  private readonly enabled: number;
  private readonly enforced: number;
  private readonly status: number;
  private readonly headers: HeaderMutation;
  private readonly xHeaders: boolean;
  private readonly stats: {
    readonly enabled: Counter;
    readonly enforced: Counter;
    readonly rateLimited: Counter;
    readonly ok: Counter;
  };

  /**
   * @param path the config's path: error paths start with it, and shared buckets are keyed by it
   * @throws MeshError naming the field at fault
   */
  constructor(config: LocalRateLimit, store: StatsStore, path: string, options: LocalRateLimitOptions = {}) {
    this.name = options.name ?? 'envoy.filters.http.local_ratelimit';
    this.random = options.random ?? Math.random;
    this.now = options.now ?? Date.now;
    this.localCluster = options.localCluster ?? '';
    if (typeof config.stat_prefix !== 'string' || config.stat_prefix === '') {
      throw new MeshError('PROXY_E_INVALID', 'stat_prefix is required', {
        path: `${path}.stat_prefix`,
        value: config.stat_prefix,
        allowed: 'a non-empty string',
      });
    }
    this.spec = parseBucket(config.token_bucket, `${path}.token_bucket`);
    this.descriptorSpecs = parseDescriptors(config, path);
    const stage = config.stage ?? 0;
    if (!(Number.isInteger(stage) && stage >= 0 && stage <= 10)) {
      throw new MeshError('PROXY_E_INVALID', `stage must be 0..10, got ${stage}`, {
        path: `${path}.stage`,
        value: stage,
        allowed: '0..10',
      });
    }
    this.stage = stage;
    // Envoy reads vh_rate_limits from the most specific per-route config only; without one, OVERRIDE.
    this.vhRateLimits = options.perRoute === true ? (config.vh_rate_limits ?? 'OVERRIDE') : 'OVERRIDE';
    this.alwaysConsumeDefault = config.always_consume_default_token_bucket !== false;
    // Envoy: without filter_enabled / filter_enforced the filter checks and enforces nothing.
    this.enabled = fractionOf(
      config.filter_enabled?.default_value,
      0,
      `${path}.filter_enabled.default_value`,
    );
    this.enforced = fractionOf(
      config.filter_enforced?.default_value,
      0,
      `${path}.filter_enforced.default_value`,
    );
    const status = config.status?.code ?? 429;
    if (!(Number.isInteger(status) && status >= 400 && status <= 599)) {
      throw new MeshError('PROXY_E_INVALID', `status.code must be 400..599, got ${status}`, {
        path: `${path}.status.code`,
        value: status,
        allowed: '400..599',
      });
    }
    this.status = status;
    this.headers = new HeaderMutation(config.response_headers_to_add, undefined, path, 'response');
    this.xHeaders = config.enable_x_ratelimit_headers === 'DRAFT_VERSION_03';
    if (config.local_rate_limit_per_downstream_connection === true) this.limiter = undefined;
    else {
      const factory = options.buckets ?? sharedBuckets();
      this.limiter = this.newLimiter((suffix, spec) => factory(`${path}${suffix}`, spec));
    }
    const p = `${config.stat_prefix}.http_local_rate_limit.`;
    this.stats = {
      enabled: store.counter(`${p}enabled`),
      enforced: store.counter(`${p}enforced`),
      rateLimited: store.counter(`${p}rate_limited`),
      ok: store.counter(`${p}ok`),
    };
  }

  private newLimiter(make: (suffix: string, spec: BucketSpec) => RateLimitBucket): Limiter {
    const descriptors = new Map<string, RateLimitBucket>();
    this.descriptorSpecs.forEach(([key, spec], i) => {
      descriptors.set(key, make(`.descriptors[${i}]`, spec));
    });
    return { fallback: make('.token_bucket', this.spec), descriptors };
  }

  private limiterFor(connection: object): Limiter {
    if (this.limiter !== undefined) return this.limiter;
    let l = this.perConnection.get(connection);
    if (l === undefined) {
      const now = this.now;
      l = this.newLimiter((_suffix, spec) => new LocalBucket(spec, now));
      this.perConnection.set(connection, l);
    }
    return l;
  }

  /** The buckets a request takes tokens from, in Envoy's order (see the module doc). */
  private bucketsFor(request: FilterRequest & RouteFacts, limiter: Limiter): readonly RateLimitBucket[] {
    const route = request.route;
    if (limiter.descriptors.size === 0 || route === undefined || request.request === undefined)
      return [limiter.fallback];
    const keys: string[] = [];
    collectDescriptors(
      route.rateLimits,
      this.stage,
      this.vhRateLimits,
      { request: request.request, clusterName: request.clusterName, localCluster: this.localCluster },
      keys,
    );
    const matched: RateLimitBucket[] = [];
    for (const k of keys) {
      const b = limiter.descriptors.get(k);
      if (b !== undefined) matched.push(b);
    }
    if (matched.length === 0) return [limiter.fallback];
    // Stable: equal fill rates keep the order the descriptors were produced in.
    if (matched.length > 1) matched.sort((a, b) => a.fillRate - b.fillRate);
    if (this.alwaysConsumeDefault) matched.push(limiter.fallback);
    return matched;
  }

  onRequest(request: FilterRequest, callbacks: FilterCallbacks): 'continue' | 'stop' {
    if (!draw(this.enabled, this.random)) return 'continue';
    this.stats.enabled.inc();
    const buckets = this.bucketsFor(
      request as FilterRequest & RouteFacts,
      this.limiterFor(request.connection),
    );
    return this.take(buckets, 0, callbacks, false);
  }

  /**
   * Takes a token from each bucket from `index` on, stopping at the first that has none. Returns
   * `stop` when a bucket answers later; the request then resumes (or is refused) from its callback.
   */
  private take(
    buckets: readonly RateLimitBucket[],
    index: number,
    callbacks: FilterCallbacks,
    resumed: boolean,
  ): 'continue' | 'stop' {
    for (let i = index; i < buckets.length; i++) {
      const bucket = buckets[i] as RateLimitBucket;
      const got = bucket.consume((allowed) => {
        if (!allowed) this.finish(bucket, false, callbacks, true);
        else if (this.take(buckets, i + 1, callbacks, true) === 'continue') callbacks.resume();
      });
      if (got === undefined) return 'stop';
      if (!got) return this.finish(bucket, false, callbacks, resumed);
    }
    // The header bucket on success: the first matched descriptor (lowest fill rate), else the default.
    return this.finish(buckets[0] as RateLimitBucket, true, callbacks, resumed);
  }

  /**
   * Counts and answers. Called synchronously (`resumed` false) it returns what onRequest returns;
   * from a bucket's callback (`resumed` true) a request let through returns `continue` for the
   * caller to resume it, a refused one is answered here.
   */
  private finish(
    bucket: RateLimitBucket,
    allowed: boolean,
    callbacks: FilterCallbacks,
    resumed: boolean,
  ): 'continue' | 'stop' {
    if (this.xHeaders) {
      callbacks.addResponseHeaders([
        'x-ratelimit-limit',
        String(bucket.maxTokens),
        'x-ratelimit-remaining',
        String(Math.max(0, Math.floor(bucket.remaining))),
        'x-ratelimit-reset',
        String(bucket.resetSeconds),
      ]);
    }
    if (allowed) {
      this.stats.ok.inc();
      return 'continue';
    }
    this.stats.rateLimited.inc();
    if (!draw(this.enforced, this.random)) {
      if (resumed) callbacks.resume();
      return resumed ? 'stop' : 'continue';
    }
    this.stats.enforced.inc();
    const headers: HeaderList = [];
    this.headers.apply(headers, undefined);
    callbacks.reply({
      status: this.status,
      body: 'local_rate_limited',
      details: 'local_rate_limited',
      flag: 'RateLimited',
      headers,
    });
    return 'stop';
  }
}

/** The configured descriptors, keyed as proxy/router/rate-limits.ts produces them. */
function parseDescriptors(config: LocalRateLimit, path: string): Array<readonly [string, BucketSpec]> {
  const seen = new Map<string, number>();
  return (config.descriptors ?? []).map((d, i) => {
    const dp = `${path}.descriptors[${i}]`;
    if (!Array.isArray(d.entries) || d.entries.length === 0) {
      throw new MeshError('PROXY_E_INVALID', 'a descriptor needs at least one entry', {
        path: `${dp}.entries`,
        value: d.entries,
        allowed: 'entries: [{ key, value }, ...]',
      });
    }
    d.entries.forEach((e, j) => {
      for (const f of ['key', 'value'] as const) {
        if (typeof e[f] !== 'string' || e[f] === '') {
          throw new MeshError('PROXY_E_INVALID', `a descriptor entry needs a non-empty ${f}`, {
            path: `${dp}.entries[${j}].${f}`,
            value: e[f],
            allowed: 'a non-empty string',
          });
        }
      }
    });
    const key = descriptorKey(d.entries);
    const prior = seen.get(key);
    if (prior !== undefined) {
      // Envoy refuses the config: "duplicate descriptor in the local rate descriptor".
      throw new MeshError('PROXY_E_INVALID', `descriptor ${i} repeats the entries of descriptor ${prior}`, {
        path: `${dp}.entries`,
        value: d.entries,
        allowed: 'descriptors with distinct entries',
      });
    }
    seen.set(key, i);
    return [key, parseBucket(d.token_bucket, `${dp}.token_bucket`)] as const;
  });
}
