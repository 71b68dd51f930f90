/**
 * Property: for random valid meshes (test/model/arbitraries.ts), whatever Traffic Director renders
 * is accepted by the API, reads back equal, re-plans empty, and destroys completely. Stood in: the
 * Google Cloud REST APIs, by test/helpers/gcp/standin.ts (no GCP here), which validates every
 * request against the discovery documents / googleapis' compute types. Few runs: each one is a
 * full apply over HTTP, and the machine is shared.
 */
import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { applyPlan, computeDestroyPlan, computePlan } from '../../../adapters/plan/engine.js';
import {
  createTrafficDirectorProvider,
  desiredResources,
  trafficDirectorTarget,
} from '../../../adapters/traffic-director/index.js';
import { canonicalize } from '../../../model/canonical.js';
import { renderWithTarget } from '../../../model/render.js';
import { GcpStandin } from '../../helpers/gcp/standin.js';
import { validMesh } from '../../model/arbitraries.js';

const PROJECT = 'prop-project';

describe('Traffic Director on random valid meshes', () => {
  test('the stand-in accepts every render; apply, empty re-plan and destroy converge', async () => {
    await fc.assert(
      fc.asyncProperty(validMesh, fc.boolean(), async (input, withNegs) => {
        // GIVEN a random mesh, rendered with or without NEG inputs
        const mesh = canonicalize(input);
        const negs: Record<string, string[]> = {};
        if (withNegs) {
          for (const [service, def] of Object.entries(mesh.services)) {
            for (const version of Object.keys(def.versions)) {
              negs[`${service}/${version}`] = [
                `projects/${PROJECT}/zones/z1/networkEndpointGroups/${service}-${version}`,
              ];
            }
          }
        }
        const { output } = renderWithTarget(
          trafficDirectorTarget,
          mesh,
          { project: PROJECT, negs },
          { allowDrop: true },
        );
        const desired = desiredResources(output);
        const standin = await GcpStandin.start({ pendingPolls: 0 });
        try {
          const provider = createTrafficDirectorProvider({
            project: PROJECT,
            mesh: mesh.name,
            endpoint: standin.url,
            retry: { retries: 0 },
            pollIntervalMs: 1,
          });
          // WHEN applied
          await applyPlan(provider, await computePlan(provider, mesh.name, desired));
          // THEN nothing was refused, everything reads back as rendered, and the next plan is empty
          expect(standin.calls.filter((c) => c.status >= 400)).toEqual([]);
          const live = await provider.list(desired);
          for (const resource of desired)
            expect(live.find((r) => r.id === resource.id)?.spec, resource.id).toEqual(resource.spec);
          expect((await computePlan(provider, mesh.name, desired)).changes).toEqual([]);
          // AND destroy removes all of it
          await applyPlan(provider, await computeDestroyPlan(provider, mesh.name));
          expect(standin.snapshot().size).toBe(0);
        } finally {
          await standin.close();
        }
      }),
      { numRuns: 8 },
    );
  });
});
