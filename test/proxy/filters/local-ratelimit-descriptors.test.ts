// envoy.filters.http.local_ratelimit descriptors through the real loader and proxy, against a real
// node:http upstream on loopback (port 0): the route's and virtual host's rate_limits produce the
// descriptors, the filter's descriptors limit them. Nothing is stood in.
import { afterEach, describe, expect, test } from 'vitest';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import { counter, get, startScenario } from '../resilience/helpers.js';

const closer = new Closer();
afterEach(() => closer.closeAll());

const RATELIMIT = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const ALWAYS = { default_value: { numerator: 100, denominator: 'HUNDRED' } };

function limiter(extra: Record<string, unknown>) {
  return {
    '@type': RATELIMIT,
    stat_prefix: 'rl',
    token_bucket: { max_tokens: 100, tokens_per_fill: 100, fill_interval: '60s' },
    filter_enabled: ALWAYS,
    filter_enforced: ALWAYS,
    enable_x_ratelimit_headers: 'DRAFT_VERSION_03',
    ...extra,
  };
}

function bucket(max: number) {
  return { max_tokens: max, tokens_per_fill: max, fill_interval: '60s' };
}

const BY_CLIENT = [{ actions: [{ request_headers: { header_name: 'x-client', descriptor_key: 'client' } }] }];

async function statuses(port: number, n: number, headers: Record<string, string> = {}, path = '/') {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await get(port, { headers, path })).status);
  return out;
}

