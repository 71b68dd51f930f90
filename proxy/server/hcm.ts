/**
 * The HTTP connection manager and router filter: per request it sets Envoy's forwarding headers,
 * selects a route, picks a host, forwards the request over a pooled upstream connection (HTTP/1.1
 * or HTTP/2) and relays the response, recording stats and one access-log entry.
 *
 * Everything a request touches on the hot path is resolved when the listener is built: stat
 * handles, per-cluster stat bundles (cached by cluster name), the route table. Errors become
 * Envoy's local replies (404 NR, 503 UF/UH/NC/UO, 504 UT), with gRPC requests answered in gRPC's
 * trailers-only form, and the connection survives.
 *
 * Issue 6 seam: retries, circuit breaking beyond pool limits, outlier detection and fault
 * injection plug in around {@link ActiveStream.startUpstream} (route.retryPolicy is available there).
 */
import { ResponseFlag, type ResponseFlagName } from '../accesslog/flags.js';
import type { FormatContext } from '../accesslog/substitution.js';
// proxy-dynamic: request_mirror_policies.
import { RequestMirror } from '../filters/mirror.js';
import { openConnection } from '../http/connect.js';
import { guarded, reportInternalError } from '../http/guard.js';
import { getHeader, type HeaderList, removeHeader, setHeader } from '../http/headers.js';
import { epochNow, monoNow } from '../http/read-scope.js';
import { requestId } from '../http/request-id.js';
import type {
  BodyFlow,
  RequestHead,
  ResponseSink,
  UpstreamCallbacks,
  UpstreamRequest,
} from '../http/stream.js';
import { isInternalAddress, RetryState, timeoutOverrides } from '../resilience/retry-state.js';
import { type AttemptDriver, RetryingUpstream } from '../resilience/retrying-upstream.js';
import { grpcStreamLimitMs } from '../router/grpc-timeout.js';
import type { CompiledRoute, HashKeyOutput, RouteRequest, RouteResult, RouteTable } from '../router/index.js';
import { type ClusterStats, HttpConnectionManagerStats } from '../stats/scopes.js';
import type { StatsStore } from '../stats/store.js';
import type { EngineCluster, EngineClusterManager, EngineHost } from './contracts.js';
import { connectTarget, type PoolRegistry, type ResolvedPool } from './pools.js';
import type { Expirable, Sweeper } from './sweeper.js';
import type {
  ConnectionInfo,
  HttpStreamFactory,
  RequestFilter,
  RequestFilterCallbacks,
  RequestFilterInput,
  RequestFilterReply,
  RequestMeta,
  StreamHandle,
  UpgradeSink,
} from './types.js';

/** Receives finished requests (the compiled access logs), one Envoy format context each. */
export interface RequestLogger {
  log(entry: FormatContext): void;
  /** Flushes buffered lines and closes files (on shutdown). */
  close(): Promise<void>;
}

/** Settings from the HttpConnectionManager config, in plain form. */
export interface HcmSettings {
  readonly statPrefix: string;
  /** `server` header value. */
  readonly serverName: string;
  readonly serverHeaderTransformation: 'OVERWRITE' | 'APPEND_IF_ABSENT' | 'PASS_THROUGH';
  readonly useRemoteAddress: boolean;
  readonly generateRequestId: boolean;
  readonly preserveExternalRequestId: boolean;
  /** Upgrade types allowed (lowercase), e.g. `websocket`. */
  readonly upgrades: ReadonlySet<string>;
  /** Per-stream idle timeout (ms, 0 = none): Envoy's stream_idle_timeout, default 5 minutes. */
  readonly streamIdleTimeoutMs: number;
  /** Whole-request timeout (ms, 0 = none): Envoy's request_timeout (answers 408). */
  readonly requestTimeoutMs: number;
  /** Trusted proxies in front of us (Envoy's xff_num_trusted_hops). */
  readonly xffNumTrustedHops: number;
  /**
   * proxy-mtls: x-forwarded-client-cert handling (proxy/tls/xfcc.ts). @default - the header is left
   * as it came (the listener always sets Envoy's default, SANITIZE)
   */
  readonly forwardClientCert?: (headers: HeaderList, connection: object) => void;
  /**
   * Issue 6: request body bytes kept so a retry can replay them (Envoy: the listener's
   * per_connection_buffer_limit_bytes). @default - 1 MiB
   */
  readonly requestBufferLimitBytes?: number;
  /** Issue 6: common_http_protocol_options.max_stream_duration in ms (0 or unset: none). */
  readonly maxStreamDurationMs?: number;
}

const EMPTY = Buffer.alloc(0);
/** Reused per request: hashKey only writes `setCookie` into it (single-threaded, never kept). */
const HASH_OUT: HashKeyOutput = {};
/** Issue 6: Envoy marks circuit-breaker overflow replies with `x-envoy-overloaded: true`. */
const OVERLOADED: readonly string[] = ['x-envoy-overloaded', 'true'];
/** True when a header name starts with `x-envoy-` (a client's timeout/retry control header). */
function hasEnvoyControlHeader(headers: HeaderList): boolean {
  for (let i = 0; i < headers.length; i += 2) if ((headers[i] as string).startsWith('x-envoy-')) return true;
  return false;
}

/** Response headers/trailers before any arrive: shared, so frozen (two arrays less per request). */
const NO_HEADERS = Object.freeze([]) as unknown as HeaderList;
/** chooseHost's context when there is no hash key (never mutated). */
const NO_HASH: { hashKey?: number } = {};

let lastTimeoutMs = -1;
let lastTimeoutText = '';
/** `String(ms)` of the last timeout asked for: routes mostly share one (Envoy's 15 s default). */
function timeoutText(ms: number): string {
  if (ms !== lastTimeoutMs) {
    lastTimeoutMs = ms;
    lastTimeoutText = String(ms);
  }
  return lastTimeoutText;
}

/** Route timeouts from this length up use the sweeper instead of a timer per request. */
const COARSE_TIMEOUT_MS = 1000;

