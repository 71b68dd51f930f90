/**
 * A route's retry policy as plain values the engine's retry loop (issue 6) reads: which
 * conditions retry, how often, per-try timeout, back-off and which statuses/headers count.
 */
import { MeshError } from '../../errors/index.js';
import type { RetryPolicy } from '../config/envoy.js';
import { parseDuration } from '../config/values.js';
import type { HeaderList } from '../http/headers.js';
import { compileHeaderMatcher, type HeaderPredicate } from './matchers.js';

/** Envoy's HTTP `retry_on` conditions (also what `x-envoy-retry-on` may name). */
export const HTTP_RETRY_ON: readonly string[] = [
  '5xx',
  'gateway-error',
  'reset',
  'reset-before-request',
  'connect-failure',
  'envoy-ratelimited',
  'retriable-4xx',
  'refused-stream',
  'retriable-status-codes',
  'retriable-headers',
  'http3-post-connect-failure',
];

/** Envoy's gRPC `retry_on` conditions (also what `x-envoy-retry-grpc-on` may name). */
export const GRPC_RETRY_ON: readonly string[] = [
  'cancelled',
  'deadline-exceeded',
  'internal',
  'resource-exhausted',
  'unavailable',
];

/** Envoy's `retry_on` conditions (HTTP and gRPC). */
export const RETRY_ON_CONDITIONS: readonly string[] = [...HTTP_RETRY_ON, ...GRPC_RETRY_ON];

/** The retry policy of a matched route. */
export interface RetryPolicyValues {
  /** Conditions that trigger a retry. */
  readonly retryOn: ReadonlySet<string>;
  /** Retries allowed (Envoy default 1). */
  readonly numRetries: number;
  /** Per-attempt timeout in ms; undefined = the route timeout applies to all attempts. */
  readonly perTryTimeoutMs: number | undefined;
  /** Per-attempt idle timeout in ms. */
  readonly perTryIdleTimeoutMs: number | undefined;
  /** Extra statuses retried under `retriable-status-codes`. */
  readonly retriableStatusCodes: readonly number[];
  /** Back-off base in ms (Envoy default 25). */
  readonly backOffBaseMs: number;
  /** Back-off cap in ms (Envoy default 10 x base). */
  readonly backOffMaxMs: number;
  /** Retry host predicate names (e.g. `envoy.retry_host_predicates.previous_hosts`). */
  readonly hostPredicates: readonly string[];
  /** How many times host selection may be re-run to satisfy the predicates (Envoy default 1). */
  readonly hostSelectionRetryMaxAttempts: number;
  /** True when a response's headers match one of `retriable_headers`. */
  readonly retriableHeaders: (responseHeaders: HeaderList) => boolean;
}

const NEVER = (): boolean => false;

/** Parses a RetryPolicy; `path` names the field in errors. */
export function compileRetryPolicy(p: RetryPolicy, path: string): RetryPolicyValues {
  const retryOn = new Set<string>();
  for (const raw of (p.retry_on ?? '').split(',')) {
    const c = raw.trim();
    if (c === '') continue;
    if (!RETRY_ON_CONDITIONS.includes(c)) {
      throw new MeshError('PROXY_E_INVALID', `unknown retry_on condition ${JSON.stringify(c)}`, {
        path: `${path}.retry_on`,
        value: p.retry_on,
        allowed: RETRY_ON_CONDITIONS.join(', '),
      });
    }
    retryOn.add(c);
  }
  const ms = (v: string | undefined, field: string): number | undefined => {
    try {
      return parseDuration(v);
    } catch {
      throw new MeshError('PROXY_E_INVALID', `${field} is not a duration`, {
        path: `${path}.${field}`,
        value: v,
        allowed: 'a duration like "0.25s"',
      });
    }
  };
  const base = ms(p.retry_back_off?.base_interval, 'retry_back_off.base_interval') ?? 25;
  if (p.retry_back_off !== undefined && !(base > 0)) {
    throw new MeshError('PROXY_E_INVALID', 'retry_back_off.base_interval must be above 0', {
      path: `${path}.retry_back_off.base_interval`,
      value: p.retry_back_off.base_interval,
      allowed: 'a positive duration',
    });
  }
  const max = ms(p.retry_back_off?.max_interval, 'retry_back_off.max_interval') ?? base * 10;
  if (max < base) {
    throw new MeshError('PROXY_E_INVALID', 'retry_back_off.max_interval must not be below base_interval', {
      path: `${path}.retry_back_off.max_interval`,
      value: p.retry_back_off?.max_interval,
      allowed: `at least ${base}ms`,
    });
  }
  const headerMatchers: HeaderPredicate[] = (p.retriable_headers ?? []).map((m, i) =>
    compileHeaderMatcher(m, `${path}.retriable_headers[${i}]`),
  );
  const retriableHeaders =
    headerMatchers.length === 0
      ? NEVER
      : (headers: HeaderList) => {
          const input = { authority: '', path: '', method: '', scheme: '', headers };
          return headerMatchers.some((m) => m(input));
        };
  return {
    retryOn,
    numRetries: p.num_retries ?? 1,
    perTryTimeoutMs: ms(p.per_try_timeout, 'per_try_timeout'),
    perTryIdleTimeoutMs: ms(p.per_try_idle_timeout, 'per_try_idle_timeout'),
    retriableStatusCodes: [...(p.retriable_status_codes ?? [])],
    backOffBaseMs: base,
    backOffMaxMs: max,
    hostPredicates: (p.retry_host_predicate ?? []).map((h) => h.name),
    hostSelectionRetryMaxAttempts: Number(p.host_selection_retry_max_attempts ?? '1'),
    retriableHeaders,
  };
}

