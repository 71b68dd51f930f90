import { computePlan } from '../../adapters/plan/engine.js';
import { formatPlanTable, planToJson } from '../../adapters/plan/format.js';
import { EXIT } from '../../errors/entry.js';
import type { Command } from '../command.js';
import { CLOUD_OPTIONS_HELP, openCloud, parseCloudArgs } from './cloud.js';

/** `crossmesh plan`: diff the rendered mesh against live cloud state; writes nothing. */
export const command: Command = {
  summary: 'Show what apply would create, update and delete in a cloud target',
  help: `Usage: crossmesh plan --target <appmesh|traffic-director> <mesh.ts|.json|.yaml> [options]

Reads the live state of the resources crossmesh manages for this mesh, diffs it against the
rendered mesh, and prints the creates, updates and deletes in the order apply would perform them.
Nothing is written.

${CLOUD_OPTIONS_HELP}
  --detailed-exitcode    Exit 6 when the plan has changes, 0 when it is empty

Exit codes: 0 ok (or empty plan), 1 invalid mesh, 2 usage, 3 unsupported features,
4 cloud API failure or unmanaged collision, 6 changes present (--detailed-exitcode).`,
  async run(argv, io) {
    const args = parseCloudArgs('plan', argv, ['detailed-exitcode']);
    const cloud = await openCloud(args, io);
    const plan = await computePlan(cloud.provider, cloud.mesh.name, cloud.desired());
    io.stdout.write(args.json ? `${JSON.stringify(planToJson(plan), null, 2)}\n` : formatPlanTable(plan));
    return args.detailedExitcode && plan.changes.length > 0 ? EXIT.changes : EXIT.ok;
  },
};
