/**
 * A snapshot cache in the style of go-control-plane's: one immutable snapshot per node key,
 * checked for consistency before it is set, and listeners (the xDS streams' parked watches) told
 * when a key's snapshot changes.
 */
import { MeshError } from '../errors/index.js';
import type { Snapshot } from './snapshot.js';

/** Maps a node id to the key its snapshot is stored under. */
export type NodeKey = (nodeId: string) => string;

/** Options of {@link SnapshotCache}. */
export interface SnapshotCacheOptions {
  /** Maps node ids to snapshot keys. @default - the node id itself */
  readonly nodeKey?: NodeKey;
}

/** Per-node snapshots with change notification. */
export class SnapshotCache {
  /** Maps node ids to snapshot keys. */
  readonly nodeKey: NodeKey;
  readonly #snapshots = new Map<string, Snapshot>();
  readonly #listeners = new Map<string, Set<(snapshot: Snapshot) => void>>();

  constructor(options: SnapshotCacheOptions = {}) {
    this.nodeKey = options.nodeKey ?? ((id) => id);
  }

  /**
   * Sets a key's snapshot after checking it, then wakes every watch on that key.
   * @throws MeshError CP_E_INCONSISTENT listing every dangling or orphaned reference; the previous snapshot stays
   */
  setSnapshot(key: string, snapshot: Snapshot): void {
    const problems = snapshot.consistencyProblems();
    if (problems.length > 0) {
      throw MeshError.fromProblems(
        problems,
        `snapshot ${snapshot.version} for ${JSON.stringify(key)} is inconsistent:\n${problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n')}`,
      );
    }
    this.#snapshots.set(key, snapshot);
    for (const listener of this.#listeners.get(key) ?? []) listener(snapshot);
  }

  /**
   * Sets many snapshots at once, all or nothing: every snapshot is checked before any is set,
   * so a mesh change never leaves some proxies on the new version and others refused.
   */
  setSnapshots(snapshots: ReadonlyMap<string, Snapshot>): void {
    const problems = [...snapshots].flatMap(([key, s]) =>
      s.consistencyProblems().map((p) => ({ ...p, path: `${key}.${p.path}` })),
    );
    if (problems.length > 0) throw MeshError.fromProblems(problems);
    for (const [key, snapshot] of snapshots) this.setSnapshot(key, snapshot);
  }

  /** The snapshot of a key, if set. */
  getSnapshot(key: string): Snapshot | undefined {
    return this.#snapshots.get(key);
  }

  /** Removes a key's snapshot (its parked watches keep waiting). */
  clearSnapshot(key: string): void {
    this.#snapshots.delete(key);
  }

  /** Keys with a snapshot, sorted. */
  keys(): string[] {
    return [...this.#snapshots.keys()].sort();
  }

  /** Calls `listener` whenever the key's snapshot is set; returns the unsubscribe function. */
  subscribe(key: string, listener: (snapshot: Snapshot) => void): () => void {
    let set = this.#listeners.get(key);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(key, set);
    }
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0) this.#listeners.delete(key);
    };
  }
}
