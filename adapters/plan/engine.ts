/**
 * The plan/apply engine shared by every cloud target. It reads live state through a
 * {@link Provider}, diffs it against the desired resources, and orders the writes:
 * creates and updates by dependency (what a resource references exists first), then deletes in
 * reverse dependency order (a resource goes before what it references). Nothing is written
 * until the whole plan is computed, and a plan is recomputed from live state on every apply, so
 * an apply cut off half-way converges when re-run.
 */
import { MeshError, type Problem } from '../../errors/index.js';
import type {
  ApplyEvents,
  Change,
  DesiredResource,
  FieldChange,
  Json,
  LiveResource,
  Plan,
  Provider,
} from './types.js';

/** Compares two JSON values structurally (object key order does not matter). */
export function jsonEqual(a: Json | undefined, b: Json | undefined): boolean {
  if (a === b) return true;
  if (a === null || b === null || a === undefined || b === undefined) return false;
  if (typeof a !== 'object' || typeof b !== 'object') return false;
  if (Array.isArray(a) || Array.isArray(b)) {
    if (!Array.isArray(a) || !Array.isArray(b) || a.length !== b.length) return false;
    return a.every((item, i) => jsonEqual(item, b[i]));
  }
  const ao = a as { readonly [key: string]: Json };
  const bo = b as { readonly [key: string]: Json };
  const aKeys = Object.keys(ao).filter((k) => ao[k] !== undefined);
  const bKeys = Object.keys(bo).filter((k) => bo[k] !== undefined);
  if (aKeys.length !== bKeys.length) return false;
  return aKeys.every((k) => Object.hasOwn(bo, k) && jsonEqual(ao[k], bo[k]));
}

/** Lists the leaf paths at which `from` and `to` differ (`from`/`to` absent where a side lacks it). */
export function diffJson(from: Json | undefined, to: Json | undefined, path = ''): FieldChange[] {
  if (jsonEqual(from, to)) return [];
  const isObject = (v: Json | undefined): v is { readonly [key: string]: Json } =>
    typeof v === 'object' && v !== null && !Array.isArray(v);
  if (isObject(from) && isObject(to)) {
    const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
    return keys.flatMap((k) => diffJson(from[k], to[k], path === '' ? k : `${path}.${k}`));
  }
  if (Array.isArray(from) && Array.isArray(to) && from.length === to.length) {
    return from.flatMap((item, i) => diffJson(item, to[i], `${path}[${i}]`));
  }
  return [
    {
      path,
      ...(from === undefined ? {} : { from }),
      ...(to === undefined ? {} : { to }),
    },
  ];
}

/**
 * Orders items so that every item comes after the items it depends on (Kahn's algorithm; ties
 * keep input order, so plans are deterministic). Dependencies outside the set are ignored: they
 * already exist or are not this plan's business.
 */
