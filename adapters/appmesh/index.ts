/**
 * The App Mesh cloud target for `crossmesh plan|apply|destroy --target appmesh`, and the public
 * surface of the App Mesh adapter.
 */
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
