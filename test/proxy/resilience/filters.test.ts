// The local_ratelimit and fault HTTP filters through the real proxy, against real node:http
// upstreams on loopback (port 0). Nothing is stood in. The rate-limit accuracy check runs 10 s
// of paced load, as issue 6 asks.
import { afterEach, describe, expect, test } from 'vitest';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import { counter, gauge, get, keepAliveAgent, startScenario } from './helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const RATELIMIT = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const FAULT = 'type.googleapis.com/envoy.extensions.filters.http.fault.v3.HTTPFault';

function rateLimit(bucket: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  return {
    name: 'envoy.filters.http.local_ratelimit',
    typed_config: {
      '@type': RATELIMIT,
      stat_prefix: 'rl',
      token_bucket: bucket,
      filter_enabled: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
      filter_enforced: { default_value: { numerator: 100, denominator: 'HUNDRED' } },
      ...extra,
    },
  };
}

function fault(config: Record<string, unknown>) {
  return { name: 'envoy.filters.http.fault', typed_config: { '@type': FAULT, ...config } };
}

describe('local_ratelimit', () => {
  test('over the bucket a request gets 429 with RL, the configured headers and x-ratelimit-*', async () => {
    // GIVEN 3 tokens, refilled every 10 s
    const up = await httpUpstream(closer, 'u0');
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      filters: [
        rateLimit(
          { max_tokens: 3, tokens_per_fill: 3, fill_interval: '10s' },
          {
            response_headers_to_add: [{ header: { key: 'x-limited', value: 'yes' } }],
            enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
          },
        ),
      ],
    });
    // WHEN 5 requests
    const results = [];
    for (let i = 0; i < 5; i++) results.push(await get(port));
    // THEN 3 pass, 2 are limited
    expect(results.map((r) => r.status)).toEqual([200, 200, 200, 429, 429]);
    expect(results[3]?.body).toBe('local_rate_limited');
    expect(results[3]?.headers['x-limited']).toBe('yes');
    expect(results[0]?.headers['x-ratelimit-limit']).toBe('3');
    expect(results[0]?.headers['x-ratelimit-remaining']).toBe('2');
    expect(up.seen).toHaveLength(3);
    expect(counter(proxy, 'rl.http_local_rate_limit.rate_limited')).toBe(2);
    expect(counter(proxy, 'rl.http_local_rate_limit.enforced')).toBe(2);
    expect(counter(proxy, 'rl.http_local_rate_limit.ok')).toBe(3);
  });

  test('filter_enforced 0 % only counts: nothing is refused', async () => {
    // GIVEN a 1-token bucket, enforced for no request
    const up = await httpUpstream(closer, 'u0');
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      filters: [
        rateLimit(
          { max_tokens: 1, fill_interval: '10s' },
          { filter_enforced: { default_value: { numerator: 0 } } },
        ),
      ],
    });
    // WHEN
    const statuses = [(await get(port)).status, (await get(port)).status, (await get(port)).status];
    // THEN
    expect(statuses).toEqual([200, 200, 200]);
    expect(counter(proxy, 'rl.http_local_rate_limit.rate_limited')).toBe(2);
    expect(counter(proxy, 'rl.http_local_rate_limit.enforced')).toBe(0);
  });

  test('a bad token bucket stops start-up naming the field', async () => {
    // GIVEN / WHEN / THEN
    await expect(
      startScenario(closer, { ports: [1], filters: [rateLimit({ max_tokens: 0, fill_interval: '1s' })] }),
    ).rejects.toMatchObject({
      code: 'PROXY_E_INVALID',
      path: expect.stringMatching(/http_filters\[0\]\.typed_config\.token_bucket\.max_tokens$/),
    });
  });

  test('admitted rate over 10 s is within 5 % of the configured rate', { timeout: 25_000 }, async () => {
    // GIVEN 100 requests/s (10 tokens every 100 ms; a 30-token bucket absorbs client stalls of up
    // to 300 ms on this shared machine) and three times that offered, paced
    const up = await httpUpstream(closer, 'u0');
    const { port } = await startScenario(closer, {
      ports: [up.port],
      filters: [rateLimit({ max_tokens: 30, tokens_per_fill: 10, fill_interval: '0.1s' })],
    });
    const agent = keepAliveAgent(closer, 8);
    // The first second drains the initial full bucket; the next 10 s are measured.
    const from = Date.now() + 1000;
    const to = from + 10_000;
    let admitted = 0;
    let limited = 0;
    // WHEN 6 workers send one request every 20 ms each
    await Promise.all(
      [0, 1, 2, 3, 4, 5].map(async (w) => {
        let next = from - 1000 + w * 3;
        while (next < to) {
          const wait = next - Date.now();
          if (wait > 0) await new Promise((r) => setTimeout(r, wait));
          const sent = Date.now();
          const res = await get(port, { agent });
          if (sent >= from && sent < to) {
            if (res.status === 200) admitted++;
            else if (res.status === 429) limited++;
          }
          next += 20;
        }
      }),
    );
    // THEN admitted/10 s is 100/s within 5 %
    const rate = admitted / 10;
    console.log(
      `local_ratelimit accuracy: admitted ${admitted}, limited ${limited} in 10 s, ${rate.toFixed(1)} req/s vs 100 configured`,
    );
    expect(limited).toBeGreaterThan(1000);
    expect(Math.abs(rate - 100) / 100).toBeLessThanOrEqual(0.05);
  });
});