export function dependencyOrder<T extends { readonly id: string; readonly dependsOn: readonly string[] }>(
  items: readonly T[],
): T[] {
  const byId = new Map(items.map((item) => [item.id, item]));
  const indegree = new Map<string, number>();
  const dependents = new Map<string, string[]>();
  for (const item of items) {
    const deps = [...new Set(item.dependsOn)].filter((d) => byId.has(d) && d !== item.id);
    indegree.set(item.id, deps.length);
    for (const dep of deps) dependents.set(dep, [...(dependents.get(dep) ?? []), item.id]);
  }
  const position = new Map(items.map((item, i) => [item.id, i]));
  const ready = items.filter((item) => indegree.get(item.id) === 0).map((item) => item.id);
  const ordered: T[] = [];
  while (ready.length > 0) {
    ready.sort((a, b) => (position.get(a) ?? 0) - (position.get(b) ?? 0));
    const id = ready.shift() as string;
    ordered.push(byId.get(id) as T);
    for (const next of dependents.get(id) ?? []) {
      const left = (indegree.get(next) ?? 0) - 1;
      indegree.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  if (ordered.length !== items.length) {
    const stuck = items.filter((item) => !ordered.includes(item)).map((item) => item.id);
    throw new MeshError('INTERNAL_E_BUG', `dependency cycle between resources: ${stuck.join(', ')}`, {
      value: stuck,
    });
  }
  return ordered;
}

function checkDesired(desired: readonly DesiredResource[]): void {
  const problems: Problem[] = [];
  const ids = new Set<string>();
  for (const [i, resource] of desired.entries()) {
    if (ids.has(resource.id)) {
      problems.push({
        code: 'INTERNAL_E_BUG',
        path: `resources[${i}].id`,
        message: `resource id ${JSON.stringify(resource.id)} is rendered twice`,
        value: resource.id,
      });
    }
    ids.add(resource.id);
  }
  for (const [i, resource] of desired.entries()) {
    for (const dep of resource.dependsOn) {
      if (!ids.has(dep)) {
        problems.push({
          code: 'INTERNAL_E_BUG',
          path: `resources[${i}].dependsOn`,
          message: `${resource.id} depends on ${JSON.stringify(dep)}, which is not rendered`,
          value: dep,
        });
      }
    }
  }
  if (problems.length > 0) throw MeshError.fromProblems(problems);
}

/**
 * Computes the plan for `desired` against live state. Throws TARGET_E_NOT_MANAGED (listing every
 * collision) when a desired resource exists but is not managed by crossmesh for this mesh.
 */
export async function computePlan(
  provider: Provider,
  meshName: string,
  desired: readonly DesiredResource[],
): Promise<Plan> {
  checkDesired(desired);
  const live = await provider.list(desired);
  const liveById = new Map(live.map((resource) => [resource.id, resource]));
  const desiredIds = new Set(desired.map((resource) => resource.id));

  const collisions: Problem[] = [];
  const writes: Change[] = [];
  const unchanged: string[] = [];
  for (const resource of dependencyOrder(desired)) {
    const current = liveById.get(resource.id);
    if (current === undefined) {
      writes.push({
        action: 'create',
        kind: resource.kind,
        id: resource.id,
        name: resource.name,
        fields: diffJson(undefined, resource.spec),
        desired: resource,
      });
    } else if (!current.managed) {
      collisions.push({
        code: 'TARGET_E_NOT_MANAGED',
        path: resource.id,
        message: `${resource.kind} ${JSON.stringify(resource.name)} exists but is not managed by crossmesh for mesh ${JSON.stringify(meshName)}; crossmesh will not modify it`,
        value: resource.name,
        allowed: 'a name that is free, or a resource tagged as managed by crossmesh for this mesh',
      });
    } else if (jsonEqual(current.spec, resource.spec)) {
      unchanged.push(resource.id);
    } else {
      writes.push({
        action: 'update',
        kind: resource.kind,
        id: resource.id,
        name: resource.name,
        fields: diffJson(current.spec, resource.spec),
        desired: resource,
        live: current,
      });
    }
  }
  if (collisions.length > 0) throw MeshError.fromProblems(collisions);

  const orphans = live.filter((resource) => resource.managed && !desiredIds.has(resource.id));
  const deletes: Change[] = dependencyOrder(orphans)
    .reverse()
    .map((resource) => ({
      action: 'delete',
      kind: resource.kind,
      id: resource.id,
      name: resource.name,
      fields: diffJson(resource.spec, undefined),
      live: resource,
    }));
  return { target: provider.target, mesh: meshName, changes: [...writes, ...deletes], unchanged };
}

/** Computes a plan that deletes every resource crossmesh manages for this mesh. */
export async function computeDestroyPlan(provider: Provider, meshName: string): Promise<Plan> {
  const live = await provider.list([]);
  const managed = live.filter((resource) => resource.managed);
  const changes: Change[] = dependencyOrder(managed)
    .reverse()
    .map((resource) => ({
      action: 'delete',
      kind: resource.kind,
      id: resource.id,
      name: resource.name,
      fields: diffJson(resource.spec, undefined),
      live: resource,
    }));
  return { target: provider.target, mesh: meshName, changes, unchanged: [] };
}

/** Performs a computed plan, in order. The first failure stops the apply; re-running converges. */
export async function applyPlan(provider: Provider, plan: Plan, events: ApplyEvents = {}): Promise<void> {
  for (const [index, change] of plan.changes.entries()) {
    events.onStep?.(change, index, plan.changes.length);
    switch (change.action) {
      case 'create':
        await provider.create(change.desired as DesiredResource);
        break;
      case 'update':
        await provider.update(change.desired as DesiredResource, change.live as LiveResource);
        break;
      case 'delete':
        await provider.delete(change.live as LiveResource);
        break;
    }
  }
}
