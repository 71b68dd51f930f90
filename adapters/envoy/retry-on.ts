/**
 * Envoy's `retry_on` condition names for the model's retry events. Traffic Director's HttpRoute
 * takes the same names (its data plane is Envoy), so both renderers read this one table.
 */
import type { RetryEvent } from '../../model/types.js';

/** Model retry event → Envoy `retry_on` name. */
export const ENVOY_RETRY_ON: Readonly<Record<RetryEvent, string>> = {
  'server-error': '5xx',
  'gateway-error': 'gateway-error',
  'client-error': 'retriable-4xx',
  reset: 'reset',
  'connect-failure': 'connect-failure',
  'refused-stream': 'refused-stream',
  cancelled: 'cancelled',
  'deadline-exceeded': 'deadline-exceeded',
  'resource-exhausted': 'resource-exhausted',
  unavailable: 'unavailable',
  internal: 'internal',
};
