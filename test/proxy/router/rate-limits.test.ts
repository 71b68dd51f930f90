// Route and virtual host rate_limits compiled by the real router (proxy/router/rate-limits.ts):
// the descriptors each action produces for a request, as Envoy's router_ratelimit.cc builds them.
// Pure functions over plain requests: nothing to stand in.
import { describe, expect, test } from 'vitest';
import type { RateLimit, RouteConfiguration } from '../../../proxy/config/envoy.js';
import { compileRouteConfiguration, type RouteRequest } from '../../../proxy/router/index.js';
import {
  collectDescriptors,
  compileRateLimits,
  descriptorKey,
  maskedAddress,
  type RateLimitInput,
  type VhRateLimits,
} from '../../../proxy/router/rate-limits.js';

function req(overrides: Partial<RouteRequest> = {}): RouteRequest {
  return {
    authority: 'shop.local',
    path: '/cart?user=7',
    method: 'GET',
    scheme: 'http',
    headers: ['x-client', 'a', 'x-client', 'b', 'x-tier', 'gold'],
    sourceAddress: '10.1.2.3:5555',
    ...overrides,
  };
}

function input(request: RouteRequest = req(), clusterName = 'svc'): RateLimitInput {
  return { request, clusterName, localCluster: 'frontend' };
}

/** The descriptors of one rate_limits entry list for a request, as entry arrays. */
function descriptors(list: RateLimit[], inp: RateLimitInput = input(), stage = 0): string[][] {
  const out: string[] = [];
  collectDescriptors(
    { route: compileRateLimits(list, 'rate_limits'), virtualHost: [], includeVirtualHost: false },
    stage,
    'OVERRIDE',
    inp,
    out,
  );
  return out.map((d) =>
    d
      .split('\u0001')
      .filter((e) => e !== '')
      .map((e) => e.replace('\u0000', '=')),
  );
}

describe('rate_limits actions', () => {
  test('each action adds its entry, in order, under Envoy key names', () => {
    // GIVEN one entry with every kind of action that always produces a value
    const list: RateLimit[] = [
      {
        actions: [
          { source_cluster: {} },
          { destination_cluster: {} },
          { request_headers: { header_name: 'X-Tier', descriptor_key: 'tier' } },
          { remote_address: {} },
          { generic_key: { descriptor_value: 'gk' } },
          { generic_key: { descriptor_value: 'v', descriptor_key: 'custom' } },
          {
            header_value_match: {
              descriptor_value: 'gold',
              headers: [{ name: 'x-tier', string_match: { exact: 'gold' } }],
            },
          },
          {
            query_parameter_value_match: {
              descriptor_value: 'has-user',
              query_parameters: [{ name: 'user', present_match: true }],
            },
          },
          { masked_remote_address: { v4_prefix_mask_len: 16 } },
        ],
      },
    ];
    // WHEN
    const out = descriptors(list);
    // THEN one descriptor with every entry
    expect(out).toEqual([
      [
        'source_cluster=frontend',
        'destination_cluster=svc',
        'tier=gold',
        'remote_address=10.1.2.3',
        'generic_key=gk',
        'custom=v',
        'header_match=gold',
        'query_match=has-user',
        'masked_remote_address=10.1.0.0/16',
      ],
    ]);
  });

  test('request_headers reads the first value; an absent header drops the descriptor unless skip_if_absent', () => {
    // GIVEN three entries over present and absent headers
    const list: RateLimit[] = [
      { actions: [{ request_headers: { header_name: 'x-client', descriptor_key: 'client' } }] },
      {
        actions: [
          { generic_key: { descriptor_value: 'kept' } },
          { request_headers: { header_name: 'x-missing', descriptor_key: 'm', skip_if_absent: true } },
        ],
      },
      {
        actions: [
          { generic_key: { descriptor_value: 'dropped' } },
          { request_headers: { header_name: 'x-missing', descriptor_key: 'm' } },
        ],
      },
    ];
    // WHEN / THEN
    expect(descriptors(list)).toEqual([['client=a'], ['generic_key=kept']]);
  });

  test('header_value_match with expect_match false produces its entry only when the headers do not match', () => {
    // GIVEN
    const list: RateLimit[] = [
      {
        actions: [
          {
            header_value_match: {
              descriptor_value: 'not-gold',
              expect_match: false,
              headers: [{ name: 'x-tier', string_match: { exact: 'gold' } }],
            },
          },
        ],
      },
    ];
    // WHEN / THEN
    expect(descriptors(list)).toEqual([]);
    expect(descriptors(list, input(req({ headers: ['x-tier', 'silver'] })))).toEqual([
      ['header_match=not-gold'],
    ]);
  });

  test('only entries of the filter stage apply, and entries with a disable_key are skipped', () => {
    // GIVEN
    const list: RateLimit[] = [
      { stage: 1, actions: [{ generic_key: { descriptor_value: 'one' } }] },
      { actions: [{ generic_key: { descriptor_value: 'zero' } }] },
      { disable_key: 'off', actions: [{ generic_key: { descriptor_value: 'disabled' } }] },
    ];
    // WHEN / THEN
    expect(descriptors(list, input(), 0)).toEqual([['generic_key=zero']]);
    expect(descriptors(list, input(), 1)).toEqual([['generic_key=one']]);
  });

  test('masked_remote_address prints the CIDR as Envoy does for IPv4 and IPv6', () => {
    // GIVEN / WHEN / THEN
    expect(maskedAddress('192.168.77.9', 24, 128)).toBe('192.168.77.0/24');
    expect(maskedAddress('2001:db8:1:2:3:4:5:6', 32, 48)).toBe('2001:db8:1::/48');
    expect(maskedAddress('::1', 32, 128)).toBe('::1/128');
    expect(maskedAddress('not-an-ip', 32, 128)).toBeUndefined();
  });

  test('a bad action is refused naming its path', () => {
    // GIVEN / WHEN / THEN
    expect(() => compileRateLimits([{ actions: [] }], 'vh.rate_limits')).toThrow(
      expect.objectContaining({ code: 'PROXY_E_INVALID', path: 'vh.rate_limits[0].actions' }),
    );
    expect(() =>
      compileRateLimits(
        [{ actions: [{ generic_key: { descriptor_value: 'x' }, remote_address: {} }] }],
        'vh.rate_limits',
      ),
    ).toThrow(expect.objectContaining({ path: 'vh.rate_limits[0].actions[0]' }));
    expect(() =>
      compileRateLimits([{ actions: [{ metadata: { descriptor_key: 'k' } }] }], 'vh.rate_limits'),
    ).toThrow(
      expect.objectContaining({ code: 'PROXY_E_UNSUPPORTED', path: 'vh.rate_limits[0].actions[0].metadata' }),
    );
  });
});

