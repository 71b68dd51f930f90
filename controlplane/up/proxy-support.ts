/**
 * What the bundled proxy runs, asked of the proxy itself rather than kept in a list. For each
 * feature a static list would have to track, a two-service probe mesh using only that feature is
 * rendered exactly as `crossmesh up` renders, then applied the way the xDS proxy applies a state:
 * the strict loader with the proxy's supported subset, then the engine's compile of every listener
 * and cluster (`validateProxyConfig`). A feature the proxy refuses is left out of what `up` serves
 * and reported use by use, with the proxy's own message, so nothing is dropped silently; the day
 * the proxy implements a feature, `up` serves it without a change here.
 */
import { localPlacement } from '../../adapters/envoy/placement.js';
import { renderEnvoy } from '../../adapters/envoy/render.js';
import { canonicalize } from '../../model/canonical.js';
import { detectFeatures } from '../../model/detect.js';
import type { FeatureId } from '../../model/features.js';
import type { DroppedFeature } from '../../model/target.js';
import type { Mesh, Route, RoutePolicy, Service, ServicePolicy } from '../../model/types.js';
import { validateProxyConfig } from '../../proxy/main.js';
import { loadState, readDynamicBootstrap } from '../../proxy/xds/bootstrap.js';
import type { Resource, XdsState } from '../../proxy/xds/client.js';

type Patch = { readonly api?: Record<string, unknown>; readonly route?: Record<string, unknown> };

/**
 * Features probed, each with its use in the probe mesh (`web` calls `api`; the patch goes on `api`
 * or on its one route). Only features this file can also remove (see {@link withoutRefused}).
 */
const PROBES: Readonly<Partial<Record<FeatureId, Patch>>> = {
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
  'route.mirror': { route: { mirror: { service: 'api' } } },
  'route.fault.delay': { route: { fault: { delay: { duration: '1s', percent: 10 } } } },
  'route.fault.abort': { route: { fault: { abort: { httpStatus: 503, percent: 10 } } } },
  'route.rewrite.path': { route: { rewrite: { path: '/x' } } },
  'policy.rate-limit': { api: { policy: { rateLimit: { requests: 10, per: '1s' } } } },
  'policy.retries': { route: { policy: { retries: { attempts: 2 } } } },
  'policy.timeouts.idle': { api: { policy: { timeouts: { idle: '1m' } } } },
  'policy.outlier-detection': { api: { policy: { outlierDetection: { consecutive5xx: 3 } } } },
  'policy.connection-pool': {
    api: { policy: { connectionPool: { maxConnections: 10, maxRequests: 10, maxRetries: 3 } } },
  },
  'policy.health-check.http': { api: { policy: { healthCheck: { kind: 'http', path: '/health' } } } },
};

/** Every feature probed (docs/local-mesh.md names them; a test keeps the two in step). */
export const PROBED_FEATURES: readonly FeatureId[] = Object.keys(PROBES) as FeatureId[];

/** The probed features the bundled proxy does not run. */
export interface ProxySupport {
  /** Refused (the proxy's message, naming the field): left out. */
  readonly refused: ReadonlyMap<FeatureId, string>;
}

