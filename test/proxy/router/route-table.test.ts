// Pure unit tests of route compilation and matching: the router does no I/O, nothing is stood in.
import { describe, expect, test } from 'vitest';
import type { RouteConfiguration, VirtualHost } from '../../../proxy/config/envoy.js';
import { getHeader, type HeaderList } from '../../../proxy/http/headers.js';
import {
  compileRouteConfiguration,
  type RouteRequest,
  type RouteResult,
} from '../../../proxy/router/index.js';

function req(over: Partial<RouteRequest> = {}): RouteRequest {
  return {
    authority: 'example.com',
    path: '/',
    method: 'GET',
    scheme: 'http',
    headers: [],
    sourceAddress: '10.0.0.1:5555',
    ...over,
  };
}

function rc(vhosts: VirtualHost[], extra: Partial<RouteConfiguration> = {}): RouteConfiguration {
  return { name: 'local', virtual_hosts: vhosts, ...extra };
}

function clusterOf(r: RouteResult): string {
  if (r.kind !== 'cluster') throw new Error(`expected a cluster result, got ${r.kind}`);
  return r.clusterName;
}

const to = (cluster: string) => ({ route: { cluster } });

describe('virtual host selection', () => {
  const table = compileRouteConfiguration(
    rc([
      {
        name: 'exact',
        domains: ['api.example.com', 'api.example.com:8080'],
        routes: [{ match: { prefix: '/' }, ...to('exact') }],
      },
      {
        name: 'suffix-long',
        domains: ['*.api.example.com'],
        routes: [{ match: { prefix: '/' }, ...to('suffix-long') }],
      },
      { name: 'suffix', domains: ['*.example.com'], routes: [{ match: { prefix: '/' }, ...to('suffix') }] },
      { name: 'prefix', domains: ['api.*'], routes: [{ match: { prefix: '/' }, ...to('prefix') }] },
      {
        name: 'prefix-long',
        domains: ['api.example.*'],
        routes: [{ match: { prefix: '/' }, ...to('prefix-long') }],
      },
      { name: 'default', domains: ['*'], routes: [{ match: { prefix: '/' }, ...to('default') }] },
    ]),
  );

  test.each([
    ['api.example.com', 'exact'],
    ['API.Example.COM', 'exact'],
    ['api.example.com:8080', 'exact'],
    ['v1.api.example.com', 'suffix-long'],
    ['www.example.com', 'suffix'],
    ['api.example.org', 'prefix-long'],
    ['api.other.org', 'prefix'],
    ['example.com', 'default'],
    ['www.example.com:9000', 'default'],
    ['', 'default'],
  ])('%s → %s', (authority, want) => {
    // GIVEN the table above
    // WHEN
    const result = table.route(req({ authority }));
    // THEN
    expect(clusterOf(result)).toBe(want);
    expect(table.virtualHostFor(authority)).toBe(want);
  });

  test('a wildcard must match at least one character', () => {
    // GIVEN
    const t = compileRouteConfiguration(
      rc([{ name: 'w', domains: ['*.example.com'], routes: [{ match: { prefix: '/' }, ...to('w') }] }]),
    );
    // WHEN / THEN
    expect(t.route(req({ authority: '.example.com' })).kind).toBe('none');
    expect(t.route(req({ authority: 'a.example.com' })).kind).toBe('cluster');
  });

  test('stripPort strips any port or only the listener port', () => {
    // GIVEN
    const vhosts: VirtualHost[] = [
      { name: 'a', domains: ['a.com'], routes: [{ match: { prefix: '/' }, ...to('a') }] },
    ];
    const any = compileRouteConfiguration(rc(vhosts), { stripPort: 'any' });
    const matching = compileRouteConfiguration(rc(vhosts), { stripPort: 8080 });
    // WHEN / THEN
    expect(any.route(req({ authority: 'a.com:1234' })).kind).toBe('cluster');
    expect(matching.route(req({ authority: 'a.com:8080' })).kind).toBe('cluster');
    expect(matching.route(req({ authority: 'a.com:1234' })).kind).toBe('none');
  });

  test('duplicate domains are rejected with the path', () => {
    // GIVEN / WHEN / THEN
    expect(() =>
      compileRouteConfiguration(
        rc([
          { name: 'a', domains: ['x.com'], routes: [] },
          { name: 'b', domains: ['X.com'], routes: [] },
        ]),
      ),
    ).toThrow(
      expect.objectContaining({ code: 'PROXY_E_INVALID', path: 'route_config.virtual_hosts[1].domains[0]' }),
    );
  });
});

