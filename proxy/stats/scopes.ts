/**
 * Pre-resolved stat bundles with Envoy's names, one per component instance. Components build a
 * bundle once at config load and then only call `inc()`/`record()` on its fields: the request
 * path never builds a stat name (per-status-code counters are resolved once per code and cached).
 */
import type { Counter, Gauge, Histogram, StatsStore } from './store.js';

/**
 * Envoy's stat-name sanitizing of names taken from config (cluster names, stat prefixes): `:`
 * and NUL become `_`, leading and trailing dots go, so `host:port`-style names stay one segment.
 */
export function sanitizeStatName(name: string): string {
  return name.replace(/[:\0]/g, '_').replace(/^\.+|\.+$/g, '');
}

/**
 * `<prefix>_<code>` and `<prefix>_<class>xx` counters (`cluster.x.upstream_rq_200`,
 * `cluster.x.upstream_rq_2xx`). Each counter is created on first use, like Envoy's dynamic
 * response-code stats, then cached by code.
 */
export class ResponseCodeCounters {
  private readonly byCode: Array<Counter | undefined> = [];
  private readonly byClass: Array<Counter | undefined> = [
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
    undefined,
  ];

  /**
   * @param store where the counters live
   * @param prefix name prefix, e.g. `cluster.backend.upstream_rq`
   * @param perCode also count each exact code (`_200`), as Envoy does for upstreams only
   * @param eagerClasses create `_1xx`..`_5xx` now (Envoy's HCM declares them statically)
   */
  constructor(
    private readonly store: StatsStore,
    private readonly prefix: string,
    private readonly perCode: boolean,
    eagerClasses: boolean,
  ) {
    if (eagerClasses) for (let c = 1; c <= 5; c++) this.byClass[c] = store.counter(`${prefix}_${c}xx`);
  }

  /** Counts one response with status `code`; codes outside 100..599 are ignored. */
  record(code: number): void {
    if (!(code >= 100 && code <= 599)) return;
    const cls = (code / 100) | 0;
    let classCounter = this.byClass[cls];
    if (classCounter === undefined) {
      classCounter = this.store.counter(`${this.prefix}_${cls}xx`);
      this.byClass[cls] = classCounter;
    }
    classCounter.inc();
    if (!this.perCode) return;
    let codeCounter = this.byCode[code];
    if (codeCounter === undefined) {
      codeCounter = this.store.counter(`${this.prefix}_${code}`);
      this.byCode[code] = codeCounter;
    }
    codeCounter.inc();
  }
}

