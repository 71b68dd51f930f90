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
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { getHeader, type HeaderList, removeHeader, setHeader } from '../http/headers.js';
import type {
  BodyFlow,
  RequestHead,
  ResponseSink,
  UpstreamCallbacks,
  UpstreamRequest,
} from '../http/stream.js';
import { type ClusterStats, HttpConnectionManagerStats } from '../stats/scopes.js';
import type { StatsStore } from '../stats/store.js';
import type {
  EngineCluster,
  EngineClusterManager,
  EngineHost,
  EngineRoute,
  EngineRouteRequest,
  EngineRouteTable,
} from './contracts.js';
import type { PoolRegistry } from './pools.js';
import type { ConnectionInfo, HttpStreamFactory, RequestMeta, StreamHandle, UpgradeSink } from './types.js';

/** One finished request, as the access log needs it. */
export interface RequestLogEntry {
  /** Epoch ms when the request head arrived. */
  readonly startTime: number;
  readonly method: string;
  /** Path as received (before rewrites). */
  readonly path: string;
  /** Path sent upstream, when rewritten. */
  readonly rewrittenPath: string | undefined;
  readonly authority: string;
  readonly protocol: string;
  /** Status sent downstream; 0 when none was (client gone first). */
  readonly responseCode: number;
  /** Envoy response flags, e.g. `['UF']`; empty when none. */
  readonly responseFlags: readonly string[];
  /** `%RESPONSE_CODE_DETAILS%`. */
  readonly responseCodeDetails: string;
  readonly bytesReceived: number;
  readonly bytesSent: number;
  /** Total duration in ms. */
  readonly durationMs: number;
  /** Request headers as forwarded (with x-request-id, x-forwarded-for). */
  readonly requestHeaders: HeaderList;
  readonly responseHeaders: HeaderList;
  readonly responseTrailers: HeaderList;
  /** `ip:port` of the upstream host, when one was picked. */
  readonly upstreamHost: string | undefined;
  readonly upstreamCluster: string | undefined;
  readonly downstreamRemoteAddress: string;
  readonly downstreamLocalAddress: string;
}

/** Receives finished requests (the compiled access logs). */
export interface RequestLogger {
  log(entry: RequestLogEntry): void;
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
  /** Whole-request timeout (ms, 0 = none). */
  readonly requestTimeoutMs: number;
}

const LOCAL_REPLY_DETAIL: Record<string, string> = {
  UF: 'upstream_reset_before_response_started{connection_failure}',
  UC: 'upstream_reset_before_response_started{connection_termination}',
  UO: 'upstream_reset_before_response_started{overflow}',
  UT: 'upstream_response_timeout',
  UH: 'no_healthy_upstream',
  NR: 'route_not_found',
  NC: 'cluster_not_found',
  URX: 'upstream_reset_before_response_started{protocol_error}',
  SI: 'stream_idle_timeout',
};

let cachedDate = '';
let cachedDateSecond = 0;
/** RFC 9110 IMF-fixdate, refreshed at most once a second. */
function httpDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedDateSecond) {
    cachedDateSecond = second;
    cachedDate = new Date(now).toUTCString();
  }
  return cachedDate;
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

/** The HTTP connection manager of one listener filter chain. */
export class HttpConnectionManager implements HttpStreamFactory {
  /** `http.<stat_prefix>.*`. */
  readonly stats: HttpConnectionManagerStats;

  constructor(
    readonly settings: HcmSettings,
    readonly routes: EngineRouteTable,
    readonly clusters: EngineClusterManager,
    readonly pools: PoolRegistry,
    store: StatsStore,
    readonly logger: RequestLogger | undefined,
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
    stream.start();
    return stream;
  }

  onCodecError(status: number, detail: string, conn: ConnectionInfo, protocol: string): void {
    if (status === 408) this.stats.downstream_rq_header_timeout.inc();
    else this.stats.downstream_cx_protocol_error.inc();
    this.stats.recordResponse(status);
    this.logger?.log({
      startTime: Date.now(),
      method: '',
      path: '',
      rewrittenPath: undefined,
      authority: '',
      protocol,
      responseCode: status,
      responseFlags: status === 408 ? [] : ['DPE'],
      responseCodeDetails: `codec_error:${detail.replaceAll(' ', '_')}`,
      bytesReceived: 0,
      bytesSent: 0,
      durationMs: 0,
      requestHeaders: [],
      responseHeaders: [],
      responseTrailers: [],
      upstreamHost: undefined,
      upstreamCluster: undefined,
      downstreamRemoteAddress: `${conn.remoteAddress}:${conn.remotePort}`,
      downstreamLocalAddress: `${conn.localAddress}:${conn.localPort}`,
    });
  }

