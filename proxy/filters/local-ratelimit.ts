/**
 * `envoy.filters.http.local_ratelimit`: a token bucket per filter (or per downstream connection
 * with `local_rate_limit_per_downstream_connection`). `filter_enabled` decides which requests are
 * checked, `filter_enforced` which of the limited ones are refused (429 by default, body
 * `local_rate_limited`, flag RL); `response_headers_to_add` go on refused responses, and
 * `enable_x_ratelimit_headers: DRAFT_VERSION_03` adds `x-ratelimit-limit/-remaining/-reset` to
 * every checked response. Stats: `<stat_prefix>.http_local_rate_limit.{enabled,enforced,
 * rate_limited,ok}`.
 *
 * The bucket refills lazily: on each request it adds `tokens_per_fill` for every whole
 * `fill_interval` passed since the last fill, capped at `max_tokens`. That is Envoy's timer-driven
 * refill computed on demand, so an idle filter costs nothing. Descriptors (which need the route's
 * `rate_limits` actions) are not supported: the config loader refuses them.
 */
import { MeshError } from '../../errors/index.js';
import type { LocalRateLimit, TokenBucket } from '../config/envoy.js';
import { parseDuration } from '../config/values.js';
import type { HeaderList } from '../http/headers.js';
import { HeaderMutation } from '../router/header-mutation.js';
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
    const now = this.now();
    this.refill(now);
    return Math.ceil((this.lastFill + this.fillIntervalMs - now) / 1000);
  }
}

function parseBucket(
  b: TokenBucket | undefined,
  path: string,
): { max: number; perFill: number; intervalMs: number } {
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
  return { max, perFill, intervalMs };
}

/** The compiled local rate limit filter. */
export class LocalRateLimitFilter implements HttpFilter {
  /** The filter's name in `http_filters` (the key of per-route configs). */
  readonly name: string;
  private readonly bucket: TokenBucketState | undefined;
  private readonly perConnection = new WeakMap<object, TokenBucketState>();
  private readonly spec: { max: number; perFill: number; intervalMs: number };
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
   * @throws MeshError naming the field at fault
   */
  constructor(
    config: LocalRateLimit,
    store: StatsStore,
    path: string,
    private readonly random: () => number = Math.random,
    private readonly now: () => number = Date.now,
    name = 'envoy.filters.http.local_ratelimit',
  ) {
    this.name = name;
    if (typeof config.stat_prefix !== 'string' || config.stat_prefix === '') {
      throw new MeshError('PROXY_E_INVALID', 'stat_prefix is required', {
        path: `${path}.stat_prefix`,
        value: config.stat_prefix,
        allowed: 'a non-empty string',
      });
    }
    this.spec = parseBucket(config.token_bucket, `${path}.token_bucket`);
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
    this.bucket = config.local_rate_limit_per_downstream_connection === true ? undefined : this.newBucket();
    const p = `${config.stat_prefix}.http_local_rate_limit.`;
    this.stats = {
      enabled: store.counter(`${p}enabled`),
      enforced: store.counter(`${p}enforced`),
      rateLimited: store.counter(`${p}rate_limited`),
      ok: store.counter(`${p}ok`),
    };
  }

  private newBucket(): TokenBucketState {
    return new TokenBucketState(this.spec.max, this.spec.perFill, this.spec.intervalMs, this.now);
  }

  private bucketFor(connection: object): TokenBucketState {
    if (this.bucket !== undefined) return this.bucket;
    let b = this.perConnection.get(connection);
    if (b === undefined) {
      b = this.newBucket();
      this.perConnection.set(connection, b);
    }
    return b;
  }

  onRequest(request: FilterRequest, callbacks: FilterCallbacks): 'continue' | 'stop' {
    if (!draw(this.enabled, this.random)) return 'continue';
    this.stats.enabled.inc();
    const bucket = this.bucketFor(request.connection);
    const allowed = bucket.consume();
    if (this.xHeaders) {
      callbacks.addResponseHeaders([
        'x-ratelimit-limit',
        String(bucket.maxTokens),
        'x-ratelimit-remaining',
        String(Math.floor(bucket.remaining)),
        'x-ratelimit-reset',
        String(bucket.resetSeconds),
      ]);
    }
    if (allowed) {
      this.stats.ok.inc();
      return 'continue';
    }
    this.stats.rateLimited.inc();
    if (!draw(this.enforced, this.random)) return 'continue';
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
