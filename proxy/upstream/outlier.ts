/**
 * Envoy's outlier detection (passive health checking) for one cluster. The engine reports every
 * upstream result; hosts that misbehave are ejected (FAILED_OUTLIER_CHECK) for
 * `base_ejection_time x ejections so far` (capped by `max_ejection_time`) and return on the
 * interval timer. Detectors, as in Envoy:
 *
 * - consecutive 5xx (`consecutive_5xx`, enforced 100% by default); without
 *   `split_external_local_origin_errors`, connect failures, timeouts and resets count as 5xx;
 * - consecutive gateway failures 502/503/504 (enforcing 0% by default: detected, not enforced);
 * - consecutive local-origin failures, only with `split_external_local_origin_errors`;
 * - success rate (mean - stdev_factor/1000 x stdev over hosts with enough requests) and failure
 *   percentage, evaluated every `interval`.
 *
 * At most `max_ejection_percent` of the hosts are ejected at once, but always at least one.
 */
import { MeshError } from '../../errors/index.js';
import type { OutlierDetection } from '../config/envoy.js';
import { parseDuration } from '../config/values.js';
import { sanitizeStatName } from '../stats/scopes.js';
import type { Counter, StatsStore } from '../stats/store.js';
import type { UpstreamCluster } from './cluster.js';
import { HealthFlag, type Host } from './host.js';

/** Why a host was ejected (Envoy's detector names, used in stat names). */
export type EjectionReason =
  | 'consecutive_5xx'
  | 'consecutive_gateway_failure'
  | 'consecutive_local_origin_failure'
  | 'success_rate'
  | 'failure_percentage';

/** A local-origin event the engine observed for a host (no HTTP status involved). */
export type LocalOriginResult = 'connect_failed' | 'timeout' | 'reset' | 'success';

interface HostState {
  consecutive5xx: number;
  consecutiveGateway: number;
  consecutiveLocal: number;
  /** Requests and failures in the current interval (success rate and failure percentage). */
  requests: number;
  failures: number;
  numEjections: number;
  ejectedUntil: number;
  ejected: boolean;
}

interface Settings {
  readonly intervalMs: number;
  readonly baseEjectionMs: number;
  readonly maxEjectionMs: number;
  readonly maxEjectionJitterMs: number;
  readonly maxEjectionPercent: number;
  readonly consecutive5xx: number;
  readonly enforcing5xx: number;
  readonly consecutiveGateway: number;
  readonly enforcingGateway: number;
  readonly consecutiveLocal: number;
  readonly enforcingLocal: number;
  readonly splitLocal: boolean;
  readonly successRateMinimumHosts: number;
  readonly successRateRequestVolume: number;
  readonly successRateStdevFactor: number;
  readonly enforcingSuccessRate: number;
  readonly failurePercentageThreshold: number;
  readonly enforcingFailurePercentage: number;
  readonly failurePercentageMinimumHosts: number;
  readonly failurePercentageRequestVolume: number;
  readonly unejectOnHealthCheckSuccess: boolean;
}

function parse(o: OutlierDetection, path: string): Settings {
  const ms = (v: string | undefined, fallback: number, field: string): number => {
    try {
      return parseDuration(v, fallback);
    } catch {
      throw new MeshError('PROXY_E_INVALID', `${field} is not a duration`, {
        path: `${path}.${field}`,
        value: v,
        allowed: 'a duration like "10s"',
      });
    }
  };
  const pct = (v: number | undefined, fallback: number, field: string): number => {
    const n = v ?? fallback;
    if (!(Number.isInteger(n) && n >= 0 && n <= 100)) {
      throw new MeshError('PROXY_E_INVALID', `${field} must be 0..100, got ${n}`, {
        path: `${path}.${field}`,
        value: n,
        allowed: '0..100',
      });
    }
    return n;
  };
  const base = ms(o.base_ejection_time, 30_000, 'base_ejection_time');
  const intervalMs = ms(o.interval, 10_000, 'interval');
  if (!(intervalMs > 0))
    throw new MeshError('PROXY_E_INVALID', 'interval must be above 0', {
      path: `${path}.interval`,
      value: o.interval,
      allowed: 'a positive duration',
    });
  return {
    intervalMs,
    baseEjectionMs: base,
    maxEjectionMs: ms(o.max_ejection_time, Math.max(300_000, base), 'max_ejection_time'),
    maxEjectionJitterMs: ms(o.max_ejection_time_jitter, 0, 'max_ejection_time_jitter'),
    maxEjectionPercent: pct(o.max_ejection_percent, 10, 'max_ejection_percent'),
    consecutive5xx: o.consecutive_5xx ?? 5,
    enforcing5xx: pct(o.enforcing_consecutive_5xx, 100, 'enforcing_consecutive_5xx'),
    consecutiveGateway: o.consecutive_gateway_failure ?? 5,
    enforcingGateway: pct(
      o.enforcing_consecutive_gateway_failure,
      0,
      'enforcing_consecutive_gateway_failure',
    ),
    consecutiveLocal: o.consecutive_local_origin_failure ?? 5,
    enforcingLocal: pct(
      o.enforcing_consecutive_local_origin_failure,
      100,
      'enforcing_consecutive_local_origin_failure',
    ),
    splitLocal: o.split_external_local_origin_errors === true,
    successRateMinimumHosts: o.success_rate_minimum_hosts ?? 5,
    successRateRequestVolume: o.success_rate_request_volume ?? 100,
    successRateStdevFactor: o.success_rate_stdev_factor ?? 1900,
    enforcingSuccessRate: pct(o.enforcing_success_rate, 100, 'enforcing_success_rate'),
    failurePercentageThreshold: pct(o.failure_percentage_threshold, 85, 'failure_percentage_threshold'),
    enforcingFailurePercentage: pct(o.enforcing_failure_percentage, 0, 'enforcing_failure_percentage'),
    failurePercentageMinimumHosts: o.failure_percentage_minimum_hosts ?? 5,
    failurePercentageRequestVolume: o.failure_percentage_request_volume ?? 50,
    unejectOnHealthCheckSuccess: o.successful_active_health_check_uneject_host !== false,
  };
}