  onConnectionOpen(protocol: 'http1' | 'http2'): void {
    const s = this.stats;
    s.downstream_cx_total.inc();
    s.downstream_cx_active.inc();
    if (protocol === 'http1') {
      s.downstream_cx_http1_total.inc();
      s.downstream_cx_http1_active.inc();
    } else {
      s.downstream_cx_http2_total.inc();
      s.downstream_cx_http2_active.inc();
    }
  }

  onConnectionClose(protocol: 'http1' | 'http2'): void {
    const s = this.stats;
    s.downstream_cx_active.dec();
    s.downstream_cx_destroy.inc();
    (protocol === 'http1' ? s.downstream_cx_http1_active : s.downstream_cx_http2_active).dec();
  }
}

/** One request through the pipeline. */
class ActiveStream implements StreamHandle, UpstreamCallbacks {
  private readonly startMs = performance.now();
  private readonly startEpoch = Date.now();
  private upstream: UpstreamRequest | undefined;
  private upstreamStart = 0;
  private cluster: EngineCluster | undefined;
  private clusterStats: ClusterStats | undefined;
  private host: EngineHost | undefined;
  private route: EngineRoute | undefined;
  private flags: string[] | undefined;
  private details = 'via_upstream';
  private status = 0;
  private responseHeaders: HeaderList = [];
  private responseTrailers: HeaderList = [];
  private bytesReceived = 0;
  private done = false;
  private requestEnded = false;
  private timer: NodeJS.Timeout | undefined;
  private rewrittenPath: string | undefined;
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
    this.grpc = ct !== undefined && ct.startsWith('application/grpc');
  }

  start(): void {
    const hcm = this.hcm;
    const st = hcm.stats;
    st.downstream_rq_total.inc();
    st.downstream_rq_active.inc();
    (this.meta.protocol === 'HTTP/2' ? st.downstream_rq_http2_total : st.downstream_rq_http1_total).inc();
    const s = hcm.settings;
    const headers = this.head.headers;
    // Forwarding headers as Envoy sets them (HCM docs, "HTTP header manipulation").
    if (s.useRemoteAddress) {
      const xff = getHeader(headers, 'x-forwarded-for');
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
      if (getHeader(headers, 'x-request-id') === undefined) headers.push('x-request-id', randomUUID());
      else if (s.useRemoteAddress && !s.preserveExternalRequestId)
        setHeader(headers, 'x-request-id', randomUUID());
    }
    if (this.meta.upgrade !== undefined && !s.upgrades.has(this.meta.upgrade)) {
      // Envoy answers 403 to an upgrade that is not configured.
      this.localReply(403, 'upgrade not configured', 'upgrade_failed', undefined);
      return;
    }
    const request: EngineRouteRequest = {
      authority: this.head.authority,
      path: this.head.path,
      method: this.head.method,
      scheme: this.head.scheme,
      headers,
      sourceAddress: this.conn.remoteAddress,
    };
    const result = hcm.routes.route(request);
    switch (result.kind) {
      case 'none':
        st.no_route.inc();
        this.localReply(404, '', 'route_not_found', 'NR');
        return;
      case 'direct': {
        st.rq_direct_response.inc();
        const body = result.body === undefined ? Buffer.alloc(0) : Buffer.from(result.body);
        const out: HeaderList = result.headers === undefined ? [] : [...result.headers];
        this.sendResponse(result.status, out, body, 'direct_response');
        return;
      }
      case 'redirect': {
        st.rq_redirect.inc();
        const out: HeaderList = result.headers === undefined ? [] : [...result.headers];
        setHeader(out, 'location', result.location);
        this.sendResponse(result.status, out, Buffer.alloc(0), 'direct_response');
        return;
      }
      case 'cluster':
        this.route = result.route;
        this.startUpstream(result.clusterName, result.route, request);
        return;
    }
  }

  private startUpstream(clusterName: string, route: EngineRoute, request: EngineRouteRequest): void {
    const hcm = this.hcm;
    const cluster = hcm.clusters.get(clusterName);
    if (cluster === undefined) {
      hcm.stats.no_cluster.inc();
      this.localReply(503, '', 'cluster_not_found', 'NC');
      return;
    }
    this.cluster = cluster;
    const cs = cluster.stats;
    this.clusterStats = cs;
    hcm.stats.rq_total.inc();
    const hashKey = route.hashKey(request);
    const host = cluster.chooseHost(hashKey === undefined ? {} : { hashKey });
    if (host === undefined) {
      cs.upstream_cx_none_healthy.inc();
      this.localReply(503, 'no healthy upstream', 'no_healthy_upstream', 'UH');
      return;
    }
    this.host = host;
    this.pickedHost = host;
    const headers = this.head.headers;
    route.applyRequestHeaders(headers);
    const path = route.rewritePath(this.head.path);
    if (path !== this.head.path) {
      this.rewrittenPath = path;
      headers.push('x-envoy-original-path', this.head.path);
    }
    const authority = route.hostRewrite ?? this.head.authority;
    if (route.timeoutMs > 0) {
      setHeader(headers, 'x-envoy-expected-rq-timeout-ms', String(route.timeoutMs));
      this.timer = setTimeout(() => this.onTimeout(), route.timeoutMs);
    }
    cs.upstream_rq_total.inc();
    cs.upstream_rq_active.inc();
    host.activeRequests++;
    this.upstreamStart = performance.now();
    if (this.meta.expectContinue) {
      // Envoy answers 100 Continue itself and does not forward Expect (proxy_100_continue off).
      removeHeader(headers, 'expect');
      this.sink.sendContinue();
    }
    const entry = hcm.pools.get(cluster, host);
    const hasBody = this.meta.hasBody;
    if (entry.kind === 'http1') {
      const out: HeaderList = ['host', authority];
      let body: 'none' | 'length' | 'chunked' = 'none';
      if (hasBody) body = this.meta.contentLength >= 0 ? 'length' : 'chunked';
      for (let i = 0; i < headers.length; i += 2) {
        const name = headers[i] as string;
        if (name === 'content-length' && body !== 'length') continue;
        out.push(name, headers[i + 1] as string);
      }
      if (body === 'length' && getHeader(out, 'content-length') === undefined) {
        out.push('content-length', String(this.meta.contentLength));
      }
      if (this.meta.upgrade !== undefined) out.push('connection', 'upgrade');
      this.upstream = entry.pool.request(
        { method: this.head.method, path, headers: out, body, upgrade: this.meta.upgrade !== undefined },
        this,
      );
    } else {
      this.upstream = entry.pool.request(
        {
          method: this.head.method,
          path,
          authority,
          scheme: this.head.scheme,
          headers,
          endStream: !hasBody,
        },
        this,
      );
    }
  }

  // ---- request body from downstream ----

  onRequestData(chunk: Buffer): void {
    this.bytesReceived += chunk.length;
    const up = this.upstream;
    if (up === undefined || this.done) return;
    if (!up.writeData(chunk)) this.flow.pause();
  }

  onRequestEnd(trailers: HeaderList | undefined): void {
    this.requestEnded = true;
    if (this.done) return;
    this.upstream?.end(trailers);
  }

  onAbort(): void {
    if (this.done) return;
    this.hcm.stats.downstream_rq_rx_reset.inc();
    this.upstream?.abort();
    this.addFlag('DC');
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
    (this.clusterStats as ClusterStats).recordResponse(status);
    headers.push('x-envoy-upstream-service-time', String(Math.round(performance.now() - this.upstreamStart)));
    this.route?.applyResponseHeaders(headers);
    this.decorate(headers);
    this.responseHeaders = headers;
    this.sink.writeHead(status, headers, endStream);
    if (endStream) this.complete(undefined);
  }

  onData(chunk: Buffer): void {
    if (this.done) return;
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
      const flag =
        reason === 'overflow'
          ? 'UO'
          : reason === 'connection failure' || reason === 'connection timeout'
            ? 'UF'
            : reason === 'protocol error'
              ? 'UPE'
              : 'UC';
      this.releaseHost();
      this.localReply(
        503,
        `upstream connect error or disconnect/reset before headers. reset reason: ${reason}`,
        LOCAL_REPLY_DETAIL[flag] ?? `upstream_reset_before_response_started{${reason.replaceAll(' ', '_')}}`,
        flag,
      );
      return;
    }
    cs?.upstream_rq_rx_reset.inc();
    this.addFlag('UR');
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
    this.sink.upgrade(headers, socket, rest);
    this.complete(undefined);
  }

  private onTimeout(): void {
    this.timer = undefined;
    if (this.done) return;
    this.clusterStats?.upstream_rq_timeout.inc();
    this.upstream?.abort();
    if (this.status === 0) {
      this.releaseHost();
      this.localReply(504, 'upstream request timeout', 'upstream_response_timeout', 'UT');
    } else {
      this.addFlag('UT');
      this.sink.reset();
      this.finish();
    }
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
  }

  private addFlag(flag: string): void {
    if (this.flags === undefined) this.flags = [flag];
    else if (!this.flags.includes(flag)) this.flags.push(flag);
  }

  /** Envoy's local reply: text body, or gRPC trailers-only with a mapped grpc-status. */
  private localReply(status: number, body: string, details: string, flag: string | undefined): void {
    if (flag !== undefined) this.addFlag(flag);
    if (this.grpc) {
      const headers: HeaderList = [
        'content-type',
        'application/grpc',
        'grpc-status',
        String(httpToGrpcStatus(status)),
      ];
      if (body.length > 0) headers.push('grpc-message', encodeURIComponent(body));
      this.sendResponse(200, headers, Buffer.alloc(0), details, status);
      return;
    }
    const headers: HeaderList = [];
    if (body.length > 0) headers.push('content-type', 'text/plain');
    this.sendResponse(status, headers, Buffer.from(body), details);
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
      this.host.activeRequests--;
      this.host = undefined;
      const cs = this.clusterStats;
      if (cs !== undefined) cs.upstream_rq_active.dec();
    }
  }

  private complete(trailers: HeaderList | undefined): void {
    if (trailers !== undefined) this.responseTrailers = trailers;
    const cs = this.clusterStats;
    if (cs !== undefined && this.host !== undefined)
      cs.upstream_rq_time.record(performance.now() - this.upstreamStart);
    if (!this.requestEnded && this.upstream !== undefined && this.meta.protocol === 'HTTP/2') {
      // The response is complete before the request body: stop sending it.
      this.upstream.abort();
    }
    this.finish();
  }

  private finish(): void {
    if (this.done) return;
    this.done = true;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.releaseHost();
    const st = this.hcm.stats;
    st.downstream_rq_active.dec();
    if (this.status > 0) st.recordResponse(this.status);
    const duration = performance.now() - this.startMs;
    st.downstream_rq_time.record(duration);
    const logger = this.hcm.logger;
    if (logger === undefined) return;
    logger.log({
      startTime: this.startEpoch,
      method: this.head.method,
      path: this.originalPath,
      rewrittenPath: this.rewrittenPath,
      authority: this.head.authority,
      protocol: this.meta.protocol,
      responseCode: this.status,
      responseFlags: this.flags ?? [],
      responseCodeDetails: this.details,
      bytesReceived: this.bytesReceived,
      bytesSent: this.sink.bytesSent,
      durationMs: duration,
      requestHeaders: this.head.headers,
      responseHeaders: this.responseHeaders,
      responseTrailers: this.responseTrailers,
      upstreamHost: this.hostLabel(),
      upstreamCluster: this.cluster?.name,
      downstreamRemoteAddress: `${this.conn.remoteAddress}:${this.conn.remotePort}`,
      downstreamLocalAddress: `${this.conn.localAddress}:${this.conn.localPort}`,
    });
  }

  private pickedHost: EngineHost | undefined;
  private hostLabel(): string | undefined {
    const h = this.pickedHost;
    return h === undefined ? undefined : `${h.address}:${h.port}`;
  }
}
