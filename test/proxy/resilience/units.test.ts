// Unit checks of the resilience building blocks that need no sockets: the token bucket, retry
// state and header overrides, fractional percents, the retry budget and filter config errors.
// The stats store is the real one; time and randomness are injected to make the cases exact.
import { describe, expect, test } from 'vitest';
import { compileHttpFilters, TokenBucketState } from '../../../proxy/filters/index.js';
import { draw, fractionOf } from '../../../proxy/filters/percent.js';
import { isInternalAddress, RetryState, timeoutOverrides } from '../../../proxy/resilience/retry-state.js';
import { compileRetryPolicy } from '../../../proxy/router/retry.js';
import { StatsStore } from '../../../proxy/stats/store.js';
import { ResourceManager } from '../../../proxy/upstream/index.js';

describe('TokenBucketState', () => {
  test('starts full, refills whole intervals only, never above max_tokens', () => {
    // GIVEN 2 tokens, 1 per 100 ms, a manual clock
    let now = 1000;
    const bucket = new TokenBucketState(2, 1, 100, () => now);
    // WHEN / THEN
    expect([bucket.consume(), bucket.consume(), bucket.consume()]).toEqual([true, true, false]);
    now += 99;
    expect(bucket.consume()).toBe(false);
    now += 1;
    expect(bucket.consume()).toBe(true);
    now += 10_000;
    expect(bucket.remaining).toBe(2);
  });
});

describe('fractional percents', () => {
  test('denominators and the 0/100 % shortcuts', () => {
    // GIVEN / WHEN / THEN
    expect(fractionOf({ numerator: 25 }, 0, 'p')).toBe(0.25);
    expect(fractionOf({ numerator: 25, denominator: 'TEN_THOUSAND' }, 0, 'p')).toBe(0.0025);
    expect(fractionOf({ numerator: 200 }, 0, 'p')).toBe(1);
    expect(fractionOf(undefined, 0.5, 'p')).toBe(0.5);
    expect(() => fractionOf({ numerator: -1 }, 0, 'x.percentage')).toThrow(/numerator/);
    expect(draw(1, () => 0.999)).toBe(true);
    expect(draw(0, () => 0)).toBe(false);
    expect(draw(0.3, () => 0.2)).toBe(true);
  });
});

describe('RetryState', () => {
  test('x-envoy-retry-on adds conditions, x-envoy-max-retries sets the count, both are removed', () => {
    // GIVEN a route policy retrying 5xx once
    const policy = compileRetryPolicy({ retry_on: '5xx' }, 'p');
    const headers = [
      'x-envoy-retry-on',
      'reset,bogus',
      'x-envoy-retry-grpc-on',
      'unavailable',
      'x-envoy-max-retries',
      '3',
      'a',
      'b',
    ];
    // WHEN
    const state = RetryState.create(policy, headers, true, () => 0.5);
    // THEN
    expect([...(state?.policy.retryOn ?? [])].sort()).toEqual(['5xx', 'reset', 'unavailable']);
    expect(state?.policy.numRetries).toBe(3);
    expect(headers).toEqual(['a', 'b']);
  });

  test('untrusted clients cannot switch retries on; no policy means no state', () => {
    // GIVEN / WHEN / THEN
    expect(RetryState.create(undefined, ['x-envoy-retry-on', '5xx'], false)).toBeUndefined();
    expect(RetryState.create(undefined, [], true)).toBeUndefined();
  });

  test('decide: retry while retries are left, then limit; take() counts attempts with jittered back-off', () => {
    // GIVEN one retry, base 100 ms
    const policy = compileRetryPolicy(
      { retry_on: 'gateway-error,cancelled', num_retries: 1, retry_back_off: { base_interval: '0.1s' } },
      'p',
    );
    const state = RetryState.create(policy, [], true, () => 0.5) as RetryState;
    // WHEN / THEN a 502 retries, a 500 does not, gRPC cancelled in headers does
    expect(state.decide({ status: 502, headers: [] })).toBe('retry');
    expect(state.decide({ status: 500, headers: [] })).toBe('no');
    expect(state.decide({ status: 200, headers: ['grpc-status', '1'] })).toBe('retry');
    expect(state.take()).toBe(50);
    expect(state.attempts).toBe(2);
    expect(state.decide({ failure: 'reset' })).toBe('limit');
  });

  test('timeout override headers are read, removed, and malformed values ignored', () => {
    // GIVEN
    const headers = [
      'x-envoy-upstream-rq-timeout-ms',
      '250',
      'x-envoy-upstream-rq-per-try-timeout-ms',
      'soon',
    ];
    // WHEN
    const o = timeoutOverrides(headers);
    // THEN
    expect(o).toEqual({ routeMs: 250 });
    expect(headers).toEqual([]);
  });

  test('internal addresses are RFC 1918, loopback and ULA', () => {
    // GIVEN / WHEN / THEN
    for (const a of [
      '10.1.2.3',
      '172.16.0.1',
      '172.31.9.9',
      '192.168.1.1',
      '127.0.0.1',
      '::1',
      '::ffff:10.0.0.1',
      'fd00::1',
    ])
      expect(isInternalAddress(a)).toBe(true);
    for (const a of ['8.8.8.8', '172.32.0.1', '2001:db8::1', '::ffff:1.2.3.4'])
      expect(isInternalAddress(a)).toBe(false);
  });
});

