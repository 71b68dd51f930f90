// Pure unit tests of the retry decision and back-off (Envoy's router retry semantics).
import { describe, expect, test } from 'vitest';
import { compileRetryPolicy, retryBackOffMs, shouldRetry } from '../../../proxy/router/index.js';

const policy = (retry_on: string, extra: Record<string, unknown> = {}) =>
  compileRetryPolicy({ retry_on, ...extra }, 'p');
const resp = (status: number, headers: string[] = []) => ({ status, headers });

describe('shouldRetry', () => {
  test.each([
    ['5xx', resp(503), true],
    ['5xx', resp(404), false],
    ['gateway-error', resp(502), true],
    ['gateway-error', resp(500), false],
    ['retriable-4xx', resp(409), true],
    ['retriable-4xx', resp(400), false],
    ['envoy-ratelimited', resp(429, ['x-envoy-ratelimited', 'true']), true],
    ['unavailable', resp(200, ['grpc-status', '14']), true],
    ['cancelled,internal', resp(200, ['grpc-status', '13']), true],
    ['deadline-exceeded', resp(200, ['grpc-status', '14']), false],
  ] as const)('%s on %j → %s', (on, outcome, want) => {
    // GIVEN / WHEN / THEN
    expect(shouldRetry(policy(on), outcome)).toBe(want);
  });

  test.each([
    ['connect-failure', 'connect-failure', true],
    ['reset', 'connect-failure', true],
    ['retriable-4xx', 'connect-failure', false],
    ['refused-stream', 'refused-stream', true],
    ['reset', 'reset', true],
    ['gateway-error', 'timeout', true],
    ['connect-failure', 'reset', false],
  ] as const)('%s on failure %s → %s', (on, failure, want) => {
    // GIVEN / WHEN / THEN
    expect(shouldRetry(policy(on), { failure })).toBe(want);
  });

  test('retriable status codes and headers', () => {
    // GIVEN
    const p = policy('retriable-status-codes,retriable-headers', {
      retriable_status_codes: [418],
      retriable_headers: [{ name: 'x-retry', string_match: { exact: 'yes' } }],
    });
    // WHEN / THEN
    expect(shouldRetry(p, resp(418))).toBe(true);
    expect(shouldRetry(p, resp(200, ['x-retry', 'yes']))).toBe(true);
    expect(shouldRetry(p, resp(200, ['x-retry', 'no']))).toBe(false);
  });
});

describe('retryBackOffMs', () => {
  test('is fully jittered and grows exponentially up to the cap', () => {
    // GIVEN base 25 ms, max 250 ms (Envoy defaults)
    const p = policy('5xx');
    // WHEN the random source is at its top
    const top = () => 0.999999;
    // THEN
    expect(retryBackOffMs(p, 1, top)).toBe(24);
    expect(retryBackOffMs(p, 2, top)).toBe(49);
    expect(retryBackOffMs(p, 3, top)).toBe(99);
    expect(retryBackOffMs(p, 10, top)).toBe(249);
    expect(retryBackOffMs(p, 3, () => 0)).toBe(0);
  });
});
