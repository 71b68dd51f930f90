/**
 * What `plan`, `apply` and `destroy` share: argument parsing, loading the mesh and the cloud
 * target, and progress output. The engine (adapters/plan/engine.ts) does the work.
 */
import { parseArgs } from 'node:util';
import type { CloudOptions, CloudTarget } from '../../adapters/plan/cloud-target.js';
import type { DesiredResource, Provider } from '../../adapters/plan/types.js';
import { CLOUD_TARGETS } from '../../adapters/providers.js';
import { MeshError } from '../../errors/index.js';
import { loadMesh } from '../../model/load.js';
import type { Mesh } from '../../model/types.js';
import type { CommandIO } from '../command.js';

/** Parsed options common to the cloud commands. */
export interface CloudArgs {
  readonly meshFile: string;
  readonly targetName: string;
  readonly json: boolean;
  readonly allowDrop: boolean;
  readonly detailedExitcode: boolean;
  readonly options: CloudOptions;
}

/** The options text for `--help`. */
export const CLOUD_OPTIONS_HELP = `Options:
  --target <name>        Cloud target: ${Object.keys(CLOUD_TARGETS).join(', ') || '(none registered)'} (required)
  --endpoint <url>       Send API calls to this endpoint (a local stand-in such as moto)
  --region <region>      AWS region (default: the standard AWS chain: AWS_REGION, profile)
  --project <id>         GCP project (required for traffic-director)
  --allow-drop           Render without features the target cannot express; each one is reported
  --json                 Print the plan as JSON on stdout
  -h, --help             Show this help`;

/** Parses the command line of a cloud command. `extra` adds command-specific boolean flags. */
export function parseCloudArgs(
  command: string,
  argv: readonly string[],
  extra: readonly string[] = [],
): CloudArgs {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...argv],
      allowPositionals: true,
      strict: true,
      options: {
        target: { type: 'string' },
        endpoint: { type: 'string' },
        region: { type: 'string' },
        project: { type: 'string' },
        json: { type: 'boolean', default: false },
        'allow-drop': { type: 'boolean', default: false },
        ...Object.fromEntries(extra.map((flag) => [flag, { type: 'boolean' as const, default: false }])),
      },
    });
  } catch (error) {
    throw new MeshError(
      'CLI_E_USAGE',
      `${command}: ${(error as Error).message}; see crossmesh ${command} --help`,
    );
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) {
    throw new MeshError('CLI_E_USAGE', `${command} takes exactly one mesh file, got ${positionals.length}`, {
      path: 'argv',
      value: positionals,
      allowed: 'one path to a .ts, .json or .yaml mesh',
    });
  }
  const target = values.target;
  if (typeof target !== 'string') {
    throw new MeshError('CLI_E_USAGE', `${command} needs --target`, {
      path: '--target',
      allowed: Object.keys(CLOUD_TARGETS).join(', '),
    });
  }
  const str = (name: string): string | undefined => {
    const value = values[name];
    return typeof value === 'string' ? value : undefined;
  };
  const endpoint = str('endpoint');
  const region = str('region');
  const project = str('project');
  return {
    meshFile: positionals[0] as string,
    targetName: target,
    json: values.json === true,
    allowDrop: values['allow-drop'] === true,
    detailedExitcode: values['detailed-exitcode'] === true,
    options: {
      ...(endpoint === undefined ? {} : { endpoint }),
      ...(region === undefined ? {} : { region }),
      ...(project === undefined ? {} : { project }),
    },
  };
}

/** Everything a cloud command needs, loaded. */
export interface CloudContext {
  readonly target: CloudTarget;
  readonly mesh: Mesh;
  readonly provider: Provider;
  /** Desired resources (computed lazily: destroy does not need them). */
  desired(): readonly DesiredResource[];
}

/** Loads the cloud target and the mesh, prints the target's notice, and builds the provider. */
export async function openCloud(args: CloudArgs, io: CommandIO): Promise<CloudContext> {
  const load = CLOUD_TARGETS[args.targetName];
  if (load === undefined) {
    throw new MeshError('TARGET_E_UNKNOWN', `unknown cloud target ${JSON.stringify(args.targetName)}`, {
      path: '--target',
      value: args.targetName,
      allowed: Object.keys(CLOUD_TARGETS).join(', '),
    });
  }
  const target = await load();
  if (target.notice !== undefined) io.stderr.write(`NOTICE: ${target.notice}\n`);
  const mesh = await loadMesh(args.meshFile);
  const options: CloudOptions = {
    ...args.options,
    progress: (line) => io.stderr.write(`  ${line}\n`),
    warn: (line) => io.stderr.write(`warning: ${line}\n`),
  };
  const provider = target.provider(mesh, options);
  return {
    target,
    mesh,
    provider,
    desired: () => target.desired(mesh, { ...options, allowDrop: args.allowDrop }),
  };
}