describe('local_ratelimit descriptors', () => {
  test("a request matching a descriptor is limited by that descriptor's bucket; others by the default", async () => {
    // GIVEN client=a limited to 2 tokens, the default bucket 100
    const up = await httpUpstream(closer, 'u0');
    const { port, proxy } = await startScenario(closer, {
      ports: [up.port],
      routeAction: { rate_limits: BY_CLIENT },
      filters: [
        {
          name: 'envoy.filters.http.local_ratelimit',
          typed_config: limiter({
            descriptors: [{ entries: [{ key: 'client', value: 'a' }], token_bucket: bucket(2) }],
          }),
        },
      ],
    });
    // WHEN client a sends 4, client b 3, and a request without the header 1
    const a = await statuses(port, 4, { 'x-client': 'a' });
    const b = await statuses(port, 3, { 'x-client': 'b' });
    const none = await statuses(port, 1);
    // THEN only a is limited, after its 2 tokens
    expect(a).toEqual([200, 200, 429, 429]);
    expect(b).toEqual([200, 200, 200]);
    expect(none).toEqual([200]);
    expect(up.seen).toHaveLength(6);
    // AND Envoy's stats count the descriptor-limited requests
    expect(counter(proxy, 'rl.http_local_rate_limit.enabled')).toBe(8);
    expect(counter(proxy, 'rl.http_local_rate_limit.ok')).toBe(6);
    expect(counter(proxy, 'rl.http_local_rate_limit.rate_limited')).toBe(2);
    expect(counter(proxy, 'rl.http_local_rate_limit.enforced')).toBe(2);
  });

  test('x-ratelimit headers describe the most restrictive bucket', async () => {
    // GIVEN descriptor buckets of 5 (client) and 3 (tier), default 100
    const up = await httpUpstream(closer, 'u0');
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        rate_limits: [
          ...BY_CLIENT,
          { actions: [{ request_headers: { header_name: 'x-tier', descriptor_key: 'tier' } }] },
        ],
      },
      filters: [
        {
          name: 'envoy.filters.http.local_ratelimit',
          typed_config: limiter({
            descriptors: [
              { entries: [{ key: 'client', value: 'a' }], token_bucket: bucket(5) },
              { entries: [{ key: 'tier', value: 'free' }], token_bucket: bucket(3) },
            ],
          }),
        },
      ],
    });
    // WHEN
    const headers = { 'x-client': 'a', 'x-tier': 'free' };
    const first = await get(port, { headers });
    const rest = await statuses(port, 3, headers);
    const plain = await get(port);
    // THEN the tier bucket (lowest fill rate) is reported and refuses the 4th request
    expect(first.status).toBe(200);
    expect(first.headers['x-ratelimit-limit']).toBe('3');
    expect(first.headers['x-ratelimit-remaining']).toBe('2');
    expect(rest).toEqual([200, 200, 429]);
    // AND an unmatched request reports the default bucket
    expect(plain.headers['x-ratelimit-limit']).toBe('100');
  });

  test('always_consume_default_token_bucket false spares the default bucket for matched requests', async () => {
    // GIVEN a 1-token default bucket and a 5-token descriptor, with and without the flag
    const up = await httpUpstream(closer, 'u0');
    const descriptors = [{ entries: [{ key: 'client', value: 'a' }], token_bucket: bucket(5) }];
    const start = (always: boolean) =>
      startScenario(closer, {
        ports: [up.port],
        routeAction: { rate_limits: BY_CLIENT },
        filters: [
          {
            name: 'envoy.filters.http.local_ratelimit',
            typed_config: limiter({
              token_bucket: bucket(1),
              descriptors,
              always_consume_default_token_bucket: always,
            }),
          },
        ],
      });
    const spared = await start(false);
    const consumed = await start(true);
    // WHEN client a sends 3, then an unmatched request
    const sparedA = await statuses(spared.port, 3, { 'x-client': 'a' });
    const sparedOther = await statuses(spared.port, 2);
    const consumedA = await statuses(consumed.port, 3, { 'x-client': 'a' });
    // THEN without the flag a uses only its own bucket and the default stays for the rest
    expect(sparedA).toEqual([200, 200, 200]);
    expect(sparedOther).toEqual([200, 429]);
    // AND with it (Envoy's default) a matched request also needs a default token
    expect(consumedA).toEqual([200, 429, 429]);
  });

  test("vh_rate_limits in the per-route config: INCLUDE adds the virtual host's descriptors, IGNORE drops them", async () => {
    // GIVEN the virtual host limits generic_key=vh to 1; route /include INCLUDEs, /ignore IGNOREs,
    // /default has its own rate_limits (OVERRIDE: the virtual host's are not read)
    const up = await httpUpstream(closer, 'u0');
    const perRoute = (mode: string) => ({
      'envoy.filters.http.local_ratelimit': limiter({
        vh_rate_limits: mode,
        descriptors: [
          { entries: [{ key: 'generic_key', value: 'vh' }], token_bucket: bucket(1) },
          { entries: [{ key: 'generic_key', value: 'route' }], token_bucket: bucket(50) },
        ],
      }),
    });
    const ownLimits = [{ actions: [{ generic_key: { descriptor_value: 'route' } }] }];
    const { port } = await startScenario(closer, {
      ports: [up.port],
      // The whole route_config, to give the virtual host its own rate_limits.
      hcm: {
        route_config: {
          virtual_hosts: [
            {
              name: 'all',
              domains: ['*'],
              rate_limits: [{ actions: [{ generic_key: { descriptor_value: 'vh' } }] }],
              routes: [
                {
                  match: { prefix: '/include' },
                  route: { cluster: 'svc', rate_limits: ownLimits },
                  typed_per_filter_config: perRoute('INCLUDE'),
                },
                {
                  match: { prefix: '/ignore' },
                  route: { cluster: 'svc', rate_limits: ownLimits },
                  typed_per_filter_config: perRoute('IGNORE'),
                },
                {
                  match: { prefix: '/default' },
                  route: { cluster: 'svc', rate_limits: ownLimits },
                  typed_per_filter_config: perRoute('OVERRIDE'),
                },
              ],
            },
          ],
        },
      },
      filters: [{ name: 'envoy.filters.http.local_ratelimit', typed_config: limiter({}) }],
    });
    // WHEN
    const include = await statuses(port, 2, {}, '/include');
    const ignore = await statuses(port, 2, {}, '/ignore');
    const dflt = await statuses(port, 2, {}, '/default');
    // THEN INCLUDE reads the virtual host's descriptor (1 token); the others do not
    expect(include).toEqual([200, 429]);
    expect(ignore).toEqual([200, 200]);
    expect(dflt).toEqual([200, 200]);
  });

  test('the filter reads only rate_limits of its stage', async () => {
    // GIVEN a stage-1 filter; the stage-0 entry would match a 1-token descriptor
    const up = await httpUpstream(closer, 'u0');
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routeAction: {
        rate_limits: [
          { actions: [{ generic_key: { descriptor_value: 'zero' } }] },
          { stage: 1, actions: [{ generic_key: { descriptor_value: 'one' } }] },
        ],
      },
      filters: [
        {
          name: 'envoy.filters.http.local_ratelimit',
          typed_config: limiter({
            stage: 1,
            descriptors: [
              { entries: [{ key: 'generic_key', value: 'zero' }], token_bucket: bucket(1) },
              { entries: [{ key: 'generic_key', value: 'one' }], token_bucket: bucket(2) },
            ],
          }),
        },
      ],
    });
    // WHEN / THEN the stage-1 descriptor (2 tokens) decides
    expect(await statuses(port, 3)).toEqual([200, 200, 429]);
  });

  test('per downstream connection, each connection has its own descriptor buckets', async () => {
    // GIVEN client a limited to 1 per connection
    const up = await httpUpstream(closer, 'u0');
    const { port } = await startScenario(closer, {
      ports: [up.port],
      routeAction: { rate_limits: BY_CLIENT },
      filters: [
        {
          name: 'envoy.filters.http.local_ratelimit',
          typed_config: limiter({
            local_rate_limit_per_downstream_connection: true,
            descriptors: [{ entries: [{ key: 'client', value: 'a' }], token_bucket: bucket(1) }],
          }),
        },
      ],
    });
    // WHEN every request uses a fresh connection (get() without an agent)
    const fresh = await statuses(port, 3, { 'x-client': 'a' });
    // THEN none is limited
    expect(fresh).toEqual([200, 200, 200]);
  });

  test('duplicate descriptors stop start-up naming the field', async () => {
    // GIVEN / WHEN / THEN
    const d = { entries: [{ key: 'client', value: 'a' }], token_bucket: bucket(1) };
    await expect(
      startScenario(closer, {
        ports: [1],
        filters: [
          { name: 'envoy.filters.http.local_ratelimit', typed_config: limiter({ descriptors: [d, d] }) },
        ],
      }),
    ).rejects.toMatchObject({
      code: 'PROXY_E_INVALID',
      path: expect.stringMatching(/http_filters\[0\]\.typed_config\.descriptors\[1\]\.entries$/),
    });
  });
});
