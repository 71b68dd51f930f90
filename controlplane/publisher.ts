/**
 * Publishing a rendered mesh: every proxy's snapshot and the proxyless one are set together (all
 * or nothing), and node ids map to their own snapshot, or to the proxyless one for any other
 * client. The one path `crossmesh control-plane` and `crossmesh up` share.
 */
import type { EnvoyOutput } from '../adapters/envoy/render.js';
import { SnapshotCache } from './cache.js';
import { envoyNodeKey, snapshotsFromEnvoy } from './from-envoy.js';

/** What one publish did. */
export interface PublishResult {
  /** Number of snapshots set (proxies + the proxyless one). */
  readonly snapshots: number;
  /** Snapshot versions, by node key. */
  readonly versions: ReadonlyMap<string, string>;
  /** Time spent building the snapshots, in milliseconds. */
  readonly buildMs: number;
}

/** A cache fed by successive renders of one mesh. */
export class MeshPublisher {
  /** The cache the xDS server reads. */
  readonly cache: SnapshotCache;
  #known: ReadonlySet<string> = new Set();

  constructor() {
    this.cache = new SnapshotCache({ nodeKey: envoyNodeKey(() => this.#known) });
  }

  /**
   * Sets every snapshot of a render. Throws (MeshError) without changing anything when a snapshot
   * is inconsistent, so a bad mesh edit never reaches a proxy.
   */
  publish(output: EnvoyOutput): PublishResult {
    const started = performance.now();
    const snapshots = snapshotsFromEnvoy(output);
    const buildMs = performance.now() - started;
    this.cache.setSnapshots(snapshots);
    this.#known = new Set(output.proxies.map((p) => p.id));
    return {
      snapshots: snapshots.size,
      versions: new Map([...snapshots].map(([k, s]) => [k, s.version])),
      buildMs,
    };
  }
}
