// Generated x-request-id values (proxy/http/request-id.ts): format and uniqueness; no I/O.
import { describe, expect, test } from 'vitest';
import { requestId } from '../../../proxy/http/request-id.js';

const UUID_V4 = /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('requestId', () => {
  test('ids are UUID v4 shaped and unique, and consecutive ids differ in their leading digits', () => {
    // GIVEN / WHEN 100,000 ids
    const ids = Array.from({ length: 100_000 }, () => requestId());
    // THEN each is a lowercase v4 UUID, none repeats, and the leading group varies
    expect(ids.every((id) => UUID_V4.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    expect(new Set(ids.slice(0, 100).map((id) => id.slice(0, 8))).size).toBe(100);
  });
});
