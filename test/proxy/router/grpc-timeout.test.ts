// grpc-timeout header parsing and the route's grpc_timeout_header_max/offset arithmetic: pure
// functions, nothing stood in.
import { describe, expect, test } from 'vitest';
import { grpcStreamLimitMs, parseGrpcTimeout } from '../../../proxy/router/grpc-timeout.js';

describe('parseGrpcTimeout', () => {
  test('every unit of the gRPC spec', () => {
    // GIVEN / WHEN / THEN
    expect(parseGrpcTimeout('1H')).toBe(3_600_000);
    expect(parseGrpcTimeout('2M')).toBe(120_000);
    expect(parseGrpcTimeout('3S')).toBe(3000);
    expect(parseGrpcTimeout('250m')).toBe(250);
    expect(parseGrpcTimeout('1500u')).toBe(1);
    expect(parseGrpcTimeout('2500000n')).toBe(2);
    expect(parseGrpcTimeout('1n')).toBe(1);
    expect(parseGrpcTimeout('0m')).toBe(0);
    expect(parseGrpcTimeout('99999999S')).toBe(99_999_999_000);
  });

  test('malformed values are refused, not guessed', () => {
    // GIVEN values outside `1*8DIGIT unit`
    // WHEN / THEN
    for (const bad of ['', 'S', '10', '10s', '123456789S', '-1S', '1.5S', ' 1S', '1 S', 'xS'])
      expect(parseGrpcTimeout(bad), bad).toBeUndefined();
  });
});

describe('grpcStreamLimitMs', () => {
  test('the header capped by grpc_timeout_header_max, less the offset', () => {
    // GIVEN a route capping at 1 s with a 100 ms offset
    const spec = { maxMs: 1000, offsetMs: 100 };
    // WHEN / THEN
    expect(grpcStreamLimitMs(spec, '500m')).toBe(400);
    expect(grpcStreamLimitMs(spec, '5S')).toBe(900);
    expect(grpcStreamLimitMs(spec, '50m')).toBe(0);
    expect(grpcStreamLimitMs(spec, undefined)).toBeUndefined();
    expect(grpcStreamLimitMs(spec, 'soon')).toBeUndefined();
  });

  test('grpc_timeout_header_max 0 takes the header as it is', () => {
    // GIVEN / WHEN / THEN
    expect(grpcStreamLimitMs({ maxMs: 0, offsetMs: 0 }, '10M')).toBe(600_000);
  });
});