describe('route matching', () => {
  function one(match: Record<string, unknown>): (r: Partial<RouteRequest>) => boolean {
    const t = compileRouteConfiguration(
      rc([{ name: 'v', domains: ['*'], routes: [{ match, ...to('c') } as never] }]),
    );
    return (r) => t.route(req(r)).kind === 'cluster';
  }

  test('first matching route wins', () => {
    // GIVEN
    const t = compileRouteConfiguration(
      rc([
        {
          name: 'v',
          domains: ['*'],
          routes: [
            { match: { prefix: '/api' }, ...to('api') },
            { match: { prefix: '/api/v2' }, ...to('never') },
            { match: { prefix: '/' }, ...to('root') },
          ],
        },
      ]),
    );
    // WHEN / THEN
    expect(clusterOf(t.route(req({ path: '/api/v2/x' })))).toBe('api');
    expect(clusterOf(t.route(req({ path: '/other' })))).toBe('root');
  });

  test('prefix is case-sensitive unless case_sensitive is false', () => {
    // GIVEN
    const sensitive = one({ prefix: '/Api' });
    const insensitive = one({ prefix: '/Api', case_sensitive: false });
    // WHEN / THEN
    expect(sensitive({ path: '/api/x' })).toBe(false);
    expect(sensitive({ path: '/Api/x' })).toBe(true);
    expect(insensitive({ path: '/API/x' })).toBe(true);
  });

  test('path is exact and ignores the query', () => {
    // GIVEN
    const m = one({ path: '/health' });
    // WHEN / THEN
    expect(m({ path: '/health' })).toBe(true);
    expect(m({ path: '/health?full=1' })).toBe(true);
    expect(m({ path: '/healthz' })).toBe(false);
  });

  test('safe_regex must match the whole path without the query', () => {
    // GIVEN
    const m = one({ safe_regex: { regex: '/users/[0-9]+' } });
    // WHEN / THEN
    expect(m({ path: '/users/42' })).toBe(true);
    expect(m({ path: '/users/42?x=1' })).toBe(true);
    expect(m({ path: '/users/42/orders' })).toBe(false);
    expect(m({ path: '/v1/users/42' })).toBe(false);
  });

  test('path_separated_prefix matches whole segments', () => {
    // GIVEN
    const m = one({ path_separated_prefix: '/api' });
    // WHEN / THEN
    expect(m({ path: '/api' })).toBe(true);
    expect(m({ path: '/api/x' })).toBe(true);
    expect(m({ path: '/api?q' })).toBe(true);
    expect(m({ path: '/apix' })).toBe(false);
  });

  test('header matchers: exact, prefix, suffix, contains, regex, present, range, invert', () => {
    // GIVEN
    const h = (headers: HeaderList) => ({ headers });
    // WHEN / THEN
    expect(
      one({ prefix: '/', headers: [{ name: 'X-Env', string_match: { exact: 'prod' } }] })(
        h(['x-env', 'prod']),
      ),
    ).toBe(true);
    expect(
      one({ prefix: '/', headers: [{ name: 'x-env', string_match: { exact: 'PROD', ignore_case: true } }] })(
        h(['x-env', 'prod']),
      ),
    ).toBe(true);
    expect(
      one({ prefix: '/', headers: [{ name: 'x-env', string_match: { prefix: 'pr' } }] })(
        h(['x-env', 'prod']),
      ),
    ).toBe(true);
    expect(
      one({ prefix: '/', headers: [{ name: 'x-env', string_match: { suffix: 'od' } }] })(
        h(['x-env', 'prod']),
      ),
    ).toBe(true);
    expect(
      one({ prefix: '/', headers: [{ name: 'x-env', string_match: { contains: 'ro' } }] })(
        h(['x-env', 'prod']),
      ),
    ).toBe(true);
    expect(
      one({ prefix: '/', headers: [{ name: 'x-env', string_match: { safe_regex: { regex: 'p.*d' } } }] })(
        h(['x-env', 'prod']),
      ),
    ).toBe(true);
    expect(
      one({ prefix: '/', headers: [{ name: 'x-env', string_match: { safe_regex: { regex: 'p' } } }] })(
        h(['x-env', 'prod']),
      ),
    ).toBe(false);
    expect(one({ prefix: '/', headers: [{ name: 'x-env', present_match: true }] })(h([]))).toBe(false);
    expect(one({ prefix: '/', headers: [{ name: 'x-env', present_match: false }] })(h([]))).toBe(true);
    expect(one({ prefix: '/', headers: [{ name: 'x-env' }] })(h(['x-env', '']))).toBe(true);
    const range = one({ prefix: '/', headers: [{ name: 'x-n', range_match: { start: '10', end: '20' } }] });
    expect(range(h(['x-n', '10']))).toBe(true);
    expect(range(h(['x-n', '20']))).toBe(false);
    expect(range(h(['x-n', '1x']))).toBe(false);
    const inverted = one({
      prefix: '/',
      headers: [{ name: 'x-env', string_match: { exact: 'prod' }, invert_match: true }],
    });
    expect(inverted(h(['x-env', 'dev']))).toBe(true);
    expect(inverted(h(['x-env', 'prod']))).toBe(false);
    expect(inverted(h([]))).toBe(true);
  });

  test('multiple header values are joined with commas, pseudo-headers come from the request', () => {
    // GIVEN
    const joined = one({ prefix: '/', headers: [{ name: 'x-a', string_match: { exact: '1,2' } }] });
    const method = one({ prefix: '/', headers: [{ name: ':method', string_match: { exact: 'POST' } }] });
    // WHEN / THEN
    expect(joined({ headers: ['x-a', '1', 'x-a', '2'] })).toBe(true);
    expect(method({ method: 'POST' })).toBe(true);
    expect(method({ method: 'GET' })).toBe(false);
  });

  test('treat_missing_header_as_empty', () => {
    // GIVEN
    const m = one({
      prefix: '/',
      headers: [
        { name: 'x-a', string_match: { safe_regex: { regex: '^$|a' } }, treat_missing_header_as_empty: true },
      ],
    });
    // WHEN / THEN
    expect(m({ headers: [] })).toBe(true);
  });

  test('query parameters: value and presence', () => {
    // GIVEN
    const value = one({ prefix: '/', query_parameters: [{ name: 'debug', string_match: { exact: '1' } }] });
    const present = one({ prefix: '/', query_parameters: [{ name: 'debug', present_match: true }] });
    // WHEN / THEN
    expect(value({ path: '/x?a=b&debug=1' })).toBe(true);
    expect(value({ path: '/x?debug=2' })).toBe(false);
    expect(value({ path: '/x?debugx=1' })).toBe(false);
    expect(present({ path: '/x?debug' })).toBe(true);
    expect(present({ path: '/x' })).toBe(false);
  });

  test('grpc matches only gRPC content types', () => {
    // GIVEN
    const m = one({ prefix: '/', grpc: {} });
    // WHEN / THEN
    expect(m({ headers: ['content-type', 'application/grpc+proto'] })).toBe(true);
    expect(m({ headers: ['content-type', 'application/json'] })).toBe(false);
  });

  test('no route gives none', () => {
    // GIVEN
    const t = compileRouteConfiguration(
      rc([{ name: 'v', domains: ['a.com'], routes: [{ match: { prefix: '/x' }, ...to('c') }] }]),
    );
    // WHEN / THEN
    expect(t.route(req({ authority: 'b.com' })).kind).toBe('none');
    expect(t.route(req({ authority: 'a.com', path: '/y' })).kind).toBe('none');
  });
});