/** Envoy's `cluster.<name>.*` stats. */
export class ClusterStats {
  readonly upstream_cx_total: Counter;
  readonly upstream_cx_active: Gauge;
  readonly upstream_cx_http1_total: Counter;
  readonly upstream_cx_http2_total: Counter;
  readonly upstream_cx_connect_fail: Counter;
  readonly upstream_cx_connect_timeout: Counter;
  readonly upstream_cx_connect_ms: Histogram;
  readonly upstream_cx_length_ms: Histogram;
  readonly upstream_cx_destroy: Counter;
  readonly upstream_cx_destroy_local: Counter;
  readonly upstream_cx_destroy_remote: Counter;
  readonly upstream_cx_overflow: Counter;
  readonly upstream_cx_pool_overflow: Counter;
  readonly upstream_cx_none_healthy: Counter;
  readonly upstream_cx_protocol_error: Counter;
  readonly upstream_cx_rx_bytes_total: Counter;
  readonly upstream_cx_tx_bytes_total: Counter;
  readonly upstream_cx_idle_timeout: Counter;
  readonly upstream_rq_total: Counter;
  readonly upstream_rq_active: Gauge;
  readonly upstream_rq_completed: Counter;
  readonly upstream_rq_pending_total: Counter;
  readonly upstream_rq_pending_active: Gauge;
  readonly upstream_rq_pending_overflow: Counter;
  readonly upstream_rq_pending_failure_eject: Counter;
  readonly upstream_rq_cancelled: Counter;
  /** Connections retired by `max_requests_per_connection`. */
  readonly upstream_cx_max_requests: Counter;
  readonly upstream_rq_timeout: Counter;
  readonly upstream_rq_per_try_timeout: Counter;
  readonly upstream_rq_rx_reset: Counter;
  readonly upstream_rq_tx_reset: Counter;
  readonly upstream_rq_retry: Counter;
  readonly upstream_rq_retry_success: Counter;
  readonly upstream_rq_retry_overflow: Counter;
  /** Issue 6: a retriable failure with no retries left (flag URX). */
  readonly upstream_rq_retry_limit_exceeded: Counter;
  /** Issue 6: the route's max_stream_duration ended the upstream request. */
  readonly upstream_rq_max_duration_reached: Counter;
  readonly upstream_rq_maintenance_mode: Counter;
  readonly upstream_rq_time: Histogram;
  readonly upstream_rq_per_try_idle_timeout: Counter;
  readonly membership_total: Gauge;
  readonly membership_healthy: Gauge;
  readonly membership_degraded: Gauge;
  readonly membership_excluded: Gauge;
  readonly membership_change: Counter;
  readonly max_host_weight: Gauge;
  readonly update_attempt: Counter;
  readonly update_success: Counter;
  readonly update_failure: Counter;
  readonly update_empty: Counter;
  readonly update_no_rebuild: Counter;
  readonly lb_healthy_panic: Counter;
  readonly health_check_attempt: Counter;
  readonly health_check_success: Counter;
  readonly health_check_failure: Counter;
  readonly health_check_network_failure: Counter;
  readonly health_check_passive_failure: Counter;
  readonly health_check_verify_cluster: Counter;
  readonly health_check_healthy: Gauge;
  readonly health_check_degraded: Gauge;
  readonly outlier_detection_ejections_active: Gauge;
  readonly outlier_detection_ejections_total: Counter;
  readonly outlier_detection_ejections_overflow: Counter;
  readonly outlier_detection_ejections_enforced_total: Counter;
  readonly outlier_detection_ejections_detected_consecutive_5xx: Counter;
  readonly outlier_detection_ejections_enforced_consecutive_5xx: Counter;
  /** `upstream_rq_<code>` and `upstream_rq_<class>xx`; call through {@link ClusterStats.recordResponse}. */
  readonly responseCodes: ResponseCodeCounters;

