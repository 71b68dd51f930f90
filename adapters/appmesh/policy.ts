/**
 * Resolves the effective policy of a service or route from the model's inheritance chain
 * (route → service → mesh defaults → documented default) and converts model values to App Mesh
 * value types. Works on canonical meshes (every default filled) and on partially filled ones
 * alike, so the renderer never depends on which defaults `canonicalize()` happened to fill.
 */
import { toMs } from '../../model/duration.js';
import type {
  AccessLog,
  Duration,
  Mesh,
  Retries,
  Route,
  Service,
  ServicePolicy,
  Timeouts,
} from '../../model/types.js';
import type { AmDuration } from './types.js';

/** The model's default timeouts (`Timeouts` @default). */
export const DEFAULT_TIMEOUTS = { request: '15s', idle: '5m' } as const;

/** The model's default retry events (`Retries.on` @default). */
export const DEFAULT_RETRY_EVENTS = ['gateway-error', 'connect-failure', 'reset'] as const;

/** A service's policy: its own fields over the mesh defaults. */
export function servicePolicy(mesh: Mesh, service: Service): ServicePolicy {
  return { ...(mesh.defaults ?? {}), ...(service.policy ?? {}) };
}

/** Effective timeouts of a route (or of the service when `route` is undefined). */
export function effectiveTimeouts(policy: ServicePolicy, route?: Route): Required<Timeouts> {
  const own = route?.policy?.timeouts ?? policy.timeouts;
  return {
    request: own?.request ?? DEFAULT_TIMEOUTS.request,
    idle: own?.idle ?? DEFAULT_TIMEOUTS.idle,
  };
}

/** Effective retry policy of a route, or undefined when it does not retry. */
export function effectiveRetries(policy: ServicePolicy, route: Route): Retries | undefined {
  const retries = route.policy?.retries ?? policy.retries;
  return retries === undefined || retries.attempts === 0 ? undefined : retries;
}

/** Effective access log of a service or gateway. */
export function effectiveAccessLog(mesh: Mesh, own: AccessLog | undefined): AccessLog | undefined {
  const log = own ?? mesh.accessLog;
  return log?.enabled === true ? log : undefined;
}

/** App Mesh `Duration`: whole seconds when exact, else milliseconds. */
export function amDuration(duration: Duration): AmDuration {
  return amDurationMs(toMs(duration));
}

/** App Mesh `Duration` from milliseconds. */
export function amDurationMs(ms: number): AmDuration {
  return ms % 1000 === 0 ? { unit: 's', value: ms / 1000 } : { unit: 'ms', value: ms };
}

/** Milliseconds of an App Mesh `Duration`. */
export function amDurationToMs(duration: AmDuration): number {
  return duration.unit === 's' ? duration.value * 1000 : duration.value;
}

/**
 * Splits integer percentages (summing to exactly 100) over relative weights with the largest
 * remainder method, so `1:1:1` becomes `34:33:33` rather than three 33s that App Mesh would refuse.
 * Ties go to the earlier entry, keeping the result deterministic.
 */
export function percentages(weights: readonly number[]): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total <= 0) return weights.map(() => 0);
  const exact = weights.map((w) => (w * 100) / total);
  const floors = exact.map((x) => Math.floor(x));
  let left = 100 - floors.reduce((a, b) => a + b, 0);
  const order = exact
    .map((x, i) => ({ i, rem: x - Math.floor(x) }))
    .sort((a, b) => b.rem - a.rem || a.i - b.i);
  for (const { i } of order) {
    if (left <= 0) break;
    floors[i] = (floors[i] ?? 0) + 1;
    left--;
  }
  return floors;
}
