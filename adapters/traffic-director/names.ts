/**
 * Resource names, references and ownership markers for Traffic Director resources.
 *
 * Why every name starts with the mesh name: networkservices, networksecurity and compute names
 * are unique per project (and location), and one project may hold several crossmesh meshes.
 * Why a hash suffix on long names: compute names are at most 63 characters
 * (`[a-z]([-a-z0-9]*[a-z0-9])?`), so a long name is cut and made unique again with a short
 * digest of the full name; the result is deterministic.
 */
import { createHash } from 'node:crypto';

/** Label key marking a networkservices/networksecurity resource as managed by crossmesh. */
export const MANAGED_LABEL = 'crossmesh-managed';
/** Label key naming the crossmesh mesh a resource belongs to. */
export const MESH_LABEL = 'crossmesh-mesh';
/**
 * Compute BackendService and HealthCheck have no `labels` in compute v1, so ownership is carried
 * by a description prefix: `crossmesh:mesh=<name>`.
 */
export const DESCRIPTION_PREFIX = 'crossmesh:mesh=';

const MAX_NAME = 63;

/** Joins name parts into a valid resource id (≤ 63 characters, lowercase, hyphens). */
export function resourceName(...parts: readonly (string | number)[]): string {
  const full = parts
    .map(String)
    .join('-')
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-');
  if (full.length <= MAX_NAME) return full;
  const digest = createHash('sha256').update(full).digest('hex').slice(0, 8);
  return `${full.slice(0, MAX_NAME - 9).replace(/-+$/, '')}-${digest}`;
}

/** The labels on every networkservices/networksecurity resource of a mesh. */
export function meshLabels(mesh: string): Readonly<Record<string, string>> {
  return { [MANAGED_LABEL]: 'true', [MESH_LABEL]: mesh };
}

/** The description carried by every compute resource of a mesh (compute v1 has no labels there). */
export function computeDescription(mesh: string): string {
  return `${DESCRIPTION_PREFIX}${mesh}`;
}

/** Whether a label set marks a resource as managed by crossmesh for `mesh`. */
export function hasMeshLabels(
  labels: Readonly<Record<string, string>> | null | undefined,
  mesh: string,
): boolean {
  return labels?.[MANAGED_LABEL] === 'true' && labels[MESH_LABEL] === mesh;
}

/** Whether a compute description marks a resource as managed by crossmesh for `mesh`. */
export function hasMeshDescription(description: string | null | undefined, mesh: string): boolean {
  return description === computeDescription(mesh);
}

/** References (relative resource names) the way the APIs accept them. */
export const ref = {
  /** `projects/P/locations/global/<collection>/<id>` (networkservices, networksecurity). */
  global(project: string, collection: string, id: string): string {
    return `projects/${project}/locations/global/${collection}/${id}`;
  },
  /** `projects/P/global/<collection>/<id>` (compute). */
  compute(project: string, collection: string, id: string): string {
    return `projects/${project}/global/${collection}/${id}`;
  },
};

/**
 * Reduces any absolute or versioned Google resource URL to its relative name, so references the
 * server wrote back (`https://www.googleapis.com/compute/v1/projects/...`,
 * `https://networkservices.googleapis.com/v1alpha1/projects/...`) compare equal to the ones sent.
 */
export function relativeName(reference: string): string {
  const at = reference.indexOf('/projects/');
  return at === -1 ? reference : reference.slice(at + 1);
}