  /** Resolves every handle for cluster `name` (its `alt_stat_name` when set) once. */
  constructor(store: StatsStore, name: string) {
    const p = `cluster.${sanitizeStatName(name)}.`;
    const c = (n: string): Counter => store.counter(p + n);
    const g = (n: string): Gauge => store.gauge(p + n);
    const h = (n: string): Histogram => store.histogram(p + n);
    this.upstream_cx_total = c('upstream_cx_total');
    this.upstream_cx_active = g('upstream_cx_active');
    this.upstream_cx_http1_total = c('upstream_cx_http1_total');
    this.upstream_cx_http2_total = c('upstream_cx_http2_total');
    this.upstream_cx_connect_fail = c('upstream_cx_connect_fail');
    this.upstream_cx_connect_timeout = c('upstream_cx_connect_timeout');
    this.upstream_cx_connect_ms = h('upstream_cx_connect_ms');
    this.upstream_cx_length_ms = h('upstream_cx_length_ms');
    this.upstream_cx_destroy = c('upstream_cx_destroy');
    this.upstream_cx_destroy_local = c('upstream_cx_destroy_local');
    this.upstream_cx_destroy_remote = c('upstream_cx_destroy_remote');
    this.upstream_cx_overflow = c('upstream_cx_overflow');
    this.upstream_cx_pool_overflow = c('upstream_cx_pool_overflow');
    this.upstream_cx_none_healthy = c('upstream_cx_none_healthy');
    this.upstream_cx_protocol_error = c('upstream_cx_protocol_error');
    this.upstream_cx_rx_bytes_total = c('upstream_cx_rx_bytes_total');
    this.upstream_cx_tx_bytes_total = c('upstream_cx_tx_bytes_total');
    this.upstream_cx_idle_timeout = c('upstream_cx_idle_timeout');
    this.upstream_rq_total = c('upstream_rq_total');
    this.upstream_rq_active = g('upstream_rq_active');
    this.upstream_rq_completed = c('upstream_rq_completed');
    this.upstream_rq_pending_total = c('upstream_rq_pending_total');
    this.upstream_rq_pending_active = g('upstream_rq_pending_active');
    this.upstream_rq_pending_overflow = c('upstream_rq_pending_overflow');
    this.upstream_rq_pending_failure_eject = c('upstream_rq_pending_failure_eject');
    this.upstream_rq_cancelled = c('upstream_rq_cancelled');
    this.upstream_cx_max_requests = c('upstream_cx_max_requests');
    this.upstream_rq_timeout = c('upstream_rq_timeout');
    this.upstream_rq_per_try_timeout = c('upstream_rq_per_try_timeout');
    this.upstream_rq_rx_reset = c('upstream_rq_rx_reset');
    this.upstream_rq_tx_reset = c('upstream_rq_tx_reset');
    this.upstream_rq_retry = c('upstream_rq_retry');
    this.upstream_rq_retry_success = c('upstream_rq_retry_success');
    this.upstream_rq_retry_overflow = c('upstream_rq_retry_overflow');
    this.upstream_rq_retry_limit_exceeded = c('upstream_rq_retry_limit_exceeded');
    this.upstream_rq_max_duration_reached = c('upstream_rq_max_duration_reached');
    this.upstream_rq_maintenance_mode = c('upstream_rq_maintenance_mode');
    this.upstream_rq_time = h('upstream_rq_time');
    this.upstream_rq_per_try_idle_timeout = c('upstream_rq_per_try_idle_timeout');
    this.membership_total = g('membership_total');
    this.membership_healthy = g('membership_healthy');
    this.membership_degraded = g('membership_degraded');
    this.membership_excluded = g('membership_excluded');
    this.membership_change = c('membership_change');
    this.max_host_weight = g('max_host_weight');
    this.update_attempt = c('update_attempt');
    this.update_success = c('update_success');
    this.update_failure = c('update_failure');
    this.update_empty = c('update_empty');
    this.update_no_rebuild = c('update_no_rebuild');
    this.lb_healthy_panic = c('lb_healthy_panic');
    this.health_check_attempt = c('health_check.attempt');
    this.health_check_success = c('health_check.success');
    this.health_check_failure = c('health_check.failure');
    this.health_check_network_failure = c('health_check.network_failure');
    this.health_check_passive_failure = c('health_check.passive_failure');
    this.health_check_verify_cluster = c('health_check.verify_cluster');
    this.health_check_healthy = g('health_check.healthy');
    this.health_check_degraded = g('health_check.degraded');
    this.outlier_detection_ejections_active = g('outlier_detection.ejections_active');
    this.outlier_detection_ejections_total = c('outlier_detection.ejections_total');
    this.outlier_detection_ejections_overflow = c('outlier_detection.ejections_overflow');
    this.outlier_detection_ejections_enforced_total = c('outlier_detection.ejections_enforced_total');
    this.outlier_detection_ejections_detected_consecutive_5xx = c(
      'outlier_detection.ejections_detected_consecutive_5xx',
    );
    this.outlier_detection_ejections_enforced_consecutive_5xx = c(
      'outlier_detection.ejections_enforced_consecutive_5xx',
    );
    this.responseCodes = new ResponseCodeCounters(store, `${p}upstream_rq`, true, false);
  }

  /** Counts a finished upstream response: `upstream_rq_<code>`, `upstream_rq_<class>xx`, `upstream_rq_completed`. */
  recordResponse(code: number): void {
    this.responseCodes.record(code);
    this.upstream_rq_completed.inc();
  }
}

