/**
 * Immutable per-node snapshots, as go-control-plane has them: one version for the whole
 * snapshot, and per type a content hash so a type whose resources did not change is not pushed
 * again. A snapshot is checked for consistency before a cache accepts it: every EDS name a
 * cluster asks for and every route configuration a listener names must be in the snapshot, and
 * nothing in EDS/RDS may be orphaned.
 */
import { createHash } from 'node:crypto';
import { MeshError, type Problem } from '../errors/index.js';
import { type JsonObject, PUSH_ORDER, SHORT_NAME, TYPE, type TypeUrl } from './types.js';

/** One resource: its name, its JSON, and that JSON serialized once (hashing and encoding reuse it). */
export interface SnapshotResource {
  /** Resource name. */
  readonly name: string;
  /** Proto3 JSON. */
  readonly json: JsonObject;
  /** `JSON.stringify(json)`, computed once. */
  readonly text: string;
  /** Content hash (hex, 16 chars): the per-resource version of incremental xDS. */
  readonly hash: string;
}

/** Resources of one type, by name. */
export interface TypeResources {
  /** Content hash of the whole set: the version sent for this type. */
  readonly version: string;
  /** Resources by name (insertion order is name order). */
  readonly items: ReadonlyMap<string, SnapshotResource>;
}

/** Resources per type as plain JSON lists (the renderer's output shape). */
export type ResourceLists = Readonly<Partial<Record<TypeUrl, readonly JsonObject[]>>>;

function hash(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 16);
}

/**
 * Serialization and hash per resource object. Resources are immutable once in a snapshot, and
 * the renderer shares one object between every proxy that gets the same resource, so 2,000
 * sidecars of 1,000 services serialize each shared cluster once, not once per proxy.
 */
const SERIALIZED = new WeakMap<JsonObject, { readonly text: string; readonly hash: string }>();

function serialized(json: JsonObject): { readonly text: string; readonly hash: string } {
  let entry = SERIALIZED.get(json);
  if (entry === undefined) {
    const text = JSON.stringify(json);
    entry = { text, hash: hash(text) };
    SERIALIZED.set(json, entry);
  }
  return entry;
}

/** The name of a resource (ClusterLoadAssignment names itself by `cluster_name`). */
export function resourceName(type: TypeUrl, json: JsonObject): string {
  const name = type === TYPE.endpoint ? json.cluster_name : json.name;
  return typeof name === 'string' ? name : '';
}

/** An immutable snapshot of every resource one node (or node group) is served. */
export class Snapshot {
  /** Version of the snapshot as a whole (status API, logs). */
  readonly version: string;
  readonly #types: ReadonlyMap<TypeUrl, TypeResources>;

  /**
   * @param version - the snapshot's version; use {@link Snapshot.fromResources} without one to
   *   derive it from the content.
   */
  private constructor(version: string, types: ReadonlyMap<TypeUrl, TypeResources>) {
    this.version = version;
    this.#types = types;
  }

  /**
   * Builds a snapshot from resource lists. Names must be unique per type.
   * @param version - explicit version. @default - a hash of the content, so identical content gets the same version
   * @throws MeshError CP_E_SNAPSHOT when a name is empty or repeated
   */
  static fromResources(lists: ResourceLists, version?: string): Snapshot {
    const problems: Problem[] = [];
    const types = new Map<TypeUrl, TypeResources>();
    for (const type of PUSH_ORDER) {
      const items = new Map<string, SnapshotResource>();
      const sorted = [...(lists[type] ?? [])]
        .map((json) => ({ json, name: resourceName(type, json) }))
        .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const { json, name } of sorted) {
        const path = `${SHORT_NAME[type]}[${JSON.stringify(name)}]`;
        if (name === '') {
          problems.push({
            code: 'CP_E_SNAPSHOT',
            path: SHORT_NAME[type],
            message: 'a resource has no name',
            value: json,
          });
          continue;
        }
        if (items.has(name)) {
          problems.push({
            code: 'CP_E_SNAPSHOT',
            path,
            message: `resource name ${JSON.stringify(name)} is used twice`,
          });
          continue;
        }
        items.set(name, { name, json, ...serialized(json) });
      }
      const version = hash([...items.values()].map((r) => `${r.name}\0${r.hash}`).join('\n'));
      types.set(type, { version, items });
    }
    if (problems.length > 0) throw MeshError.fromProblems(problems);
    const snapshotVersion = version ?? hash(PUSH_ORDER.map((t) => types.get(t)?.version ?? '').join(':'));
    return new Snapshot(snapshotVersion, types);
  }

  /** The resources of one type. */
  resources(type: TypeUrl): TypeResources {
    return this.#types.get(type) ?? { version: '', items: new Map() };
  }

  /**
   * Checks references (go-control-plane's `Consistent()`): every EDS name a cluster needs and
   * every route configuration a listener names exists, and every endpoint and route
   * configuration is referenced. Returns the problems; empty when consistent.
   */
  consistencyProblems(): Problem[] {
    const problems: Problem[] = [];
    const check = (type: TypeUrl, wanted: Set<string>, from: string) => {
      const have = this.resources(type).items;
      for (const name of [...wanted].sort()) {
        if (!have.has(name)) {
          problems.push({
            code: 'CP_E_INCONSISTENT',
            path: `${SHORT_NAME[type]}[${JSON.stringify(name)}]`,
            message: `${from} names ${JSON.stringify(name)} but the snapshot has no such ${SHORT_NAME[type]} resource`,
            allowed: `one of ${[...have.keys()].map((n) => JSON.stringify(n)).join(', ') || 'none'}`,
          });
        }
      }
      for (const name of have.keys()) {
        if (!wanted.has(name)) {
          problems.push({
            code: 'CP_E_INCONSISTENT',
            path: `${SHORT_NAME[type]}[${JSON.stringify(name)}]`,
            message: `no ${from.split(' ')[0]} names ${JSON.stringify(name)}: it would never be requested`,
          });
        }
      }
    };
    const edsNames = new Set<string>();
    for (const cluster of this.resources(TYPE.cluster).items.values()) {
      if (cluster.json.type !== 'EDS') continue;
      const config = cluster.json.eds_cluster_config as JsonObject | undefined;
      edsNames.add(typeof config?.service_name === 'string' ? config.service_name : cluster.name);
    }
    check(TYPE.endpoint, edsNames, 'a cluster (CDS)');
    const rdsNames = new Set<string>();
    for (const listener of this.resources(TYPE.listener).items.values()) collectRds(listener.json, rdsNames);
    check(TYPE.route, rdsNames, 'a listener (LDS)');
    return problems;
  }
}

/** Every `rds.route_config_name` anywhere inside a listener (filter chains, API listeners). */
function collectRds(value: unknown, out: Set<string>): void {
  if (Array.isArray(value)) {
    for (const v of value) collectRds(v, out);
    return;
  }
  if (value === null || typeof value !== 'object') return;
  const object = value as JsonObject;
  const rds = object.rds as JsonObject | undefined;
  if (rds !== undefined && typeof rds.route_config_name === 'string') out.add(rds.route_config_name);
  for (const v of Object.values(object)) collectRds(v, out);
}
