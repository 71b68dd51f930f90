/**
 * Render targets by name (`crossmesh render --target <name>`). Loaded lazily so a command only
 * pays for the SDKs of the target it uses. Each target issue adds its entry here.
 */
import type { Target } from '../model/target.js';

/** Loads a target by name. */
export type TargetLoader = () => Promise<Target<unknown, never>>;

/** Every target, by name. */
export const TARGETS: Readonly<Record<string, TargetLoader>> = {
  envoy: async () => (await import('./envoy/index.js')).envoyTarget,
  appmesh: async () => (await import('./appmesh/target.js')).appmeshTarget,
  'traffic-director': async () => (await import('./traffic-director/index.js')).trafficDirectorTarget,
};
