/**
 * The App Mesh cloud target for `crossmesh plan|apply|destroy --target appmesh`, and the public
 * surface of the App Mesh adapter.
 */
import { readFileSync } from 'node:fs';
import { MeshError } from '../../errors/index.js';
import { renderWithTarget } from '../../model/render.js';
import type { Mesh } from '../../model/types.js';
import type { CloudOptions, CloudTarget } from '../plan/cloud-target.js';
import type { DesiredResource } from '../plan/types.js';
import { desiredResources } from './desired.js';
import { createAppMeshProvider } from './provider.js';
import { APPMESH_NOTICE, appmeshTarget } from './target.js';
import type { AppMeshOptions } from './types.js';

export { APPMESH_CAPABILITIES } from './capabilities.js';
export { desiredResources, ids } from './desired.js';
export { type AppMeshProviderOptions, createAppMeshProvider } from './provider.js';
export { MANAGED_TAG, MESH_TAG, renderAppMesh } from './render.js';
export { APPMESH_NOTICE, appMeshFiles, appmeshTarget } from './target.js';
export type * from './types.js';

/** Desired resources of a canonical mesh, with the capability check (dropped uses go to `warn`). */
export function appMeshDesired(
  mesh: Mesh,
  options: CloudOptions & { readonly allowDrop: boolean },
  renderOptions: AppMeshOptions = {},
): readonly DesiredResource[] {
  const { output, dropped } = renderWithTarget(appmeshTarget, mesh, renderOptions, {
    allowDrop: options.allowDrop,
  });
  for (const d of dropped) options.warn?.(`${d.path}: ${d.feature} dropped: ${d.reason}`);
  return desiredResources(output);
}

/**
 * Builds an App Mesh cloud target with render options (discovery, certificates). The registered
 * target uses the defaults: Cloud Map discovery and SDS certificates.
 */
export function createAppMeshCloudTarget(renderOptions: AppMeshOptions = {}): CloudTarget {
  return {
    name: 'appmesh',
    notice: APPMESH_NOTICE,
    desired: (mesh, options) => appMeshDesired(mesh, options, renderOptions),
    provider: (mesh, options) => createAppMeshProvider(mesh.name, options),
  };
}

/** The App Mesh cloud target with default render options. */
export const appmeshCloudTarget: CloudTarget = createAppMeshCloudTarget();

/** Environment variable with App Mesh render options for the CLI: inline JSON, or `@path/to/options.json`. */
export const OPTIONS_ENV = 'CROSSMESH_APPMESH_OPTIONS';

/**
 * The cloud target the CLI registers: render options (discovery, namespace type, certificates)
 * from {@link OPTIONS_ENV}, read here at the registry edge so rendering stays pure. The options
 * themselves are checked by the renderer (TARGET_E_OPTION naming the field).
 */
export function appmeshCloudTargetFromEnv(env: NodeJS.ProcessEnv = process.env): CloudTarget {
  const raw = env[OPTIONS_ENV];
  if (raw === undefined || raw.trim() === '') return appmeshCloudTarget;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw.startsWith('@') ? readFileSync(raw.slice(1), 'utf8') : raw);
  } catch (error) {
    throw new MeshError(
      'TARGET_E_OPTION',
      `${OPTIONS_ENV} must be JSON or @file with JSON: ${(error as Error).message}`,
      {
        path: OPTIONS_ENV,
        value: raw,
        allowed: '{"discovery": "dns"} or @options.json',
      },
    );
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new MeshError('TARGET_E_OPTION', `${OPTIONS_ENV} must be a JSON object`, {
      path: OPTIONS_ENV,
      value: raw,
      allowed: '{"discovery": "dns"} or @options.json',
    });
  }
  return createAppMeshCloudTarget(parsed as AppMeshOptions);
}
