/**
 * The one place the CDK constructs call the model and the App Mesh renderer: canonicalize the
 * input, check it against the App Mesh capability matrix (`renderWithTarget`), render. Kept apart
 * from the constructs so the synthesized resources and `crossmesh apply --target appmesh` come
 * from exactly the same call.
 */
import { appmeshTarget } from '../../adapters/appmesh/target.js';
import type { AppMeshOptions, AppMeshResources } from '../../adapters/appmesh/types.js';
import { canonicalize } from '../../model/canonical.js';
import { type ApproximatedFeature, renderWithTarget } from '../../model/render.js';
import type { DroppedFeature } from '../../model/target.js';
import type { Mesh } from '../../model/types.js';

/** What the constructs build from. */
export interface AppMeshRender {
  /** The canonical mesh. */
  readonly mesh: Mesh;
  /** The App Mesh and Cloud Map resources. */
  readonly resources: AppMeshResources;
  /** Feature uses left out (only with `allowDrop`). */
  readonly dropped: readonly DroppedFeature[];
  /** Feature uses App Mesh expresses only approximately. */
  readonly approximated: readonly ApproximatedFeature[];
}

/**
 * Canonicalizes `input` and renders it for App Mesh. Throws MeshError: MESH_E_* for an invalid
 * mesh, TARGET_E_UNSUPPORTED for features App Mesh cannot express (unless `allowDrop`).
 */
export function renderAppMeshForCdk(
  input: unknown,
  options: AppMeshOptions,
  allowDrop: boolean,
): AppMeshRender {
  const mesh = canonicalize(input);
  const outcome = renderWithTarget(appmeshTarget, mesh, options, { allowDrop });
  return { mesh, resources: outcome.output, dropped: outcome.dropped, approximated: outcome.approximated };
}