let cachedDate = '';
let cachedDateSecond = 0;
/** RFC 9110 IMF-fixdate, refreshed at most once a second. */
function httpDate(): string {
  const now = epochNow();
  const second = Math.floor(now / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
}

/**
 * The client address Envoy trusts when `use_remote_address` is false: the address
 * `xff_num_trusted_hops` entries from the right of x-forwarded-for (the last one by default), or
 * the peer address when there is no such entry.
 */
function trustedClientAddress(headers: HeaderList, trustedHops: number, peer: string): string {
  const xff = getHeader(headers, 'x-forwarded-for');
  if (xff === undefined) return peer;
  const parts = xff.split(',');
  const entry = parts[parts.length - 1 - trustedHops];
  return entry === undefined ? peer : entry.trim();
}

const HOST_LABELS = new WeakMap<EngineHost, string>();
/** `ip:port` of a host, built once per host rather than per request. */
function hostLabel(host: EngineHost): string {
  let label = HOST_LABELS.get(host);
  if (label === undefined) {
    label = host.pipe ?? `${host.address}:${host.port}`;
    HOST_LABELS.set(host, label);
  }
  return label;
}

/** Maps an HTTP status to the gRPC status Envoy puts in a local reply to a gRPC request. */
export function httpToGrpcStatus(status: number): number {
  switch (status) {
    case 400:
      return 13;
    case 401:
      return 16;
    case 403:
      return 7;
    case 404:
      return 12;
    case 429:
    case 502:
    case 503:
    case 504:
      return 14;
    default:
      return 2;
  }
}

/** gRPC DEADLINE_EXCEEDED: Envoy's grpc-status for a stream past its max duration. */
const GRPC_DEADLINE_EXCEEDED = 4;

/** setTimeout's largest delay (a longer one fires at once). */
const MAX_TIMER_MS = 2_147_483_647;

/** The HTTP connection manager of one listener filter chain. */
export class HttpConnectionManager implements HttpStreamFactory {
  /** `http.<stat_prefix>.*`. */
  readonly stats: HttpConnectionManagerStats;

  constructor(
    readonly settings: HcmSettings,
    readonly routes: RouteTable,
    readonly clusters: EngineClusterManager,
    readonly pools: PoolRegistry,
    store: StatsStore,
    readonly logger: RequestLogger | undefined,
    readonly sweeper: Sweeper,
    /** HTTP filters before the router, in config order (issue 6). */
    readonly filters: readonly RequestFilter[] = [],
  ) {
    this.stats = new HttpConnectionManagerStats(store, settings.statPrefix);
  }

  newStream(
    head: RequestHead,
    meta: RequestMeta,
    sink: ResponseSink & Partial<UpgradeSink>,
    flow: BodyFlow,
    conn: ConnectionInfo,
  ): StreamHandle {
    const stream = new ActiveStream(this, head, meta, sink, flow, conn);
    // Inline try/catch rather than guarded(): no two closures per request.
    try {
      stream.start();
    } catch (error) {
      reportInternalError('request pipeline', error);
      try {
        stream.internalError();
      } catch {
        // Best effort, as guarded() does.
      }
    }
    return stream;
  }

  onCodecError(status: number, detail: string, conn: ConnectionInfo, protocol: string): void {
    if (status === 408) this.stats.downstream_rq_header_timeout.inc();
    else this.stats.downstream_cx_protocol_error.inc();
    this.stats.recordResponse(status);
    this.logger?.log({
      startTimeMs: epochNow(),
      protocol,
      responseCode: status,
      responseFlags: status === 408 ? 0 : ResponseFlag.DownstreamProtocolError,
      responseCodeDetails: `codec_error:${detail.replaceAll(' ', '_')}`,
      bytesReceived: 0,
      bytesSent: 0,
      durationMs: 0,
      downstreamRemoteAddress: conn.remote,
      downstreamDirectRemoteAddress: conn.remote,
      downstreamLocalAddress: conn.local,
      ...(conn.sni === undefined ? {} : { requestedServerName: conn.sni }),
    });
  }

  onConnectionOpen(protocol: 'http1' | 'http2', tls: boolean): void {
    const s = this.stats;
    s.downstream_cx_total.inc();
    s.downstream_cx_active.inc();
    if (tls) {
      s.downstream_cx_ssl_total.inc();
      s.downstream_cx_ssl_active.inc();
    }
    if (protocol === 'http1') {
      s.downstream_cx_http1_total.inc();
      s.downstream_cx_http1_active.inc();
    } else {
      s.downstream_cx_http2_total.inc();
      s.downstream_cx_http2_active.inc();
    }
  }

  onConnectionClose(
    protocol: 'http1' | 'http2',
    tls: boolean,
    rx: number,
    tx: number,
    lengthMs: number,
  ): void {
    const s = this.stats;
    s.downstream_cx_active.dec();
    s.downstream_cx_destroy.inc();
    if (tls) s.downstream_cx_ssl_active.dec();
    s.downstream_cx_rx_bytes_total.add(rx);
    s.downstream_cx_tx_bytes_total.add(tx);
    s.downstream_cx_length_ms.record(lengthMs);
    (protocol === 'http1' ? s.downstream_cx_http1_active : s.downstream_cx_http2_active).dec();
  }
}

/** One request through the pipeline. */
class ActiveStream implements StreamHandle, UpstreamCallbacks, Expirable, AttemptDriver<EngineHost> {
  /** Sweeper deadline: stream idle or whole-request timeout, whichever comes first. */
  deadline = 0;
  /** The sweeper's slot (see Sweeper). */
  sweepSlot = -1;
  private requestDeadline = 0;
  private routeDeadline = 0;
  private swept = false;
  private readonly startMs = monoNow();
  private readonly startEpoch = epochNow();
  private upstream: UpstreamRequest | undefined;
  private upstreamStart = 0;
  private cluster: EngineCluster | undefined;
  private clusterStats: ClusterStats | undefined;
  private host: EngineHost | undefined;
  private route: CompiledRoute | undefined;
  private flags = 0;
  private setCookie: string | undefined;
  private firstByteMs = 0;
  private requestEndMs = 0;
  private details = 'via_upstream';
  private status = 0;
  private responseHeaders: HeaderList = NO_HEADERS;
  private responseTrailers: HeaderList = NO_HEADERS;
  private bytesReceived = 0;
  private done = false;
  private requestEnded = false;
  private timer: NodeJS.Timeout | undefined;
  private readonly grpc: boolean;
  private readonly originalPath: string;

  constructor(
    private readonly hcm: HttpConnectionManager,
    private readonly head: RequestHead,
    private readonly meta: RequestMeta,
    private readonly sink: ResponseSink & Partial<UpgradeSink>,
    private readonly flow: BodyFlow,
    private readonly conn: ConnectionInfo,
  ) {
    this.originalPath = head.path;
    const ct = getHeader(head.headers, 'content-type');
    this.grpc = ct?.startsWith('application/grpc') === true;
  }

  start(): void {
    const hcm = this.hcm;
    const st = hcm.stats;
    st.downstream_rq_total.inc();
    st.downstream_rq_active.inc();
    (this.meta.protocol === 'HTTP/2' ? st.downstream_rq_http2_total : st.downstream_rq_http1_total).inc();
    const s = hcm.settings;
    const headers = this.head.headers;
    if (s.streamIdleTimeoutMs > 0 || s.requestTimeoutMs > 0) {
      if (s.requestTimeoutMs > 0) this.requestDeadline = epochNow() + s.requestTimeoutMs;
      this.touch();
      this.swept = true;
      hcm.sweeper.add(this);
    }
    // proxy-mtls: x-forwarded-client-cert before anything reads or forwards it.
    s.forwardClientCert?.(headers, this.conn);
    // Forwarding headers as Envoy sets them (HCM docs, "HTTP header manipulation").
    if (s.useRemoteAddress) {
      const xff = getHeader(headers, 'x-forwarded-for');
      // Envoy appends only IP addresses: a Unix socket peer adds nothing.
      if (this.conn.pipe !== true)
        setHeader(
          headers,
          'x-forwarded-for',
          xff === undefined ? this.conn.remoteAddress : `${xff},${this.conn.remoteAddress}`,
        );
      setHeader(headers, 'x-forwarded-proto', this.conn.tls ? 'https' : 'http');
    } else if (getHeader(headers, 'x-forwarded-proto') === undefined) {
      headers.push('x-forwarded-proto', this.conn.tls ? 'https' : 'http');
    }
    if (s.generateRequestId) {
      if (getHeader(headers, 'x-request-id') === undefined) headers.push('x-request-id', requestId());
      else if (s.useRemoteAddress && !s.preserveExternalRequestId)
        setHeader(headers, 'x-request-id', requestId());
    }
    const request: RouteRequest = {
      authority: this.head.authority,
      path: this.head.path,
      method: this.head.method,
      scheme: this.head.scheme,
      headers,
      sourceAddress: s.useRemoteAddress
        ? this.conn.remoteAddress
        : trustedClientAddress(headers, s.xffNumTrustedHops, this.conn.remoteAddress),
    };
    const result = hcm.routes.route(request);
    if (hcm.filters.length > 0) {
      this.runFilters(0, result, request);
      return;
    }
    this.act(result, request);
  }

  /** Runs the HTTP filters from `index`; the last one that continues hands over to {@link act}. */
  private runFilters(index: number, result: RouteResult, request: RouteRequest): void {
    const filters = this.hcm.filters;
    const input: RequestFilterInput & {
      readonly request: RouteRequest;
      readonly route: CompiledRoute | undefined;
    } = {
      headers: this.head.headers,
      grpc: this.grpc,
      connection: this.conn,
      clusterName: result.kind === 'cluster' ? result.clusterName : undefined,
      // Issue 6: per-route filter configs (local_ratelimit, fault) of the matched route.
      perFilterConfig: result.kind === 'none' ? undefined : result.route.typedPerFilterConfig,
      // proxy-mtls: RBAC matches :method/:path/:authority and remote_ip (proxy/filters/rbac.ts).
      request,
      // Issue 6: the local rate limit filter reads the route's rate_limits (descriptors).
      route: result.kind === 'cluster' ? result.route : undefined,
    };
    for (let i = index; i < filters.length; i++) {
      const filter = filters[i] as RequestFilter;
      const callbacks = new FilterCallbacksImpl(this, i + 1, result, request);
      if (filter.onRequest(input, callbacks) === 'stop' || this.done) return;
    }
    this.act(result, request);
  }

  // ---- what a filter's callbacks ask of the stream (see FilterCallbacksImpl) ----

  /** @internal True once the request has finished. */
  get isDone(): boolean {
    return this.done;
  }

  /** @internal A filter that stopped lets the request go on from filter `next`. */
  resumeFilters(next: number, result: RouteResult, request: RouteRequest): void {
    guarded(
      'http filter resume',
      () => this.runFilters(next, result, request),
      () => this.internalError(),
    );
  }

  /** @internal A filter answers locally (ignored once the request finished). */
  filterReplyIfActive(r: RequestFilterReply): void {
    if (this.done) return;
    this.filterReply(r);
  }

  /** @internal Headers a filter adds to whatever response goes back. */
  addExtraResponseHeaders(h: HeaderList): void {
    if (this.extraResponseHeaders === undefined) this.extraResponseHeaders = [];
    this.extraResponseHeaders.push(...h);
  }

  /** @internal Runs `fn` once when the request ends. */
  addDoneHook(fn: () => void): void {
    if (this.doneHooks === undefined) this.doneHooks = [];
    this.doneHooks.push(fn);
  }

  /** @internal A filter timer, cleared when the request ends first. */
  addFilterTimer(fn: () => void, ms: number): void {
    const t = setTimeout(() => {
      if (!this.done) guarded('http filter timer', fn, () => this.internalError());
    }, ms);
    if (this.filterTimers === undefined) this.filterTimers = [];
    this.filterTimers.push(t);
  }

  private extraResponseHeaders: HeaderList | undefined;
  private doneHooks: (() => void)[] | undefined;
  private filterTimers: NodeJS.Timeout[] | undefined;

  /** A filter's local reply (rate limited, fault abort). */
  private filterReply(r: RequestFilterReply): void {
    if (r.flag !== undefined) this.addFlag(r.flag);
    if (this.grpc) {
      const headers: HeaderList = [
        ...r.headers,
        'content-type',
        'application/grpc',
        'grpc-status',
        String(r.grpcStatus ?? httpToGrpcStatus(r.status)),
      ];
      if (r.body.length > 0) headers.push('grpc-message', encodeURIComponent(r.body));
      this.sendResponse(200, headers, EMPTY, r.details, r.status);
      return;
    }
    const headers: HeaderList = [...r.headers];
    if (r.body.length > 0) headers.push('content-type', 'text/plain');
    this.sendResponse(r.status, headers, r.body.length === 0 ? EMPTY : Buffer.from(r.body), r.details);
  }

  /** Carries out the route decision (after the filters let the request through). */
  private act(result: RouteResult, request: RouteRequest): void {
    const hcm = this.hcm;
    const st = hcm.stats;
    const s = hcm.settings;
    const upgrade = this.meta.upgrade;
    if (
      upgrade === 'connect' &&
      !(
        (result.kind === 'none' ? undefined : result.route.upgradeEnabled(upgrade)) ?? s.upgrades.has(upgrade)
      )
    ) {
      // Envoy refuses a CONNECT that neither the route nor the connection manager enables with 403
      // (before looking for a route); the HTTP/1 connection then closes (see the parser).
      st.downstream_rq_ws_on_non_ws_route.inc();
      this.localReply(403, '', 'upgrade_failed', undefined);
      return;
    }
    switch (result.kind) {
      case 'none':
        st.no_route.inc();
        this.localReply(404, '', 'route_not_found', 'NoRouteFound');
        return;
      case 'direct': {
        st.rq_direct_response.inc();
        this.route = result.route;
        const body = result.body ?? EMPTY;
        const out = result.headers;
        if (body.length > 0 && getHeader(out, 'content-type') === undefined)
          out.push('content-type', 'text/plain');
        if (result.route.hasResponseMutations) result.route.applyResponseHeaders(out, this.formatContext());
        this.sendResponse(result.status, out, body, 'direct_response');
        return;
      }
      case 'redirect': {
        st.rq_redirect.inc();
        this.route = result.route;
        const out: HeaderList = ['location', result.location];
        if (result.route.hasResponseMutations) result.route.applyResponseHeaders(out, this.formatContext());
        this.sendResponse(result.status, out, EMPTY, 'direct_response');
        return;
      }
      case 'cluster': {
        this.route = result.route;
        if (upgrade !== undefined && !(result.route.upgradeEnabled(upgrade) ?? s.upgrades.has(upgrade))) {
          // Envoy answers 403 to an upgrade neither the route nor the connection manager enables.
          st.downstream_rq_ws_on_non_ws_route.inc();
          this.localReply(403, '', 'upgrade_failed', undefined);
          return;
        }
        if (upgrade === 'connect') {
          // Only terminating routes take CONNECT (route-table refuses connect routes without
          // connect_config at start-up); the connection manager alone cannot admit one further.
          if (!result.route.connectTerminate) {
            this.localReply(403, '', 'upgrade_failed', undefined);
            return;
          }
          this.startConnect(result.clusterName, result.route);
          return;
        }
        this.startUpstream(result.clusterName, result.route, request);
        return;
      }
    }
  }

  /** The routed cluster, counted and kept for the stream; a 404-style local reply when it is unknown. */
  private useCluster(clusterName: string, route: CompiledRoute): EngineCluster | undefined {
    const hcm = this.hcm;
    const cluster = hcm.clusters.get(clusterName);
    if (cluster === undefined) {
      hcm.stats.no_cluster.inc();
      this.localReply(route.clusterNotFoundStatus, '', 'cluster_not_found', 'NoClusterFound');
      return undefined;
    }
    this.cluster = cluster;
    this.clusterStats = cluster.stats;
    hcm.stats.rq_total.inc();
    return cluster;
  }

  /** A host of `cluster` for the stream; 503 `no healthy upstream` (UH) when there is none. */
  private useHost(
    cluster: EngineCluster,
    context: Parameters<EngineCluster['chooseHost']>[0],
  ): EngineHost | undefined {
    const host = cluster.chooseHost(context);
    if (host === undefined) {
      cluster.stats.upstream_cx_none_healthy.inc();
      this.localReply(503, 'no healthy upstream', 'no_healthy_upstream', 'NoHealthyUpstream');
      return undefined;
    }
    this.host = host;
    this.pickedHost = host;
    return host;
  }

  /**
   * CONNECT termination (route `upgrade_configs: [{upgrade_type: CONNECT, connect_config: {}}]`):
   * opens a TCP (or the cluster's TLS) connection to a host of the cluster, then answers 200 and
   * splices the downstream stream with it, as Envoy does. A failed connect is a 503 UF.
   */
  private startConnect(clusterName: string, route: CompiledRoute): void {
    const cluster = this.useCluster(clusterName, route);
    if (cluster === undefined) return;
    const cs = cluster.stats;
    const host = this.useHost(cluster, NO_HASH);
    if (host === undefined) return;
    this.accountAttempt(cs, host);
    openConnection(connectTarget(cluster, host), (error, socket) => {
      if (error !== undefined || socket === undefined) {
        cs.upstream_cx_connect_fail.inc();
        if (error === 'timeout') cs.upstream_cx_connect_timeout.inc();
        this.onReset(error === 'timeout' ? 'connection timeout' : 'connection failure', true);
        return;
      }
      if (this.done || this.sink.connect === undefined) {
        socket.destroy();
        return;
      }
      cs.upstream_cx_total.inc();
      cs.upstream_cx_active.inc();
      socket.once('close', () => cs.upstream_cx_active.dec());
      guarded(
        'connect tunnel',
        () => this.connected(socket),
        () => socket.destroy(),
      );
    });
  }

  /** The CONNECT tunnel's upstream is up: 200 downstream, then bytes both ways. */
  private connected(socket: import('node:net').Socket): void {
    this.status = 200;
    this.firstByteMs = monoNow();
    (this.clusterStats as ClusterStats).recordResponse(200);
    const headers: HeaderList = [];
    const route = this.route;
    if (route?.hasResponseMutations === true) route.applyResponseHeaders(headers, this.formatContext());
    this.decorate(headers);
    this.responseHeaders = headers;
    const st = this.hcm.stats;
    st.downstream_cx_upgrades_total.inc();
    st.downstream_cx_upgrades_active.inc();
    socket.once('close', () => st.downstream_cx_upgrades_active.dec());
    (this.sink.connect as UpgradeSink['connect'])(headers, socket);
    this.complete(undefined);
  }

  private startUpstream(clusterName: string, route: CompiledRoute, request: RouteRequest): void {
    const hcm = this.hcm;
    const cluster = this.useCluster(clusterName, route);
    if (cluster === undefined) return;
    const cs = cluster.stats;
    const limits = route.priority === 'HIGH' ? cluster.circuitBreakers.high : cluster.circuitBreakers.default;
    // Issue 6: the priority's request resource when the cluster has one (exact per priority, and
    // keeps Envoy's circuit_breakers.<priority>.rq_open / remaining_rq gauges current).
    const resources = cluster.resources;
    const requests =
      resources === undefined
        ? undefined
        : (route.priority === 'HIGH' ? resources.high : resources.default).requests;
    if (requests !== undefined ? !requests.canCreate() : cs.upstream_rq_active.value >= limits.maxRequests) {
      // Envoy's max_requests circuit breaker: fail fast instead of queueing.
      cs.upstream_rq_pending_overflow.inc();
      this.onReset('overflow', true);
      return;
    }
    this.requestResource = requests;
    HASH_OUT.setCookie = undefined;
    const hashKey = route.hashKey(request, HASH_OUT);
    if (HASH_OUT.setCookie !== undefined) this.setCookie = HASH_OUT.setCookie;
    const host = this.useHost(cluster, hashKey === undefined ? NO_HASH : { hashKey });
    if (host === undefined) return;
    const headers = this.head.headers;
    if (route.hasRequestMutations) route.applyRequestHeaders(headers, this.formatContext());
    const path = route.hasPathRewrite ? route.rewritePath(this.head.path) : this.head.path;
    if (path !== this.head.path) {
      headers.push('x-envoy-original-path', this.head.path);
    }
    let authority = this.head.authority;
    if (route.hostRewrite !== undefined) authority = route.hostRewrite;
    else if (route.hostRewriteHeader !== undefined) {
      authority = getHeader(headers, route.hostRewriteHeader) ?? authority;
    } else if (route.autoHostRewrite && host.hostname !== undefined && host.hostname !== '') {
      authority = host.hostname;
    }
    if (authority !== this.head.authority) headers.push('x-forwarded-host', this.head.authority);
    // Issue 6: x-envoy-* control headers (timeouts, retries) count only from trusted clients.
    const s = hcm.settings;
    const trusted = !s.useRemoteAddress || isInternalAddress(this.conn.remoteAddress);
    // One scan for client x-envoy-* control headers (before ours is added below): without any,
    // the timeout and retry header parsers have nothing to find and are skipped.
    const control = trusted && hasEnvoyControlHeader(headers);
    const overrides = control ? timeoutOverrides(headers) : undefined;
    const timeoutMs = overrides?.routeMs ?? route.timeoutMs;
    if (timeoutMs > 0) {
      setHeader(headers, 'x-envoy-expected-rq-timeout-ms', timeoutText(timeoutMs));
      if (timeoutMs < COARSE_TIMEOUT_MS) {
        this.timer = setTimeout(() => this.onTimeout(), timeoutMs);
      } else {
        // Long timeouts (Envoy's default is 15 s) ride on the sweeper: no timer per request, at the
        // price of firing up to one sweep tick (250 ms) late.
        this.routeDeadline = epochNow() + timeoutMs;
        this.touch();
        if (!this.swept) {
          this.swept = true;
          hcm.sweeper.add(this);
        }
      }
    }
    // Issue 6: max_stream_duration: the route's (else the connection manager's) bounds the whole
    // stream from its start (DT); the cluster's bounds the upstream request (UMSDR).
    // With grpc_timeout_header_max, a request's grpc-timeout header is its limit instead (capped,
    // less the offset; an offset that eats it all expires the stream at once).
    const grpcLimit =
      route.grpcTimeoutHeader === undefined
        ? undefined
        : grpcStreamLimitMs(route.grpcTimeoutHeader, getHeader(headers, 'grpc-timeout'));
    const downstreamMax = grpcLimit ?? route.maxStreamDurationMs ?? s.maxStreamDurationMs ?? 0;
    const downLeft =
      downstreamMax > 0 || grpcLimit === 0
        ? Math.min(MAX_TIMER_MS, Math.max(1, downstreamMax - (monoNow() - this.startMs)))
        : 0;
    const upstreamMax = cluster.maxStreamDurationMs ?? 0;
    if (downLeft > 0 || upstreamMax > 0) {
      const upstreamFirst = upstreamMax > 0 && (downLeft === 0 || upstreamMax < downLeft);
      this.maxDurationTimer = setTimeout(
        () => this.onMaxStreamDuration(upstreamFirst),
        upstreamFirst ? upstreamMax : downLeft,
      );
    }
    // proxy-dynamic: request_mirror_policies; the copies (proxy/filters/mirror.ts) go out once the
    // request is whole and never affect this one.
    if (route.mirrorPolicies.length > 0 && this.meta.upgrade === undefined) {
      this.startMirror(route, path, authority, timeoutMs);
    }
    if (this.meta.expectContinue) {
      // Envoy answers 100 Continue itself and does not forward Expect (proxy_100_continue off).
      removeHeader(headers, 'expect');
      this.sink.sendContinue();
    }
    // Issue 6: retries, per-try timeouts and outlier reports run in proxy/resilience's retry loop.
    const retry = RetryState.create(route.retryPolicy, headers, control);
    const perTryMs = overrides?.perTryMs ?? retry?.perTryTimeoutMs ?? 0;
    if (
      (retry !== undefined || perTryMs > 0 || cluster.outlierDetector !== undefined) &&
      cluster.protocol !== 'auto' &&
      this.meta.upgrade === undefined
    ) {
      this.startRetrying(cluster, route, host, path, authority, retry, perTryMs, hashKey);
      return;
    }
    this.accountAttempt(cs, host);
    const entry = hcm.pools.get(cluster, host, route.priority === 'HIGH');
    if (entry.kind === 'auto') {
      // The protocol of an auto_config cluster is known once ALPN settled on the first
      // connection; until then the request (and any body) waits.
      this.awaitingPool = true;
      entry.pool.whenReady((resolved) => {
        this.awaitingPool = false;
        if (this.done) return;
        this.dispatch(resolved, path, authority);
        const queued = this.queuedBody;
        this.queuedBody = undefined;
        if (queued !== undefined) for (const chunk of queued) this.onRequestData(chunk, false);
        if (this.requestEnded) this.upstream?.end(this.queuedTrailers);
        this.flow.resume();
      });
      return;
    }
    this.dispatch(entry, path, authority);
    if (this.queuedBody !== undefined || this.requestEnded) this.flushHeldBody();
  }

  /** proxy-dynamic: starts mirroring this request (body seen so far included). */
  private startMirror(route: CompiledRoute, path: string, authority: string, timeoutMs: number): void {
    const hcm = this.hcm;
    const mirror = RequestMirror.start(
      route.mirrorPolicies,
      {
        method: this.head.method,
        path,
        authority,
        scheme: this.head.scheme,
        headers: this.head.headers,
        timeoutMs,
      },
      {
        clusters: hcm.clusters,
        pools: hcm.pools,
        bufferLimitBytes: hcm.settings.requestBufferLimitBytes ?? 1024 * 1024,
      },
    );
    if (mirror === undefined) return;
    for (const chunk of this.queuedBody ?? []) mirror.data(chunk);
    if (this.requestEnded) mirror.end();
    else this.mirror = mirror;
  }
  /** proxy-dynamic: the mirror of this request until the request has been received whole. */
  private mirror: RequestMirror | undefined;

  /** Issue 6: sends body that arrived while a filter held the request (a fault delay). */
  private flushHeldBody(): void {
    const queued = this.queuedBody;
    this.queuedBody = undefined;
    if (queued !== undefined) for (const chunk of queued) this.onRequestData(chunk, false);
    if (this.requestEnded) this.upstream?.end(this.queuedTrailers);
    this.flow.resume();
  }

  private awaitingPool = false;
  /** Issue 6: the `max_requests` resource held while an attempt is in flight. */
  private requestResource: { inc(): void; dec(): void } | undefined;
  /** Issue 6: the retry loop, when the request goes through one. */
  private retrying: RetryingUpstream<EngineHost> | undefined;

  /** Upstream attempts made so far (Envoy's attempt count: 1 for the first try). */
  private attempts = 0;

  /** Counts an upstream attempt on `host` (cluster and host stats, least-request load). */
  private accountAttempt(cs: ClusterStats, host: EngineHost): void {
    this.attempts++;
    // Issue 6: the virtual host's include_request_attempt_count (set on every try, replacing any
    // value from downstream, as Envoy).
    if (this.route?.attemptCountInRequest === true) {
      setHeader(this.head.headers, 'x-envoy-attempt-count', String(this.attempts));
    }
    this.requestResource?.inc();
    cs.upstream_rq_total.inc();
    cs.upstream_rq_active.inc();
    host.activeRequests++;
    host.stats.rq_total.inc();
    host.stats.rq_active.inc();
    this.upstreamStart = monoNow();
  }

  /** Issue 6: sends the request through the retry loop (see proxy/resilience/retrying-upstream.ts). */
  private startRetrying(
    cluster: EngineCluster,
    route: CompiledRoute,
    first: EngineHost,
    path: string,
    authority: string,
    retry: RetryState | undefined,
    perTryTimeoutMs: number,
    hashKey: number | bigint | undefined,
  ): void {
    const cs = cluster.stats;
    // The stream is its own retry driver (no per-request closures): these are what attempts need.
    this.attemptCluster = cluster;
    this.attemptPath = path;
    this.attemptAuthority = authority;
    this.attemptHashKey = hashKey;
    const resources = cluster.resources;
    this.retrying = new RetryingUpstream<EngineHost>(
      this,
      {
        stats: cs,
        retryResources:
          resources === undefined
            ? undefined
            : route.priority === 'HIGH'
              ? resources.high
              : resources.default,
        outlier: cluster.outlierDetector,
      },
      {
        retry,
        perTryTimeoutMs,
        bufferLimitBytes: this.hcm.settings.requestBufferLimitBytes ?? 1024 * 1024,
      },
      first,
    );
    if (this.done) return;
    this.upstream = this.retrying;
    if (this.queuedBody !== undefined || this.requestEnded) this.flushHeldBody();
  }
  private queuedBody: Buffer[] | undefined;
  private queuedTrailers: HeaderList | undefined;

  // ---- issue 6: AttemptDriver, for the retry loop (proxy/resilience/retrying-upstream.ts) ----

  private attemptCluster: EngineCluster | undefined;
  private attemptPath = '';
  private attemptAuthority = '';
  private attemptHashKey: number | bigint | undefined;

  /** The retry loop hands the committed attempt's events to the stream itself. */
  get downstream(): UpstreamCallbacks {
    return this;
  }

  chooseHost(excluded: Set<EngineHost> | undefined, selectionRetries: number): EngineHost | undefined {
    const hashKey = this.attemptHashKey;
    return (this.attemptCluster as EngineCluster).chooseHost({
      ...(hashKey === undefined ? {} : { hashKey }),
      ...(excluded === undefined ? {} : { excluded: excluded as Set<never>, selectionRetries }),
    });
  }

  startAttempt(host: EngineHost, callbacks: UpstreamCallbacks): UpstreamRequest {
    const cluster = this.attemptCluster as EngineCluster;
    if (this.host !== undefined) this.releaseHost();
    this.host = host;
    this.pickedHost = host;
    this.accountAttempt(cluster.stats, host);
    const entry = this.hcm.pools.get(cluster, host, this.route?.priority === 'HIGH') as ResolvedPool;
    return this.dispatch(entry, this.attemptPath, this.attemptAuthority, callbacks);
  }

  onFinalPerTryTimeout(): void {
    this.host?.stats.rq_timeout.inc();
    this.releaseHost();
    if (this.status === 0) {
      this.localReply(504, 'upstream request timeout', 'upstream_per_try_timeout', 'UpstreamRequestTimeout');
    } else {
      // The response had started: it is cut short, as Envoy resets the stream.
      this.addFlag('UpstreamRequestTimeout');
      this.sink.reset();
      this.finish();
    }
  }

  onNoHealthyUpstream(): void {
    this.releaseHost();
    this.clusterStats?.upstream_cx_none_healthy.inc();
    this.localReply(503, 'no healthy upstream', 'no_healthy_upstream', 'NoHealthyUpstream');
  }

  /** Sends the request on an HTTP/1.1 pool or an HTTP/2 session. */
  private dispatch(
    entry: ResolvedPool,
    path: string,
    authority: string,
    callbacks: UpstreamCallbacks = this,
  ): UpstreamRequest {
    const headers = this.head.headers;
    const hasBody = this.meta.hasBody;
    if (entry.kind === 'http1') {
      let body: 'none' | 'length' | 'chunked' = 'none';
      if (hasBody) body = this.meta.contentLength >= 0 ? 'length' : 'chunked';
      // The request's own list becomes the upstream head (no copy): Host goes first, as RFC 9112
      // asks; a Content-Length only survives when the body is sent with that length.
      const out = headers;
      if (body !== 'length') removeHeader(out, 'content-length');
      // (A retry dispatches the same list again: Host is then already in place.)
      if (out[0] === 'host') out[1] = authority;
      else out.unshift('host', authority);
      if (body === 'length' && getHeader(out, 'content-length') === undefined) {
        out.push('content-length', String(this.meta.contentLength));
      }
      if (body === 'chunked') out.push('transfer-encoding', 'chunked');
      if (this.meta.upgrade !== undefined) out.push('connection', 'upgrade');
      const req = entry.pool.request(
        { method: this.head.method, path, headers: out, body, upgrade: this.meta.upgrade !== undefined },
        callbacks,
      );
      if (callbacks === this) this.upstream = req;
      return req;
    }
    const req = entry.pool.request(
      {
        method: this.head.method,
        path,
        authority,
        scheme: this.head.scheme,
        headers,
        endStream: !hasBody,
        trailers: getHeader(headers, 'te') === 'trailers',
      },
      callbacks,
    );
    if (callbacks === this) this.upstream = req;
    return req;
  }

  /** An unexpected exception in this request's pipeline: 500 if nothing was sent, else reset. */
  internalError(): void {
    if (this.done) return;
    this.upstream?.abort();
    this.releaseHost();
    if (this.status === 0 && this.sink.bytesSent === 0) this.localReply(500, '', 'internal_error', undefined);
    else {
      this.sink.reset();
      this.finish();
    }
  }

  // ---- request body from downstream ----

  onRequestData(chunk: Buffer, fresh = true): void {
    if (fresh) {
      this.bytesReceived += chunk.length;
      // proxy-dynamic: each body chunk reaches the mirror once, when it arrives.
      this.mirror?.data(chunk);
    }
    if (this.deadline !== 0) this.touch();
    if (this.awaitingPool) {
      if (this.queuedBody === undefined) this.queuedBody = [];
      this.queuedBody.push(chunk);
      this.flow.pause();
      return;
    }
    const up = this.upstream;
    if (this.done) return;
    if (up === undefined) {
      // Issue 6: a filter holds the request (fault delay): keep the body for the upstream.
      if (this.status === 0) {
        if (this.queuedBody === undefined) this.queuedBody = [];
        this.queuedBody.push(chunk);
        this.flow.pause();
      }
      return;
    }
    if (!up.writeData(chunk)) this.flow.pause();
  }

  onRequestEnd(trailers: HeaderList | undefined): void {
    this.requestEnded = true;
    // proxy-dynamic: the request is whole: the mirror copies go out.
    this.mirror?.end();
    this.mirror = undefined;
    this.requestEndMs = monoNow();
    if (this.done) return;
    if (this.requestDeadline !== 0) {
      // Envoy's request_timeout covers receiving the whole request, not waiting for the response.
      this.requestDeadline = 0;
      this.touch();
    }
    if (this.awaitingPool || this.upstream === undefined) {
      this.queuedTrailers = trailers;
      return;
    }
    this.upstream.end(trailers);
  }

  onAbort(): void {
    // proxy-dynamic: a request cut short is not mirrored.
    this.mirror?.abort();
    this.mirror = undefined;
    if (this.done) return;
    this.hcm.stats.downstream_rq_rx_reset.inc();
    this.upstream?.abort();
    this.addFlag('DownstreamConnectionTermination');
    this.details = 'downstream_remote_disconnect';
    this.finish();
  }

  // ---- response from upstream ----

  onInformational(): void {
    // 100 Continue was already answered locally (see startUpstream); nothing else is forwarded.
  }

  onHeaders(status: number, headers: HeaderList, endStream: boolean): void {
    if (this.done) return;
    this.status = status;
    this.firstByteMs = monoNow();
    (this.clusterStats as ClusterStats).recordResponse(status);
    // Set, not appended: behind another Envoy-style hop the upstream's own value is replaced, as Envoy does.
    setHeader(
      headers,
      'x-envoy-upstream-service-time',
      String(Math.round(this.firstByteMs - this.upstreamStart)),
    );
    if (this.setCookie !== undefined) headers.push('set-cookie', this.setCookie);
    const route = this.route;
    if (route?.hasResponseMutations === true) route.applyResponseHeaders(headers, this.formatContext());
    this.decorate(headers);
    this.responseHeaders = headers;
    this.sink.writeHead(status, headers, endStream);
    if (endStream) this.complete(undefined);
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
    if (this.deadline !== 0) this.touch();
    if (!this.sink.writeData(chunk)) {
      const up = this.upstream;
      if (up !== undefined) {
        up.pauseResponse();
        this.sink.onDrain(() => up.resumeResponse());
      }
    }
  }

  onEnd(trailers: HeaderList | undefined): void {
    if (this.done) return;
    if (trailers !== undefined) this.responseTrailers = trailers;
    this.sink.end(trailers);
    this.complete(trailers);
  }

  onReset(reason: string, beforeHeaders: boolean): void {
    if (this.done) return;
    const cs = this.clusterStats;
    if (beforeHeaders) {
      const flag: ResponseFlagName =
        reason === 'overflow'
          ? 'UpstreamOverflow'
          : reason === 'connection failure' || reason === 'connection timeout'
            ? 'UpstreamConnectionFailure'
            : reason === 'protocol error'
              ? 'UpstreamProtocolError'
              : 'UpstreamConnectionTermination';
      this.releaseHost();
      this.localReply(
        503,
        `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`,
        `upstream_reset_before_response_started{${reason.replaceAll(' ', '_')}}`,
        flag,
        reason === 'overflow' ? OVERLOADED : undefined,
      );
      return;
    }
    cs?.upstream_rq_rx_reset.inc();
    this.addFlag('UpstreamRemoteReset');
    this.details = 'upstream_reset_after_response_started';
    this.sink.reset();
    this.finish();
  }

  onDrain(): void {
    this.flow.resume();
  }

  onUpgrade(headers: HeaderList, socket: import('node:net').Socket, rest: Buffer): void {
    if (this.done || this.sink.upgrade === undefined) {
      socket.destroy();
      return;
    }
    this.status = 101;
    this.responseHeaders = headers;
    this.clusterStats?.recordResponse(101);
    const st = this.hcm.stats;
    st.downstream_cx_upgrades_total.inc();
    st.downstream_cx_upgrades_active.inc();
    socket.once('close', () => st.downstream_cx_upgrades_active.dec());
    this.sink.upgrade(headers, socket, rest);
    this.complete(undefined);
  }

  private maxDurationTimer: NodeJS.Timeout | undefined;

  /**
   * Issue 6: a max_stream_duration ran out: 408 before a response, a reset after, as Envoy. The
   * cluster's (upstream) limit gives UMSDR and `upstream_rq_max_duration_reached`; the route's or
   * connection manager's gives DT and `downstream_rq_max_duration_reached`.
   */
  private onMaxStreamDuration(upstream: boolean): void {
    this.maxDurationTimer = undefined;
    if (this.done) return;
    if (upstream) this.clusterStats?.upstream_rq_max_duration_reached.inc();
    else this.hcm.stats.downstream_rq_max_duration_reached.inc();
    const flag: ResponseFlagName = upstream ? 'UpstreamMaxStreamDurationReached' : 'DurationTimeout';
    this.upstream?.abort();
    if (this.status === 0 && this.sink.bytesSent === 0) {
      this.releaseHost();
      this.localReply(
        408,
        upstream ? 'upstream max stream duration reached' : 'downstream duration timeout',
        'max_duration_timeout',
        flag,
        undefined,
        GRPC_DEADLINE_EXCEEDED,
      );
    } else {
      this.addFlag(flag);
      this.sink.reset();
      this.finish();
    }
  }

  private onTimeout(): void {
    this.timer = undefined;
    if (this.done) return;
    this.clusterStats?.upstream_rq_timeout.inc();
    this.upstream?.abort();
    this.host?.stats.rq_timeout.inc();
    if (this.status === 0) {
      this.releaseHost();
      this.localReply(504, 'upstream request timeout', 'upstream_response_timeout', 'UpstreamRequestTimeout');
    } else {
      this.addFlag('UpstreamRequestTimeout');
      this.sink.reset();
      this.finish();
    }
  }

  /** Re-arms the stream idle deadline (bounded by the whole-request deadline). */
  private touch(): void {
    // Issue 6: a route's idle_timeout overrides the connection manager's stream_idle_timeout.
    const idle = this.route?.idleTimeoutMs ?? this.hcm.settings.streamIdleTimeoutMs;
    const byIdle = idle > 0 ? epochNow() + idle : 0;
    let d = byIdle;
    const r = this.requestDeadline;
    if (r !== 0 && (d === 0 || r < d)) d = r;
    const rt = this.routeDeadline;
    if (rt !== 0 && (d === 0 || rt < d)) d = rt;
    this.deadline = d;
  }

  /** Stream idle timeout (408 before a response, reset after) or request timeout (408). */
  expire(now: number): void {
    if (this.done) return;
    if (this.routeDeadline !== 0 && now >= this.routeDeadline) {
      this.routeDeadline = 0;
      this.onTimeout();
      return;
    }
    const requestTimeout = this.requestDeadline !== 0 && now >= this.requestDeadline;
    const st = this.hcm.stats;
    (requestTimeout ? st.downstream_rq_timeout : st.downstream_rq_idle_timeout).inc();
    this.upstream?.abort();
    if (this.status === 0 && this.sink.bytesSent === 0) {
      this.releaseHost();
      this.localReply(
        408,
        requestTimeout ? 'request timeout' : 'stream timeout',
        requestTimeout ? 'request_overall_timeout' : 'stream_idle_timeout',
        requestTimeout ? undefined : 'StreamIdleTimeout',
      );
      return;
    }
    if (!requestTimeout) this.addFlag('StreamIdleTimeout');
    this.sink.reset();
    this.finish();
  }

  // ---- helpers ----

  private decorate(headers: HeaderList): void {
    const s = this.hcm.settings;
    if (s.serverHeaderTransformation === 'OVERWRITE') setHeader(headers, 'server', s.serverName);
    else if (
      s.serverHeaderTransformation === 'APPEND_IF_ABSENT' &&
      getHeader(headers, 'server') === undefined
    ) {
      headers.push('server', s.serverName);
    }
    if (getHeader(headers, 'date') === undefined) headers.push('date', httpDate());
    // Issue 6: include_attempt_count_in_response, on upstream responses and on the local replies
    // that follow an attempt (as Envoy's router).
    if (this.attempts > 0 && this.route?.attemptCountInResponse === true) {
      setHeader(headers, 'x-envoy-attempt-count', String(this.attempts));
    }
    const extra = this.extraResponseHeaders;
    if (extra !== undefined) headers.push(...extra);
  }

  /** Sets a response flag (also the retry loop's, for URX). */
  addFlag(flag: ResponseFlagName): void {
    this.flags |= ResponseFlag[flag];
  }

  /**
   * What header formatters and the access log see about this request. One flat object literal
   * (no spreads): it is built for every request that has header mutations or access logs.
   */
  private formatContext(): FormatContext {
    const c = this.conn;
    const now = monoNow();
    const first = this.firstByteMs;
    return {
      startTimeMs: this.startEpoch,
      method: this.head.method,
      // A CONNECT has no :path: Envoy's formatters print `-` for it.
      path: this.originalPath === '' ? undefined : this.originalPath,
      authority: this.head.authority,
      scheme: this.head.scheme,
      protocol: this.meta.protocol,
      requestHeaders: this.head.headers,
      responseHeaders: this.responseHeaders,
      responseTrailers: this.responseTrailers,
      responseCode: this.status,
      responseCodeDetails: this.details,
      responseFlags: this.flags,
      bytesReceived: this.bytesReceived,
      bytesSent: this.sink.bytesSent,
      durationMs: now - this.startMs,
      downstreamRemoteAddress: c.remote,
      downstreamDirectRemoteAddress: c.remote,
      downstreamLocalAddress: c.local,
      requestDurationMs: this.requestEndMs > 0 ? this.requestEndMs - this.startMs : undefined,
      responseDurationMs: first > 0 ? first - this.startMs : undefined,
      responseTxDurationMs: first > 0 ? now - first : undefined,
      upstreamHost: this.pickedHost === undefined ? undefined : hostLabel(this.pickedHost),
      upstreamCluster: this.cluster?.name,
      requestedServerName: c.sni,
      routeName: this.route?.name,
    };
  }

  /**
   * Envoy's local reply: text body, or gRPC trailers-only with `grpcStatus` (default: mapped from
   * the HTTP status).
   */
  private localReply(
    status: number,
    body: string,
    details: string,
    flag: ResponseFlagName | undefined,
    extra?: readonly string[],
    grpcStatus = httpToGrpcStatus(status),
  ): void {
    if (flag !== undefined) this.addFlag(flag);
    if (this.grpc) {
      const headers: HeaderList = [
        ...(extra ?? []),
        'content-type',
        'application/grpc',
        'grpc-status',
        String(grpcStatus),
      ];
      if (body.length > 0) headers.push('grpc-message', encodeURIComponent(body));
      this.sendResponse(200, headers, EMPTY, details, status);
      return;
    }
    const headers: HeaderList = extra === undefined ? [] : [...extra];
    if (body.length > 0) headers.push('content-type', 'text/plain');
    this.sendResponse(status, headers, body.length === 0 ? EMPTY : Buffer.from(body), details);
  }

  private sendResponse(
    status: number,
    headers: HeaderList,
    body: Buffer,
    details: string,
    logStatus = status,
  ): void {
    this.details = details;
    this.status = logStatus;
    if (this.sink.bytesSent > 0) {
      this.sink.reset();
      this.finish();
      return;
    }
    if (body.length > 0 || getHeader(headers, 'content-length') === undefined) {
      setHeader(headers, 'content-length', String(body.length));
    }
    this.decorate(headers);
    this.responseHeaders = headers;
    this.sink.writeHead(status, headers, body.length === 0);
    if (body.length > 0) {
      this.sink.writeData(body);
      this.sink.end();
    }
    this.finish();
  }

  private releaseHost(): void {
    if (this.host !== undefined) {
      const hs = this.host.stats;
      hs.rq_active.dec();
      if (this.status >= 500 || this.status === 0) hs.rq_error.inc();
      else hs.rq_success.inc();
      this.host.activeRequests--;
      this.host = undefined;
      const cs = this.clusterStats;
      if (cs !== undefined) cs.upstream_rq_active.dec();
      this.requestResource?.dec();
    }
  }

  private complete(trailers: HeaderList | undefined): void {
    if (trailers !== undefined) this.responseTrailers = trailers;
    const cs = this.clusterStats;
    if (cs !== undefined && this.host !== undefined)
      cs.upstream_rq_time.record(monoNow() - this.upstreamStart);
    if (!this.requestEnded && this.upstream !== undefined && this.meta.protocol === 'HTTP/2') {
      // The response is complete before the request body: stop sending it.
      this.upstream.abort();
    }
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    this.retrying?.release();
    if (this.maxDurationTimer !== undefined) clearTimeout(this.maxDurationTimer);
    if (this.timer !== undefined) clearTimeout(this.timer);
    if (this.swept) {
      this.deadline = 0;
      this.hcm.sweeper.delete(this);
    }
    if (this.filterTimers !== undefined) for (const t of this.filterTimers) clearTimeout(t);
    if (this.doneHooks !== undefined) {
      for (const fn of this.doneHooks) guarded('http filter done hook', fn, () => undefined);
    }
    this.releaseHost();
    const st = this.hcm.stats;
    st.downstream_rq_active.dec();
    if (this.status > 0) st.recordResponse(this.status);
    const duration = monoNow() - this.startMs;
    st.downstream_rq_time.record(duration);
    this.hcm.logger?.log(this.formatContext());
  }

  private pickedHost: EngineHost | undefined;
}

/**
 * One HTTP filter's callbacks for one request: an object with methods instead of six closures per
 * filter per request (the resilience row runs two filters on every request).
 */
class FilterCallbacksImpl implements RequestFilterCallbacks {
  private resumed = false;

  constructor(
    private readonly stream: ActiveStream,
    /** The filter after this one. */
    private readonly next: number,
    private readonly result: RouteResult,
    private readonly request: RouteRequest,
  ) {}

  resume(): void {
    if (this.resumed || this.stream.isDone) return;
    this.resumed = true;
    this.stream.resumeFilters(this.next, this.result, this.request);
  }

  reply(r: RequestFilterReply): void {
    this.stream.filterReplyIfActive(r);
  }

  addResponseHeaders(headers: HeaderList): void {
    this.stream.addExtraResponseHeaders(headers);
  }

  addFlag(flag: ResponseFlagName): void {
    this.stream.addFlag(flag);
  }

  onDone(fn: () => void): void {
    this.stream.addDoneHook(fn);
  }

  setTimer(fn: () => void, ms: number): void {
    this.stream.addFilterTimer(fn, ms);
  }
}
