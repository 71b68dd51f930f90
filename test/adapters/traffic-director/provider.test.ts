/**
 * plan/apply/destroy against Traffic Director through the REAL googleapis client and the shared
 * plan engine. Stood in: the Google Cloud networkservices, networksecurity and compute REST APIs,
 * by test/helpers/gcp/standin.ts on a loopback port (no GCP project or credentials here); it
 * validates every request against the official discovery documents / googleapis' compute types,
 * enforces references and in-use deletes, and answers like the recorded exchanges.
 */
import { afterEach, beforeEach, describe, expect, test } from 'vitest';
import { applyPlan, computeDestroyPlan, computePlan } from '../../../adapters/plan/engine.js';
import type { DesiredResource, Provider } from '../../../adapters/plan/types.js';
import {
  createTrafficDirectorCloudTarget,
  createTrafficDirectorProvider,
  desiredResources,
  renderTrafficDirector,
  trafficDirectorCloudTargetFromEnv,
} from '../../../adapters/traffic-director/index.js';
import { MeshError } from '../../../errors/index.js';
import shop from '../../../examples/shop/mesh.js';
import { canonicalize } from '../../../model/canonical.js';
import type { Mesh } from '../../../model/types.js';
import { GcpStandin } from '../../helpers/gcp/standin.js';
import { kitchenSink, kitchenSinkNegs } from './fixtures.js';

const PROJECT = 'my-project';

let standin: GcpStandin;
beforeEach(async () => {
  standin = await GcpStandin.start();
});
afterEach(async () => {
  await standin.close();
});

function provider(lines: string[] = [], retries = 5): Provider {
  return createTrafficDirectorProvider({
    project: PROJECT,
    mesh: 'shop',
    endpoint: standin.url,
    progress: (line) => lines.push(line),
    retry: { retries, baseMs: 1, maxMs: 5 },
    pollIntervalMs: 1,
  });
}

/** Desired resources with the fixture's NEG inputs for the services the mesh still has. */
function desiredOf(mesh: Mesh): DesiredResource[] {
  const negs = Object.fromEntries(
    Object.entries(kitchenSinkNegs(PROJECT)).filter(
      ([key]) => mesh.services[key.split('/')[0] as string] !== undefined,
    ),
  );
  return desiredResources(renderTrafficDirector(mesh, { project: PROJECT, negs }));
}

async function apply(p: Provider, desired: readonly DesiredResource[]): Promise<void> {
  await applyPlan(p, await computePlan(p, 'shop', desired));
}

