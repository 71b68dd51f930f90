// Pure functions; nothing stood in.
import { describe, expect, test } from 'vitest';
import { MeshError } from '../../errors/index.js';
import {
  formatDuration,
  MAX_DURATION_MS,
  normalizeDuration,
  parseDuration,
  toMs,
} from '../../model/duration.js';

describe('parseDuration', () => {
  test.each([
    ['250ms', 250],
    ['2s', 2000],
    ['1m', 60_000],
    ['1h', 3_600_000],
    ['1m30s', 90_000],
    ['1h0m5s250ms', 3_605_250],
    ['0s', 0],
    ['8760h', MAX_DURATION_MS],
  ])('%s is %d ms', (text, ms) => {
    // GIVEN a duration WHEN parsed THEN the milliseconds are exact
    expect(parseDuration(text)).toBe(ms);
  });

  test.each([
    '',
    '2',
    '2 s',
    '1.5s',
    '-1s',
    '1d',
    '1s1m',
    '1ms1s',
    's',
    '8761h',
    '99999999999999999999999s',
    `${'9'.repeat(100)}s`,
  ])('%j is refused', (text) => {
    // GIVEN text that is not a duration in range WHEN parsed THEN undefined
    expect(parseDuration(text)).toBeUndefined();
  });

  test('1ms is a millisecond, not a minute followed by garbage', () => {
    expect(parseDuration('1ms')).toBe(1);
    expect(parseDuration('1m1ms')).toBe(60_001);
  });
});

describe('formatDuration', () => {
  test('uses the largest unit that divides exactly', () => {
    // GIVEN / WHEN / THEN
    expect(formatDuration(0)).toBe('0s');
    expect(formatDuration(250)).toBe('250ms');
    expect(formatDuration(1500)).toBe('1500ms');
    expect(formatDuration(90_000)).toBe('90s');
    expect(formatDuration(120_000)).toBe('2m');
    expect(formatDuration(7_200_000)).toBe('2h');
  });

  test('normalizeDuration gives one spelling per length of time', () => {
    // GIVEN several spellings of 90 seconds WHEN normalized THEN one canonical form
    expect(new Set(['1m30s', '90s', '90000ms', '0h1m30s'].map(normalizeDuration))).toEqual(new Set(['90s']));
    expect(normalizeDuration('nope')).toBeUndefined();
  });
});

describe('toMs', () => {
  test('throws MESH_E_DURATION, not a raw error, on bad input', () => {
    // GIVEN a renderer handed a bad duration WHEN converted THEN a MeshError names the value
    expect(toMs('2s')).toBe(2000);
    expect(() => toMs('2 s')).toThrow(MeshError);
    try {
      toMs('2 s');
    } catch (error) {
      expect((error as MeshError).code).toBe('MESH_E_DURATION');
      expect((error as MeshError).value).toBe('2 s');
    }
  });
});