/** Outlier detection of one cluster. */
export class OutlierDetector {
  private readonly s: Settings;
  private readonly states = new Map<Host, HostState>();
  private readonly detected: Readonly<Record<EjectionReason, Counter>>;
  private readonly enforced: Readonly<Record<EjectionReason, Counter>>;
  private readonly timer: NodeJS.Timeout;
  private readonly now: () => number;
  private readonly random: () => number;

  /**
   * @throws MeshError naming the field at fault
   */
  constructor(
    private readonly cluster: UpstreamCluster,
    config: OutlierDetection,
    store: StatsStore,
    path: string,
    options: { readonly now?: () => number; readonly random?: () => number } = {},
  ) {
    this.s = parse(config, path);
    this.now = options.now ?? Date.now;
    this.random = options.random ?? Math.random;
    const reasons: EjectionReason[] = [
      'consecutive_5xx',
      'consecutive_gateway_failure',
      'consecutive_local_origin_failure',
      'success_rate',
      'failure_percentage',
    ];
    const p = `cluster.${sanitizeStatName(cluster.config.alt_stat_name || cluster.name)}.outlier_detection.`;
    this.detected = Object.fromEntries(
      reasons.map((r) => [r, store.counter(`${p}ejections_detected_${r}`)]),
    ) as Record<EjectionReason, Counter>;
    this.enforced = Object.fromEntries(
      reasons.map((r) => [r, store.counter(`${p}ejections_enforced_${r}`)]),
    ) as Record<EjectionReason, Counter>;
    this.timer = setInterval(() => this.onInterval(), this.s.intervalMs);
    this.timer.unref();
  }

  private state(host: Host): HostState {
    let st = this.states.get(host);
    if (st === undefined) {
      st = {
        consecutive5xx: 0,
        consecutiveGateway: 0,
        consecutiveLocal: 0,
        requests: 0,
        failures: 0,
        numEjections: 0,
        ejectedUntil: 0,
        ejected: false,
      };
      this.states.set(host, st);
    }
    return st;
  }

  /** Reports an upstream HTTP response status for `host`. */
  reportResponse(host: Host, status: number): void {
    const st = this.state(host);
    st.requests++;
    if (status >= 500) {
      st.failures++;
      this.on5xx(host, st, status === 502 || status === 503 || status === 504);
    } else {
      st.consecutive5xx = 0;
      st.consecutiveGateway = 0;
    }
  }

  /** Reports a local-origin event (connect failure, timeout, reset, or a successful connection). */
  reportLocalOrigin(host: Host, result: LocalOriginResult): void {
    // Issue 6: the engine reports every successful connection; unsplit, that is a no-op (hot path).
    if (result === 'success' && !this.s.splitLocal) return;
    const st = this.state(host);
    if (!this.s.splitLocal) {
      // Envoy maps local-origin errors onto HTTP codes (connect failure/reset → 503, timeout → 504).
      st.requests++;
      st.failures++;
      this.on5xx(host, st, true);
      return;
    }
    if (result === 'success') {
      st.consecutiveLocal = 0;
      return;
    }
    if (++st.consecutiveLocal >= this.s.consecutiveLocal) {
      st.consecutiveLocal = 0;
      this.consider(host, st, 'consecutive_local_origin_failure', this.s.enforcingLocal);
    }
  }

  private on5xx(host: Host, st: HostState, gateway: boolean): void {
    if (gateway && ++st.consecutiveGateway >= this.s.consecutiveGateway) {
      st.consecutiveGateway = 0;
      this.consider(host, st, 'consecutive_gateway_failure', this.s.enforcingGateway);
    }
    if (++st.consecutive5xx >= this.s.consecutive5xx) {
      st.consecutive5xx = 0;
      this.consider(host, st, 'consecutive_5xx', this.s.enforcing5xx);
    }
  }