function probeMesh(patch: Patch): Mesh {
  const run = { local: { kind: 'command', command: ['node', 'app.mjs'] } };
  return canonicalize({
    name: 'probe',
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

/**
 * Applies every proxy of a mesh as the xDS proxy would (loader, then runtime compile), yielding
 * each proxy that refuses its configuration with the error, one proxy at a time.
 */
export async function* proxyRefusals(
  mesh: Mesh,
): AsyncGenerator<{ readonly id: string; readonly error: unknown }> {
  let port = 20000;
  const output = renderEnvoy(mesh, {
    placement: localPlacement(mesh, () => port++),
    controlPlane: { host: '127.0.0.1', port: 1 },
  });
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
      // A deprecated-field warning says nothing about whether the feature runs: not printed.
      const { bootstrap } = loadState(readDynamicBootstrap(proxy.bootstrap).base, state, () => undefined);
      await validateProxyConfig(bootstrap);
    } catch (error) {
      yield { id: proxy.id, error };
    }
  }
}

/** The first proxy refusal of a mesh, as one concise sentence, if any. */
async function apply(mesh: Mesh): Promise<string | undefined> {
  for await (const { error } of proxyRefusals(mesh))
    return concise(error instanceof Error ? error.message : String(error));
  return undefined;
}

/** The proxy's sentence about the field (`envoy....request_mirror_policies is not supported ...`), without the path. */
function concise(message: string): string {
  const sentence = /([\w.]+ is not supported[^;\n]*)/.exec(message);
  return sentence?.[1] ?? message.split('\n')[0] ?? message;
}

let cached: Promise<ProxySupport> | undefined;

/** Probes the bundled proxy once per process (a few milliseconds per feature). */
export function bundledProxySupport(): Promise<ProxySupport> {
  cached ??= (async () => {
    const refused = new Map<FeatureId, string>();
    for (const [feature, patch] of Object.entries(PROBES) as [FeatureId, Patch][]) {
      const refusal = await apply(probeMesh(patch));
      if (refusal !== undefined) refused.set(feature, refusal);
    }
    return { refused };
  })();
  return cached;
}

/** Every use in `mesh` of a feature the bundled proxy refuses (left out by `up`). */
export function refusedUses(mesh: Mesh, support: ProxySupport): DroppedFeature[] {
  return detectFeatures(mesh).flatMap((use) => {
    const reason = support.refused.get(use.feature);
    return reason === undefined ? [] : [{ ...use, reason }];
  });
}

/** The mesh without the refused features (a new object; the input is not changed). */
export function withoutRefused(mesh: Mesh, support: ProxySupport): Mesh {
  const off = (feature: FeatureId) => support.refused.has(feature);
  const policy = <T extends RoutePolicy | ServicePolicy | undefined>(p: T): T => {
    if (p === undefined) return p;
    const out: Record<string, unknown> = { ...p };
    if (off('policy.rate-limit')) delete out.rateLimit;
    if (off('policy.retries')) delete out.retries;
    if (off('policy.outlier-detection')) delete out.outlierDetection;
    if (off('policy.connection-pool')) delete out.connectionPool;
    if (off('policy.health-check.http')) delete out.healthCheck;
    if (off('policy.timeouts.idle') && out.timeouts !== undefined)
      out.timeouts = { ...(out.timeouts as object), idle: '5m' };
    return out as T;
  };
  const route = (r: Route): Route => {
    const out: Record<string, unknown> = {
      ...r,
      ...(r.policy === undefined ? {} : { policy: policy(r.policy) }),
    };
    if (off('route.mirror')) delete out.mirror;
    if (r.fault !== undefined) {
      const fault: Record<string, unknown> = { ...r.fault };
      if (off('route.fault.delay')) delete fault.delay;
      if (off('route.fault.abort')) delete fault.abort;
      if (Object.keys(fault).length === 0) delete out.fault;
      else out.fault = fault;
    }
    if (off('route.rewrite.path') && r.rewrite?.path !== undefined) {
      const { path: _path, ...rewrite } = r.rewrite;
      out.rewrite = rewrite;
    }
    return out as unknown as Route;
  };
  const services: Record<string, Service> = {};
  for (const [name, s] of Object.entries(mesh.services)) {
    services[name] = {
      ...s,
      ...(s.routes === undefined ? {} : { routes: s.routes.map(route) }),
      ...(s.policy === undefined ? {} : { policy: policy(s.policy) }),
      ...(off('authorization') || off('authorization.paths') || off('authorization.methods')
        ? { authorization: { action: 'allow-all', rules: [] } }
        : {}),
    };
  }
  return { ...mesh, services, ...(mesh.defaults === undefined ? {} : { defaults: policy(mesh.defaults) }) };
}
