// Pure conversions of canonical proto3-JSON values; no I/O.
import { describe, expect, test } from 'vitest';
import { parseDuration, parseInt64 } from '../../../proxy/config/values.js';

describe('parseDuration', () => {
  test('converts canonical durations to milliseconds', () => {
    // GIVEN canonical proto3 JSON durations
    // WHEN converted
    // THEN milliseconds come out, fractions included
    expect(parseDuration('5s')).toBe(5000);
    expect(parseDuration('1.500s')).toBe(1500);
    expect(parseDuration('0.000250s')).toBe(0.25);
    expect(parseDuration('-2s')).toBe(-2000);
  });

  test('absent gives the fallback, garbage throws', () => {
    // GIVEN no value, then a malformed one
    // THEN the fallback applies, and garbage never becomes NaN
    expect(parseDuration(undefined, 15_000)).toBe(15_000);
    expect(parseDuration(undefined)).toBeUndefined();
    expect(() => parseDuration('5')).toThrow(RangeError);
    expect(() => parseDuration('1m')).toThrow(RangeError);
  });
});

describe('parseInt64', () => {
  test('reads 64-bit strings within the safe range', () => {
    // GIVEN proto3 JSON 64-bit integers
    // THEN they become numbers, or the fallback when absent, and unsafe values throw
    expect(parseInt64('65537', 0)).toBe(65537);
    expect(parseInt64(undefined, 1024)).toBe(1024);
    expect(() => parseInt64('18446744073709551615', 0)).toThrow(RangeError);
  });
});
