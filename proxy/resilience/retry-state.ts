/**
 * One request's retry state, as Envoy's `RetryStateImpl`: the route's retry policy merged with the
 * `x-envoy-retry-on`, `x-envoy-retry-grpc-on` and `x-envoy-max-retries` request headers (which
 * are then removed, as Envoy removes them), the retries left, the hosts already tried (for the
 * `previous_hosts` predicate) and the back-off before the next try. The engine asks
 * {@link RetryState.decide} after each failed attempt; the circuit breaker's `max_retries` /
 * `retry_budget` is checked by the caller (it owns the cluster's resources).
 */
import { getHeader, type HeaderList, removeHeader } from '../http/headers.js';
import {
  type AttemptFailure,
  compileRetryPolicy,
  GRPC_RETRY_ON,
  HTTP_RETRY_ON,
  type RetryPolicyValues,
  retryBackOffMs,
  shouldRetry,
} from '../router/retry.js';

const PREVIOUS_HOSTS = 'envoy.retry_host_predicates.previous_hosts';
const HTTP_HEADER_CONDITIONS = new Set(HTTP_RETRY_ON);
const GRPC_HEADER_CONDITIONS = new Set(GRPC_RETRY_ON);

/** What an attempt produced: a response head, or a failure before one. */
export type AttemptOutcome =
  | { readonly status: number; readonly headers: HeaderList }
  | { readonly failure: AttemptFailure };

/** The verdict on a finished attempt. */
export type RetryDecision = 'retry' | 'no' | 'limit';

const NO_OVERRIDES: { readonly routeMs?: number; readonly perTryMs?: number } = Object.freeze({});

/** True when some header is an `x-envoy-*` one: a single scan saves the lookups (hot path). */
function hasEnvoyHeader(headers: HeaderList): boolean {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).startsWith('x-envoy-')) return true;
  return false;
}

/** Parses the conditions of an `x-envoy-retry-on` style header, keeping only known ones. */
function headerConditions(value: string | undefined, known: ReadonlySet<string>): string[] {
  if (value === undefined) return [];
  return value
    .split(',')
    .map((c) => c.trim())
    .filter((c) => known.has(c));
}

/** A request's retry state; undefined when neither the route nor the headers ask for retries. */
export class RetryState {
  /** Retries still allowed. */
  private left: number;
  /** Attempts made so far (the first try included). */
  attempts = 1;
  /** Hosts already tried, when the `previous_hosts` predicate is on. */
  readonly triedHosts: Set<unknown> | undefined;

  private constructor(
    /** The effective policy. */
    readonly policy: RetryPolicyValues,
    private readonly random: () => number,
  ) {
    this.left = policy.numRetries;
    this.triedHosts = policy.hostPredicates.includes(PREVIOUS_HOSTS) ? new Set() : undefined;
  }

  /**
   * The state for a request on a route with `policy` (may be undefined). Reads and removes the
   * `x-envoy-*` retry headers when `honourHeaders`; returns undefined when no retry is possible.
   */
  static create(
    policy: RetryPolicyValues | undefined,
    headers: HeaderList,
    honourHeaders: boolean,
    random: () => number = Math.random,
  ): RetryState | undefined {
    let effective = policy;
    if (honourHeaders && hasEnvoyHeader(headers)) {
      const on = getHeader(headers, 'x-envoy-retry-on');
      const grpcOn = getHeader(headers, 'x-envoy-retry-grpc-on');
      const max = getHeader(headers, 'x-envoy-max-retries');
      if (on !== undefined || grpcOn !== undefined || max !== undefined) {
        const extra = [
          ...headerConditions(on, HTTP_HEADER_CONDITIONS),
          ...headerConditions(grpcOn, GRPC_HEADER_CONDITIONS),
        ];
        const base = effective ?? compileRetryPolicy({}, 'x-envoy-retry-on');
        const retryOn = extra.length === 0 ? base.retryOn : new Set([...base.retryOn, ...extra]);
        const maxN = max !== undefined && /^\d{1,6}$/.test(max.trim()) ? Number(max.trim()) : undefined;
        effective = { ...base, retryOn, numRetries: maxN ?? base.numRetries };
        removeHeader(headers, 'x-envoy-retry-on');
        removeHeader(headers, 'x-envoy-retry-grpc-on');
        removeHeader(headers, 'x-envoy-max-retries');
      }
    }
    if (effective === undefined || effective.retryOn.size === 0 || effective.numRetries <= 0)
      return undefined;
    return new RetryState(effective, random);
  }

  /**
   * Whether a finished attempt is retried: `retry` (a retry is allowed; the caller still checks
   * the circuit breaker and then calls {@link RetryState.take}), `no` (not a retriable outcome)
   * or `limit` (retriable but no retries left: Envoy's `upstream_rq_retry_limit_exceeded`, URX).
   */
  decide(outcome: AttemptOutcome): RetryDecision {
    if (!shouldRetry(this.policy, outcome)) return 'no';
    return this.left > 0 ? 'retry' : 'limit';
  }

  /** Uses up one retry and returns the jittered back-off (ms) to wait before it. */
  take(): number {
    this.left--;
    this.attempts++;
    return retryBackOffMs(this.policy, this.attempts - 1, this.random);
  }

  /** Per-try timeout in ms (0 = none). */
  get perTryTimeoutMs(): number {
    return this.policy.perTryTimeoutMs ?? 0;
  }
}

/**
 * `x-envoy-upstream-rq-timeout-ms` and `x-envoy-upstream-rq-per-try-timeout-ms` (read and
 * removed): the route timeout and per-try timeout overrides, or undefined when absent/malformed.
 */
export function timeoutOverrides(headers: HeaderList): { routeMs?: number; perTryMs?: number } {
  if (!hasEnvoyHeader(headers)) return NO_OVERRIDES;
  const out: { routeMs?: number; perTryMs?: number } = {};
  const rt = getHeader(headers, 'x-envoy-upstream-rq-timeout-ms');
  if (rt !== undefined) {
    if (/^\d{1,9}$/.test(rt.trim())) out.routeMs = Number(rt.trim());
    removeHeader(headers, 'x-envoy-upstream-rq-timeout-ms');
  }
  const pt = getHeader(headers, 'x-envoy-upstream-rq-per-try-timeout-ms');
  if (pt !== undefined) {
    if (/^\d{1,9}$/.test(pt.trim())) out.perTryMs = Number(pt.trim());
    removeHeader(headers, 'x-envoy-upstream-rq-per-try-timeout-ms');
  }
  return out;
}

/**
 * Envoy honours `x-envoy-*` control headers only from internal clients when it is the edge
 * (`use_remote_address`): RFC 1918 / loopback / ULA addresses count as internal.
 */
export function isInternalAddress(address: string): boolean {
  const a = address.startsWith('::ffff:') ? address.slice(7) : address;
  if (a === '::1' || a.startsWith('127.') || a.startsWith('10.') || a.startsWith('192.168.')) return true;
  const m = /^172\.(\d+)\./.exec(a);
  if (m !== null) {
    const n = Number(m[1]);
    return n >= 16 && n <= 31;
  }
  return /^f[cd][0-9a-f]{2}:/i.test(a);
}
