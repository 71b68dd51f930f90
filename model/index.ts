/**
 * The public entry of the crossmesh model: types, factories, validation, canonical form,
 * loading, feature detection and capability-checked rendering. Re-exports only.
 */
export * from './builders.js';
export { canonicalize, DEFAULTS, sortKeys, toCanonicalJson } from './canonical.js';
export { detectFeatures } from './detect.js';
export { formatDuration, MAX_DURATION_MS, normalizeDuration, parseDuration, toMs } from './duration.js';
export * from './features.js';
export { loadMesh, loadMeshInput } from './load.js';
export {
  type ApproximatedFeature,
  type CapabilityReport,
  capabilitiesOverviewPage,
  capabilityMatrixPage,
  checkCapabilities,
  type RenderOutcome,
  type RenderPolicy,
  renderWithTarget,
  unsupportedProblems,
} from './render.js';
export { meshJsonSchema } from './schema/json-schema.js';
export type * from './target.js';
export * from './types.js';
export { findProblems, validate } from './validate.js';