describe('Traffic Director provider', () => {
  test('examples/shop round trip: read back equals the render, the next plan is empty, a second apply writes nothing', async () => {
    // GIVEN the shop example through the cloud target (access logs dropped with a warning)
    const warnings: string[] = [];
    const target = createTrafficDirectorCloudTarget();
    const mesh = canonicalize(shop);
    const desired = target.desired(mesh, {
      project: PROJECT,
      endpoint: standin.url,
      allowDrop: true,
      warn: (w) => warnings.push(w),
    });
    const p = provider();
    // WHEN it is applied
    await apply(p, desired);
    // THEN every desired resource reads back with exactly the desired spec
    const live = await p.list(desired);
    expect(live.map((r) => r.id).sort()).toEqual(desired.map((r) => r.id).sort());
    for (const resource of desired) {
      expect(live.find((r) => r.id === resource.id)?.spec, resource.id).toEqual(resource.spec);
      expect(live.find((r) => r.id === resource.id)?.managed).toBe(true);
    }
    // AND the plan right after apply is empty; a second apply makes zero mutating calls
    expect((await computePlan(p, 'shop', desired)).changes).toEqual([]);
    standin.resetCalls();
    await apply(p, desired);
    expect(standin.mutatingCalls).toBe(0);
    // AND the stand-in accepted every request (nothing failed validation along the way)
    expect(standin.calls.filter((c) => c.status >= 400)).toEqual([]);
    // AND the user was told what was dropped and that backends are missing
    expect(warnings.some((w) => w.includes('access-log'))).toBe(true);
    expect(warnings.some((w) => w.includes('has no backends'))).toBe(true);
  });

  test('kitchen sink: every kind applies in dependency order and reads back equal', async () => {
    // GIVEN
    const desired = desiredOf(kitchenSink());
    const p = provider();
    // WHEN
    await apply(p, desired);
    // THEN
    const live = await p.list(desired);
    for (const resource of desired)
      expect(live.find((r) => r.id === resource.id)?.spec, resource.id).toEqual(resource.spec);
    expect(new Set(desired.map((d) => d.kind)).size).toBe(11);
    expect(standin.calls.filter((c) => c.status >= 400)).toEqual([]);
    expect((await computePlan(p, 'shop', desired)).changes).toEqual([]);
  });

  test('updates are field-level and converge: a changed mesh plans updates, deletes orphans in reverse order', async () => {
    // GIVEN the kitchen sink applied
    const p = provider();
    await apply(p, desiredOf(kitchenSink()));
    // WHEN the canary moves and the cache service goes away
    const changed = kitchenSink() as { -readonly [K in keyof Mesh]: Mesh[K] };
    const { cache: _gone, ...services } = changed.services;
    const catalog = services.catalog;
    if (catalog === undefined) throw new Error('fixture lacks catalog');
    changed.services = {
      ...services,
      web: { ...(services.web as NonNullable<typeof services.web>), backends: ['catalog', 'payments'] },
      catalog: {
        ...catalog,
        routes: [
          {
            ...(catalog.routes?.[0] as NonNullable<typeof catalog.routes>[0]),
            destinations: [{ service: 'catalog', version: 'v2', weight: 1 }],
          },
        ],
        policy: { ...catalog.policy, outlierDetection: undefined },
      },
    };
    const desired = desiredOf(changed as Mesh);
    const plan = await computePlan(p, 'shop', desired);
    // THEN the plan updates the route and the backend services, and deletes cache's resources after their users
    const actions = plan.changes.map((c) => `${c.action} ${c.id}`);
    expect(actions).toContain('update HttpRoute/shop-catalog-9090');
    expect(actions).toContain('update BackendService/shop-catalog-v1');
    const deletes = actions.filter((a) => a.startsWith('delete'));
    expect(deletes.indexOf('delete TcpRoute/shop-cache-6379')).toBeLessThan(
      deletes.indexOf('delete BackendService/shop-cache-v1'),
    );
    expect(deletes.indexOf('delete BackendService/shop-cache-v1')).toBeLessThan(
      deletes.indexOf('delete HealthCheck/shop-cache-hc'),
    );
    await applyPlan(p, plan);
    expect((await computePlan(p, 'shop', desired)).changes).toEqual([]);
    const catalogV1 = (await p.list(desired)).find((r) => r.id === 'BackendService/shop-catalog-v1');
    expect(catalogV1).toBeDefined();
    expect(JSON.stringify(catalogV1?.spec)).not.toContain('outlierDetection');
  });

  test('an interrupted apply converges when re-run', async () => {
    // GIVEN the API stops answering after ten writes, and the provider does not retry
    const desired = desiredOf(kitchenSink());
    standin.stopAfter(10);
    // WHEN apply runs, fails part-way, and is re-run after the API recovers
    await expect(apply(provider([], 0), desired)).rejects.toMatchObject({ code: 'TARGET_E_API' });
    const partial = (await provider().list(desired)).length;
    standin.heal();
    const plan = await computePlan(provider(), 'shop', desired);
    await applyPlan(provider(), plan);
    // THEN the first run left a consistent prefix, the second created only the rest, and the result matches
    expect(partial).toBe(10);
    expect(plan.changes.every((c) => c.action === 'create')).toBe(true);
    expect(plan.changes).toHaveLength(desired.length - 10);
    expect((await computePlan(provider(), 'shop', desired)).changes).toEqual([]);
  });

  test('429 and 503 answers are retried with backoff and reported as progress', async () => {
    // GIVEN the first write is throttled twice and the fifth fails once with 503
    const lines: string[] = [];
    standin.failMutation(1, 429, 2);
    standin.failMutation(5, 503);
    const desired = desiredOf(kitchenSink());
    // WHEN
    await apply(provider(lines), desired);
    // THEN everything was created and each retry was visible
    expect((await computePlan(provider(), 'shop', desired)).changes).toEqual([]);
    expect(lines.filter((l) => l.startsWith('retrying')).length).toBe(3);
    expect(lines.some((l) => l.includes('HTTP 429'))).toBe(true);
    expect(lines.some((l) => l.includes('HTTP 503'))).toBe(true);
    expect(lines.some((l) => l.startsWith('waiting for create'))).toBe(true);
  });

  test('lost responses: a retried create (409), compute update (412) and delete (404) still converge', async () => {
    // GIVEN the answers to the 1st and 5th writes of the first apply are lost after the writes happened
    const lines: string[] = [];
    const p = provider(lines);
    standin.loseResponse(1);
    standin.loseResponse(5);
    const desired = desiredOf(kitchenSink());
    // WHEN / THEN the apply completes and nothing is left to do
    await apply(p, desired);
    expect((await computePlan(p, 'shop', desired)).changes).toEqual([]);
    expect(lines.filter((l) => l.includes('an earlier attempt got through'))).toHaveLength(2);
    // GIVEN catalog loses its outlier detection, and the answer to the first PUT is lost
    const mesh = kitchenSink();
    const catalog = mesh.services.catalog as NonNullable<typeof mesh.services.catalog>;
    const changed: Mesh = {
      ...mesh,
      services: {
        ...mesh.services,
        catalog: { ...catalog, policy: { ...catalog.policy, outlierDetection: undefined } },
      },
    };
    const updated = desiredOf(changed);
    const plan = await computePlan(p, 'shop', updated);
    expect(plan.changes.map((c) => `${c.action} ${c.id}`)).toEqual([
      'update BackendService/shop-catalog-v1',
      'update BackendService/shop-catalog-v2',
    ]);
    standin.loseResponse(1);
    // WHEN / THEN the stale fingerprint is refreshed and the update lands
    await applyPlan(p, plan);
    expect((await computePlan(p, 'shop', updated)).changes).toEqual([]);
    expect(lines.some((l) => l.includes('fingerprint changed'))).toBe(true);
    // GIVEN the answer to the second delete of destroy is lost WHEN destroying THEN all is gone
    standin.loseResponse(2);
    await applyPlan(p, await computeDestroyPlan(p, 'shop'));
    expect(standin.snapshot().size).toBe(0);
    expect(lines.some((l) => l.endsWith('already deleted'))).toBe(true);
  });

  test('a failed long-running operation stops the apply with its message; a re-run converges', async () => {
    // GIVEN the operation of the 3rd write fails, and so does the 11th write of the next run
    const desired = desiredOf(kitchenSink());
    standin.failOperation(3);
    standin.failOperation(14);
    // WHEN / THEN
    await expect(apply(provider(), desired)).rejects.toMatchObject({
      code: 'TARGET_E_API',
      message: expect.stringMatching(/failed \(injected by the stand-in\)/),
    });
    await expect(apply(provider(), desired)).rejects.toMatchObject({ code: 'TARGET_E_API' });
    await apply(provider(), desired);
    expect((await computePlan(provider(), 'shop', desired)).changes).toEqual([]);
  });

  test('destroy deletes every managed resource in reverse dependency order, and nothing else', async () => {
    // GIVEN the kitchen sink applied, plus resources crossmesh does not manage
    const p = provider();
    await apply(p, desiredOf(kitchenSink()));
    standin.seed(`projects/${PROJECT}/locations/global/meshes/other`, { labels: { team: 'payments' } });
    standin.seed(`projects/${PROJECT}/locations/global/meshes/theirs`, {
      labels: { 'crossmesh-managed': 'true', 'crossmesh-mesh': 'theirs' },
    });
    standin.seed(`projects/${PROJECT}/global/healthChecks/legacy`, {
      name: 'legacy',
      description: 'hand made',
      type: 'TCP',
      tcpHealthCheck: { port: 1 },
    });
    // WHEN
    const plan = await computeDestroyPlan(p, 'shop');
    await applyPlan(p, plan);
    // THEN only the unmanaged and other-mesh resources remain
    expect([...standin.snapshot().keys()]).toEqual([
      `projects/${PROJECT}/global/healthChecks/legacy`,
      `projects/${PROJECT}/locations/global/meshes/other`,
      `projects/${PROJECT}/locations/global/meshes/theirs`,
    ]);
    expect(plan.changes.every((c) => c.action === 'delete')).toBe(true);
  });

  test('a desired name held by an unmanaged resource is refused, and it is not touched', async () => {
    // GIVEN someone else's mesh named like ours
    standin.seed(`projects/${PROJECT}/locations/global/meshes/shop`, { labels: { team: 'other' } });
    const desired = desiredOf(kitchenSink());
    // WHEN / THEN
    const error = await computePlan(provider(), 'shop', desired).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(MeshError);
    expect((error as MeshError).code).toBe('TARGET_E_NOT_MANAGED');
    expect(standin.mutatingCalls).toBe(0);
    expect(standin.snapshot().get(`projects/${PROJECT}/locations/global/meshes/shop`)).toMatchObject({
      labels: { team: 'other' },
    });
  });

  test('list follows every page: managed orphans beyond the first page are planned for deletion', async () => {
    // GIVEN 60 orphan meshes (pages of 50) and 501 orphan health checks (pages of 500) labelled for this mesh
    for (let i = 0; i < 60; i++) {
      standin.seed(`projects/${PROJECT}/locations/global/meshes/old-${i}`, {
        labels: { 'crossmesh-managed': 'true', 'crossmesh-mesh': 'shop' },
      });
    }
    for (let i = 0; i < 501; i++) {
      standin.seed(`projects/${PROJECT}/global/healthChecks/old-${i}`, {
        name: `old-${i}`,
        description: 'crossmesh:mesh=shop',
        type: 'TCP',
        tcpHealthCheck: { port: 1 },
      });
    }
    // WHEN
    const plan = await computeDestroyPlan(provider(), 'shop');
    // THEN
    expect(plan.changes.filter((c) => c.kind === 'Mesh')).toHaveLength(60);
    expect(plan.changes.filter((c) => c.kind === 'HealthCheck')).toHaveLength(501);
  });

  test('a long-running operation that never finishes times out with TARGET_E_TIMEOUT', async () => {
    // GIVEN a stand-in whose operations stay pending far longer than the timeout
    await standin.close();
    standin = await GcpStandin.start({ pendingPolls: 1_000_000 });
    const p = createTrafficDirectorProvider({
      project: PROJECT,
      mesh: 'shop',
      endpoint: standin.url,
      operationTimeoutMs: 50,
      pollIntervalMs: 5,
    });
    const [mesh] = desiredOf(kitchenSink()).filter((d) => d.kind === 'Mesh');
    // WHEN / THEN
    await expect(p.create(mesh as DesiredResource)).rejects.toMatchObject({ code: 'TARGET_E_TIMEOUT' });
  });

  test('without an endpoint and without credentials the error says how to provide them', async () => {
    // GIVEN Application Default Credentials that cannot be found (no key file, no gcloud config, no metadata server)
    const keys = ['GOOGLE_APPLICATION_CREDENTIALS', 'CLOUDSDK_CONFIG', 'METADATA_SERVER_DETECTION'] as const;
    const saved = keys.map((key) => [key, process.env[key]] as const);
    process.env.GOOGLE_APPLICATION_CREDENTIALS = '';
    process.env.CLOUDSDK_CONFIG = '/nonexistent-crossmesh-test';
    process.env.METADATA_SERVER_DETECTION = 'none';
    try {
      const p = createTrafficDirectorProvider({ project: PROJECT, mesh: 'shop', retry: { retries: 0 } });
      // WHEN / THEN
      await expect(p.list([])).rejects.toMatchObject({
        code: 'TARGET_E_API',
        message: expect.stringContaining('gcloud auth application-default login'),
      });
    } finally {
      for (const [key, value] of saved) {
        if (value === undefined) delete process.env[key];
        else process.env[key] = value;
      }
    }
  });

  test('the cloud target needs --project, and reads NEG inputs from CROSSMESH_TD_NEGS', () => {
    // GIVEN
    const mesh = kitchenSink();
    // WHEN / THEN no project
    expect(() => createTrafficDirectorCloudTarget().desired(mesh, { allowDrop: true })).toThrow(/--project/);
    expect(() =>
      createTrafficDirectorCloudTarget().desired(mesh, { project: 'My_Project', allowDrop: true }),
    ).toThrow('--project must be a GCP project id, got "My_Project"');
    // WHEN NEGs come from the environment
    const target = trafficDirectorCloudTargetFromEnv({
      CROSSMESH_TD_NEGS: JSON.stringify(kitchenSinkNegs(PROJECT)),
    });
    const desired = target.desired(mesh, { project: PROJECT, allowDrop: true });
    // THEN the backend services carry them
    const web = desired.find((d) => d.id === 'BackendService/shop-web-v1');
    expect(web?.spec).toMatchObject({
      backends: [{ group: `projects/${PROJECT}/zones/us-central1-a/networkEndpointGroups/web-v1` }],
    });
    expect(() => trafficDirectorCloudTargetFromEnv({ CROSSMESH_TD_NEGS: '[1]' })).toThrow(MeshError);
  });
});