  /** Counts a detection and ejects when the enforcing percentage and the ejection cap allow it. */
  private consider(host: Host, st: HostState, reason: EjectionReason, enforcing: number): void {
    if (st.ejected) return;
    this.detected[reason].inc();
    if (!(this.random() * 100 < enforcing)) return;
    const stats = this.cluster.stats;
    const total = this.cluster.hosts.length;
    const active = this.ejectedCount();
    if (active > 0 && (100 * (active + 1)) / total > this.s.maxEjectionPercent) {
      stats.outlier_detection_ejections_overflow.inc();
      return;
    }
    st.ejected = true;
    st.numEjections++;
    const duration =
      Math.min(this.s.baseEjectionMs * st.numEjections, this.s.maxEjectionMs) +
      this.random() * this.s.maxEjectionJitterMs;
    st.ejectedUntil = this.now() + duration;
    host.setHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK);
    this.enforced[reason].inc();
    stats.outlier_detection_ejections_total.inc();
    stats.outlier_detection_ejections_enforced_total.inc();
    stats.outlier_detection_ejections_active.set(active + 1);
  }

  private ejectedCount(): number {
    let n = 0;
    for (const st of this.states.values()) if (st.ejected) n++;
    return n;
  }

  /** Returns an ejected host to service (interval expiry, or a passing active health check). */
  uneject(host: Host): void {
    const st = this.states.get(host);
    if (st === undefined || !st.ejected) return;
    st.ejected = false;
    st.consecutive5xx = 0;
    st.consecutiveGateway = 0;
    st.consecutiveLocal = 0;
    host.clearHealthFlag(HealthFlag.FAILED_OUTLIER_CHECK);
    this.cluster.stats.outlier_detection_ejections_active.set(this.ejectedCount());
  }

  /** Called after a passing active health check (`successful_active_health_check_uneject_host`). */
  onHealthCheckSuccess(host: Host): void {
    if (this.s.unejectOnHealthCheckSuccess) this.uneject(host);
  }

  private readonly lastRates = new Map<Host, number>();

  /**
   * The host's success rate (0..100) from the last interval's success-rate analysis, or -1 when
   * it was not computed (too few requests or hosts), as Envoy's `/clusters` prints it.
   */
  successRate(host: Host): number {
    return this.lastRates.get(host) ?? -1;
  }

  /** Is `host` ejected now? */
  isEjected(host: Host): boolean {
    return this.states.get(host)?.ejected === true;
  }

  /** One interval: expire ejections, decay multipliers, run success-rate and failure-percentage detection. */
  onInterval(): void {
    const now = this.now();
    const live = new Set(this.cluster.hosts);
    for (const [host, st] of this.states) {
      if (!live.has(host)) {
        this.states.delete(host);
        continue;
      }
      if (st.ejected && now >= st.ejectedUntil) this.uneject(host);
      else if (!st.ejected && st.numEjections > 0) st.numEjections--;
    }
    this.detectSuccessRate();
    this.failurePercentage();
    for (const st of this.states.values()) {
      st.requests = 0;
      st.failures = 0;
    }
  }

  private candidates(volume: number): Array<[Host, HostState]> {
    return [...this.states.entries()].filter(([, st]) => !st.ejected && st.requests >= volume);
  }

  private detectSuccessRate(): void {
    const s = this.s;
    this.lastRates.clear();
    const hosts = this.candidates(s.successRateRequestVolume);
    if (hosts.length < s.successRateMinimumHosts || hosts.length === 0) return;
    const rates = hosts.map(([, st]) => (100 * (st.requests - st.failures)) / st.requests);
    for (const [i, [host]] of hosts.entries()) this.lastRates.set(host, rates[i] as number);
    const mean = rates.reduce((a, b) => a + b, 0) / rates.length;
    const stdev = Math.sqrt(rates.reduce((a, r) => a + (r - mean) ** 2, 0) / rates.length);
    const threshold = mean - (s.successRateStdevFactor / 1000) * stdev;
    hosts.forEach(([host, st], i) => {
      if ((rates[i] as number) < threshold) this.consider(host, st, 'success_rate', s.enforcingSuccessRate);
    });
  }

  private failurePercentage(): void {
    const s = this.s;
    const hosts = this.candidates(s.failurePercentageRequestVolume);
    if (hosts.length < s.failurePercentageMinimumHosts) return;
    for (const [host, st] of hosts) {
      if ((100 * st.failures) / st.requests >= s.failurePercentageThreshold) {
        this.consider(host, st, 'failure_percentage', s.enforcingFailurePercentage);
      }
    }
  }

  /** Stops the interval timer. */
  stop(): void {
    clearInterval(this.timer);
  }
}
