import { describe, expect, test } from 'vitest';
import { errorStatus, isRetryableError, withRetry } from '../../../adapters/plan/retry.js';

describe('withRetry', () => {
  test('retries throttling and 5xx with growing backoff, then succeeds', async () => {
    // GIVEN a call that is throttled, then fails with 503, then works
    const failures: unknown[] = [
      Object.assign(new Error('slow down'), { name: 'ThrottlingException' }),
      Object.assign(new Error('unavailable'), { response: { status: 503 } }),
    ];
    const delays: number[] = [];
    // WHEN
    const result = await withRetry(
      () => {
        const next = failures.shift();
        return next === undefined ? Promise.resolve('ok') : Promise.reject(next);
      },
      { baseMs: 2, random: () => 0.999, onRetry: (_e, _a, d) => delays.push(d) },
    );
    // THEN
    expect(result).toBe('ok');
    expect(delays).toEqual([1, 3]);
  });

  test('does not retry a 4xx validation error, and gives up after the retry budget', async () => {
    let calls = 0;
    const bad = Object.assign(new Error('bad'), { $metadata: { httpStatusCode: 400 } });
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(bad);
        },
        { baseMs: 1 },
      ),
    ).rejects.toBe(bad);
    expect(calls).toBe(1);
    calls = 0;
    const busy = Object.assign(new Error('busy'), { code: 429 });
    await expect(
      withRetry(
        () => {
          calls++;
          return Promise.reject(busy);
        },
        { retries: 2, baseMs: 1 },
      ),
    ).rejects.toBe(busy);
    expect(calls).toBe(3);
  });

  test('classifies AWS, gaxios and socket errors', () => {
    expect(errorStatus({ $metadata: { httpStatusCode: 500 } })).toBe(500);
    expect(errorStatus({ code: '503' })).toBe(503);
    expect(isRetryableError({ code: 'ECONNRESET' })).toBe(true);
    expect(isRetryableError({ name: 'ConflictException', $metadata: { httpStatusCode: 409 } })).toBe(false);
    expect(isRetryableError('nope')).toBe(false);
  });
});