describe('fault', () => {
  test('an abort at 100 % answers with the configured status and counts aborts_injected', async () => {
    // GIVEN
    const up = await httpUpstream(closer, 'u0');
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      filters: [fault({ abort: { http_status: 503, percentage: { numerator: 100 } } })],
    });
    // WHEN
    const res = await get(port);
    // THEN nothing reached the upstream
    expect(res.status).toBe(503);
    expect(res.body).toBe('fault filter abort');
    expect(up.seen).toHaveLength(0);
    expect(counter(proxy, 'http.ingress_http.fault.aborts_injected')).toBe(1);
  });

  test('a fixed delay holds the request (body included) and then forwards it', async () => {
    // GIVEN a 200 ms delay for every request
    const up = await httpUpstream(closer, 'u0', (_req, res, body) => res.end(`got ${body}`));
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      filters: [fault({ delay: { fixed_delay: '0.2s', percentage: { numerator: 100 } } })],
    });
    // WHEN a POST with a body
    const started = Date.now();
    const res = await get(port, { method: 'POST', body: 'hello' });
    // THEN it arrived whole, after the delay
    expect(res.body).toBe('got hello');
    expect(Date.now() - started).toBeGreaterThanOrEqual(190);
    expect(counter(proxy, 'http.ingress_http.fault.delays_injected')).toBe(1);
    expect(gauge(proxy, 'http.ingress_http.fault.active_faults')).toBe(0);
  });

  test('header-controlled faults follow x-envoy-fault-* headers, only when matched', async () => {
    // GIVEN header_abort and header_delay, for requests with x-chaos only
    const up = await httpUpstream(closer, 'u0');
    const { port } = await startScenario(closer, {
      ports: [up.port],
      filters: [
        fault({
          abort: { header_abort: {}, percentage: { numerator: 100 } },
          delay: { header_delay: {}, percentage: { numerator: 100 } },
          headers: [{ name: 'x-chaos', present_match: true }],
        }),
      ],
    });
    // WHEN / THEN the header picks the status
    expect(
      (await get(port, { headers: { 'x-chaos': '1', 'x-envoy-fault-abort-request': '418' } })).status,
    ).toBe(418);
    // AND without the matching header nothing happens
    expect((await get(port, { headers: { 'x-envoy-fault-abort-request': '418' } })).status).toBe(200);
    // AND a 0 % header percentage disables it
    const off = await get(port, {
      headers: {
        'x-chaos': '1',
        'x-envoy-fault-abort-request': '418',
        'x-envoy-fault-abort-request-percentage': '0',
      },
    });
    expect(off.status).toBe(200);
    // AND the delay header delays
    const started = Date.now();
    await get(port, { headers: { 'x-chaos': '1', 'x-envoy-fault-delay-request': '150' } });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
  });

  test('max_active_faults caps concurrent faults; the rest pass untouched', async () => {
    // GIVEN a 300 ms delay, at most one at a time
    const up = await httpUpstream(closer, 'u0');
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      filters: [
        fault({ delay: { fixed_delay: '0.3s', percentage: { numerator: 100 } }, max_active_faults: 1 }),
      ],
    });
    // WHEN three at once
    const results = await Promise.all([get(port), get(port), get(port)]);
    // THEN all succeed; one was delayed, two overflowed
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(counter(proxy, 'http.ingress_http.fault.delays_injected')).toBe(1);
    expect(counter(proxy, 'http.ingress_http.fault.faults_overflow')).toBe(2);
  });
});

describe('per-route filter configs', () => {
  test('typed_per_filter_config replaces the filter settings on its route only', async () => {
    // GIVEN a generous rate limit and no fault by default; /tight has 1 token, /chaos aborts
    const up = await httpUpstream(closer, 'u0');
    const tight = {
      '@type': RATELIMIT,
      stat_prefix: 'tight',
      token_bucket: { max_tokens: 1, fill_interval: '10s' },
      filter_enabled: { default_value: { numerator: 100 } },
      filter_enforced: { default_value: { numerator: 100 } },
    };
    const json = {
      routes: [
        {
          match: { prefix: '/tight' },
          route: { cluster: 'svc' },
          typed_per_filter_config: { 'envoy.filters.http.local_ratelimit': tight },
        },
        {
          match: { prefix: '/chaos' },
          route: { cluster: 'svc' },
          typed_per_filter_config: {
            'envoy.filters.http.fault': {
              '@type': FAULT,
              abort: { http_status: 418, percentage: { numerator: 100 } },
            },
          },
        },
        { match: { prefix: '/' }, route: { cluster: 'svc' } },
      ],
    };
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routes: json.routes,
      filters: [
        rateLimit({ max_tokens: 1000, fill_interval: '10s' }),
        fault({ delay: { fixed_delay: '0.5s', percentage: { numerator: 0 } } }),
      ],
    });
    // WHEN / THEN
    expect([
      (await get(port, { path: '/tight' })).status,
      (await get(port, { path: '/tight' })).status,
    ]).toEqual([200, 429]);
    expect([
      (await get(port, { path: '/other' })).status,
      (await get(port, { path: '/other' })).status,
    ]).toEqual([200, 200]);
    expect((await get(port, { path: '/chaos' })).status).toBe(418);
  });

  test('a bad per-route config stops start-up naming its path', async () => {
    // GIVEN a per-route rate limit without a token bucket
    const bad = { '@type': RATELIMIT, stat_prefix: 'bad' };
    // WHEN / THEN
    await expect(
      startScenario(closer, {
        ports: [1],
        routes: [
          {
            match: { prefix: '/' },
            route: { cluster: 'svc' },
            typed_per_filter_config: { 'envoy.filters.http.local_ratelimit': bad },
          },
        ],
        filters: [rateLimit({ max_tokens: 5, fill_interval: '1s' })],
      }),
    ).rejects.toMatchObject({
      path: expect.stringMatching(
        /routes\[0\]\.typed_per_filter_config\["envoy\.filters\.http\.local_ratelimit"\]\.token_bucket$/,
      ),
    });
  });
});
