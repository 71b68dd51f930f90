/**
 * The plan/apply engine over an in-memory provider. Stood in: the cloud API. Why: these tests pin
 * the engine's own semantics (diff, ordering, collisions, convergence after an interruption)
 * independent of any API; the App Mesh (moto) and Traffic Director (stand-in) suites run the same
 * engine against real and faithful APIs.
 */
import { describe, expect, test } from 'vitest';
import {
  applyPlan,
  computeDestroyPlan,
  computePlan,
  dependencyOrder,
  diffJson,
} from '../../../adapters/plan/engine.js';
import { formatPlanTable, planToJson } from '../../../adapters/plan/format.js';
import type { DesiredResource, Json, LiveResource, Provider } from '../../../adapters/plan/types.js';
import { MeshError } from '../../../errors/index.js';

class MemoryProvider implements Provider {
  readonly target = 'memory';
  readonly store = new Map<string, LiveResource>();
  readonly calls: string[] = [];
  failOn?: string;

  list(): Promise<readonly LiveResource[]> {
    this.calls.push('list');
    return Promise.resolve([...this.store.values()]);
  }
  create(r: DesiredResource): Promise<void> {
    return this.write(`create ${r.id}`, () => {
      if (this.store.has(r.id)) throw new Error(`exists: ${r.id}`);
      for (const dep of r.dependsOn) if (!this.store.has(dep)) throw new Error(`missing dependency ${dep}`);
      this.store.set(r.id, { ...r, managed: true });
    });
  }
  update(r: DesiredResource): Promise<void> {
    return this.write(`update ${r.id}`, () => this.store.set(r.id, { ...r, managed: true }));
  }
  delete(l: LiveResource): Promise<void> {
    return this.write(`delete ${l.id}`, () => {
      for (const other of this.store.values()) {
        if (other.dependsOn.includes(l.id)) throw new Error(`${l.id} still referenced by ${other.id}`);
      }
      this.store.delete(l.id);
    });
  }
  private write(call: string, fn: () => void): Promise<void> {
    if (this.failOn === call) return Promise.reject(new Error(`injected failure on ${call}`));
    this.calls.push(call);
    fn();
    return Promise.resolve();
  }
}

const res = (id: string, spec: Json, dependsOn: string[] = []): DesiredResource => ({
  kind: id.split('/')[0] as string,
  id,
  name: id.split('/')[1] as string,
  dependsOn,
  spec,
});

const shop = (): DesiredResource[] => [
  res('Route/r1', { weight: 90 }, ['Router/catalog', 'Node/v1']),
  res('Router/catalog', { port: 80 }, ['Mesh/shop']),
  res('Node/v1', { port: 8080 }, ['Mesh/shop']),
  res('Mesh/shop', { egress: 'ALLOW_ALL' }),
];

