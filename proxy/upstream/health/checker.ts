/**
 * Envoy's active health checking for one cluster and one `health_checks` entry: a session per
 * host runs a probe on a timer and moves the host's FAILED_ACTIVE_HC flag with Envoy's rules.
 *
 * - A host starts failed and pending; its first successful check makes it healthy at once, later
 *   ones need `healthy_threshold` consecutive successes after a failure.
 * - `unhealthy_threshold` consecutive failures (timeouts and network errors included) mark it
 *   unhealthy; an HTTP status outside expected and retriable statuses does so immediately.
 * - The next check waits `interval`, or `unhealthy_interval` while unhealthy, the edge intervals
 *   right after a transition, and `no_traffic_interval` / `no_traffic_healthy_interval` while the
 *   cluster has never carried traffic; plus `interval_jitter` and `interval_jitter_percent`.
 */
import { MeshError } from '../../../errors/index.js';
import type { HeaderValueOption, HealthCheck, Int64Range } from '../../config/envoy.js';
import { parseDuration } from '../../config/values.js';
import type { UpstreamCluster } from '../cluster.js';
import { HealthFlag, type Host } from '../host.js';
import {
  type CheckOutcome,
  GrpcProbe,
  HttpProbe,
  type Probe,
  type StatusRanges,
  TcpProbe,
} from './probes.js';

/** The timing and threshold values of one health check, in milliseconds. */
export interface HealthCheckTiming {
  readonly timeoutMs: number;
  readonly intervalMs: number;
  readonly initialJitterMs: number;
  readonly intervalJitterMs: number;
  readonly intervalJitterPercent: number;
  readonly unhealthyThreshold: number;
  readonly healthyThreshold: number;
  readonly noTrafficIntervalMs: number;
  readonly noTrafficHealthyIntervalMs: number;
  readonly unhealthyIntervalMs: number;
  readonly unhealthyEdgeIntervalMs: number;
  readonly healthyEdgeIntervalMs: number;
}

/** Hooks for other modules (outlier detection un-ejects on success). */
export interface HealthCheckHooks {
  /** Called after every successful check of a host. */
  readonly onSuccess?: (host: Host) => void;
}

function invalid(path: string, message: string, value?: unknown, allowed?: string): MeshError {
  return new MeshError('PROXY_E_INVALID', message, {
    path,
    ...(value === undefined ? {} : { value }),
    ...(allowed === undefined ? {} : { allowed }),
  });
}

function ms(v: string | undefined, fallback: number, path: string): number {
  try {
    return parseDuration(v, fallback);
  } catch {
    throw invalid(path, `${JSON.stringify(v)} is not a duration`, v, 'a duration like "5s"');
  }
}

/** Parses the timing part of a HealthCheck with Envoy's defaults. */
export function parseTiming(hc: HealthCheck, path: string): HealthCheckTiming {
  const timeoutMs = ms(hc.timeout, Number.NaN, `${path}.timeout`);
  const intervalMs = ms(hc.interval, Number.NaN, `${path}.interval`);
  if (!(timeoutMs > 0))
    throw invalid(
      `${path}.timeout`,
      'timeout is required and must be above 0',
      hc.timeout,
      'a positive duration',
    );
  if (!(intervalMs > 0))
    throw invalid(
      `${path}.interval`,
      'interval is required and must be above 0',
      hc.interval,
      'a positive duration',
    );
  for (const field of ['unhealthy_threshold', 'healthy_threshold'] as const) {
    const v = hc[field];
    if (!(Number.isInteger(v) && v >= 1))
      throw invalid(
        `${path}.${field}`,
        `${field} is required and must be 1 or more, got ${v}`,
        v,
        'an integer >= 1',
      );
  }
  const pct = hc.interval_jitter_percent ?? 0;
  if (!(Number.isInteger(pct) && pct >= 0 && pct <= 100))
    throw invalid(`${path}.interval_jitter_percent`, `must be 0..100, got ${pct}`, pct, '0..100');
  const noTraffic = ms(hc.no_traffic_interval, 60_000, `${path}.no_traffic_interval`);
  const unhealthy = ms(hc.unhealthy_interval, intervalMs, `${path}.unhealthy_interval`);
  return {
    timeoutMs,
    intervalMs,
    initialJitterMs: ms(hc.initial_jitter, 0, `${path}.initial_jitter`),
    intervalJitterMs: ms(hc.interval_jitter, 0, `${path}.interval_jitter`),
    intervalJitterPercent: pct,
    unhealthyThreshold: hc.unhealthy_threshold,
    healthyThreshold: hc.healthy_threshold,
    noTrafficIntervalMs: noTraffic,
    noTrafficHealthyIntervalMs: ms(
      hc.no_traffic_healthy_interval,
      noTraffic,
      `${path}.no_traffic_healthy_interval`,
    ),
    unhealthyIntervalMs: unhealthy,
    unhealthyEdgeIntervalMs: ms(hc.unhealthy_edge_interval, unhealthy, `${path}.unhealthy_edge_interval`),
    healthyEdgeIntervalMs: ms(hc.healthy_edge_interval, intervalMs, `${path}.healthy_edge_interval`),
  };
}

