/**
 * One upstream cluster: its hosts by priority, the load balancer over the healthy ones, and the
 * connection settings the engine's pools read (protocol, TLS, timeouts, circuit breakers), all
 * parsed from the Envoy `Cluster` once into plain values.
 *
 * Priorities follow Envoy: each level's health is `min(100, overprovisioning x healthy / total)`
 * (1.4 by default); load goes to the healthy hosts of each level in priority order in proportion
 * to that health, then to degraded hosts the same way (normalized when the total is below 100);
 * a level whose available share falls below the panic threshold (50% by default) balances over
 * all of its hosts, healthy or not.
 */
import { readFileSync } from 'node:fs';
import net from 'node:net';
import type tls from 'node:tls';
import { MeshError } from '../../errors/index.js';
import type {
  Cluster,
  DataSource,
  LbEndpoint,
  LocalityLbEndpoints,
  UpstreamHttpProtocolOptions,
  UpstreamTlsContext,
} from '../config/envoy.js';
import { parseDuration, parseInt64 } from '../config/values.js';
import type { UpstreamTlsOptions } from '../http/connect.js';
import { ClusterStats } from '../stats/scopes.js';
import type { StatsStore } from '../stats/store.js';
import { compileSanCheck } from '../tls/san.js';
import { UpstreamSslStats, upstreamIdentityCheck, upstreamTlsEvents } from '../tls/verify.js';
import { ResourceManager } from './circuit-breaker.js';
import { endpointKey, HealthFlag, Host } from './host.js';
import {
  buildLocalityPicker,
  buildPicker,
  type HostPicker,
  type LbPolicyName,
  type LbSettings,
} from './lb.js';
import type { OutlierDetector } from './outlier.js';

/** TLS settings for upstream connections: one shape for pools and health probes. */
export type { UpstreamTlsOptions } from '../http/connect.js';

/** Circuit-breaker limits of one priority (Envoy defaults 1024 / 1024 / 1024 / 3). */
export interface CircuitBreakerLimits {
  readonly maxConnections: number;
  readonly maxPendingRequests: number;
  readonly maxRequests: number;
  readonly maxRetries: number;
  /**
   * `retry_budget` (issue 6): when set it replaces `maxRetries`: concurrent retries may reach
   * `budgetPercent` of active plus pending requests, and at least `minRetryConcurrency`.
   */
  readonly retryBudget?: { readonly budgetPercent: number; readonly minRetryConcurrency: number };
}

/** Circuit-breaker limits by routing priority. */
export interface CircuitBreakers {
  readonly default: CircuitBreakerLimits;
  readonly high: CircuitBreakerLimits;
  /** `track_remaining` per priority. */
  readonly trackRemaining: { readonly default: boolean; readonly high: boolean };
}

/** How a cluster resolves its endpoints. */
export type ClusterType = 'STATIC' | 'STRICT_DNS' | 'LOGICAL_DNS';

/** A name lookup: every address for `hostname` (the default uses the OS resolver, like getaddrinfo). */
export type LookupFn = (hostname: string) => Promise<ReadonlyArray<{ address: string; family: number }>>;

const DEFAULT_LIMITS: CircuitBreakerLimits = {
  maxConnections: 1024,
  maxPendingRequests: 1024,
  maxRequests: 1024,
  maxRetries: 3,
};

const TLS_VERSIONS: Readonly<Record<string, tls.SecureVersion | undefined>> = {
  TLS_AUTO: undefined,
  TLSv1_0: 'TLSv1',
  TLSv1_1: 'TLSv1.1',
  TLSv1_2: 'TLSv1.2',
  TLSv1_3: 'TLSv1.3',
};

const HTTP_OPTIONS_KEY = 'envoy.extensions.upstreams.http.v3.HttpProtocolOptions';
const TLS_TRANSPORT = 'envoy.transport_sockets.tls';
const UPSTREAM_TLS_TYPE = 'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.UpstreamTlsContext';

function invalid(path: string, message: string, value?: unknown, allowed?: string): MeshError {
  return new MeshError('PROXY_E_INVALID', message, {
    path,
    ...(value === undefined ? {} : { value }),
    ...(allowed === undefined ? {} : { allowed }),
  });
}

function unsupported(path: string, what: string, value?: unknown): MeshError {
  return new MeshError('PROXY_E_UNSUPPORTED', `${what} is not supported by the bundled proxy`, {
    path,
    ...(value === undefined ? {} : { value }),
    allowed: 'see docs/proxy-compatibility.md',
  });
}

function duration(v: string | undefined, fallback: number, path: string): number {
  try {
    return parseDuration(v, fallback);
  } catch {
    throw invalid(path, `${JSON.stringify(v)} is not a duration`, v, 'a duration like "0.25s"');
  }
}

