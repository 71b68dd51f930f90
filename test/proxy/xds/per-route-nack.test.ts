/**
 * Per-route filter configs over RDS: a route configuration whose `typed_per_filter_config` does not
 * compile is NACKed (the error detail names the field) and the last good one keeps serving with
 * its per-route settings; a good update is compiled before it is applied. The proxy runs in
 * process from a dynamic bootstrap, fed by the project's real control plane (controlplane/server.ts
 * over gRPC on loopback, port 0), forwarding to a real node:http upstream. Nothing is stood in.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { Snapshot } from '../../../controlplane/snapshot.js';
import { TYPE } from '../../../controlplane/types.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { startDynamicProxy } from '../../../proxy/xds/dynamic.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import {
  adsBootstrap,
  routedGet as call,
  edsCluster,
  httpListener,
  lastNack,
  ROUTER_FILTER,
  startControlPlane,
} from './fixtures.js';

const RATELIMIT = 'type.googleapis.com/envoy.extensions.filters.http.local_ratelimit.v3.LocalRateLimit';
const ALWAYS = { default_value: { numerator: 100, denominator: 'HUNDRED' } };

function limit(maxTokens: number): Record<string, unknown> {
  return {
    '@type': RATELIMIT,
    stat_prefix: 'route_rl',
    token_bucket: { max_tokens: maxTokens, tokens_per_fill: 1, fill_interval: '60s' },
    filter_enabled: ALWAYS,
    filter_enforced: ALWAYS,
  };
}

/** Routes `/limited` with a per-route local rate limit of `maxTokens` and the tag `tag`. */
function routes(maxTokens: number, tag: string): Record<string, unknown> {
  return {
    name: 'main',
    virtual_hosts: [
      {
        name: 'all',
        domains: ['*'],
        response_headers_to_add: [{ header: { key: 'x-routes', value: tag } }],
        routes: [
          {
            match: { prefix: '/limited' },
            route: { cluster: 'app' },
            typed_per_filter_config: { 'envoy.filters.http.local_ratelimit': limit(maxTokens) },
          },
          { match: { prefix: '/' }, route: { cluster: 'app' } },
        ],
      },
    ],
  };
}

function snapshot(upstreamPort: number, rc: Record<string, unknown>): Snapshot {
  const { cluster, cla } = edsCluster('app', upstreamPort);
  return Snapshot.fromResources({
    [TYPE.cluster]: [cluster],
    [TYPE.endpoint]: [cla],
    [TYPE.listener]: [
      httpListener('ingress', 'main', {
        httpFilters: [
          // The filter itself limits nothing (1000 tokens); the routes' configs do.
          { name: 'envoy.filters.http.local_ratelimit', typed_config: limit(1000) },
          ROUTER_FILTER,
        ],
      }),
    ],
    [TYPE.route]: [rc],
  });
}

describe('per-route filter configs over RDS', () => {
  const closer = new Closer();
  afterAll(() => closer.closeAll());

  test('a per-route config that does not compile is NACKed naming the field; the last good one keeps limiting', async () => {
    // GIVEN a control plane serving routes whose /limited route allows 2 requests a minute
    const up = await httpUpstream(closer, 'app');
    const {
      cache,
      server,
      port: cpPort,
    } = await startControlPlane(closer, 'edge', snapshot(up.port, routes(2, 'v1')));
    const bootstrap = loadBootstrap(JSON.stringify(adsBootstrap('edge', cpPort)), { format: 'json' });
    const proxy = await startDynamicProxy(bootstrap, { logLevel: 'off' });
    closer.add(() => proxy.close());
    const port = proxy.runtime()?.listeners.get('ingress')?.port ?? 0;
    expect(await call(port, '/limited')).toMatchObject({ status: 200, routes: 'v1' });

    // WHEN an RDS update carries a per-route config with max_tokens 0
    cache.setSnapshot('edge', snapshot(up.port, routes(0, 'v2')));
    // THEN it is NACKed with the field's path in the error detail
    await expect
      .poll(() => lastNack(server, 'edge'), { timeout: 5000 })
      .toMatch(
        /typed_per_filter_config\["envoy\.filters\.http\.local_ratelimit"\]\.token_bucket\.max_tokens/,
      );
    expect(proxy.client.nacks.at(-1)?.message).toMatch(/max_tokens/);
    // AND the last good routes keep serving, their per-route bucket still in force
    expect(await call(port, '/limited')).toMatchObject({ status: 200, routes: 'v1' });
    expect(await call(port, '/limited')).toMatchObject({ status: 429 });
    expect(await call(port, '/other')).toMatchObject({ status: 200, routes: 'v1' });

    // WHEN a good update follows (5 tokens on /limited)
    const inPlace = proxy.inPlaceUpdates();
    cache.setSnapshot('edge', snapshot(up.port, routes(5, 'v3')));
    // THEN it applies in place, and its per-route config limits with its own fresh bucket
    await expect.poll(async () => (await call(port, '/')).routes, { timeout: 5000 }).toBe('v3');
    expect(proxy.inPlaceUpdates()).toBeGreaterThan(inPlace);
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await call(port, '/limited')).status);
    expect(statuses).toEqual([200, 200, 200, 200, 200, 429]);
  });
});