function ranges(list: readonly Int64Range[] | undefined, fallback: StatusRanges, path: string): StatusRanges {
  if (list === undefined || list.length === 0) return fallback;
  return list.map((r, i) => {
    const start = Number(r.start ?? '0');
    const end = Number(r.end ?? '0');
    if (!(start >= 100 && end <= 600 && start < end)) {
      throw invalid(
        `${path}[${i}]`,
        `a status range must lie within [100, 600) with start < end, got [${start}, ${end})`,
        r,
        'e.g. { start: 200, end: 300 }',
      );
    }
    return [start, end] as const;
  });
}

function payload(
  p: { readonly text?: string; readonly binary?: string } | undefined,
  path: string,
): Buffer | undefined {
  if (p === undefined) return undefined;
  if (p.text !== undefined) {
    // Envoy's Payload.text is hex, not literal text.
    if (!/^([0-9a-fA-F]{2})*$/.test(p.text))
      throw invalid(
        `${path}.text`,
        'text must be hex-encoded bytes',
        p.text,
        'an even number of hex digits, e.g. "50494e47" for PING',
      );
    return Buffer.from(p.text, 'hex');
  }
  if (p.binary !== undefined) return Buffer.from(p.binary, 'base64');
  return Buffer.alloc(0);
}

function staticHeaders(add: readonly HeaderValueOption[] | undefined, path: string): Record<string, string> {
  const out: Record<string, string> = {};
  (add ?? []).forEach((o, i) => {
    const value = o.header.value ?? '';
    if (value.includes('%'))
      throw invalid(
        `${path}[${i}].header.value`,
        'health check headers take literal values only',
        value,
        'a value without % commands',
      );
    out[o.header.key.toLowerCase()] = value;
  });
  return out;
}

/** Builds the probe for a HealthCheck (exactly one checker type). */
export function buildProbe(hc: HealthCheck, cluster: UpstreamCluster, path: string): Probe {
  const kinds = (['http_health_check', 'tcp_health_check', 'grpc_health_check'] as const).filter(
    (k) => hc[k] !== undefined,
  );
  if (kinds.length !== 1) {
    throw invalid(
      path,
      `a health check needs exactly one of http_health_check, tcp_health_check, grpc_health_check; got ${kinds.length === 0 ? 'none' : kinds.join(', ')}`,
      kinds,
      'one checker',
    );
  }
  if (hc.http_health_check !== undefined) {
    const h = hc.http_health_check;
    const hp = `${path}.http_health_check`;
    if (typeof h.path !== 'string' || !h.path.startsWith('/'))
      throw invalid(`${hp}.path`, 'path must start with /', h.path, 'e.g. /healthz');
    if (h.codec_client_type === 'HTTP3')
      throw new MeshError(
        'PROXY_E_UNSUPPORTED',
        'HTTP/3 health checks are not supported by the bundled proxy',
        { path: `${hp}.codec_client_type`, value: 'HTTP3' },
      );
    return new HttpProbe({
      path: h.path,
      method: h.method ?? 'GET',
      authority: h.host !== undefined && h.host !== '' ? h.host : cluster.name,
      headers: staticHeaders(h.request_headers_to_add, `${hp}.request_headers_to_add`),
      expected: ranges(h.expected_statuses, [[200, 201]], `${hp}.expected_statuses`),
      retriable: ranges(h.retriable_statuses, [], `${hp}.retriable_statuses`),
      http2: h.codec_client_type === 'HTTP2',
      reuseConnection: hc.reuse_connection !== false,
      tls: cluster.tls,
    });
  }
  if (hc.tcp_health_check !== undefined) {
    const t = hc.tcp_health_check;
    const tp = `${path}.tcp_health_check`;
    return new TcpProbe(
      payload(t.send, `${tp}.send`),
      (t.receive ?? []).map((r, i) => payload(r, `${tp}.receive[${i}]`) ?? Buffer.alloc(0)),
      cluster.tls,
    );
  }
  const g = hc.grpc_health_check ?? {};
  return new GrpcProbe(
    g.service_name ?? '',
    g.authority !== undefined && g.authority !== '' ? g.authority : cluster.name,
    cluster.tls,
  );
}