describe('actions', () => {
  function single(
    route: Record<string, unknown>,
    extra: Partial<RouteConfiguration> = {},
    vh: Partial<VirtualHost> = {},
  ) {
    return compileRouteConfiguration(
      rc([{ name: 'v', domains: ['*'], routes: [route as never], ...vh }], extra),
    );
  }

  test('cluster results are preallocated and carry route values', () => {
    // GIVEN
    const t = single({
      name: 'r1',
      match: { prefix: '/' },
      route: { cluster: 'c', timeout: '2.500s', idle_timeout: '1s', host_rewrite_literal: 'up.internal' },
    });
    // WHEN
    const a = t.route(req());
    const b = t.route(req());
    // THEN
    expect(a).toBe(b);
    if (a.kind !== 'cluster') throw new Error('cluster expected');
    expect(a.route.timeoutMs).toBe(2500);
    expect(a.route.idleTimeoutMs).toBe(1000);
    expect(a.route.hostRewrite).toBe('up.internal');
    expect(a.route.name).toBe('r1');
    expect(t.referencedClusters).toEqual(new Set(['c']));
  });

  test('default timeout is 15s and 0s disables it', () => {
    // GIVEN / WHEN
    const def = single({ match: { prefix: '/' }, route: { cluster: 'c' } }).route(req());
    const off = single({ match: { prefix: '/' }, route: { cluster: 'c', timeout: '0s' } }).route(req());
    // THEN
    expect(def.kind === 'cluster' && def.route.timeoutMs).toBe(15000);
    expect(off.kind === 'cluster' && off.route.timeoutMs).toBe(0);
  });

  test('weighted clusters honour weights', () => {
    // GIVEN
    const t = single({
      match: { prefix: '/' },
      route: {
        weighted_clusters: {
          clusters: [
            { name: 'a', weight: 80 },
            { name: 'b', weight: 20 },
            { name: 'z', weight: 0 },
          ],
          runtime_key_prefix: 'ignored',
        },
      },
    });
    // WHEN
    const counts: Record<string, number> = { a: 0, b: 0, z: 0 };
    for (let i = 0; i < 20000; i++) counts[clusterOf(t.route(req()))]! += 1;
    // THEN
    expect(counts.a! / 20000).toBeGreaterThan(0.77);
    expect(counts.a! / 20000).toBeLessThan(0.83);
    expect(counts.z).toBe(0);
  });

  test('weighted cluster errors name the field', () => {
    // GIVEN / WHEN / THEN
    expect(() =>
      single({
        match: { prefix: '/' },
        route: { weighted_clusters: { clusters: [{ name: 'a', weight: 0 }] } },
      }),
    ).toThrow(
      expect.objectContaining({
        path: 'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.clusters',
      }),
    );
    expect(() =>
      single({
        match: { prefix: '/' },
        route: { weighted_clusters: { clusters: [{ name: 'a', weight: 1 }], total_weight: 100 } },
      }),
    ).toThrow(
      expect.objectContaining({
        path: 'route_config.virtual_hosts[0].routes[0].route.weighted_clusters.total_weight',
      }),
    );
  });

  test('prefix_rewrite replaces the matched prefix and keeps the query', () => {
    // GIVEN
    const t = single({ match: { prefix: '/api/' }, route: { cluster: 'c', prefix_rewrite: '/' } });
    const r = t.route(req({ path: '/api/users?x=1' }));
    // WHEN / THEN
    if (r.kind !== 'cluster') throw new Error('cluster expected');
    expect(r.route.hasPathRewrite).toBe(true);
    expect(r.route.rewritePath('/api/users?x=1')).toBe('/users?x=1');
  });

  test('regex_rewrite substitutes with RE2 group syntax', () => {
    // GIVEN
    const t = single({
      match: { prefix: '/' },
      route: {
        cluster: 'c',
        regex_rewrite: { pattern: { regex: '^/service/([^/]+)(/.*)$' }, substitution: '\\2/instance/\\1' },
      },
    });
    const r = t.route(req({ path: '/service/foo/v1/api?q' }));
    // WHEN / THEN
    if (r.kind !== 'cluster') throw new Error('cluster expected');
    expect(r.route.rewritePath('/service/foo/v1/api?q')).toBe('/v1/api/instance/foo?q');
  });

  test('direct_response with inline body', () => {
    // GIVEN
    const t = single({
      match: { prefix: '/' },
      direct_response: { status: 418, body: { inline_string: 'teapot' } },
    });
    // WHEN
    const r = t.route(req());
    // THEN
    expect(r.kind).toBe('direct');
    if (r.kind !== 'direct') return;
    expect(r.status).toBe(418);
    expect(r.body?.toString()).toBe('teapot');
    expect(r.headers).toEqual(['content-type', 'text/plain']);
    // headers are fresh per request (the engine mutates them)
    expect((t.route(req()) as { headers: HeaderList }).headers).not.toBe(r.headers);
  });

  test('direct_response status and body size are checked', () => {
    // GIVEN / WHEN / THEN
    expect(() => single({ match: { prefix: '/' }, direct_response: { status: 99 } })).toThrow(
      expect.objectContaining({ path: 'route_config.virtual_hosts[0].routes[0].direct_response.status' }),
    );
    expect(() =>
      single({
        match: { prefix: '/' },
        direct_response: { status: 200, body: { inline_string: 'x'.repeat(5000) } },
      }),
    ).toThrow(/at most 4096/);
  });

  test.each([
    [{ https_redirect: true }, 'http://example.com/a?b', 301, 'https://example.com/a?b'],
    [{ https_redirect: true }, 'http://example.com:80/a', 301, 'https://example.com/a'],
    [
      { scheme_redirect: 'https', port_redirect: 8443 },
      'http://example.com:80/a',
      301,
      'https://example.com:8443/a',
    ],
    [
      { host_redirect: 'new.example.com', response_code: 'FOUND' },
      'http://example.com/a',
      302,
      'http://new.example.com/a',
    ],
    [{ path_redirect: '/new' }, 'http://example.com/old?q=1', 301, 'http://example.com/new?q=1'],
    [{ path_redirect: '/new?x=2' }, 'http://example.com/old?q=1', 301, 'http://example.com/new?x=2'],
    [
      { prefix_rewrite: '/v2/', strip_query: true, response_code: 'PERMANENT_REDIRECT' },
      'http://example.com/v1/a?q',
      308,
      'http://example.com/v2/a',
    ],
  ])('redirect %j on %s', (redirect, url, status, location) => {
    // GIVEN
    const u = new URL(url);
    const t = single({ match: { prefix: u.pathname.startsWith('/v1/') ? '/v1/' : '/' }, redirect });
    // WHEN
    const r = t.route(req({ authority: url.split('/')[2] as string, path: u.pathname + u.search }));
    // THEN
    expect(r).toMatchObject({ kind: 'redirect', status, location });
  });

  test('require_tls ALL redirects plain requests to https', () => {
    // GIVEN
    const t = single({ match: { prefix: '/' }, route: { cluster: 'c' } }, {}, { require_tls: 'ALL' });
    // WHEN / THEN
    expect(t.route(req({ path: '/x' }))).toMatchObject({
      kind: 'redirect',
      status: 301,
      location: 'https://example.com/x',
    });
    expect(t.route(req({ scheme: 'https' })).kind).toBe('cluster');
  });

  test('cluster_header takes the cluster from a request header', () => {
    // GIVEN
    const t = single({ match: { prefix: '/' }, route: { cluster_header: 'x-cluster' } });
    // WHEN / THEN
    expect(clusterOf(t.route(req({ headers: ['x-cluster', 'blue'] })))).toBe('blue');
    expect(clusterOf(t.route(req()))).toBe('');
  });

  test('retry policy: route level overrides virtual host level', () => {
    // GIVEN
    const vhLevel = single(
      { match: { prefix: '/' }, route: { cluster: 'c' } },
      {},
      { retry_policy: { retry_on: '5xx', num_retries: 3 } },
    );
    const routeLevel = single(
      {
        match: { prefix: '/' },
        route: {
          cluster: 'c',
          retry_policy: {
            retry_on: 'connect-failure,reset',
            per_try_timeout: '0.5s',
            retry_back_off: { base_interval: '0.1s' },
          },
        },
      },
      {},
      { retry_policy: { retry_on: '5xx', num_retries: 3 } },
    );
    // WHEN
    const a = vhLevel.route(req());
    const b = routeLevel.route(req());
    // THEN
    if (a.kind !== 'cluster' || b.kind !== 'cluster') throw new Error('cluster expected');
    expect(a.route.retryPolicy?.numRetries).toBe(3);
    expect([...(a.route.retryPolicy?.retryOn ?? [])]).toEqual(['5xx']);
    expect(b.route.retryPolicy).toMatchObject({
      numRetries: 1,
      perTryTimeoutMs: 500,
      backOffBaseMs: 100,
      backOffMaxMs: 1000,
    });
    expect(() =>
      single({ match: { prefix: '/' }, route: { cluster: 'c', retry_policy: { retry_on: '5xx,bogus' } } }),
    ).toThrow(/bogus/);
  });

  test('exactly one action and one target are required', () => {
    // GIVEN / WHEN / THEN
    expect(() => single({ match: { prefix: '/' } })).toThrow(
      expect.objectContaining({ path: 'route_config.virtual_hosts[0].routes[0]' }),
    );
    expect(() => single({ match: { prefix: '/' }, route: {} })).toThrow(/exactly one of cluster/);
    expect(() => single({ match: {}, route: { cluster: 'c' } })).toThrow(/exactly one of prefix/);
  });
});

