/**
 * The plan/apply machinery shared by every cloud target (App Mesh, Traffic Director).
 * A target supplies a {@link Provider} (the thin I/O edge over its API) and a pure function from
 * the canonical mesh to {@link DesiredResource}s; the engine (adapters/plan/engine.ts) diffs,
 * orders, applies with retries, and formats plans. No target re-implements any of this.
 */

/** A JSON value as the engine compares it. */
export type Json = null | boolean | number | string | readonly Json[] | { readonly [key: string]: Json };

/** A resource the rendered mesh wants to exist. */
export interface DesiredResource {
  /** Resource kind, e.g. `VirtualNode`, `HttpRoute`, `BackendService`. */
  readonly kind: string;
  /** Unique id within one mesh's resources, stable across runs, e.g. `VirtualNode/catalog-v1`. */
  readonly id: string;
  /** Name in the target API. */
  readonly name: string;
  /** Ids of resources that must exist before this one (and be deleted after it). */
  readonly dependsOn: readonly string[];
  /** Desired state as plain JSON: exactly the fields crossmesh manages, nothing server-filled. */
  readonly spec: Json;
}

/** A resource as read from the live API. */
export interface LiveResource {
  /** Resource kind. */
  readonly kind: string;
  /** Same id scheme as {@link DesiredResource.id}. */
  readonly id: string;
  /** Name in the target API. */
  readonly name: string;
  /** Live state projected onto the fields crossmesh manages (same shape as the desired spec). */
  readonly spec: Json;
  /** True when tagged/labelled as managed by crossmesh for this mesh. Unmanaged ones are never touched. */
  readonly managed: boolean;
  /** Ids this live resource references (used to order deletes of orphans). */
  readonly dependsOn: readonly string[];
  /** Provider-private data needed to update or delete it (ARN, etag, version, fingerprint). */
  readonly handle?: Json;
}

/** The thin I/O edge a target implements. Every method may throw; the engine retries nothing itself
 * (providers wrap their API calls with `withRetry`). */
export interface Provider {
  /** Target name, e.g. `appmesh`. */
  readonly target: string;
  /**
   * Reads the live resources of this mesh: every managed one (so orphans are found) and every
   * one whose id collides with a desired id (so unmanaged collisions are refused).
   */
  list(desired: readonly DesiredResource[]): Promise<readonly LiveResource[]>;
  /** Creates a resource (tagged/labelled as managed). */
  create(resource: DesiredResource): Promise<void>;
  /** Updates a live managed resource to the desired spec. */
  update(resource: DesiredResource, live: LiveResource): Promise<void>;
  /** Deletes a live managed resource. */
  delete(live: LiveResource): Promise<void>;
}

/** What the engine will do to one resource. */
export type ChangeAction = 'create' | 'update' | 'delete';

/** One field that differs between live and desired. */
export interface FieldChange {
  /** Dotted path inside the spec. */
  readonly path: string;
  /** Live value (absent for a create). */
  readonly from?: Json;
  /** Desired value (absent for a delete). */
  readonly to?: Json;
}

/** One planned change. */
export interface Change {
  /** What happens. */
  readonly action: ChangeAction;
  /** Resource kind. */
  readonly kind: string;
  /** Resource id. */
  readonly id: string;
  /** Resource name in the target API. */
  readonly name: string;
  /** Field-level differences: every field for a create or delete, the differing ones for an update. */
  readonly fields: readonly FieldChange[];
  /** The desired resource (create, update). */
  readonly desired?: DesiredResource;
  /** The live resource (update, delete). */
  readonly live?: LiveResource;
}

/** A plan: every change, in the order apply performs them. Computed before any write. */
export interface Plan {
  /** Target name. */
  readonly target: string;
  /** Mesh name. */
  readonly mesh: string;
  /** Changes in execution order: creates and updates by dependency, then deletes in reverse. */
  readonly changes: readonly Change[];
  /** Ids of resources that already match. */
  readonly unchanged: readonly string[];
}

/** Progress events during apply/destroy. */
export interface ApplyEvents {
  /** Called before each mutating step. */
  readonly onStep?: (change: Change, index: number, total: number) => void;
}
