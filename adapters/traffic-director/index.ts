/**
 * The Traffic Director (Cloud Service Mesh) target: the render target for
 * `crossmesh render --target traffic-director`, the cloud target for
 * `crossmesh plan|apply|destroy --target traffic-director --project P`, and the public surface
 * of the adapter (the CDK construct calls {@link renderTrafficDirectorManifest}).
 */
import { readFileSync } from 'node:fs';
import { MeshError } from '../../errors/index.js';
import { renderWithTarget } from '../../model/render.js';
import type { Target } from '../../model/target.js';
import type { Mesh } from '../../model/types.js';
import type { CloudOptions, CloudTarget } from '../plan/cloud-target.js';
import type { DesiredResource } from '../plan/types.js';
import { TRAFFIC_DIRECTOR_CAPABILITIES } from './capabilities.js';
import { desiredResources } from './desired.js';
import { createTrafficDirectorProvider } from './provider.js';
import { renderTrafficDirector } from './render.js';
import type { TrafficDirectorManifest, TrafficDirectorOptions } from './types.js';

export { TRAFFIC_DIRECTOR_CAPABILITIES } from './capabilities.js';
export { desiredResources, resourceId } from './desired.js';
export { computeDescription, DESCRIPTION_PREFIX, MANAGED_LABEL, MESH_LABEL, meshLabels } from './names.js';
export {
  createTrafficDirectorProvider,
  projectLive,
  type TrafficDirectorProviderOptions,
} from './provider.js';
export { renderTrafficDirector, renderTrafficDirectorManifest } from './render.js';
export { SERVICE_METADATA_LABEL } from './security.js';
export type * from './types.js';

/** The manifest as files: one JSON document (what the CDK construct adds to the cloud assembly). Pure. */
export function trafficDirectorFiles(output: TrafficDirectorManifest): ReadonlyMap<string, string> {
  return new Map([['traffic-director.json', `${JSON.stringify(output, null, 2)}\n`]]);
}

/** The Traffic Director render target. Options: `{ "project": "P", "negs": { "svc/v1": ["projects/P/zones/Z/networkEndpointGroups/N"] } }`. */
export const trafficDirectorTarget: Target<TrafficDirectorManifest, TrafficDirectorOptions> = {
  name: 'traffic-director',
  title:
    'Google Cloud Traffic Director (Cloud Service Mesh) through networkservices v1 (Mesh, routes, Gateway, EndpointPolicy), networksecurity v1 (TLS and authorization policies) and compute v1 (backend services, health checks).',
  capabilities: TRAFFIC_DIRECTOR_CAPABILITIES,
  render: renderTrafficDirector,
  files: trafficDirectorFiles,
};

/** Render options a cloud target adds to the command line's (`project` comes from `--project`). */
export type TrafficDirectorCloudOptions = Omit<TrafficDirectorOptions, 'project'>;

/** Desired resources of a canonical mesh, with the capability check; drops and warnings go to `warn`. */
export function trafficDirectorDesired(
  mesh: Mesh,
  options: CloudOptions & { readonly allowDrop: boolean },
  renderOptions: TrafficDirectorCloudOptions = {},
): readonly DesiredResource[] {
  if (options.project === undefined || options.project === '') {
    throw new MeshError('TARGET_E_OPTION', 'Traffic Director needs a GCP project: pass --project <id>', {
      path: '--project',
      allowed: 'a GCP project id, e.g. --project my-project',
    });
  }
  const { output, dropped } = renderWithTarget(
    trafficDirectorTarget,
    mesh,
    { ...renderOptions, project: options.project },
    { allowDrop: options.allowDrop },
  );
  for (const d of dropped) options.warn?.(`${d.path}: ${d.feature} dropped: ${d.reason}`);
  for (const warning of output.warnings) options.warn?.(warning);
  return desiredResources(output);
}

/** Builds a Traffic Director cloud target with render options (NEG backends, draining, rates). */
export function createTrafficDirectorCloudTarget(
  renderOptions: TrafficDirectorCloudOptions = {},
): CloudTarget {
  return {
    name: 'traffic-director',
    desired: (mesh, options) => trafficDirectorDesired(mesh, options, renderOptions),
    provider: (mesh, options) => {
      if (options.project === undefined || options.project === '') {
        throw new MeshError('TARGET_E_OPTION', 'Traffic Director needs a GCP project: pass --project <id>', {
          path: '--project',
        });
      }
      return createTrafficDirectorProvider({
        project: options.project,
        mesh: mesh.name,
        ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
        ...(options.progress === undefined ? {} : { progress: options.progress }),
      });
    },
  };
}

/** Environment variable with the NEG inputs for the CLI: inline JSON, or `@path/to/negs.json`. */
export const NEGS_ENV = 'CROSSMESH_TD_NEGS';

/**
 * The cloud target the CLI registers: render options from {@link NEGS_ENV}
 * (`{"<service>/<version>": ["projects/P/zones/Z/networkEndpointGroups/N", ...]}`), read here at
 * the registry edge so rendering stays pure.
 */
export function trafficDirectorCloudTargetFromEnv(env: NodeJS.ProcessEnv = process.env): CloudTarget {
  const raw = env[NEGS_ENV];
  if (raw === undefined || raw.trim() === '') return createTrafficDirectorCloudTarget();
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw);
  } catch (error) {
    throw new MeshError(
      'TARGET_E_OPTION',
      `${NEGS_ENV} must be JSON or @file with JSON: ${(error as Error).message}`,
      {
        path: NEGS_ENV,
        value: raw,
        allowed: '{"<service>/<version>": ["projects/P/zones/Z/networkEndpointGroups/N"]}',
      },
    );
  }
  const valid =
    typeof parsed === 'object' &&
    parsed !== null &&
    !Array.isArray(parsed) &&
    Object.values(parsed).every((v) => Array.isArray(v) && v.every((s) => typeof s === 'string'));
  if (!valid) {
    throw new MeshError(
      'TARGET_E_OPTION',
      `${NEGS_ENV} must map "<service>/<version>" to a list of NEG references`,
      {
        path: NEGS_ENV,
        value: raw,
        allowed: '{"<service>/<version>": ["projects/P/zones/Z/networkEndpointGroups/N"]}',
      },
    );
  }
  return createTrafficDirectorCloudTarget({ negs: parsed as Record<string, string[]> });
}
