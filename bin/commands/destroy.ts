import { applyPlan, computeDestroyPlan } from '../../adapters/plan/engine.js';
import { formatPlanTable, planToJson } from '../../adapters/plan/format.js';
import { EXIT } from '../../errors/entry.js';
import type { Command } from '../command.js';
import { CLOUD_OPTIONS_HELP, openCloud, parseCloudArgs } from './cloud.js';

/** `crossmesh destroy`: delete every resource crossmesh manages for the mesh. */
export const command: Command = {
  summary: 'Delete every cloud resource crossmesh manages for the mesh',
  help: `Usage: crossmesh destroy --target <appmesh|traffic-director> <mesh.ts|.json|.yaml> [options]

Deletes every resource tagged as managed by crossmesh for this mesh, in reverse dependency order
(dependents first). Resources crossmesh does not manage are never touched.

${CLOUD_OPTIONS_HELP}

Exit codes: 0 destroyed, 1 invalid mesh, 2 usage, 4 cloud API failure (re-run to resume).`,
  async run(argv, io) {
    const args = parseCloudArgs('destroy', argv);
    const cloud = await openCloud(args, io);
    const plan = await computeDestroyPlan(cloud.provider, cloud.mesh.name);
    io.stdout.write(args.json ? `${JSON.stringify(planToJson(plan), null, 2)}\n` : formatPlanTable(plan));
    await applyPlan(cloud.provider, plan, {
      onStep: (change, index, total) =>
        io.stderr.write(`[${index + 1}/${total}] delete ${change.kind} ${change.name}\n`),
    });
    io.stderr.write(`Destroyed: ${plan.changes.length} deleted.\n`);
    return EXIT.ok;
  },
};