function readData(ds: DataSource | undefined, path: string): Buffer | undefined {
  if (ds === undefined) return undefined;
  if (ds.inline_string !== undefined) return Buffer.from(ds.inline_string, 'utf8');
  if (ds.inline_bytes !== undefined) return Buffer.from(ds.inline_bytes, 'base64');
  if (ds.filename !== undefined) {
    try {
      return readFileSync(ds.filename);
    } catch (error) {
      throw invalid(
        `${path}.filename`,
        `cannot read ${ds.filename}: ${(error as Error).message}`,
        ds.filename,
        'a readable file',
      );
    }
  }
  if (ds.environment_variable !== undefined) {
    const v = process.env[ds.environment_variable];
    if (v === undefined)
      throw invalid(
        `${path}.environment_variable`,
        `environment variable ${ds.environment_variable} is not set`,
        ds.environment_variable,
      );
    return Buffer.from(v, 'utf8');
  }
  throw invalid(path, 'a data source needs inline_string, inline_bytes or filename', ds, 'one data source');
}

function parseTls(c: Cluster, path: string, store: StatsStore): UpstreamTlsOptions | undefined {
  const ts = c.transport_socket;
  if (ts === undefined) return undefined;
  const tp = `${path}.transport_socket`;
  const typed = ts.typed_config as UpstreamTlsContext | undefined;
  if (ts.name !== TLS_TRANSPORT && typed?.['@type'] !== UPSTREAM_TLS_TYPE) {
    if (ts.name === 'envoy.transport_sockets.raw_buffer') return undefined;
    throw unsupported(`${tp}.name`, `transport socket ${JSON.stringify(ts.name)}`, ts.name);
  }
  if (typed !== undefined && typed['@type'] !== UPSTREAM_TLS_TYPE) {
    throw invalid(
      `${tp}.typed_config.@type`,
      `an upstream TLS socket needs an UpstreamTlsContext, got ${typed['@type']}`,
      typed['@type'],
      UPSTREAM_TLS_TYPE,
    );
  }
  const ctx = typed?.common_tls_context;
  const cp = `${tp}.typed_config.common_tls_context`;
  if (ctx?.tls_certificate_sds_secret_configs !== undefined)
    throw unsupported(`${cp}.tls_certificate_sds_secret_configs`, 'SDS certificates');
  if (ctx?.validation_context_sds_secret_config !== undefined)
    throw unsupported(`${cp}.validation_context_sds_secret_config`, 'SDS validation contexts');
  const certs = ctx?.tls_certificates ?? [];
  if (certs.length > 1)
    throw unsupported(`${cp}.tls_certificates`, 'more than one upstream client certificate');
  const cert = readData(certs[0]?.certificate_chain, `${cp}.tls_certificates[0].certificate_chain`);
  const key = readData(certs[0]?.private_key, `${cp}.tls_certificates[0].private_key`);
  if ((cert === undefined) !== (key === undefined)) {
    throw invalid(
      `${cp}.tls_certificates[0]`,
      'a client certificate needs both certificate_chain and private_key',
      undefined,
      'both or neither',
    );
  }
  const ca = readData(ctx?.validation_context?.trusted_ca, `${cp}.validation_context.trusted_ca`);
  const minVersion = TLS_VERSIONS[ctx?.tls_params?.tls_minimum_protocol_version ?? 'TLS_AUTO'];
  const maxVersion = TLS_VERSIONS[ctx?.tls_params?.tls_maximum_protocol_version ?? 'TLS_AUTO'];
  // mTLS (proxy-mtls): SAN matchers (match_typed_subject_alt_names / match_subject_alt_names).
  const san = compileSanCheck(ctx?.validation_context, `${cp}.validation_context`);
  const ssl = new UpstreamSslStats(store, `cluster.${String(c.name)}.`);
  return {
    onTlsEvent: upstreamTlsEvents(ssl),
    ...(san === undefined ? {} : { checkServerIdentity: upstreamIdentityCheck(san, ssl) }),
    ...(typed?.sni === undefined ? {} : { sni: typed.sni }),
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined ? {} : { cert }),
    ...(key === undefined ? {} : { key }),
    ...(ctx?.alpn_protocols === undefined ? {} : { alpn: [...ctx.alpn_protocols] }),
    ...(minVersion === undefined ? {} : { minVersion }),
    ...(maxVersion === undefined ? {} : { maxVersion }),
  };
}

interface ProtocolSettings {
  readonly protocol: 'http1' | 'http2' | 'auto';
  readonly idleTimeoutMs: number;
  readonly maxRequestsPerConnection: number | undefined;
  readonly maxStreamDurationMs: number | undefined;
  readonly maxConcurrentStreams: number | undefined;
}

