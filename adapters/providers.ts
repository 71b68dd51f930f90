/** Cloud targets usable with `crossmesh plan|apply|destroy`, loaded lazily by name. */
import type { CloudTarget } from './plan/cloud-target.js';

/** Every cloud target, by name. Each cloud target issue adds its entry. */
export const CLOUD_TARGETS: Readonly<Record<string, () => Promise<CloudTarget>>> = {
  appmesh: async () => (await import('./appmesh/index.js')).appmeshCloudTargetFromEnv(),
  'traffic-director': async () =>
    (await import('./traffic-director/index.js')).trafficDirectorCloudTargetFromEnv(),
};
