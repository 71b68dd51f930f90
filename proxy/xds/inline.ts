/**
 * Turns an xDS state into the static bootstrap the bundled proxy runs: each listener's `rds`
 * becomes an inline `route_config`, each EDS cluster a STATIC cluster whose `load_assignment` is
 * its ClusterLoadAssignment, and each secret fetched over ADS (SDS) a static secret: the
 * references lose their `sds_config: {ads}` and the loader inlines the secret where it is named
 * (proxy-mtls). Applying xDS then goes through the same strict loader and runtime
 * as a hand-written config, so both paths accept and reject exactly the same things.
 */
import type { Resource, XdsState } from './client.js';

const HCM_TYPE =
  'type.googleapis.com/envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager';

/** The parts of the dynamic bootstrap that stay: node, admin and the static resources (the xDS cluster). */
export interface BaseBootstrap {
  readonly node?: Resource;
  readonly admin?: Resource;
  readonly static_resources?: {
    readonly listeners?: readonly Resource[];
    readonly clusters?: readonly Resource[];
    /** Static secrets of the bootstrap, kept beside those fetched over ADS. */
    readonly secrets?: readonly Resource[];
  };
}

function inlineRds(value: unknown, routes: ReadonlyMap<string, Resource>): unknown {
  if (Array.isArray(value)) return value.map((v) => inlineRds(v, routes));
  if (value === null || typeof value !== 'object') return value;
  const object = value as Resource;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(object)) out[key] = inlineRds(v, routes);
  if (object['@type'] === HCM_TYPE && object.rds !== undefined) {
    const name = String((object.rds as Resource).route_config_name ?? '');
    delete out.rds;
    // A route configuration that never arrived (warming timed out) serves 404s, as Envoy does.
    out.route_config = routes.get(name) ?? { name, virtual_hosts: [] };
  }
  return out;
}

/** Drops `sds_config` from SDS references that fetch over ADS: the state carries those secrets. */
function staticSecretRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(staticSecretRefs);
  if (value === null || typeof value !== 'object') return value;
  const object = value as Resource;
  const out: Record<string, unknown> = {};
  for (const [key, v] of Object.entries(object)) out[key] = staticSecretRefs(v);
  const source = object.sds_config as Resource | undefined;
  if (typeof object.name === 'string' && source?.ads !== undefined && Object.keys(object).length === 2) {
    delete out.sds_config;
  }
  return out;
}

function staticCluster(cluster: Resource, endpoints: ReadonlyMap<string, Resource>): Resource {
  if (cluster.type !== 'EDS') return cluster;
  const { eds_cluster_config: eds, type: _type, ...rest } = cluster;
  const serviceName = String((eds as Resource | undefined)?.service_name || cluster.name);
  const assignment = endpoints.get(serviceName) ?? { endpoints: [] };
  return { ...rest, type: 'STATIC', load_assignment: { ...assignment, cluster_name: String(cluster.name) } };
}

/** The static bootstrap equivalent of `base` + `state`, as a plain JSON object. */
export function staticBootstrap(base: BaseBootstrap, state: XdsState): Resource {
  const byName = (a: Resource, b: Resource) => String(a.name).localeCompare(String(b.name));
  const secrets = [
    ...(base.static_resources?.secrets ?? []),
    ...[...(state.secrets?.values() ?? [])].sort(byName),
  ];
  return {
    ...(base.node === undefined ? {} : { node: base.node }),
    ...(base.admin === undefined ? {} : { admin: base.admin }),
    static_resources: {
      listeners: [
        ...(base.static_resources?.listeners ?? []),
        ...[...state.listeners.values()]
          .sort(byName)
          .map((l) => staticSecretRefs(inlineRds(l, state.routes)) as Resource),
      ],
      clusters: [
        ...(base.static_resources?.clusters ?? []),
        ...[...state.clusters.values()]
          .sort(byName)
          .map((c) => staticSecretRefs(staticCluster(c, state.endpoints)) as Resource),
      ],
      ...(secrets.length === 0 ? {} : { secrets }),
    },
  };
}