function parseProtocol(c: Cluster, path: string, hasTls: boolean): ProtocolSettings {
  // The loader moves the deprecated cluster-level protocol fields into these options.
  let protocol: 'http1' | 'http2' | 'auto' = 'http1';
  let common: UpstreamHttpProtocolOptions['common_http_protocol_options'];
  let maxStreams: number | undefined;
  const options = c.typed_extension_protocol_options ?? {};
  for (const key of Object.keys(options)) {
    if (key !== HTTP_OPTIONS_KEY)
      throw unsupported(
        `${path}.typed_extension_protocol_options.${key}`,
        `protocol options ${JSON.stringify(key)}`,
        key,
      );
  }
  const http = options[HTTP_OPTIONS_KEY] as UpstreamHttpProtocolOptions | undefined;
  if (http !== undefined) {
    const hp = `${path}.typed_extension_protocol_options.${HTTP_OPTIONS_KEY}`;
    if (http.use_downstream_protocol_config !== undefined)
      throw unsupported(`${hp}.use_downstream_protocol_config`, 'use_downstream_protocol_config');
    if (http.auto_config !== undefined) {
      if (!hasTls)
        throw invalid(
          `${hp}.auto_config`,
          'auto_config picks HTTP/1.1 or HTTP/2 by ALPN and needs a TLS transport socket',
          undefined,
          'a cluster with transport_socket TLS',
        );
      protocol = 'auto';
    } else if (http.explicit_http_config?.http2_protocol_options !== undefined) {
      protocol = 'http2';
    } else if (http.explicit_http_config !== undefined) {
      protocol = 'http1';
    }
    common = http.common_http_protocol_options;
    maxStreams = (http.explicit_http_config ?? http.auto_config)?.http2_protocol_options
      ?.max_concurrent_streams;
  }
  const maxReq = common?.max_requests_per_connection;
  return {
    protocol,
    idleTimeoutMs: duration(
      common?.idle_timeout,
      3_600_000,
      `${path}.common_http_protocol_options.idle_timeout`,
    ),
    maxRequestsPerConnection: maxReq === undefined || maxReq === 0 ? undefined : maxReq,
    // HTTP/2 streams per upstream session (Envoy's default 2147483647); the upstream's own
    // SETTINGS_MAX_CONCURRENT_STREAMS lowers it per session.
    maxConcurrentStreams: maxStreams === undefined || maxStreams === 0 ? undefined : maxStreams,
    // Issue 6: the longest an upstream request may last (0 or unset: no limit).
    maxStreamDurationMs:
      duration(common?.max_stream_duration, 0, `${path}.common_http_protocol_options.max_stream_duration`) ||
      undefined,
  };
}

function parseBreakers(c: Cluster): CircuitBreakers {
  let def = DEFAULT_LIMITS;
  let high = DEFAULT_LIMITS;
  let trackDefault = false;
  let trackHigh = false;
  for (const t of c.circuit_breakers?.thresholds ?? []) {
    const limits: CircuitBreakerLimits = {
      maxConnections: t.max_connections ?? 1024,
      maxPendingRequests: t.max_pending_requests ?? 1024,
      maxRequests: t.max_requests ?? 1024,
      maxRetries: t.max_retries ?? 3,
      // Envoy's retry budget defaults: 20 % of active + pending requests, at least 3 retries.
      ...(t.retry_budget === undefined
        ? {}
        : {
            retryBudget: {
              budgetPercent: t.retry_budget.budget_percent?.value ?? 20,
              minRetryConcurrency: t.retry_budget.min_retry_concurrency ?? 3,
            },
          }),
    };
    if ((t.priority ?? 'DEFAULT') === 'HIGH') {
      high = limits;
      trackHigh = t.track_remaining === true;
    } else {
      def = limits;
      trackDefault = t.track_remaining === true;
    }
  }
  return { default: def, high, trackRemaining: { default: trackDefault, high: trackHigh } };
}

function edsFlags(status: LbEndpoint['health_status']): number {
  switch (status) {
    case 'UNHEALTHY':
    case 'DRAINING':
    case 'TIMEOUT':
      return HealthFlag.FAILED_EDS_HEALTH;
    case 'DEGRADED':
      return HealthFlag.DEGRADED_EDS_HEALTH;
    default:
      return 0;
  }
}

/** An endpoint from the config, before DNS. */
interface EndpointSpec {
  readonly address: string;
  readonly port: number;
  /** Unix socket path (Envoy's form) of a pipe endpoint; `address` holds it too, port is 0. */
  readonly pipe?: string;
  readonly weight: number;
  readonly priority: number;
  readonly locality: { readonly region: string; readonly zone: string; readonly subZone: string };
  readonly localityWeight: number;
  readonly hostname: string;
  readonly healthCheckPort: number;
  readonly flags: number;
  readonly path: string;
}

