/**
 * Two listeners whose HTTP connection managers name the same RDS route configuration: a route
 * update must reach both (regression: only the last listener's table was re-pointed, the other
 * kept answering with the old routes). The proxy runs in process from a dynamic bootstrap, fed by
 * the project's real control plane (controlplane/server.ts over gRPC on loopback, port 0), with a
 * real node:http upstream. Nothing is stood in.
 */
import { afterAll, describe, expect, test } from 'vitest';
import { Snapshot } from '../../../controlplane/snapshot.js';
import { TYPE } from '../../../controlplane/types.js';
import { loadBootstrap } from '../../../proxy/config/index.js';
import { startDynamicProxy } from '../../../proxy/xds/dynamic.js';
import { Closer, httpUpstream } from '../e2e/helpers.js';
import {
  adsBootstrap,
  H2_PROTOCOL_OPTIONS,
  httpListener,
  routedGet,
  startControlPlane,
  staticCluster,
  taggedRoutes,
} from './fixtures.js';

/** Listeners `a` and `b` (port 0) both routed by RDS `shared`, whose responses carry `tag`. */
function snapshot(upstreamPort: number, tag: string): Snapshot {
  return Snapshot.fromResources({
    [TYPE.cluster]: [staticCluster('app', upstreamPort)],
    [TYPE.listener]: [httpListener('a', 'shared'), httpListener('b', 'shared')],
    [TYPE.route]: [taggedRoutes('shared', 'app', tag)],
  });
}

/** The `x-routes` header of a GET through the proxy. */
async function routesTag(port: number): Promise<string> {
  return (await routedGet(port)).routes;
}

describe('listeners sharing one RDS route configuration', () => {
  const closer = new Closer();
  afterAll(() => closer.closeAll());

  test('a route update applies to every listener that names it', async () => {
    // GIVEN a control plane serving two listeners that share route configuration "shared" (v1)
    const up = await httpUpstream(closer, 'up');
    const { cache, port: cpPort } = await startControlPlane(closer, 'shared', snapshot(up.port, 'v1'));
    const proxy = await startDynamicProxy(
      loadBootstrap(JSON.stringify(adsBootstrap('shared', cpPort, { xds: H2_PROTOCOL_OPTIONS })), {
        format: 'json',
      }),
      { logLevel: 'off' },
    );
    closer.add(() => proxy.close());
    const ports = ['a', 'b'].map((n) => proxy.runtime()?.listeners.get(n)?.port ?? 0);
    expect(await Promise.all(ports.map(routesTag))).toEqual(['v1', 'v1']);
    // WHEN only the route configuration changes (applied in place, no listener re-bound)
    const swaps = proxy.swaps();
    cache.setSnapshot('shared', snapshot(up.port, 'v2'));
    // THEN both listeners answer with it
    await expect.poll(() => Promise.all(ports.map(routesTag)), { timeout: 5000 }).toEqual(['v2', 'v2']);
    expect(proxy.swaps()).toBe(swaps);
  }, 30_000);
});
