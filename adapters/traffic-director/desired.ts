/**
 * Rendered manifest → plan/apply resources. The spec of each resource is exactly its request body
 * without `name`: the fields crossmesh manages, already proto3-clean and key-sorted, so the
 * provider's projection of a live resource compares equal after a successful apply.
 */
import type { DesiredResource } from '../plan/types.js';
import type { TrafficDirectorManifest } from './types.js';

/** The id of a resource: `Kind/name`. */
export function resourceId(kind: string, name: string): string {
  return `${kind}/${name}`;
}

/** One DesiredResource per rendered resource, in the manifest's dependency order. */
export function desiredResources(manifest: TrafficDirectorManifest): DesiredResource[] {
  return manifest.resources.map((r) => ({
    kind: r.kind,
    id: resourceId(r.kind, r.name),
    name: r.name,
    dependsOn: r.dependsOn,
    spec: r.body,
  }));
}