function parseEndpoints(c: Cluster, path: string, type: ClusterType): EndpointSpec[] {
  const la = c.load_assignment;
  const specs: EndpointSpec[] = [];
  (la?.endpoints ?? []).forEach((group: LocalityLbEndpoints, gi) => {
    const gp = `${path}.load_assignment.endpoints[${gi}]`;
    const priority = group.priority ?? 0;
    if (!(Number.isInteger(priority) && priority >= 0 && priority <= 127))
      throw invalid(`${gp}.priority`, `priority must be 0..127, got ${priority}`, priority, '0..127');
    const locality = {
      region: group.locality?.region ?? '',
      zone: group.locality?.zone ?? '',
      subZone: group.locality?.sub_zone ?? '',
    };
    (group.lb_endpoints ?? []).forEach((e, ei) => {
      const ep = `${gp}.lb_endpoints[${ei}]`;
      const sa = e.endpoint?.address?.socket_address;
      const weight = e.load_balancing_weight ?? 1;
      if (!(Number.isInteger(weight) && weight >= 1))
        throw invalid(
          `${ep}.load_balancing_weight`,
          `weight must be an integer >= 1, got ${weight}`,
          weight,
          '1 or more',
        );
      const pipe = e.endpoint?.address?.pipe;
      if (pipe !== undefined) {
        // Envoy resolves only socket addresses through DNS: a Unix socket belongs in a STATIC cluster.
        if (type !== 'STATIC')
          throw invalid(
            `${ep}.endpoint.address.pipe`,
            `a ${type} cluster resolves host names; a pipe (Unix socket) endpoint needs a STATIC cluster`,
            pipe.path,
            'a STATIC cluster for pipe endpoints',
          );
        specs.push({
          address: pipe.path,
          port: 0,
          pipe: pipe.path,
          weight,
          priority,
          locality,
          localityWeight: group.load_balancing_weight ?? 0,
          hostname: e.endpoint?.hostname ?? '',
          healthCheckPort: 0,
          flags: edsFlags(e.health_status),
          path: ep,
        });
        return;
      }
      if (sa === undefined) {
        throw invalid(
          `${ep}.endpoint.address`,
          'an endpoint needs a socket_address or a pipe',
          e.endpoint,
          'endpoint.address.socket_address or endpoint.address.pipe',
        );
      }
      if (sa.named_port !== undefined)
        throw unsupported(`${ep}.endpoint.address.socket_address.named_port`, 'named_port');
      const port = sa.port_value ?? 0;
      if (!(Number.isInteger(port) && port >= 1 && port <= 65535)) {
        throw invalid(
          `${ep}.endpoint.address.socket_address.port_value`,
          `an endpoint port must be 1..65535, got ${port}`,
          port,
          '1..65535',
        );
      }
      if (type === 'STATIC' && net.isIP(sa.address) === 0) {
        throw invalid(
          `${ep}.endpoint.address.socket_address.address`,
          `a STATIC cluster needs IP addresses, got ${JSON.stringify(sa.address)}`,
          sa.address,
          'an IPv4 or IPv6 address (use STRICT_DNS or LOGICAL_DNS for names)',
        );
      }
      specs.push({
        address: sa.address,
        port,
        weight,
        priority,
        locality,
        localityWeight: group.load_balancing_weight ?? 0,
        hostname: e.endpoint?.hostname ?? (type === 'STATIC' ? '' : sa.address),
        healthCheckPort: e.endpoint?.health_check_config?.port_value || port,
        flags: edsFlags(e.health_status),
        path: ep,
      });
    });
  });
  return specs;
}

interface Level {
  readonly all: Host[];
  readonly healthy: Host[];
  readonly picker: HostPicker;
  /** Over the degraded hosts; they take the load the healthy ones cannot. */
  readonly degradedPicker: HostPicker;
  panicPicker: HostPicker | undefined;
  readonly panic: boolean;
}

/** Options for a cluster, shared by the manager. */
export interface ClusterOptions {
  /** Name resolution for DNS clusters. */
  readonly lookup: LookupFn;
  /** Random source in [0, 1). */
  readonly random: () => number;
  /** Longest one DNS round may take before it counts as failed. */
  readonly dnsTimeoutMs: number;
  /** Hosts of the previous version of this cluster, by {@link Host.reuseKey}, to keep across an update. */
  readonly reuse?: ReadonlyMap<string, Host>;
}

