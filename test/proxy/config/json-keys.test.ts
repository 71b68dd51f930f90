// Duplicate-key detection over JSON text; pure, no I/O.
import { describe, expect, test } from 'vitest';
import { duplicateKeys } from '../../../proxy/config/json-keys.js';

describe('duplicateKeys', () => {
  test('a key repeated with an equal value is accepted', () => {
    // GIVEN the same key twice with equal values (Istio's golden bootstrap does this)
    const text = '{"a": {"x": [1, 2]}, "b": 1, "a": {"x":[1,2]}}';
    // THEN nothing is reported
    expect(duplicateKeys(text)).toEqual([]);
  });

  test('a key repeated with a different value is reported with its line', () => {
    // GIVEN nested objects, arrays of objects and escaped keys
    const text =
      '{\n "l": [{"n": 1}, {"n": 1, "n": 2}],\n "o": {"k\\"q": "a", "k\\"q": "b"},\n "s": "{\\"n\\": 1, \\"n\\": 2}"\n}';
    // WHEN scanned
    // THEN each real duplicate is found once, and text inside strings is not mistaken for keys
    expect(duplicateKeys(text)).toEqual([
      { key: 'n', line: 2 },
      { key: 'k"q', line: 3 },
    ]);
  });

  test('keys in sibling objects are independent', () => {
    // GIVEN the same key in two different objects
    // THEN no duplicate is reported
    expect(duplicateKeys('[{"a": 1}, {"a": 2}]')).toEqual([]);
  });
});
