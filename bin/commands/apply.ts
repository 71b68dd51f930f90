import { applyPlan, computePlan } from '../../adapters/plan/engine.js';
import { formatPlanTable, planSummary, planToJson } from '../../adapters/plan/format.js';
import { EXIT } from '../../errors/entry.js';
import type { Command } from '../command.js';
import { CLOUD_OPTIONS_HELP, openCloud, parseCloudArgs } from './cloud.js';

/** `crossmesh apply`: compute the plan, then perform it in dependency order. */
export const command: Command = {
  summary: 'Create, update and delete cloud resources so they match the mesh',
  help: `Usage: crossmesh apply --target <appmesh|traffic-director> <mesh.ts|.json|.yaml> [options]

Computes the full plan before any write, prints it, then performs it: creates and updates in
dependency order, then deletes of resources the mesh no longer has, dependents first. Only
resources tagged as managed by crossmesh for this mesh are touched. Re-running apply is always
safe: an apply that was cut off converges, and an apply with nothing to do makes no write.

${CLOUD_OPTIONS_HELP}

Exit codes: 0 applied, 1 invalid mesh, 2 usage, 3 unsupported features, 4 cloud API failure
or unmanaged collision (re-run to resume).`,
  async run(argv, io) {
    const args = parseCloudArgs('apply', argv);
    const cloud = await openCloud(args, io);
    const plan = await computePlan(cloud.provider, cloud.mesh.name, cloud.desired());
    if (args.json) io.stdout.write(`${JSON.stringify(planToJson(plan), null, 2)}\n`);
    else io.stdout.write(formatPlanTable(plan));
    await applyPlan(cloud.provider, plan, {
      onStep: (change, index, total) =>
        io.stderr.write(`[${index + 1}/${total}] ${change.action} ${change.kind} ${change.name}\n`),
    });
    const s = planSummary(plan);
    io.stderr.write(
      `Applied: ${s.create} created, ${s.update} updated, ${s.delete} deleted, ${s.unchanged} unchanged.\n`,
    );
    return EXIT.ok;
  },
};