/** One upstream cluster as the engine and the admin see it. */
export class UpstreamCluster {
  /** Cluster name. */
  readonly name: string;
  /** Discovery type. */
  readonly type: ClusterType;
  /** Load-balancing policy. */
  readonly lbPolicy: LbPolicyName;
  /** Pre-resolved `cluster.<name>.*` stats. */
  readonly stats: ClusterStats;
  /** Upstream connect timeout in ms (Envoy default 5 s). */
  readonly connectTimeoutMs: number;
  /** Upstream HTTP protocol: explicit HTTP/1.1, HTTP/2, or ALPN (`auto`). */
  readonly protocol: 'http1' | 'http2' | 'auto';
  /** TLS to upstreams, when configured. */
  readonly tls: UpstreamTlsOptions | undefined;
  /** Idle timeout of pooled connections in ms (Envoy default 1 h). */
  readonly idleTimeoutMs: number;
  /** Requests per connection before it is retired; undefined = unlimited. */
  readonly maxRequestsPerConnection: number | undefined;
  /** Issue 6: `common_http_protocol_options.max_stream_duration` of upstream requests in ms; undefined = none. */
  readonly maxStreamDurationMs: number | undefined;
  /** `http2_protocol_options.max_concurrent_streams` of each upstream HTTP/2 session; undefined = Envoy's default. */
  readonly maxConcurrentStreams: number | undefined;
  /** Circuit-breaker limits (enforced by the engine). */
  readonly circuitBreakers: CircuitBreakers;
  /**
   * Live circuit-breaker counters by routing priority (Envoy's resource managers): check
   * `canCreate()`, then `inc()`/`dec()`; they keep the `circuit_breakers.*` gauges.
   */
  resources: { readonly default: ResourceManager; readonly high: ResourceManager };
  private readonly statName: string;
  private readonly store: StatsStore;
  /** TCP keepalive idle time in seconds, when configured. */
  readonly tcpKeepaliveSeconds: number | undefined;
  /** Per-connection buffer limit in bytes (Envoy default 1 MiB). */
  readonly perConnectionBufferLimitBytes: number;
  /** Overprovisioning factor as a ratio (1.4 by default). */
  readonly overprovisioningFactor: number;
  /** Panic threshold in percent (50 by default; 0 disables panic). */
  readonly panicThresholdPercent: number;
  /** DNS refresh period in ms for DNS clusters. */
  readonly dnsRefreshRateMs: number;
  /** `locality_weighted_lb_config`: traffic split by locality weight x locality health first. */
  readonly localityWeighted: boolean;
  /** The cluster as configured (for `/config_dump`). */
  readonly config: Cluster;
  /**
   * Outlier detection, when the cluster configures it (set by the ClusterManager). The engine
   * reports results: `outlierDetector?.reportResponse(host, status)` and
   * `reportLocalOrigin(host, 'connect_failed' | 'timeout' | 'reset' | 'success')`.
   */
  outlierDetector: OutlierDetector | undefined;

  private hostList: Host[] = [];
  private levels: Level[] = [];
  /** Cumulative load per level (0..100), last one 100. */
  private cumulativeLoad: Float64Array = new Float64Array(0);
  private dirty = true;
  private readonly settings: LbSettings;
  private readonly specs: EndpointSpec[];
  private readonly options: ClusterOptions;
  private readonly dnsFamily: 'AUTO' | 'V4_ONLY' | 'V6_ONLY' | 'V4_PREFERRED' | 'ALL';
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  // A health change marks the balancers stale (rebuilt on the next pick, so a burst of changes,
  // e.g. every host's first health check, costs one rebuild) and updates the gauges at once.
  private readonly onHealth = (): void => {
    this.dirty = true;
    this.updateMembership();
  };
  /** Resolves once the first resolution finished (immediately for STATIC). */
  readonly initialized: Promise<void>;

