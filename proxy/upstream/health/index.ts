/**
 * Active health checking (Envoy's `health_checks`): HTTP, TCP and gRPC probes, thresholds,
 * intervals with jitter and no-traffic intervals. The ClusterManager starts one
 * {@link HealthChecker} per `health_checks` entry; checkers flip hosts' FAILED_ACTIVE_HC flag and
 * the load balancer (with its panic threshold) follows.
 */
export type { HealthCheckHooks, HealthCheckTiming } from './checker.js';
export { buildProbe, HealthChecker, parseTiming } from './checker.js';
export type { CheckOutcome, HttpProbeSettings, Probe, StatusRanges } from './probes.js';
export { GrpcProbe, HttpProbe, parseHealthResponse, TcpProbe } from './probes.js';