/** Per-host state of the checker. */
class Session {
  private timer: NodeJS.Timeout | undefined;
  private first = true;
  private successes = 0;
  private failures = 0;
  private stopped = false;
  /** Resolves after the first check finished, whatever its result. */
  readonly firstResult: Promise<void>;
  private resolveFirst: () => void = () => {};

  constructor(
    readonly host: Host,
    private readonly owner: HealthChecker,
  ) {
    this.firstResult = new Promise((r) => {
      this.resolveFirst = r;
    });
    if (host.healthChecked) {
      // A host kept across a config update keeps its last verdict; the next check follows soon.
      this.first = false;
      this.resolveFirst();
    } else {
      // Envoy starts every checked host failed, pending its first check.
      host.setHealthFlag(HealthFlag.FAILED_ACTIVE_HC | HealthFlag.PENDING_ACTIVE_HC);
    }
    this.schedule(owner.random() * owner.timing.initialJitterMs);
  }

  private schedule(delay: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => void this.run(), delay);
    this.timer.unref();
  }

  private async run(): Promise<void> {
    const o = this.owner;
    o.cluster.stats.health_check_attempt.inc();
    const outcome = await o.probe.check(this.host, o.port(this.host), o.timing.timeoutMs);
    if (this.stopped) return;
    const edge = this.apply(outcome);
    this.first = false;
    this.host.healthChecked = true;
    this.resolveFirst();
    this.schedule(o.nextDelay(this.host, edge));
  }

  /** Applies one outcome; returns the transition it caused. */
  private apply(outcome: CheckOutcome): 'healthy' | 'unhealthy' | undefined {
    const o = this.owner;
    const host = this.host;
    const s = o.cluster.stats;
    let edge: 'healthy' | 'unhealthy' | undefined;
    if (outcome.kind === 'healthy') {
      s.health_check_success.inc();
      this.failures = 0;
      if ((host.healthFlags & HealthFlag.FAILED_ACTIVE_HC) !== 0) {
        if (this.first || ++this.successes >= o.timing.healthyThreshold) {
          host.clearHealthFlag(
            HealthFlag.FAILED_ACTIVE_HC | HealthFlag.ACTIVE_HC_TIMEOUT | HealthFlag.PENDING_ACTIVE_HC,
          );
          this.successes = 0;
          edge = 'healthy';
        }
      }
      if (outcome.degraded) host.setHealthFlag(HealthFlag.DEGRADED_ACTIVE_HC);
      else host.clearHealthFlag(HealthFlag.DEGRADED_ACTIVE_HC);
      o.hooks.onSuccess?.(host);
    } else {
      s.health_check_failure.inc();
      if (outcome.kind === 'network' || outcome.kind === 'timeout') s.health_check_network_failure.inc();
      this.successes = 0;
      const wasHealthy = (host.healthFlags & HealthFlag.FAILED_ACTIVE_HC) === 0;
      const immediate = outcome.kind === 'unhealthy' && outcome.immediate;
      if (wasHealthy && (immediate || ++this.failures >= o.timing.unhealthyThreshold)) {
        host.setHealthFlag(
          HealthFlag.FAILED_ACTIVE_HC | (outcome.kind === 'timeout' ? HealthFlag.ACTIVE_HC_TIMEOUT : 0),
        );
        this.failures = 0;
        edge = 'unhealthy';
      }
    }
    host.clearHealthFlag(HealthFlag.PENDING_ACTIVE_HC);
    o.updateGauge();
    return edge;
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.resolveFirst();
  }
}