describe('computePlan', () => {
  test('creates everything in dependency order on an empty target', async () => {
    // GIVEN
    const provider = new MemoryProvider();
    // WHEN
    const plan = await computePlan(provider, 'shop', shop());
    // THEN
    expect(plan.changes.map((c) => `${c.action} ${c.id}`)).toEqual([
      'create Mesh/shop',
      'create Router/catalog',
      'create Node/v1',
      'create Route/r1',
    ]);
    expect(plan.unchanged).toEqual([]);
  });

  test('a plan right after apply is empty and a second apply writes nothing', async () => {
    // GIVEN
    const provider = new MemoryProvider();
    await applyPlan(provider, await computePlan(provider, 'shop', shop()));
    provider.calls.length = 0;
    // WHEN
    const plan = await computePlan(provider, 'shop', shop());
    await applyPlan(provider, plan);
    // THEN
    expect(plan.changes).toEqual([]);
    expect(plan.unchanged).toHaveLength(4);
    expect(provider.calls).toEqual(['list']);
  });

  test('updates carry field-level differences; key order does not count as a change', async () => {
    // GIVEN
    const provider = new MemoryProvider();
    await applyPlan(provider, await computePlan(provider, 'shop', shop()));
    const next = shop();
    next[0] = res('Route/r1', { weight: 50 }, ['Router/catalog', 'Node/v1']);
    next[3] = res('Mesh/shop', { egress: 'ALLOW_ALL' });
    // WHEN
    const plan = await computePlan(provider, 'shop', next);
    // THEN
    expect(plan.changes.map((c) => [c.action, c.id, c.fields])).toEqual([
      ['update', 'Route/r1', [{ path: 'weight', from: 90, to: 50 }]],
    ]);
  });

  test('orphans are deleted after writes, dependents before what they reference', async () => {
    // GIVEN
    const provider = new MemoryProvider();
    await applyPlan(provider, await computePlan(provider, 'shop', shop()));
    // WHEN only the mesh remains desired
    const plan = await computePlan(provider, 'shop', [res('Mesh/shop', { egress: 'DROP_ALL' })]);
    await applyPlan(provider, plan);
    // THEN
    expect(plan.changes.map((c) => `${c.action} ${c.id}`)).toEqual([
      'update Mesh/shop',
      'delete Route/r1',
      'delete Node/v1',
      'delete Router/catalog',
    ]);
    expect([...provider.store.keys()]).toEqual(['Mesh/shop']);
  });

  test('refuses to touch an unmanaged resource with a desired id, listing every collision', async () => {
    // GIVEN
    const provider = new MemoryProvider();
    provider.store.set('Mesh/shop', { ...res('Mesh/shop', {}), managed: false });
    provider.store.set('Node/v1', { ...res('Node/v1', {}), managed: false });
    // WHEN
    const attempt = computePlan(provider, 'shop', shop());
    // THEN
    await expect(attempt).rejects.toBeInstanceOf(MeshError);
    const error = (await attempt.catch((e: unknown) => e)) as MeshError;
    expect(error.code).toBe('TARGET_E_NOT_MANAGED');
    expect(error.problems.map((p) => p.path)).toEqual(['Mesh/shop', 'Node/v1']);
  });

  test('an apply cut off half-way converges when re-run', async () => {
    // GIVEN a failure on the third write
    const provider = new MemoryProvider();
    provider.failOn = 'create Node/v1';
    await expect(applyPlan(provider, await computePlan(provider, 'shop', shop()))).rejects.toThrow(
      /injected/,
    );
    expect([...provider.store.keys()].sort()).toEqual(['Mesh/shop', 'Router/catalog']);
    // WHEN re-run
    provider.failOn = undefined;
    const plan = await computePlan(provider, 'shop', shop());
    await applyPlan(provider, plan);
    // THEN only what is missing is written, and the result is complete
    expect(plan.changes.map((c) => `${c.action} ${c.id}`)).toEqual(['create Node/v1', 'create Route/r1']);
    expect((await computePlan(provider, 'shop', shop())).changes).toEqual([]);
  });

  test('a resource rendered twice or a dangling dependency is a bug report, not a write', async () => {
    const provider = new MemoryProvider();
    await expect(computePlan(provider, 'shop', [res('A/x', 1), res('A/x', 2)])).rejects.toMatchObject({
      code: 'INTERNAL_E_BUG',
    });
    await expect(computePlan(provider, 'shop', [res('A/x', 1, ['B/y'])])).rejects.toMatchObject({
      code: 'INTERNAL_E_BUG',
    });
    expect(provider.calls).toEqual([]);
  });
});

describe('computeDestroyPlan', () => {
  test('deletes every managed resource in reverse dependency order and leaves unmanaged ones', async () => {
    // GIVEN
    const provider = new MemoryProvider();
    await applyPlan(provider, await computePlan(provider, 'shop', shop()));
    provider.store.set('Node/theirs', { ...res('Node/theirs', {}), managed: false });
    // WHEN
    const plan = await computeDestroyPlan(provider, 'shop');
    await applyPlan(provider, plan);
    // THEN
    expect(plan.changes.map((c) => c.id)).toEqual(['Route/r1', 'Node/v1', 'Router/catalog', 'Mesh/shop']);
    expect([...provider.store.keys()]).toEqual(['Node/theirs']);
  });
});

describe('dependencyOrder', () => {
  test('reports a cycle instead of looping', () => {
    expect(() => dependencyOrder([res('A/a', 1, ['B/b']), res('B/b', 1, ['A/a'])])).toThrow(/cycle/);
  });
});

describe('diffJson', () => {
  test('lists leaf paths with from and to', () => {
    expect(diffJson({ a: { b: 1, c: [1, 2] } }, { a: { b: 2, c: [1, 3] }, d: 'x' })).toEqual([
      { path: 'a.b', from: 1, to: 2 },
      { path: 'a.c[1]', from: 2, to: 3 },
      { path: 'd', to: 'x' },
    ]);
  });
});

describe('format', () => {
  test('table shows actions in order with field changes; json has the summary', async () => {
    const provider = new MemoryProvider();
    await applyPlan(provider, await computePlan(provider, 'shop', shop()));
    const next = shop();
    next[0] = res('Route/r1', { weight: 50 }, ['Router/catalog', 'Node/v1']);
    const plan = await computePlan(provider, 'shop', [
      ...next,
      res('Node/v2', { port: 8080 }, ['Mesh/shop']),
    ]);
    const table = formatPlanTable(plan);
    expect(table).toContain('1 to create, 1 to update, 0 to delete, 3 unchanged.');
    expect(table).toMatch(/~ Route\s+r1\n\s+weight: 90 -> 50/);
    expect(planToJson(plan)).toMatchObject({ summary: { create: 1, update: 1, delete: 0, unchanged: 3 } });
    expect(formatPlanTable(await computePlan(new MemoryProvider(), 'x', []))).toContain('No changes');
  });
});