describe('header mutations', () => {
  const table = compileRouteConfiguration(
    rc(
      [
        {
          name: 'v',
          domains: ['*'],
          request_headers_to_add: [
            { header: { key: 'x-level', value: 'vhost' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          ],
          routes: [
            {
              match: { prefix: '/' },
              route: { cluster: 'c' },
              request_headers_to_add: [
                { header: { key: 'x-level', value: 'route' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
                { header: { key: 'x-client', value: '%DOWNSTREAM_REMOTE_ADDRESS_WITHOUT_PORT%' } },
                { header: { key: 'x-once', value: 'new' }, append_action: 'ADD_IF_ABSENT' },
                { header: { key: 'x-only-if', value: 'set' }, append_action: 'OVERWRITE_IF_EXISTS' },
                { header: { key: 'x-legacy', value: 'v' }, append: false },
                { header: { key: 'x-empty', value: '' } },
                { header: { key: 'x-kept-empty', value: '' }, keep_empty_value: true },
              ],
              request_headers_to_remove: ['x-secret'],
              response_headers_to_add: [{ header: { key: 'x-served-by', value: 'crossmesh %%' } }],
              response_headers_to_remove: ['server'],
            },
          ],
        },
      ],
      {
        request_headers_to_add: [
          { header: { key: 'x-level', value: 'config' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
        ],
      },
    ),
  );

  test('levels apply most specific first, so the route configuration wins by default', () => {
    // GIVEN
    const r = table.route(req());
    if (r.kind !== 'cluster') throw new Error('cluster expected');
    const headers: HeaderList = ['x-secret', 's', 'x-once', 'old', 'x-legacy', 'a', 'x-legacy', 'b'];
    // WHEN
    r.route.applyRequestHeaders(headers, { startTimeMs: 0, downstreamRemoteAddress: '10.1.2.3:4444' });
    // THEN
    expect(getHeader(headers, 'x-level')).toBe('config');
    expect(getHeader(headers, 'x-client')).toBe('10.1.2.3');
    expect(getHeader(headers, 'x-once')).toBe('old');
    expect(getHeader(headers, 'x-only-if')).toBeUndefined();
    expect(headers.filter((h) => h === 'x-legacy')).toHaveLength(1);
    expect(getHeader(headers, 'x-legacy')).toBe('v');
    expect(getHeader(headers, 'x-secret')).toBeUndefined();
    expect(getHeader(headers, 'x-empty')).toBeUndefined();
    expect(getHeader(headers, 'x-kept-empty')).toBe('');
  });

  test('most_specific_header_mutations_wins reverses the order', () => {
    // GIVEN
    const t = compileRouteConfiguration(
      rc(
        [
          {
            name: 'v',
            domains: ['*'],
            routes: [
              {
                match: { prefix: '/' },
                route: { cluster: 'c' },
                request_headers_to_add: [
                  { header: { key: 'x-l', value: 'route' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
                ],
              },
            ],
          },
        ],
        {
          most_specific_header_mutations_wins: true,
          request_headers_to_add: [
            { header: { key: 'x-l', value: 'config' }, append_action: 'OVERWRITE_IF_EXISTS_OR_ADD' },
          ],
        },
      ),
    );
    const r = t.route(req());
    if (r.kind !== 'cluster') throw new Error('cluster expected');
    const headers: HeaderList = [];
    // WHEN
    r.route.applyRequestHeaders(headers);
    // THEN
    expect(getHeader(headers, 'x-l')).toBe('route');
  });

  test('response mutations, %% is a literal percent', () => {
    // GIVEN
    const r = table.route(req());
    if (r.kind !== 'cluster') throw new Error('cluster expected');
    const headers: HeaderList = ['server', 'nginx'];
    // WHEN
    r.route.applyResponseHeaders(headers);
    // THEN
    expect(headers).toEqual(['x-served-by', 'crossmesh %']);
  });

  test('pseudo-headers, host and unknown commands are config errors', () => {
    // GIVEN / WHEN / THEN
    const bad = (h: Record<string, unknown>) =>
      compileRouteConfiguration(
        rc([
          {
            name: 'v',
            domains: ['*'],
            routes: [{ match: { prefix: '/' }, route: { cluster: 'c' }, ...h } as never],
          },
        ]),
      );
    expect(() => bad({ request_headers_to_add: [{ header: { key: ':path', value: '/' } }] })).toThrow(
      expect.objectContaining({
        path: 'route_config.virtual_hosts[0].routes[0].request_headers_to_add[0].header.key',
      }),
    );
    expect(() => bad({ request_headers_to_remove: ['Host'] })).toThrow(/may not be modified/);
    expect(() => bad({ request_headers_to_add: [{ header: { key: 'x', value: '%NOPE%' } }] })).toThrow(
      /unknown command %NOPE%/,
    );
    expect(() => bad({ request_headers_to_add: [{ header: { key: 'x', value: 'a\r\nb' } }] })).toThrow(
      /CR, LF/,
    );
  });

  test('weighted cluster level mutations apply first', () => {
    // GIVEN
    const t = compileRouteConfiguration(
      rc([
        {
          name: 'v',
          domains: ['*'],
          routes: [
            {
              match: { prefix: '/' },
              route: {
                weighted_clusters: {
                  clusters: [
                    {
                      name: 'a',
                      weight: 1,
                      request_headers_to_add: [{ header: { key: 'x-wc', value: 'a' } }],
                      host_rewrite_literal: 'a.internal',
                    },
                  ],
                },
              },
            },
          ],
        },
      ]),
    );
    const r = t.route(req());
    if (r.kind !== 'cluster') throw new Error('cluster expected');
    const headers: HeaderList = [];
    // WHEN
    r.route.applyRequestHeaders(headers);
    // THEN
    expect(headers).toEqual(['x-wc', 'a']);
    expect(r.route.hostRewrite).toBe('a.internal');
  });
});

describe('hash policy', () => {
  function hashRoute(hash_policy: unknown[]) {
    const t = compileRouteConfiguration(
      rc([
        {
          name: 'v',
          domains: ['*'],
          routes: [{ match: { prefix: '/' }, route: { cluster: 'c', hash_policy } as never }],
        },
      ]),
    );
    const r = t.route(req());
    if (r.kind !== 'cluster') throw new Error('cluster expected');
    return r.route;
  }

  test('header, cookie, source ip and query parameter produce stable 53-bit hashes', () => {
    // GIVEN
    const byHeader = hashRoute([{ header: { header_name: 'x-user' } }]);
    const byCookie = hashRoute([{ cookie: { name: 'session' } }]);
    const byIp = hashRoute([{ connection_properties: { source_ip: true } }]);
    const byQuery = hashRoute([{ query_parameter: { name: 'u' } }]);
    // WHEN
    const h1 = byHeader.hashKey(req({ headers: ['x-user', 'alice'] }));
    const h2 = byHeader.hashKey(req({ headers: ['x-user', 'alice'] }));
    const h3 = byHeader.hashKey(req({ headers: ['x-user', 'bob'] }));
    // THEN
    expect(h1).toBe(h2);
    expect(h1).not.toBe(h3);
    expect(Number.isSafeInteger(h1)).toBe(true);
    expect(byHeader.hashKey(req())).toBeUndefined();
    expect(byCookie.hashKey(req({ headers: ['cookie', 'a=1; session="abc"'] }))).toBe(
      byHeader.hashKey(req({ headers: ['x-user', 'abc'] })),
    );
    expect(byIp.hashKey(req({ sourceAddress: '10.0.0.1:1' }))).toBe(
      byIp.hashKey(req({ sourceAddress: '10.0.0.1:2' })),
    );
    expect(byQuery.hashKey(req({ path: '/?u=abc' }))).toBe(
      byHeader.hashKey(req({ headers: ['x-user', 'abc'] })),
    );
  });

  test('terminal stops after the first policy that produced a hash', () => {
    // GIVEN
    const terminal = hashRoute([
      { header: { header_name: 'x-a' }, terminal: true },
      { header: { header_name: 'x-b' } },
    ]);
    const combined = hashRoute([{ header: { header_name: 'x-a' } }, { header: { header_name: 'x-b' } }]);
    const onlyA = hashRoute([{ header: { header_name: 'x-a' } }]);
    const both = req({ headers: ['x-a', '1', 'x-b', '2'] });
    // WHEN / THEN
    expect(terminal.hashKey(both)).toBe(onlyA.hashKey(both));
    expect(combined.hashKey(both)).not.toBe(onlyA.hashKey(both));
    // a terminal policy without a value does not stop the chain
    expect(terminal.hashKey(req({ headers: ['x-b', '2'] }))).toBe(
      hashRoute([{ header: { header_name: 'x-b' } }]).hashKey(req({ headers: ['x-b', '2'] })),
    );
  });

  test('a hash policy without a name is a config error', () => {
    // GIVEN / WHEN / THEN
    expect(() => hashRoute([{ header: {} }])).toThrow(
      expect.objectContaining({
        path: 'route_config.virtual_hosts[0].routes[0].route.hash_policy[0].header.header_name',
      }),
    );
    expect(() => hashRoute([{ cookie: { name: '' } }])).toThrow(/non-empty name/);
  });

  test('a cookie policy with ttl generates the cookie when missing', () => {
    // GIVEN
    const route = hashRoute([{ cookie: { name: 'sticky', ttl: '3600s', path: '/' } }]);
    const out: { setCookie?: string } = {};
    // WHEN
    const h = route.hashKey(req(), out);
    // THEN
    expect(h).toBeTypeOf('number');
    expect(out.setCookie).toMatch(/^sticky="[0-9a-f]{16}"; Max-Age=3600; Path=\/; HttpOnly$/);
    const value = /"([0-9a-f]+)"/.exec(out.setCookie ?? '')?.[1];
    expect(route.hashKey(req({ headers: ['cookie', `sticky=${value}`] }))).toBe(h);
  });
});
