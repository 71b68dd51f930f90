/**
 * Render targets by name (`crossmesh render --target <name>`). Loaded lazily so a command only
 * pays for the SDKs of the target it uses. Each target issue adds its entry here.
 */
import type { Target } from '../model/target.js';

/**
 * Loads a target by name. Options arrive from the CLI as a plain object (`--options <json>`);
 * each target checks its own and throws `TARGET_E_OPTION` on anything it does not accept.
 */
export type TargetLoader = () => Promise<Target<unknown, object>>;

/** Every target, by name. */
export const TARGETS: Readonly<Record<string, TargetLoader>> = {
  json: async () => (await import('./json/index.js')).jsonTarget,
  envoy: async () => (await import('./envoy/index.js')).envoyTarget,
  appmesh: async () => (await import('./appmesh/target.js')).appmeshTarget,
  'traffic-director': async () => (await import('./traffic-director/index.js')).trafficDirectorTarget,
};