/** Envoy's `http.<stat_prefix>.*` stats of an HTTP connection manager (and its router filter). */
export class HttpConnectionManagerStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_http1_total: Counter;
  readonly downstream_cx_http1_active: Gauge;
  readonly downstream_cx_http2_total: Counter;
  readonly downstream_cx_http2_active: Gauge;
  readonly downstream_cx_ssl_total: Counter;
  readonly downstream_cx_ssl_active: Gauge;
  readonly downstream_cx_upgrades_total: Counter;
  readonly downstream_cx_upgrades_active: Gauge;
  readonly downstream_cx_destroy: Counter;
  readonly downstream_cx_destroy_local: Counter;
  readonly downstream_cx_destroy_remote: Counter;
  readonly downstream_cx_protocol_error: Counter;
  readonly downstream_cx_idle_timeout: Counter;
  readonly downstream_cx_rx_bytes_total: Counter;
  readonly downstream_cx_tx_bytes_total: Counter;
  readonly downstream_cx_length_ms: Histogram;
  readonly downstream_rq_total: Counter;
  readonly downstream_rq_http1_total: Counter;
  readonly downstream_rq_http2_total: Counter;
  readonly downstream_rq_active: Gauge;
  readonly downstream_rq_completed: Counter;
  readonly downstream_rq_rx_reset: Counter;
  readonly downstream_rq_tx_reset: Counter;
  readonly downstream_rq_timeout: Counter;
  /** Issue 6: route or connection manager max_stream_duration ended a request. */
  readonly downstream_rq_max_duration_reached: Counter;
  readonly downstream_rq_idle_timeout: Counter;
  readonly downstream_rq_header_timeout: Counter;
  readonly downstream_rq_too_large: Counter;
  readonly downstream_rq_non_relative_path: Counter;
  readonly downstream_rq_ws_on_non_ws_route: Counter;
  readonly downstream_rq_time: Histogram;
  readonly rs_too_large: Counter;
  readonly no_route: Counter;
  readonly no_cluster: Counter;
  readonly rq_redirect: Counter;
  readonly rq_direct_response: Counter;
  readonly rq_total: Counter;
  /** `downstream_rq_1xx`..`downstream_rq_5xx`; call through {@link HttpConnectionManagerStats.recordResponse}. */
  readonly responseCodes: ResponseCodeCounters;

  /** Resolves every handle for `http.<statPrefix>.` once. */
  constructor(store: StatsStore, statPrefix: string) {
    const p = `http.${sanitizeStatName(statPrefix)}.`;
    const c = (n: string): Counter => store.counter(p + n);
    const g = (n: string): Gauge => store.gauge(p + n);
    this.downstream_cx_total = c('downstream_cx_total');
    this.downstream_cx_active = g('downstream_cx_active');
    this.downstream_cx_http1_total = c('downstream_cx_http1_total');
    this.downstream_cx_http1_active = g('downstream_cx_http1_active');
    this.downstream_cx_http2_total = c('downstream_cx_http2_total');
    this.downstream_cx_http2_active = g('downstream_cx_http2_active');
    this.downstream_cx_ssl_total = c('downstream_cx_ssl_total');
    this.downstream_cx_ssl_active = g('downstream_cx_ssl_active');
    this.downstream_cx_upgrades_total = c('downstream_cx_upgrades_total');
    this.downstream_cx_upgrades_active = g('downstream_cx_upgrades_active');
    this.downstream_cx_destroy = c('downstream_cx_destroy');
    this.downstream_cx_destroy_local = c('downstream_cx_destroy_local');
    this.downstream_cx_destroy_remote = c('downstream_cx_destroy_remote');
    this.downstream_cx_protocol_error = c('downstream_cx_protocol_error');
    this.downstream_cx_idle_timeout = c('downstream_cx_idle_timeout');
    this.downstream_cx_rx_bytes_total = c('downstream_cx_rx_bytes_total');
    this.downstream_cx_tx_bytes_total = c('downstream_cx_tx_bytes_total');
    this.downstream_cx_length_ms = store.histogram(`${p}downstream_cx_length_ms`);
    this.downstream_rq_total = c('downstream_rq_total');
    this.downstream_rq_http1_total = c('downstream_rq_http1_total');
    this.downstream_rq_http2_total = c('downstream_rq_http2_total');
    this.downstream_rq_active = g('downstream_rq_active');
    this.downstream_rq_completed = c('downstream_rq_completed');
    this.downstream_rq_rx_reset = c('downstream_rq_rx_reset');
    this.downstream_rq_tx_reset = c('downstream_rq_tx_reset');
    this.downstream_rq_timeout = c('downstream_rq_timeout');
    this.downstream_rq_max_duration_reached = c('downstream_rq_max_duration_reached');
    this.downstream_rq_idle_timeout = c('downstream_rq_idle_timeout');
    this.downstream_rq_header_timeout = c('downstream_rq_header_timeout');
    this.downstream_rq_too_large = c('downstream_rq_too_large');
    this.downstream_rq_non_relative_path = c('downstream_rq_non_relative_path');
    this.downstream_rq_ws_on_non_ws_route = c('downstream_rq_ws_on_non_ws_route');
    this.downstream_rq_time = store.histogram(`${p}downstream_rq_time`);
    this.rs_too_large = c('rs_too_large');
    this.no_route = c('no_route');
    this.no_cluster = c('no_cluster');
    this.rq_redirect = c('rq_redirect');
    this.rq_direct_response = c('rq_direct_response');
    this.rq_total = c('rq_total');
    this.responseCodes = new ResponseCodeCounters(store, `${p}downstream_rq`, false, true);
  }

  /** Counts a finished downstream response: `downstream_rq_<class>xx` and `downstream_rq_completed`. */
  recordResponse(code: number): void {
    this.responseCodes.record(code);
    this.downstream_rq_completed.inc();
  }
}

