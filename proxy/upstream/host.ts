/**
 * An upstream host: address, weight, priority, locality, Envoy's health flags and per-host stats.
 * The engine bumps `activeRequests` (LEAST_REQUEST reads it) and the per-host stats; health
 * checkers and outlier detection (issue 6) set and clear flags, and the owning cluster rebuilds
 * its load balancers when a host's health changes.
 */
import { Counter, Gauge } from '../stats/store.js';

/** Envoy's host health flags (as printed by `/clusters`). */
export const HealthFlag = {
  /** `/failed_active_hc`: the active health checker failed the host. */
  FAILED_ACTIVE_HC: 1,
  /** `/failed_outlier_check`: outlier detection ejected the host. */
  FAILED_OUTLIER_CHECK: 2,
  /** `/failed_eds_health`: the config (EDS or static) says unhealthy, draining or timeout. */
  FAILED_EDS_HEALTH: 4,
  /** `/degraded_active_hc`: the health checker reported degraded. */
  DEGRADED_ACTIVE_HC: 8,
  /** `/degraded_eds_health`: the config says degraded. */
  DEGRADED_EDS_HEALTH: 16,
  /** `/pending_active_hc`: waiting for the first health check. */
  PENDING_ACTIVE_HC: 32,
  /** `/active_hc_timeout`: the last active health check timed out. */
  ACTIVE_HC_TIMEOUT: 64,
} as const;

const UNHEALTHY =
  HealthFlag.FAILED_ACTIVE_HC | HealthFlag.FAILED_OUTLIER_CHECK | HealthFlag.FAILED_EDS_HEALTH;
const DEGRADED = HealthFlag.DEGRADED_ACTIVE_HC | HealthFlag.DEGRADED_EDS_HEALTH;

const FLAG_NAMES: ReadonlyArray<readonly [number, string]> = [
  [HealthFlag.FAILED_ACTIVE_HC, '/failed_active_hc'],
  [HealthFlag.FAILED_OUTLIER_CHECK, '/failed_outlier_check'],
  [HealthFlag.FAILED_EDS_HEALTH, '/failed_eds_health'],
  [HealthFlag.DEGRADED_ACTIVE_HC, '/degraded_active_hc'],
  [HealthFlag.DEGRADED_EDS_HEALTH, '/degraded_eds_health'],
  [HealthFlag.PENDING_ACTIVE_HC, '/pending_active_hc'],
  [HealthFlag.ACTIVE_HC_TIMEOUT, '/active_hc_timeout'],
];

/** The fields that make two endpoints the same host across a config update. */
export function endpointKey(e: {
  readonly address: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
  readonly localityWeight: number;
  readonly locality: HostLocality;
  readonly hostname: string;
  readonly healthCheckPort: number;
}): string {
  const l = e.locality;
  return `${e.address}|${e.port}|${e.priority}|${e.weight}|${e.localityWeight}|${l.region}/${l.zone}/${l.subZone}|${e.hostname}|${e.healthCheckPort}`;
}

/** Per-host counters Envoy shows in `/clusters` (kept off the stats store, like Envoy's host stats). */
export class HostStats {
  readonly cx_total = new Counter('cx_total');
  readonly cx_active = new Gauge('cx_active');
  readonly cx_connect_fail = new Counter('cx_connect_fail');
  readonly rq_total = new Counter('rq_total');
  readonly rq_active = new Gauge('rq_active');
  readonly rq_success = new Counter('rq_success');
  readonly rq_error = new Counter('rq_error');
  readonly rq_timeout = new Counter('rq_timeout');

  /** Every stat, in Envoy's `/clusters` order (alphabetical). */
  all(): ReadonlyArray<Counter | Gauge> {
    return [
      this.cx_active,
      this.cx_connect_fail,
      this.cx_total,
      this.rq_active,
      this.rq_error,
      this.rq_success,
      this.rq_timeout,
      this.rq_total,
    ];
  }
}

/** Where a host runs. */
export interface HostLocality {
  readonly region: string;
  readonly zone: string;
  readonly subZone: string;
}