/** Active health checking of one cluster with one `health_checks` entry. */
export class HealthChecker {
  /** Parsed timing and thresholds. */
  readonly timing: HealthCheckTiming;
  /** @internal the probe sessions use */
  readonly probe: Probe;
  /** @internal */
  readonly hooks: HealthCheckHooks;
  /** @internal */
  readonly random: () => number;
  private readonly altPort: number | undefined;
  private readonly sessions = new Map<Host, Session>();
  private readonly unsubscribe: () => void;

  /**
   * Validates the config and starts checking every current and future host of `cluster`.
   * @throws MeshError naming the field at fault
   */
  constructor(
    readonly cluster: UpstreamCluster,
    config: HealthCheck,
    path: string,
    options: { readonly random?: () => number; readonly hooks?: HealthCheckHooks } = {},
  ) {
    this.timing = parseTiming(config, path);
    this.probe = buildProbe(config, cluster, path);
    this.hooks = options.hooks ?? {};
    this.random = options.random ?? Math.random;
    const alt = config.alt_port;
    if (alt !== undefined && alt !== 0 && !(Number.isInteger(alt) && alt <= 65535))
      throw invalid(`${path}.alt_port`, `alt_port must be 1..65535, got ${alt}`, alt, '1..65535');
    this.altPort = alt === undefined || alt === 0 ? undefined : alt;
    this.sync(cluster.hosts);
    this.unsubscribe = cluster.onHostsChanged((hosts) => this.sync(hosts));
  }

  /** @internal the port a host is checked on: alt_port, else the endpoint's health check port. */
  port(host: Host): number {
    return this.altPort ?? host.healthCheckPort;
  }

  /** @internal the wait before the next check of `host`. */
  nextDelay(host: Host, edge: 'healthy' | 'unhealthy' | undefined): number {
    const t = this.timing;
    const healthy = (host.healthFlags & HealthFlag.FAILED_ACTIVE_HC) === 0;
    let base: number;
    if (!this.cluster.stats.upstream_cx_total.used)
      base = healthy ? t.noTrafficHealthyIntervalMs : t.noTrafficIntervalMs;
    else if (edge === 'unhealthy') base = t.unhealthyEdgeIntervalMs;
    else if (edge === 'healthy') base = t.healthyEdgeIntervalMs;
    else base = healthy ? t.intervalMs : t.unhealthyIntervalMs;
    return (
      base + this.random() * t.intervalJitterMs + this.random() * ((base * t.intervalJitterPercent) / 100)
    );
  }

  /** @internal keeps `health_check.healthy` current. */
  updateGauge(): void {
    let healthy = 0;
    for (const h of this.cluster.hosts) if ((h.healthFlags & HealthFlag.FAILED_ACTIVE_HC) === 0) healthy++;
    this.cluster.stats.health_check_healthy.set(healthy);
  }

  private sync(hosts: readonly Host[]): void {
    const keep = new Set(hosts);
    for (const [host, session] of this.sessions) {
      if (!keep.has(host)) {
        session.stop();
        this.sessions.delete(host);
      }
    }
    for (const host of hosts) if (!this.sessions.has(host)) this.sessions.set(host, new Session(host, this));
    this.updateGauge();
  }

  /** Resolves when every current host has had its first check (Envoy's cluster warming). */
  async initialized(): Promise<void> {
    await Promise.all([...this.sessions.values()].map((s) => s.firstResult));
  }

  /** Stops every timer and drops pooled connections. */
  stop(): void {
    this.unsubscribe();
    for (const s of this.sessions.values()) s.stop();
    this.sessions.clear();
    this.probe.close();
  }
}
