/**
 * The gRPC `grpc-timeout` request header (gRPC over HTTP/2: `TimeoutValue TimeoutUnit`, at most
 * 8 digits, units H M S m u n) and how a route's `max_stream_duration.grpc_timeout_header_max` /
 * `grpc_timeout_header_offset` turn it into the stream's duration limit, as Envoy does.
 */
import type { GrpcTimeoutHeader } from './route-table.js';

const UNIT_MS: Readonly<Record<string, number>> = {
  H: 3_600_000,
  M: 60_000,
  S: 1000,
  m: 1,
  u: 0.001,
  n: 0.000_001,
};

/** The header's value in ms (sub-millisecond values round up to 1), or undefined when malformed. */
export function parseGrpcTimeout(value: string): number | undefined {
  const digits = value.length - 1;
  if (digits < 1 || digits > 8) return undefined;
  const unit = UNIT_MS[value[digits] as string];
  if (unit === undefined) return undefined;
  let n = 0;
  for (let i = 0; i < digits; i++) {
    const c = value.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return undefined;
    n = n * 10 + c;
  }
  const ms = n * unit;
  return ms > 0 && ms < 1 ? 1 : Math.floor(ms);
}

/**
 * The stream's duration limit in ms from a `grpc-timeout` header value: capped at `maxMs` (0: no
 * cap), less `offsetMs`; 0 means "already expired" (the offset ate it all). Undefined when the
 * header is absent or malformed: the route's max_stream_duration applies then.
 */
export function grpcStreamLimitMs(spec: GrpcTimeoutHeader, header: string | undefined): number | undefined {
  if (header === undefined) return undefined;
  const parsed = parseGrpcTimeout(header);
  if (parsed === undefined) return undefined;
  const capped = spec.maxMs > 0 && parsed > spec.maxMs ? spec.maxMs : parsed;
  return Math.max(0, capped - spec.offsetMs);
}