/** One upstream endpoint. */
export class Host {
  /**
   * IP address (for LOGICAL_DNS it changes when DNS does); for a pipe host, its path, so that
   * `/clusters` and `%UPSTREAM_HOST%` print it as Envoy does.
   */
  address: string;
  /** Port (0 for a pipe host). */
  readonly port: number;
  /** Unix domain socket path as configured (`@name`: abstract) when the endpoint is a pipe. */
  readonly pipe: string | undefined;
  /** Load-balancing weight (1..). */
  readonly weight: number;
  /** Priority level; 0 is preferred. */
  readonly priority: number;
  /** Locality from the config. */
  readonly locality: HostLocality;
  /** The locality's `load_balancing_weight` (0 when unset), for locality-weighted balancing. */
  readonly localityWeight: number;
  /** `endpoint.hostname`, or the DNS name for DNS clusters (used by `auto_host_rewrite`). */
  readonly hostname: string;
  /** Port used by active health checks (`health_check_config.port_value`), else the host's port. */
  readonly healthCheckPort: number;
  /** In-flight requests; the engine increments and decrements it. */
  activeRequests = 0;
  /** Per-host stats. */
  readonly stats = new HostStats();
  /** OR of {@link HealthFlag}s. */
  private flags: number;
  private onHealthChange: (host: Host) => void;
  /** True once an active health check produced a result for this host (kept across config updates). */
  healthChecked = false;

  /** @internal built by the cluster */
  constructor(
    init: {
      address: string;
      port: number;
      pipe?: string;
      weight: number;
      priority: number;
      locality: HostLocality;
      localityWeight: number;
      hostname: string;
      healthCheckPort: number;
      flags: number;
    },
    onHealthChange: (host: Host) => void,
  ) {
    this.address = init.address;
    this.port = init.port;
    this.pipe = init.pipe;
    this.weight = init.weight;
    this.priority = init.priority;
    this.locality = init.locality;
    this.localityWeight = init.localityWeight;
    this.hostname = init.hostname;
    this.healthCheckPort = init.healthCheckPort;
    this.flags = init.flags;
    this.onHealthChange = onHealthChange;
  }

  /**
   * Moves the host to a new owning cluster (a config update that keeps this endpoint): health
   * changes now notify `onHealthChange`. EDS health comes from the new config; an outlier
   * ejection does not carry over, since the new cluster's detector starts afresh.
   */
  adopt(onHealthChange: (host: Host) => void, edsFlags: number): void {
    this.onHealthChange = onHealthChange;
    const EDS = HealthFlag.FAILED_EDS_HEALTH | HealthFlag.DEGRADED_EDS_HEALTH;
    this.flags = (this.flags & ~(EDS | HealthFlag.FAILED_OUTLIER_CHECK)) | (edsFlags & EDS);
  }

  /** Identity of the endpoint this host was built from: equal keys may share one Host across updates. */
  get reuseKey(): string {
    return endpointKey(this);
  }

  /** Current health flags. */
  get healthFlags(): number {
    return this.flags;
  }

  /** No failure flag is set (degraded hosts are still healthy for this test). */
  get healthy(): boolean {
    return (this.flags & UNHEALTHY) === 0;
  }

  /** Healthy but marked degraded. */
  get degraded(): boolean {
    return this.healthy && (this.flags & DEGRADED) !== 0;
  }

  /** Sets a flag; the cluster rebuilds its balancers if health changed. */
  setHealthFlag(flag: number): void {
    this.update(this.flags | flag);
  }

  /** Clears a flag; the cluster rebuilds its balancers if health changed. */
  clearHealthFlag(flag: number): void {
    this.update(this.flags & ~flag);
  }

  private update(next: number): void {
    const before = this.flags;
    if (next === before) return;
    this.flags = next;
    // Only a change of healthy/degraded state matters to the balancers (not e.g. PENDING_ACTIVE_HC).
    if ((before & (UNHEALTHY | DEGRADED)) !== (next & (UNHEALTHY | DEGRADED))) this.onHealthChange(this);
  }

  /** Envoy's `/clusters` health_flags text: `healthy` or the `/flag` names joined. */
  healthFlagsText(): string {
    if (this.flags === 0) return 'healthy';
    let out = '';
    for (const [bit, name] of FLAG_NAMES) if ((this.flags & bit) !== 0) out += name;
    return out;
  }

  /** Envoy's EDS health status for `/clusters?format=json`. */
  edsHealthStatus(): 'HEALTHY' | 'UNHEALTHY' | 'DEGRADED' {
    if ((this.flags & HealthFlag.FAILED_EDS_HEALTH) !== 0) return 'UNHEALTHY';
    if ((this.flags & HealthFlag.DEGRADED_EDS_HEALTH) !== 0) return 'DEGRADED';
    return 'HEALTHY';
  }

  /** `ip:port`, IPv6 in brackets; a pipe host's path (Envoy's `PipeInstance::asString`). */
  toString(): string {
    if (this.pipe !== undefined) return this.pipe;
    return this.address.includes(':') ? `[${this.address}]:${this.port}` : `${this.address}:${this.port}`;
  }
}
