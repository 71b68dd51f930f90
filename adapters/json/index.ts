/**
 * The `json` target: the canonical model itself, as deterministic JSON. It expresses every
 * feature (it is the model), so it is also the reference the other targets' matrices are read
 * against, and the way to see exactly what defaults a mesh resolves to.
 */
import { MeshError } from '../../errors/index.js';
import { toCanonicalJson } from '../../model/canonical.js';
import { FEATURE_IDS, type FeatureId } from '../../model/features.js';
import type { Capability, CapabilityMatrix, Target } from '../../model/target.js';
import type { Mesh } from '../../model/types.js';

const FULL: Capability = { support: 'full' };

/** Every feature: full support. */
export const JSON_CAPABILITIES: CapabilityMatrix = Object.fromEntries(
  FEATURE_IDS.map((feature) => [feature, FULL]),
) as Record<FeatureId, Capability>;

/** The json target: output is the canonical mesh; one file, `mesh.json`. Takes no options. */
export const jsonTarget: Target<Mesh, object> = {
  name: 'json',
  title: 'The canonical model: validated, every default explicit, keys sorted (one file, mesh.json).',
  capabilities: JSON_CAPABILITIES,
  render(mesh, options) {
    const given = Object.keys(options);
    if (given.length > 0) {
      throw new MeshError('TARGET_E_OPTION', `target json takes no options, got ${given.join(', ')}`, {
        path: given[0] ?? '',
        allowed: 'no options',
      });
    }
    return mesh;
  },
  files(mesh) {
    return new Map([['mesh.json', toCanonicalJson(mesh)]]);
  },
};
