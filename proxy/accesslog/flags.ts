/**
 * Envoy's response flags (`%RESPONSE_FLAGS%`) as bits, in Envoy's own order, which is also the
 * order they are printed in (comma-separated, `-` when none). The engine ORs bits into a number
 * as things go wrong; only the access log turns them into text.
 */

/** Bit per flag; names follow Envoy's `StreamInfo::CoreResponseFlag`. */
export const ResponseFlag = {
  FailedLocalHealthCheck: 1 << 0,
  NoHealthyUpstream: 1 << 1,
  UpstreamRequestTimeout: 1 << 2,
  LocalReset: 1 << 3,
  UpstreamRemoteReset: 1 << 4,
  UpstreamConnectionFailure: 1 << 5,
  UpstreamConnectionTermination: 1 << 6,
  UpstreamOverflow: 1 << 7,
  NoRouteFound: 1 << 8,
  DelayInjected: 1 << 9,
  FaultInjected: 1 << 10,
  RateLimited: 1 << 11,
  UnauthorizedExternalService: 1 << 12,
  RateLimitServiceError: 1 << 13,
  DownstreamConnectionTermination: 1 << 14,
  UpstreamRetryLimitExceeded: 1 << 15,
  StreamIdleTimeout: 1 << 16,
  InvalidEnvoyRequestHeaders: 1 << 17,
  DownstreamProtocolError: 1 << 18,
  UpstreamMaxStreamDurationReached: 1 << 19,
  ResponseFromCacheFilter: 1 << 20,
  NoFilterConfigFound: 1 << 21,
  DurationTimeout: 1 << 22,
  UpstreamProtocolError: 1 << 23,
  NoClusterFound: 1 << 24,
  OverloadManager: 1 << 25,
  DnsResolutionFailed: 1 << 26,
  DropOverLoad: 1 << 27,
  DownstreamRemoteReset: 1 << 28,
} as const;

/** A response flag name. */
export type ResponseFlagName = keyof typeof ResponseFlag;

/** Short and long strings per flag, in print order. */
const FLAG_STRINGS: ReadonlyArray<readonly [number, string, string]> = [
  [ResponseFlag.FailedLocalHealthCheck, 'LH', 'FailedLocalHealthCheck'],
  [ResponseFlag.NoHealthyUpstream, 'UH', 'NoHealthyUpstream'],
  [ResponseFlag.UpstreamRequestTimeout, 'UT', 'UpstreamRequestTimeout'],
  [ResponseFlag.LocalReset, 'LR', 'LocalReset'],
  [ResponseFlag.UpstreamRemoteReset, 'UR', 'UpstreamRemoteReset'],
  [ResponseFlag.UpstreamConnectionFailure, 'UF', 'UpstreamConnectionFailure'],
  [ResponseFlag.UpstreamConnectionTermination, 'UC', 'UpstreamConnectionTermination'],
  [ResponseFlag.UpstreamOverflow, 'UO', 'UpstreamOverflow'],
  [ResponseFlag.NoRouteFound, 'NR', 'NoRouteFound'],
  [ResponseFlag.DelayInjected, 'DI', 'DelayInjected'],
  [ResponseFlag.FaultInjected, 'FI', 'FaultInjected'],
  [ResponseFlag.RateLimited, 'RL', 'RateLimited'],
  [ResponseFlag.UnauthorizedExternalService, 'UAEX', 'UnauthorizedExternalService'],
  [ResponseFlag.RateLimitServiceError, 'RLSE', 'RateLimitServiceError'],
  [ResponseFlag.DownstreamConnectionTermination, 'DC', 'DownstreamConnectionTermination'],
  [ResponseFlag.UpstreamRetryLimitExceeded, 'URX', 'UpstreamRetryLimitExceeded'],
  [ResponseFlag.StreamIdleTimeout, 'SI', 'StreamIdleTimeout'],
  [ResponseFlag.InvalidEnvoyRequestHeaders, 'IH', 'InvalidEnvoyRequestHeaders'],
  [ResponseFlag.DownstreamProtocolError, 'DPE', 'DownstreamProtocolError'],
  [ResponseFlag.UpstreamMaxStreamDurationReached, 'UMSDR', 'UpstreamMaxStreamDurationReached'],
  [ResponseFlag.ResponseFromCacheFilter, 'RFCF', 'ResponseFromCacheFilter'],
  [ResponseFlag.NoFilterConfigFound, 'NFCF', 'NoFilterConfigFound'],
  [ResponseFlag.DurationTimeout, 'DT', 'DurationTimeout'],
  [ResponseFlag.UpstreamProtocolError, 'UPE', 'UpstreamProtocolError'],
  [ResponseFlag.NoClusterFound, 'NC', 'NoClusterFound'],
  [ResponseFlag.OverloadManager, 'OM', 'OverloadManager'],
  [ResponseFlag.DnsResolutionFailed, 'DF', 'DnsResolutionFailed'],
  [ResponseFlag.DropOverLoad, 'DO', 'DropOverLoad'],
  [ResponseFlag.DownstreamRemoteReset, 'DR', 'DownstreamRemoteReset'],
];

/** Short code (`UF`) → bit, for access log filters. */
export const FLAG_BITS: ReadonlyMap<string, number> = new Map(
  FLAG_STRINGS.map(([bit, short]) => [short, bit]),
);

/** `%RESPONSE_FLAGS%`: short codes joined by `,`, or `-` when no flag is set. */
export function formatResponseFlags(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (const [bit, short] of FLAG_STRINGS) {
    if ((flags & bit) !== 0) out = out === '' ? short : `${out},${short}`;
  }
  return out === '' ? '-' : out;
}

/** `%RESPONSE_FLAGS_LONG%`: long names concatenated like Envoy, or `-` when none. */
export function formatResponseFlagsLong(flags: number): string {
  if (flags === 0) return '-';
  let out = '';
  for (const [bit, , long] of FLAG_STRINGS) {
    if ((flags & bit) !== 0) out = out === '' ? long : `${out},${long}`;
  }
  return out === '' ? '-' : out;
}