describe('route and virtual host rate_limits', () => {
  const rc: RouteConfiguration = {
    virtual_hosts: [
      {
        name: 'shop',
        domains: ['*'],
        rate_limits: [{ actions: [{ generic_key: { descriptor_value: 'vh' } }] }],
        routes: [
          {
            match: { prefix: '/own' },
            route: {
              cluster: 'svc',
              rate_limits: [{ actions: [{ generic_key: { descriptor_value: 'route' } }] }],
            },
          },
          {
            match: { prefix: '/include' },
            route: {
              cluster: 'svc',
              include_vh_rate_limits: true,
              rate_limits: [{ actions: [{ generic_key: { descriptor_value: 'route' } }] }],
            },
          },
          { match: { prefix: '/' }, route: { cluster: 'svc' } },
        ],
      },
    ],
  };
  const table = compileRouteConfiguration(rc);

  function routed(path: string, mode: VhRateLimits): string[] {
    const request = req({ path });
    const result = table.route(request);
    if (result.kind !== 'cluster') throw new Error('expected a cluster route');
    const out: string[] = [];
    collectDescriptors(result.route.rateLimits, 0, mode, input(request), out);
    return out;
  }

  test('OVERRIDE: the route own entries, else the virtual host entries', () => {
    // GIVEN / WHEN / THEN
    const route = descriptorKey([{ key: 'generic_key', value: 'route' }]);
    const vh = descriptorKey([{ key: 'generic_key', value: 'vh' }]);
    expect(routed('/own', 'OVERRIDE')).toEqual([route]);
    expect(routed('/other', 'OVERRIDE')).toEqual([vh]);
  });

  test('INCLUDE adds the virtual host entries, IGNORE leaves them out, include_vh_rate_limits wins', () => {
    // GIVEN / WHEN / THEN
    const route = descriptorKey([{ key: 'generic_key', value: 'route' }]);
    const vh = descriptorKey([{ key: 'generic_key', value: 'vh' }]);
    expect(routed('/own', 'INCLUDE')).toEqual([route, vh]);
    expect(routed('/other', 'IGNORE')).toEqual([]);
    expect(routed('/include', 'IGNORE')).toEqual([route, vh]);
  });

  test('a bad rate_limits entry fails the route configuration with its path', () => {
    // GIVEN / WHEN / THEN
    expect(() =>
      compileRouteConfiguration({
        virtual_hosts: [
          {
            name: 'v',
            domains: ['*'],
            routes: [
              {
                match: { prefix: '/' },
                route: { cluster: 'svc', rate_limits: [{ stage: 11, actions: [{ remote_address: {} }] }] },
              },
            ],
          },
        ],
      }),
    ).toThrow(
      expect.objectContaining({ path: 'route_config.virtual_hosts[0].routes[0].route.rate_limits[0].stage' }),
    );
  });
});