/**
 * Envoy's stat name for a listener address: `ip:port` with every `:` turned into `_`, IPv6 in
 * brackets: `0.0.0.0_10000`, `[__1]_10000`.
 */
export function listenerStatAddress(ip: string, port: number): string {
  return (ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`).replace(/:/g, '_');
}

/** Envoy's `listener.<address>.*` stats. */
export class ListenerStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_active: Gauge;
  readonly downstream_cx_destroy: Counter;
  readonly downstream_cx_overflow: Counter;
  readonly downstream_cx_length_ms: Histogram;
  readonly downstream_pre_cx_timeout: Counter;
  readonly downstream_pre_cx_active: Gauge;
  readonly no_filter_chain_match: Counter;
  readonly ssl_handshake: Counter;
  readonly ssl_connection_error: Counter;

  /** Resolves every handle for `listener.<address>.` once (`address` from {@link listenerStatAddress}). */
  constructor(store: StatsStore, address: string) {
    const p = `listener.${address}.`;
    this.downstream_cx_total = store.counter(`${p}downstream_cx_total`);
    this.downstream_cx_active = store.gauge(`${p}downstream_cx_active`);
    this.downstream_cx_destroy = store.counter(`${p}downstream_cx_destroy`);
    this.downstream_cx_overflow = store.counter(`${p}downstream_cx_overflow`);
    this.downstream_cx_length_ms = store.histogram(`${p}downstream_cx_length_ms`);
    this.downstream_pre_cx_timeout = store.counter(`${p}downstream_pre_cx_timeout`);
    this.downstream_pre_cx_active = store.gauge(`${p}downstream_pre_cx_active`);
    this.no_filter_chain_match = store.counter(`${p}no_filter_chain_match`);
    this.ssl_handshake = store.counter(`${p}ssl.handshake`);
    this.ssl_connection_error = store.counter(`${p}ssl.connection_error`);
  }
}

/**
 * Envoy's per-listener HTTP stats, `listener.<address>.http.<stat_prefix>.downstream_rq_<class>xx`
 * and `downstream_rq_completed`: the same responses as the connection manager's, by listener.
 */
export class ListenerHttpStats {
  readonly downstream_rq_completed: Counter;
  /** `downstream_rq_1xx`..`downstream_rq_5xx`; call through {@link ListenerHttpStats.recordResponse}. */
  readonly responseCodes: ResponseCodeCounters;

  /** Resolves every handle once (`address` from {@link listenerStatAddress}). */
  constructor(store: StatsStore, address: string, statPrefix: string) {
    const p = `listener.${address}.http.${sanitizeStatName(statPrefix)}.`;
    this.downstream_rq_completed = store.counter(`${p}downstream_rq_completed`);
    this.responseCodes = new ResponseCodeCounters(store, `${p}downstream_rq`, false, true);
  }

  /** Counts a finished downstream response. */
  recordResponse(code: number): void {
    this.responseCodes.record(code);
    this.downstream_rq_completed.inc();
  }
}

/** Envoy's `tcp.<stat_prefix>.*` stats of a tcp_proxy filter. */
export class TcpProxyStats {
  readonly downstream_cx_total: Counter;
  readonly downstream_cx_no_route: Counter;
  readonly downstream_cx_rx_bytes_total: Counter;
  readonly downstream_cx_tx_bytes_total: Counter;
  readonly downstream_flow_control_paused_reading_total: Counter;
  readonly downstream_flow_control_resumed_reading_total: Counter;
  readonly idle_timeout: Counter;
  readonly max_downstream_connection_duration: Counter;
  readonly upstream_flush_total: Counter;
  readonly upstream_flush_active: Gauge;

  /** Resolves every handle for `tcp.<statPrefix>.` once. */
  constructor(store: StatsStore, statPrefix: string) {
    const p = `tcp.${sanitizeStatName(statPrefix)}.`;
    this.downstream_cx_total = store.counter(`${p}downstream_cx_total`);
    this.downstream_cx_no_route = store.counter(`${p}downstream_cx_no_route`);
    this.downstream_cx_rx_bytes_total = store.counter(`${p}downstream_cx_rx_bytes_total`);
    this.downstream_cx_tx_bytes_total = store.counter(`${p}downstream_cx_tx_bytes_total`);
    this.downstream_flow_control_paused_reading_total = store.counter(
      `${p}downstream_flow_control_paused_reading_total`,
    );
    this.downstream_flow_control_resumed_reading_total = store.counter(
      `${p}downstream_flow_control_resumed_reading_total`,
    );
    this.idle_timeout = store.counter(`${p}idle_timeout`);
    this.max_downstream_connection_duration = store.counter(`${p}max_downstream_connection_duration`);
    this.upstream_flush_total = store.counter(`${p}upstream_flush_total`);
    this.upstream_flush_active = store.gauge(`${p}upstream_flush_active`);
  }
}

/** Envoy's server state numbers (`server.state`). */
export const SERVER_STATE = { LIVE: 0, DRAINING: 1, PRE_INITIALIZING: 2, INITIALIZING: 3 } as const;

/** Envoy's `server.*` stats. `server.uptime` and memory gauges are computed when read. */
export class ServerStats {
  readonly live: Gauge;
  readonly state: Gauge;
  readonly uptime: Gauge;
  readonly concurrency: Gauge;
  readonly memory_allocated: Gauge;
  readonly memory_heap_size: Gauge;
  readonly memory_physical_size: Gauge;
  readonly total_connections: Gauge;
  readonly parent_connections: Gauge;
  readonly hot_restart_epoch: Gauge;
  readonly days_until_first_cert_expiring: Gauge;
  readonly version: Gauge;
  readonly initialization_time_ms: Histogram;
  readonly envoy_bug_failures: Counter;
  readonly debug_assertion_failures: Counter;

  /**
   * @param store where the stats live
   * @param startedAtMs process start (epoch ms) for `server.uptime` (seconds, like Envoy)
   */
  constructor(store: StatsStore, startedAtMs: number) {
    this.live = store.gauge('server.live');
    this.state = store.gauge('server.state');
    this.uptime = store.gauge('server.uptime');
    this.uptime.setSupplier(() => Math.floor((Date.now() - startedAtMs) / 1000));
    this.concurrency = store.gauge('server.concurrency');
    this.memory_allocated = store.gauge('server.memory_allocated');
    this.memory_allocated.setSupplier(() => process.memoryUsage().heapUsed);
    this.memory_heap_size = store.gauge('server.memory_heap_size');
    this.memory_heap_size.setSupplier(() => process.memoryUsage().heapTotal);
    this.memory_physical_size = store.gauge('server.memory_physical_size');
    this.memory_physical_size.setSupplier(() => process.memoryUsage().rss);
    this.total_connections = store.gauge('server.total_connections');
    this.parent_connections = store.gauge('server.parent_connections');
    this.hot_restart_epoch = store.gauge('server.hot_restart_epoch');
    this.days_until_first_cert_expiring = store.gauge('server.days_until_first_cert_expiring');
    this.version = store.gauge('server.version');
    this.initialization_time_ms = store.histogram('server.initialization_time_ms');
    this.envoy_bug_failures = store.counter('server.envoy_bug_failures');
    this.debug_assertion_failures = store.counter('server.debug_assertion_failures');
    this.state.set(SERVER_STATE.PRE_INITIALIZING);
  }

  /** Records a state change: `server.state` and `server.live` (1 only when LIVE). */
  setState(state: keyof typeof SERVER_STATE): void {
    this.state.set(SERVER_STATE[state]);
    this.live.set(state === 'LIVE' ? 1 : 0);
  }
}
