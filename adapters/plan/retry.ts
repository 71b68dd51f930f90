/**
 * Retries with exponential backoff and full jitter for cloud API calls: throttling, 429 and 5xx
 * are retried; everything else fails at once. Providers wrap each API call with {@link withRetry}.
 */

/** Options for {@link withRetry}. */
export interface RetryOptions {
  /** Retries after the first attempt. @default 5 */
  readonly retries?: number;
  /** Backoff base in milliseconds: attempt n waits a random time up to base * 2^n. @default 200 */
  readonly baseMs?: number;
  /** Cap on one wait, in milliseconds. @default 10000 */
  readonly maxMs?: number;
  /** Whether an error is worth retrying. @default - {@link isRetryableError} */
  readonly isRetryable?: (error: unknown) => boolean;
  /** Called before each wait (progress output). @default - nothing */
  readonly onRetry?: (error: unknown, attempt: number, delayMs: number) => void;
  /** Random source in [0, 1), for tests. @default - Math.random */
  readonly random?: () => number;
}

const THROTTLING_NAMES = new Set([
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'TooManyRequestsException',
  'RequestLimitExceeded',
  'ServiceUnavailableException',
  'InternalServerErrorException',
]);

/** The HTTP status an SDK error carries (AWS SDK v3 `$metadata`, gaxios `response`/`status`/`code`). */
export function errorStatus(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const e = error as {
    readonly $metadata?: { readonly httpStatusCode?: unknown };
    readonly status?: unknown;
    readonly code?: unknown;
    readonly response?: { readonly status?: unknown };
  };
  for (const candidate of [e.$metadata?.httpStatusCode, e.response?.status, e.status, e.code]) {
    if (typeof candidate === 'number' && candidate >= 100 && candidate < 600) return candidate;
    if (typeof candidate === 'string' && /^[1-5]\d\d$/.test(candidate)) return Number(candidate);
  }
  return undefined;
}

/** True for throttling, 429, 5xx and transient network errors. */
export function isRetryableError(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const name = (error as { readonly name?: unknown }).name;
  if (typeof name === 'string' && THROTTLING_NAMES.has(name)) return true;
  const code = (error as { readonly code?: unknown }).code;
  if (
    typeof code === 'string' &&
    ['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN'].includes(code)
  ) {
    return true;
  }
  const status = errorStatus(error);
  return status === 429 || (status !== undefined && status >= 500);
}

/** Runs `fn`, retrying retryable failures with exponential backoff and full jitter. */
export async function withRetry<T>(fn: () => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const retries = options.retries ?? 5;
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 10_000;
  const isRetryable = options.isRetryable ?? isRetryableError;
  const random = options.random ?? Math.random;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt >= retries || !isRetryable(error)) throw error;
      const delayMs = Math.floor(random() * Math.min(maxMs, baseMs * 2 ** attempt));
      options.onRetry?.(error, attempt + 1, delayMs);
      await new Promise((resolve) => setTimeout(resolve, delayMs));
    }
  }
}