  /** Parses and validates `c`; throws MeshError naming the field at fault. */
  constructor(c: Cluster, store: StatsStore, path: string, options: ClusterOptions) {
    if (typeof c.name !== 'string' || c.name === '')
      throw invalid(`${path}.name`, 'a cluster needs a name', c.name, 'a non-empty name');
    this.name = c.name;
    this.config = c;
    this.options = options;
    const type = c.type ?? 'STATIC';
    if (type !== 'STATIC' && type !== 'STRICT_DNS' && type !== 'LOGICAL_DNS')
      throw unsupported(`${path}.type`, `cluster type ${type}`, type);
    this.type = type;
    const policy = c.lb_policy ?? 'ROUND_ROBIN';
    if (!['ROUND_ROBIN', 'LEAST_REQUEST', 'RANDOM', 'RING_HASH', 'MAGLEV'].includes(policy))
      throw unsupported(`${path}.lb_policy`, `lb_policy ${policy}`, policy);
    this.lbPolicy = policy as LbPolicyName;
    this.connectTimeoutMs = duration(c.connect_timeout, 5000, `${path}.connect_timeout`);
    if (!(this.connectTimeoutMs > 0))
      throw invalid(
        `${path}.connect_timeout`,
        'connect_timeout must be above 0',
        c.connect_timeout,
        'a positive duration',
      );
    this.tls = parseTls(c, path, store);
    const proto = parseProtocol(c, path, this.tls !== undefined);
    this.protocol = proto.protocol;
    this.idleTimeoutMs = proto.idleTimeoutMs;
    this.maxRequestsPerConnection = proto.maxRequestsPerConnection;
    this.maxStreamDurationMs = proto.maxStreamDurationMs;
    this.maxConcurrentStreams = proto.maxConcurrentStreams;
    this.circuitBreakers = parseBreakers(c);
    this.tcpKeepaliveSeconds = c.upstream_connection_options?.tcp_keepalive?.keepalive_time;
    this.perConnectionBufferLimitBytes = c.per_connection_buffer_limit_bytes ?? 1024 * 1024;
    this.overprovisioningFactor = (c.load_assignment?.policy?.overprovisioning_factor ?? 140) / 100;
    this.panicThresholdPercent = c.common_lb_config?.healthy_panic_threshold?.value ?? 50;
    if (!(this.panicThresholdPercent >= 0 && this.panicThresholdPercent <= 100)) {
      throw invalid(
        `${path}.common_lb_config.healthy_panic_threshold.value`,
        `must be 0..100, got ${this.panicThresholdPercent}`,
        this.panicThresholdPercent,
        '0..100',
      );
    }
    this.dnsRefreshRateMs = duration(c.dns_refresh_rate, 5000, `${path}.dns_refresh_rate`);
    this.localityWeighted = c.common_lb_config?.locality_weighted_lb_config !== undefined;
    if (this.localityWeighted && (policy === 'RING_HASH' || policy === 'MAGLEV')) {
      // Envoy ignores locality weights for hash balancers; saying so beats a silent no-op.
      throw invalid(
        `${path}.common_lb_config.locality_weighted_lb_config`,
        `locality-weighted balancing does not apply to ${policy}`,
        policy,
        'ROUND_ROBIN, LEAST_REQUEST or RANDOM',
      );
    }
    this.dnsFamily = c.dns_lookup_family ?? 'AUTO';
    const table =
      c.maglev_lb_config?.table_size === undefined ? 65537 : parseInt64(c.maglev_lb_config.table_size, 65537);
    if (!isPrime(table) || table > 5_000_011) {
      throw invalid(
        `${path}.maglev_lb_config.table_size`,
        `table_size must be a prime up to 5000011, got ${table}`,
        c.maglev_lb_config?.table_size,
        'a prime such as 65537',
      );
    }
    const minRing = parseInt64(c.ring_hash_lb_config?.minimum_ring_size, 1024);
    const maxRing = parseInt64(c.ring_hash_lb_config?.maximum_ring_size, 8_388_608);
    if (!(minRing >= 1 && minRing <= maxRing && maxRing <= 8_388_608)) {
      throw invalid(
        `${path}.ring_hash_lb_config`,
        `ring sizes must satisfy 1 <= minimum (${minRing}) <= maximum (${maxRing}) <= 8388608`,
        c.ring_hash_lb_config,
        '1 <= minimum <= maximum <= 8388608',
      );
    }
    const choiceCount = c.least_request_lb_config?.choice_count ?? 2;
    if (!(Number.isInteger(choiceCount) && choiceCount >= 2))
      throw invalid(
        `${path}.least_request_lb_config.choice_count`,
        `choice_count must be 2 or more, got ${choiceCount}`,
        choiceCount,
        '>= 2',
      );
    this.settings = {
      choiceCount,
      minRingSize: minRing,
      maxRingSize: maxRing,
      maglevTableSize: table,
      random: options.random,
    };
    this.specs = parseEndpoints(c, path, type);
    if (type === 'LOGICAL_DNS' && this.specs.length !== 1) {
      throw invalid(
        `${path}.load_assignment`,
        `a LOGICAL_DNS cluster needs exactly one endpoint, got ${this.specs.length}`,
        this.specs.length,
        'one lb_endpoint',
      );
    }
    const statName = c.alt_stat_name !== undefined && c.alt_stat_name !== '' ? c.alt_stat_name : c.name;
    this.stats = new ClusterStats(store, statName);
    const cb = this.circuitBreakers;
    this.statName = statName;
    this.store = store;
    this.resources = {
      default: new ResourceManager(store, statName, 'default', cb.default, cb.trackRemaining.default),
      high: new ResourceManager(store, statName, 'high', cb.high, cb.trackRemaining.high),
    };
    if (type === 'STATIC') {
      this.setHosts(this.specs.map((s) => this.newHost(s, s.address)));
      this.initialized = Promise.resolve();
    } else {
      this.initialized = this.resolve();
    }
  }

  /**
   * Keeps the circuit breakers of this cluster's previous version (an xDS update that was accepted
   * whole), with this version's limits: the carried-over hosts' connection pools count against
   * them, so the limits keep holding across the update.
   */
  keepResources(previous: UpstreamCluster): void {
    const kept = previous.resources;
    const cb = this.circuitBreakers;
    if (
      kept.default.configure(this.store, this.statName, cb.default, cb.trackRemaining.default) &&
      kept.high.configure(this.store, this.statName, cb.high, cb.trackRemaining.high)
    ) {
      this.resources = kept;
    }
  }

  /** Every host, all priorities. */
  get hosts(): readonly Host[] {
    return this.hostList;
  }

  private newHost(s: EndpointSpec, address: string): Host {
    const key = endpointKey({ ...s, address });
    const previous = this.options.reuse?.get(key);
    if (previous !== undefined) {
      // Same endpoint as before the update: keep the object, so pools, stats and health survive.
      previous.adopt(this.onHealth, s.flags);
      return previous;
    }
    return new Host(
      {
        address,
        port: s.port,
        ...(s.pipe === undefined ? {} : { pipe: s.pipe }),
        weight: s.weight,
        priority: s.priority,
        locality: s.locality,
        localityWeight: s.localityWeight,
        hostname: s.hostname,
        healthCheckPort: s.healthCheckPort,
        flags: s.flags,
      },
      this.onHealth,
    );
  }

