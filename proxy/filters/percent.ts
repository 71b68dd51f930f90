/**
 * Envoy's `FractionalPercent` as a probability, and the per-request draw against it. Runtime keys
 * never apply (the bundled proxy has no runtime): the configured default value is the value.
 */
import { MeshError } from '../../errors/index.js';
import type { FractionalPercent } from '../config/envoy.js';

const DENOMINATORS: Readonly<Record<string, number>> = {
  HUNDRED: 100,
  TEN_THOUSAND: 10_000,
  MILLION: 1_000_000,
};

/**
 * `p` as a fraction in [0, 1]; `fallback` when `p` is absent. A numerator above its denominator
 * counts as 100 %, as in Envoy.
 * @throws MeshError for a negative or non-integer numerator
 */
export function fractionOf(p: FractionalPercent | undefined, fallback: number, path: string): number {
  if (p === undefined) return fallback;
  const n = p.numerator ?? 0;
  if (!(Number.isInteger(n) && n >= 0)) {
    throw new MeshError('PROXY_E_INVALID', `numerator must be a non-negative integer, got ${n}`, {
      path: `${path}.numerator`,
      value: n,
      allowed: 'an integer >= 0',
    });
  }
  const d = DENOMINATORS[p.denominator ?? 'HUNDRED'] ?? 100;
  return Math.min(1, n / d);
}

/** True with probability `fraction` (1 and 0 need no random draw). */
export function draw(fraction: number, random: () => number): boolean {
  if (fraction >= 1) return true;
  if (fraction <= 0) return false;
  return random() < fraction;
}
