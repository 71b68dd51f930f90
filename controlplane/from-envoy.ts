/** Snapshots from the Envoy renderer's output: one per proxy, one shared by proxyless clients. */

import { PROXYLESS_NODE } from '../adapters/envoy/names.js';
import type { EnvoyOutput, EnvoyResources } from '../adapters/envoy/render.js';
import type { NodeKey } from './cache.js';
import { type ResourceLists, Snapshot } from './snapshot.js';
import { TYPE } from './types.js';

/** Resource lists by type URL. */
export function resourceLists(resources: EnvoyResources): ResourceLists {
  return {
    [TYPE.cluster]: resources.clusters,
    [TYPE.endpoint]: resources.endpoints,
    [TYPE.listener]: resources.listeners,
    [TYPE.route]: resources.routes,
    [TYPE.secret]: resources.secrets,
  };
}

/** Every snapshot of a rendered mesh, keyed by node id ({@link PROXYLESS_NODE} for proxyless clients). */
export function snapshotsFromEnvoy(output: EnvoyOutput): Map<string, Snapshot> {
  const snapshots = new Map<string, Snapshot>();
  for (const proxy of output.proxies)
    snapshots.set(proxy.id, Snapshot.fromResources(resourceLists(proxy.resources)));
  snapshots.set(PROXYLESS_NODE, Snapshot.fromResources(resourceLists(output.proxyless)));
  return snapshots;
}

/**
 * Node key of a rendered mesh: a proxy's own id when the renderer emitted it, otherwise the shared
 * proxyless snapshot (any gRPC client bootstrapped with any id resolves `xds:///<service>`).
 */
export function envoyNodeKey(known: () => ReadonlySet<string>): NodeKey {
  return (id) => (known().has(id) ? id : PROXYLESS_NODE);
}