  private setHosts(hosts: Host[]): void {
    const before = this.hostList;
    const changed = before.length !== hosts.length || hosts.some((h, i) => h !== before[i]);
    this.hostList = hosts;
    this.dirty = true;
    if (changed && before.length > 0) this.stats.membership_change.inc();
    this.rebuild();
    if (changed) for (const listener of this.hostListeners) listener(hosts);
  }

  private readonly hostListeners: Array<(hosts: readonly Host[]) => void> = [];

  /**
   * Calls `listener` whenever the host set changes (DNS), so health checkers follow new hosts.
   * @returns a function that removes the listener
   */
  onHostsChanged(listener: (hosts: readonly Host[]) => void): () => void {
    this.hostListeners.push(listener);
    return () => {
      const i = this.hostListeners.indexOf(listener);
      if (i >= 0) this.hostListeners.splice(i, 1);
    };
  }

  /** Picks the address(es) DNS returned according to `dns_lookup_family`. */
  private pickFamily(results: ReadonlyArray<{ address: string; family: number }>): string[] {
    const v4 = results.filter((r) => r.family === 4).map((r) => r.address);
    const v6 = results.filter((r) => r.family === 6).map((r) => r.address);
    switch (this.dnsFamily) {
      case 'V4_ONLY':
        return v4;
      case 'V6_ONLY':
        return v6;
      case 'V4_PREFERRED':
        return v4.length > 0 ? v4 : v6;
      case 'ALL':
        return [...v4, ...v6];
      default: // AUTO: Envoy prefers IPv6 and falls back to IPv4
        return v6.length > 0 ? v6 : v4;
    }
  }