/** Why an upstream attempt ended without a usable response (for `reset`-style conditions). */
export type AttemptFailure =
  | 'connect-failure'
  | 'reset'
  | 'reset-before-request'
  | 'refused-stream'
  | 'timeout';

/** gRPC status codes named by `retry_on` (from the `grpc-status` response header or trailer). */
const GRPC_CONDITIONS: ReadonlyArray<readonly [string, string]> = [
  ['cancelled', '1'],
  ['deadline-exceeded', '4'],
  ['resource-exhausted', '8'],
  ['internal', '13'],
  ['unavailable', '14'],
];

/**
 * Envoy's retry decision for one finished attempt: whether `retry_on` covers what happened.
 * `response` is the upstream status and headers when one arrived; `failure` when none did.
 * (Envoy treats every upstream reset, connect failure and per-try timeout as a 5xx.)
 */
export function shouldRetry(
  policy: RetryPolicyValues,
  outcome: { readonly status: number; readonly headers: HeaderList } | { readonly failure: AttemptFailure },
): boolean {
  const on = policy.retryOn;
  if ('failure' in outcome) {
    // Envoy counts any upstream reset as a 5xx, so 5xx and gateway-error retry every failure kind.
    if (on.has('5xx') || on.has('gateway-error')) return true;
    switch (outcome.failure) {
      case 'connect-failure':
        return on.has('connect-failure') || on.has('reset');
      case 'refused-stream':
        return on.has('refused-stream') || on.has('reset');
      case 'reset-before-request':
        return on.has('reset-before-request') || on.has('reset');
      default:
        return on.has('reset');
    }
  }
  const { status, headers } = outcome;
  if (on.has('5xx') && status >= 500) return true;
  if (on.has('gateway-error') && (status === 502 || status === 503 || status === 504)) return true;
  if (on.has('retriable-4xx') && status === 409) return true;
  if (on.has('retriable-status-codes') && policy.retriableStatusCodes.includes(status)) return true;
  if (on.has('envoy-ratelimited') && headers.includes('x-envoy-ratelimited')) return true;
  if (on.has('retriable-headers') && policy.retriableHeaders(headers)) return true;
  let grpcStatus: string | undefined;
  for (let i = 0; i < headers.length; i += 2) if (headers[i] === 'grpc-status') grpcStatus = headers[i + 1];
  if (grpcStatus !== undefined) {
    for (const [condition, code] of GRPC_CONDITIONS)
      if (grpcStatus === code && on.has(condition)) return true;
  }
  return false;
}

/**
 * Envoy's fully jittered exponential back-off before retry number `retry` (1-based): a random
 * wait in [0, min(base x 2^(retry-1), max)).
 */
export function retryBackOffMs(
  policy: RetryPolicyValues,
  retry: number,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.backOffBaseMs * 2 ** Math.max(0, retry - 1), policy.backOffMaxMs);
  return Math.floor(random() * ceiling);
}