describe('retry circuit breaker', () => {
  const limits = { maxConnections: 1024, maxPendingRequests: 1024, maxRequests: 1024, maxRetries: 2 };

  test('max_retries caps concurrent retries', () => {
    // GIVEN
    const rm = new ResourceManager(new StatsStore(), 'c', 'default', limits, false);
    // WHEN two retries are held
    rm.retries.inc();
    rm.retries.inc();
    // THEN no third
    expect(rm.canRetry(100, 0)).toBe(false);
  });

  test('retry_budget allows budget_percent of active + pending, at least min_retry_concurrency', () => {
    // GIVEN 20 %, at least 3
    const rm = new ResourceManager(
      new StatsStore(),
      'c',
      'default',
      { ...limits, retryBudget: { budgetPercent: 20, minRetryConcurrency: 3 } },
      false,
    );
    for (let i = 0; i < 3; i++) rm.retries.inc();
    // WHEN / THEN 3 held: 10 active allow only 3, 50 active allow 10
    expect(rm.canRetry(10, 0)).toBe(false);
    expect(rm.canRetry(40, 10)).toBe(true);
  });
});

describe('compileHttpFilters', () => {
  const store = new StatsStore();
  const router = {
    name: 'envoy.filters.http.router',
    typed_config: { '@type': 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router' as const },
  };

  test('an unknown filter and a router before other filters are refused with their paths', () => {
    // GIVEN / WHEN / THEN
    expect(() =>
      compileHttpFilters([{ name: 'envoy.filters.http.lua' }, router], 'hf', store, { statPrefix: 's' }),
    ).toThrow(expect.objectContaining({ code: 'PROXY_E_UNSUPPORTED', path: 'hf[0].name' }));
    const fault = {
      name: 'envoy.filters.http.fault',
      typed_config: {
        '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' as const,
      },
    };
    expect(() => compileHttpFilters([router, fault], 'hf', store, { statPrefix: 's' })).toThrow(
      expect.objectContaining({ code: 'PROXY_E_INVALID', path: 'hf[0].name' }),
    );
  });

  test('fault configs without a usable delay or abort are refused naming the field', () => {
    // GIVEN / WHEN / THEN
    const bad = (cfg: Record<string, unknown>) => [
      {
        name: 'envoy.filters.http.fault',
        typed_config: {
          '@type': 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault' as const,
          ...cfg,
        },
      },
      router,
    ];
    expect(() =>
      compileHttpFilters(bad({ delay: { percentage: { numerator: 1 } } }), 'hf', store, { statPrefix: 's' }),
    ).toThrow(expect.objectContaining({ path: 'hf[0].typed_config.delay' }));
    expect(() =>
      compileHttpFilters(bad({ abort: { http_status: 99 } }), 'hf', store, { statPrefix: 's' }),
    ).toThrow(expect.objectContaining({ path: 'hf[0].typed_config.abort.http_status', value: 99 }));
  });
});