  /** One DNS round for every endpoint; keeps the old hosts on failure, like Envoy. */
  private async resolve(): Promise<void> {
    this.stats.update_attempt.inc();
    try {
      let timer: NodeJS.Timeout | undefined;
      // A resolver that never answers must not hold start-up (cluster warming) forever: like
      // c-ares' timeout in Envoy, a round that takes too long counts as a failure.
      const deadline = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('DNS resolution timed out')), this.options.dnsTimeoutMs);
        timer.unref();
      });
      const results = await Promise.race([
        Promise.all(
          this.specs.map((s) =>
            net.isIP(s.address) !== 0
              ? Promise.resolve([{ address: s.address, family: net.isIP(s.address) }])
              : this.options.lookup(s.address),
          ),
        ),
        deadline,
      ]).finally(() => clearTimeout(timer));
      if (this.closed) return;
      const existing = new Map(this.hostList.map((h) => [`${h.address}|${h.port}|${h.priority}`, h]));
      const next: Host[] = [];
      this.specs.forEach((s, i) => {
        const addresses = this.pickFamily(results[i] ?? []);
        if (this.type === 'LOGICAL_DNS') {
          const first = addresses[0];
          if (first === undefined) return;
          // One logical host whose address follows DNS: new connections use the newest answer.
          const current = this.hostList[0];
          if (current !== undefined) {
            current.address = first;
            next.push(current);
          } else {
            next.push(this.newHost(s, first));
          }
          return;
        }
        for (const address of addresses) {
          const key = `${address}|${s.port}|${s.priority}`;
          next.push(existing.get(key) ?? this.newHost(s, address));
          existing.delete(key);
        }
      });
      if (next.length === 0) this.stats.update_empty.inc();
      this.setHosts(next);
      this.stats.update_success.inc();
    } catch {
      if (this.closed) return;
      this.stats.update_failure.inc();
    } finally {
      if (!this.closed) {
        this.timer = setTimeout(() => void this.resolve(), this.dnsRefreshRateMs);
        this.timer.unref();
      }
    }
  }

  /** Recomputes levels, loads and membership gauges after hosts or health changed. */
  private rebuild(): void {
    this.dirty = false;
    const byPriority: Host[][] = [];
    for (const h of this.hostList) {
      let list = byPriority[h.priority];
      if (list === undefined) {
        list = [];
        byPriority[h.priority] = list;
      }
      list.push(h);
    }
    const levels: Level[] = [];
    const health: number[] = [];
    const degradedHealth: number[] = [];
    for (const all of byPriority) {
      if (all === undefined) continue;
      const healthy = all.filter((h) => h.healthy && !h.degraded);
      const degraded = all.filter((h) => h.degraded);
      levels.push({
        all,
        healthy,
        picker: this.localityWeighted
          ? buildLocalityPicker(this.lbPolicy, all, healthy, this.overprovisioningFactor, this.settings)
          : buildPicker(this.lbPolicy, healthy, this.settings),
        degradedPicker: buildPicker(this.lbPolicy, degraded, this.settings),
        panicPicker: undefined,
        // Envoy's panic test counts degraded hosts as available, without overprovisioning.
        panic: ((healthy.length + degraded.length) / all.length) * 100 < this.panicThresholdPercent,
      });
      health.push(Math.min(100, (healthy.length / all.length) * 100 * this.overprovisioningFactor));
      degradedHealth.push(Math.min(100, (degraded.length / all.length) * 100 * this.overprovisioningFactor));
    }
    // Envoy's priority load: healthy hosts of each level first, in priority order, then degraded
    // hosts with what is left, both scaled by the normalized total availability.
    const n = levels.length;
    const loads = new Float64Array(2 * n);
    const total = Math.min(
      100,
      [...health, ...degradedHealth].reduce((a, b) => a + b, 0),
    );
    if (total === 0) {
      // Nothing available anywhere: all load to the first level (which is then in panic).
      if (n > 0) loads[0] = 100;
    } else {
      let remaining = 100;
      [...health, ...degradedHealth].forEach((pct, i) => {
        const load = Math.min(remaining, (pct * 100) / total);
        loads[i] = load;
        remaining -= load;
      });
    }
    const cumulative = new Float64Array(2 * n);
    let acc = 0;
    let last = -1;
    loads.forEach((l, i) => {
      acc += l;
      cumulative[i] = acc;
      if (l > 0) last = i;
    });
    // Floating-point leftovers go to the last entry that has load, so every point in [0, 100) lands.
    for (let i = last; i >= 0 && i < cumulative.length; i++) cumulative[i] = 100;
    this.levels = levels;
    this.cumulativeLoad = cumulative;
    this.updateMembership();
  }

  /** `membership_*` and `max_host_weight` gauges from the current hosts. */
  private updateMembership(): void {
    let healthy = 0;
    let degraded = 0;
    let maxWeight = 0;
    for (const h of this.hostList) {
      if (h.degraded) degraded++;
      else if (h.healthy) healthy++;
      if (h.weight > maxWeight) maxWeight = h.weight;
    }
    this.stats.membership_total.set(this.hostList.length);
    this.stats.membership_healthy.set(healthy);
    this.stats.membership_degraded.set(degraded);
    this.stats.max_host_weight.set(maxWeight);
  }

  /** Share of traffic (0..100) each priority level gets now (healthy plus degraded), in level order. */
  priorityLoads(): number[] {
    if (this.dirty) this.rebuild();
    const c = this.cumulativeLoad;
    const n = this.levels.length;
    const at = (i: number): number => (c[i] as number) - (i === 0 ? 0 : (c[i - 1] as number));
    return Array.from({ length: n }, (_, i) => at(i) + at(n + i));
  }

  private pickOnce(hashKey: number | undefined): Host | undefined {
    const levels = this.levels;
    const n = levels.length;
    if (n === 0) return undefined;
    // A hash key picks the level deterministically too, so hashing stays sticky across levels.
    const point = hashKey === undefined ? this.options.random() * 100 : (hashKey % 10000) / 100;
    const c = this.cumulativeLoad;
    let slot = 0;
    while (slot < c.length - 1 && !(point < (c[slot] as number))) slot++;
    const level = levels[slot % n] as Level;
    if (level.panic) {
      this.stats.lb_healthy_panic.inc();
      level.panicPicker ??= buildPicker(this.lbPolicy, level.all, this.settings);
      return level.panicPicker.pick(hashKey);
    }
    return slot >= n ? level.degradedPicker.pick(hashKey) : level.picker.pick(hashKey);
  }

  /**
   * Picks an upstream host for a request. `excluded` (hosts already tried by a retry) is avoided
   * by re-picking a few times; if every attempt lands on an excluded host, the last pick is used,
   * as Envoy does after `host_selection_retry_max_attempts`.
   */
  chooseHost(ctx: {
    hashKey?: number | bigint;
    excluded?: Set<Host>;
    /** Issue 6: re-picks allowed to avoid `excluded` (host_selection_retry_max_attempts). @default 3 */
    selectionRetries?: number;
  }): Host | undefined {
    if (this.dirty) this.rebuild();
    const key = typeof ctx.hashKey === 'bigint' ? Number(ctx.hashKey >> 11n) : ctx.hashKey;
    let host = this.pickOnce(key);
    const excluded = ctx.excluded;
    if (host === undefined) {
      this.stats.upstream_cx_none_healthy.inc();
      return undefined;
    }
    if (excluded !== undefined && excluded.size > 0) {
      const retries = ctx.selectionRetries ?? 3;
      for (let attempt = 0; attempt < retries && excluded.has(host); attempt++) {
        // A hash key would pick the same host again; re-pick randomly instead.
        host = this.pickOnce(undefined) ?? host;
      }
    }
    return host;
  }

  /** Stops DNS refresh. */
  close(): void {
    this.closed = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
  }
}

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}
