/**
 * The bundled-proxy lists are checked against the proxy itself. Each feature, used alone in a
 * small mesh, rendered and loaded the way `crossmesh up` loads it (the proxy's strict loader with
 * its supported subset): a REFUSED feature must be refused, and the mesh without it must load; a
 * NOT-ENFORCED feature must load with a PROXY_W_PLANNED warning. When the proxy gains a feature,
 * this test fails and the entry must go. Rendering, inlining and loading are the real code.
 */
import { describe, expect, test } from 'vitest';
import {
  BUNDLED_PROXY_NOT_ENFORCED,
  BUNDLED_PROXY_REFUSES,
  bundledProxyDrops,
  bundledProxyNotEnforced,
  withoutBundledProxyGaps,
} from '../../../adapters/envoy/bundled.js';
import { localPlacement } from '../../../adapters/envoy/placement.js';
import { renderEnvoy } from '../../../adapters/envoy/render.js';
import { canonicalize } from '../../../model/canonical.js';
import type { FeatureId } from '../../../model/features.js';
import type { Mesh } from '../../../model/types.js';
import { loadState, readDynamicBootstrap } from '../../../proxy/xds/bootstrap.js';
import type { Resource, XdsState } from '../../../proxy/xds/client.js';

type Patch = { api?: Record<string, unknown>; route?: Record<string, unknown> };

/** One small mesh per gap: `web` calls `api`, and `api` (or its route) uses the feature. */
const USES: Record<string, Patch> = {
  authorization: { api: { authorization: { action: 'allow-listed', rules: [{ from: ['web'] }] } } },
  'authorization.paths': {
    api: {
      authorization: {
        action: 'allow-listed',
        rules: [{ from: ['web'], paths: [{ kind: 'prefix', value: '/' }] }],
      },
    },
  },
  'authorization.methods': {
    api: { authorization: { action: 'allow-listed', rules: [{ from: ['web'], methods: ['GET'] }] } },
  },
  'policy.retries': { route: { policy: { retries: { attempts: 2 } } } },
  'policy.retries.per-try-timeout': { route: { policy: { retries: { attempts: 2, perTryTimeout: '1s' } } } },
  'policy.retries.backoff': {
    route: { policy: { retries: { attempts: 2, backoff: { base: '10ms', max: '1s' } } } },
  },
  'policy.timeouts.idle': { api: { policy: { timeouts: { idle: '1m' } } } },
  'policy.outlier-detection': { api: { policy: { outlierDetection: { consecutive5xx: 3 } } } },
  'policy.connection-pool': { api: { policy: { connectionPool: { maxConnections: 10, maxRequests: 10 } } } },
  'policy.rate-limit': { api: { policy: { rateLimit: { requests: 10, per: '1s' } } } },
  'route.fault.delay': { route: { fault: { delay: { duration: '1s', percent: 10 } } } },
  'route.fault.abort': { route: { fault: { abort: { httpStatus: 503, percent: 10 } } } },
  'route.mirror': { route: { mirror: { service: 'api' } } },
};

function meshWith(patch: Patch): Mesh {
  const run = { local: { kind: 'command', command: ['node', 'app.mjs'] } };
  return canonicalize({
    name: 'gap',
    services: {
      web: { ports: [{ port: 8080, protocol: 'http' }], versions: { v1: run }, backends: ['api'] },
      api: {
        ports: [{ port: 8080, protocol: 'http' }],
        versions: { v1: run },
        routes: [{ name: 'all', destinations: [{ version: 'v1' }], ...patch.route }],
        ...patch.api,
      },
    },
  });
}

/** What loading every proxy of the mesh gives: refusals and planned-feature warnings. */
function load(mesh: Mesh): { problems: string[]; planned: string[] } {
  let port = 20000;
  const output = renderEnvoy(mesh, {
    placement: localPlacement(mesh, () => port++),
    controlPlane: { host: '127.0.0.1', port: 1 },
  });
  const problems: string[] = [];
  const planned: string[] = [];
  for (const proxy of output.proxies) {
    const byName = (list: readonly Resource[], key: string) => new Map(list.map((r) => [String(r[key]), r]));
    const state: XdsState = {
      listeners: byName(proxy.resources.listeners, 'name'),
      routes: byName(proxy.resources.routes, 'name'),
      clusters: byName(proxy.resources.clusters, 'name'),
      endpoints: byName(proxy.resources.endpoints, 'cluster_name'),
      versions: {},
    };
    try {
      loadState(readDynamicBootstrap(proxy.bootstrap).base, state, (w) => {
        if (w.code === 'PROXY_W_PLANNED') planned.push(w.message);
      });
    } catch (error) {
      problems.push(`${proxy.id}: ${(error as Error).message}`);
    }
  }
  return { problems, planned };
}

describe('bundled proxy lists', () => {
  test('every listed feature has a use in this test', () => {
    // GIVEN / THEN the table above covers both lists exactly
    const listed = [...Object.keys(BUNDLED_PROXY_REFUSES), ...Object.keys(BUNDLED_PROXY_NOT_ENFORCED)];
    expect(Object.keys(USES).sort()).toEqual(listed.sort());
  });

  for (const feature of Object.keys(BUNDLED_PROXY_REFUSES)) {
    test(`${feature}: refused by the bundled proxy; the mesh up serves (without it) loads`, () => {
      // GIVEN a mesh that uses the feature
      const mesh = meshWith(USES[feature] ?? {});
      // THEN it is detected, the proxy refuses it (drop the entry when it stops), and without it all loads
      expect(bundledProxyDrops(mesh).map((d) => d.feature)).toContain(feature as FeatureId);
      expect(load(mesh).problems).not.toEqual([]);
      expect(load(withoutBundledProxyGaps(mesh)).problems).toEqual([]);
    });
  }

  for (const feature of Object.keys(BUNDLED_PROXY_NOT_ENFORCED)) {
    test(`${feature}: accepted by the bundled proxy with a not-enforced-yet warning`, () => {
      // GIVEN a mesh that uses the feature
      const mesh = meshWith(USES[feature] ?? {});
      // WHEN it is loaded as up serves it (nothing left out)
      const result = load(withoutBundledProxyGaps(mesh));
      // THEN it loads, and the proxy says it does not enforce something (drop the entry when it does)
      expect(bundledProxyNotEnforced(mesh).map((d) => d.feature)).toContain(feature as FeatureId);
      expect(result.problems).toEqual([]);
      expect(result.planned).not.toEqual([]);
    });
  }
});
