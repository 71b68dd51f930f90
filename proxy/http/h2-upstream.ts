/**
 * HTTP/2 upstream for one host, pooled as Envoy's HTTP/2 connection pool does
 * (`conn_pool_base`): requests multiplex over sessions (h2c prior knowledge, or TLS with ALPN h2)
 * up to each session's stream limit, the smaller of the cluster's
 * `http2_protocol_options.max_concurrent_streams` and the upstream's
 * SETTINGS_MAX_CONCURRENT_STREAMS; past it another session opens (within `max_connections`), and
 * a session that received GOAWAY or served `max_requests_per_connection` streams drains: its
 * in-flight streams finish on it, it keeps counting as a connection until it closes, and new
 * requests go to another session.
 */
import http2 from 'node:http2';
import type net from 'node:net';
import { type ConnectTarget, openConnection, upstreamUrl } from './connect.js';
import { guarded } from './guard.js';
import { localResources, type PoolEvents, type PoolResources } from './h1-upstream.js';
import { fromH2Headers, toH2Headers } from './h2-common.js';
import type { HeaderList } from './headers.js';
import type { UpstreamCallbacks, UpstreamRequest } from './stream.js';

/** The request head an HTTP/2 upstream gets. */
export interface H2OutgoingRequest {
  readonly method: string;
  readonly path: string;
  readonly authority: string;
  readonly scheme: 'http' | 'https';
  readonly headers: HeaderList;
  /** True when the request has no body (END_STREAM on the HEADERS frame). */
  readonly endStream: boolean;
  /** The request may end with trailers (it carries `te: trailers`, as gRPC does). */
  readonly trailers: boolean;
}

/** What an HTTP/2 pool reports beyond {@link PoolEvents}. */
export interface H2PoolEvents extends PoolEvents {
  /** A session reached `max_requests_per_connection` and drains: upstream_cx_max_requests. */
  onMaxRequests?(): void;
}

/** Per-session limits of an {@link H2Pool}. */
export interface H2PoolOptions {
  /** Streams at once on one session (the upstream's SETTINGS may lower it). @default 2147483647 (Envoy) */
  readonly maxConcurrentStreams?: number | undefined;
  /** Streams one session serves before it drains. @default - unlimited */
  readonly maxRequestsPerConnection?: number | undefined;
  /** Close a session without streams this long (0: never). @default - 1 hour (Envoy's idle_timeout) */
  readonly idleTimeoutMs?: number | undefined;
}

/** Envoy's default `max_concurrent_streams` for upstream sessions. */
const DEFAULT_MAX_STREAMS = 2_147_483_647;

/** One upstream session: connecting (no socket or no SETTINGS yet), ready, or draining. */
interface H2Client {
  session: http2.ClientHttp2Session | undefined;
  state: 'connecting' | 'ready' | 'draining';
  /** Streams attached now. */
  active: number;
  /** Streams it may carry at once. */
  limit: number;
  /** Streams it may still start (max_requests_per_connection). */
  remaining: number;
  /** When its last stream ended (epoch ms), for the idle sweep. */
  idleSince: number;
}

/**
 * The HTTP/2 sessions to one upstream host. The cluster's circuit breakers apply as in Envoy:
 * each session (draining ones included, until they close) holds a `max_connections` resource (a
 * host with no session opens one even at the limit, counting upstream_cx_overflow; otherwise the
 * overflow is counted and requests wait for a stream), requests waiting for a stream hold a
 * `max_pending_requests` one until they get a stream or are cancelled, and `max_requests` bounds
 * the streams (the connection manager takes it per request).
 */
export class H2Pool {
  private readonly clients = new Set<H2Client>();
  private readonly pending: H2Exchange[] = [];
  private closed = false;
  private readonly resources: PoolResources;
  private readonly maxStreams: number;
  private readonly maxRequests: number;
  private readonly idleTimeoutMs: number;
  private sweepTimer: NodeJS.Timeout | undefined;

  /**
   * @param resources the cluster's circuit breakers @default - limits of this pool alone
   * @param options per-session limits @default - Envoy's defaults
   */
  constructor(
    private readonly target: ConnectTarget,
    private readonly events: H2PoolEvents,
    resources?: PoolResources,
    options: H2PoolOptions = {},
  ) {
    this.resources = resources ?? localResources();
    this.maxStreams = options.maxConcurrentStreams ?? DEFAULT_MAX_STREAMS;
    this.maxRequests = options.maxRequestsPerConnection ?? Number.POSITIVE_INFINITY;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 3_600_000;
  }

  /** Sessions that hold a connection (connecting, ready or draining). */
  get connections(): number {
    return this.clients.size;
  }

  /** Starts a request on a session with a free stream, or queues it for one. */
  request(request: H2OutgoingRequest, callbacks: UpstreamCallbacks): UpstreamRequest {
    const ex = new H2Exchange(request, callbacks, this);
    if (this.closed) {
      ex.connectFailed('connection failure');
      return ex;
    }
    const client = this.readyClient();
    if (client !== undefined) {
      this.attach(client, ex);
      return ex;
    }
    const pending = this.resources.pendingRequests;
    if (!pending.canCreate()) {
      this.events.onPendingOverflow();
      ex.connectFailed('overflow');
      return ex;
    }
    pending.inc();
    this.events.onPendingChange?.(1);
    ex.waiting = true;
    this.pending.push(ex);
    this.connectForPending();
    return ex;
  }

  /** @internal A waiting request was cancelled: its pending slot is free at once (Envoy). */
  cancel(ex: H2Exchange): void {
    const i = this.pending.indexOf(ex);
    if (i < 0) return;
    this.pending.splice(i, 1);
    this.unqueued(ex);
    this.events.onPendingCancel?.();
  }

  private unqueued(ex: H2Exchange): void {
    ex.waiting = false;
    this.resources.pendingRequests.dec();
    this.events.onPendingChange?.(-1);
  }

  private readyClient(): H2Client | undefined {
    for (const c of this.clients) {
      if (c.state === 'ready' && c.active < c.limit && c.remaining > 0) return c;
    }
    return undefined;
  }

  /** Hands waiting requests to sessions with free streams, then opens sessions for the rest. */
  private dispatchPending(): void {
    while (this.pending.length > 0) {
      const client = this.readyClient();
      if (client === undefined) break;
      const ex = this.pending.shift() as H2Exchange;
      this.unqueued(ex);
      this.attach(client, ex);
    }
    this.connectForPending();
  }

  /**
   * Opens sessions while the waiting requests outnumber the streams the connecting sessions will
   * offer (Envoy's `tryCreateNewConnections`). At `max_connections` the overflow is counted and
   * no session opens, unless the host has none at all.
   */
  private connectForPending(): void {
    if (this.closed) return;
    const perSession = Math.min(this.maxStreams, this.maxRequests);
    for (;;) {
      let connecting = 0;
      for (const c of this.clients) if (c.state === 'connecting') connecting += perSession;
      if (this.pending.length <= connecting) return;
      const connections = this.resources.connections;
      if (!connections.canCreate()) {
        this.events.onConnectionOverflow?.();
        if (this.clients.size > 0) return;
      }
      this.connect();
    }
  }

  private connect(): void {
    const client: H2Client = {
      session: undefined,
      state: 'connecting',
      active: 0,
      limit: 0,
      remaining: 0,
      idleSince: 0,
    };
    this.clients.add(client);
    this.resources.connections.inc();
    const target: ConnectTarget =
      this.target.tls === undefined
        ? this.target
        : { ...this.target, tls: { ...this.target.tls, alpn: ['h2'] } };
    openConnection(target, (error, socket, detail) => {
      if (error !== undefined || socket === undefined) {
        this.clients.delete(client);
        this.resources.connections.dec();
        this.events.onConnectFailure(error ?? 'error', detail);
        // As Envoy: a connect failure fails every waiting request (the router may retry them).
        this.failPending(error === 'timeout' ? 'connection timeout' : 'connection failure');
        return;
      }
      if (this.closed) {
        this.clients.delete(client);
        this.resources.connections.dec();
        socket.destroy();
        return;
      }
      this.open(client, socket);
    });
  }

  private failPending(reason: string): void {
    for (const ex of this.pending.splice(0)) {
      this.unqueued(ex);
      ex.connectFailed(reason);
    }
  }

  /** Takes over an already connected socket that negotiated h2 (auto_config's ALPN probe). */
  adopt(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    if (!this.resources.connections.canCreate()) {
      this.events.onConnectionOverflow?.();
      if (this.clients.size > 0) {
        socket.destroy();
        return;
      }
    }
    const client: H2Client = {
      session: undefined,
      state: 'connecting',
      active: 0,
      limit: 0,
      remaining: 0,
      idleSince: 0,
    };
    this.clients.add(client);
    this.resources.connections.inc();
    this.open(client, socket);
  }

  private open(client: H2Client, socket: net.Socket): void {
    const session = http2.connect(upstreamUrl(this.target, this.target.tls !== undefined), {
      createConnection: () => socket,
    });
    client.session = session;
    this.events.onConnectionOpen();
    // Streams are attached once the upstream's SETTINGS (the first frame it must send) tell its
    // stream limit, so a burst is spread over sessions instead of queued inside the first one.
    // An upstream that never sends SETTINGS (not HTTP/2, or stuck) fails the waiting requests
    // within the connect timeout instead of holding them until the route's timeout.
    let failReason = 'connection failure';
    let settingsTimer: NodeJS.Timeout | undefined = setTimeout(() => {
      settingsTimer = undefined;
      if (client.state !== 'connecting') return;
      this.events.onConnectFailure('timeout', 'no HTTP/2 SETTINGS from the upstream');
      failReason = 'connection timeout';
      session.destroy();
    }, this.target.connectTimeoutMs);
    settingsTimer.unref();
    session.on('remoteSettings', (settings) => {
      if (settingsTimer !== undefined) clearTimeout(settingsTimer);
      settingsTimer = undefined;
      const remote = settings.maxConcurrentStreams ?? DEFAULT_MAX_STREAMS;
      client.limit = Math.min(this.maxStreams, remote);
      if (client.state === 'connecting') {
        client.state = 'ready';
        client.remaining = this.maxRequests;
        this.idle(client);
      }
      if (client.state === 'ready') this.dispatchPending();
    });
    const gone = () => {
      if (settingsTimer !== undefined) clearTimeout(settingsTimer);
      settingsTimer = undefined;
      if (!this.clients.delete(client)) return;
      this.resources.connections.dec();
      this.events.onConnectionClose();
      const wasConnecting = client.state === 'connecting';
      client.state = 'draining';
      if (wasConnecting && !this.closed) {
        this.failPending(failReason);
        return;
      }
      // A connection slot is free: the waiting requests may get a session now.
      this.dispatchPending();
    };
    session.on('error', () => undefined);
    // GOAWAY: node closes the session gracefully (its streams finish); the pool stops using it but
    // counts it until it closes, and opens another for the waiting requests.
    session.on('goaway', () => this.startDrain(client));
    session.on('close', gone);
    // An idle session must not keep the process alive (tests and drains close it explicitly).
    session.unref();
  }

  private startDrain(client: H2Client): void {
    if (client.state === 'draining') return;
    const wasConnecting = client.state === 'connecting';
    client.state = 'draining';
    if (client.session !== undefined && !client.session.closed) client.session.close();
    if (wasConnecting) this.failPending('connection failure');
    else this.dispatchPending();
  }

  private attach(client: H2Client, ex: H2Exchange): void {
    client.active++;
    client.remaining--;
    const session = client.session as http2.ClientHttp2Session;
    if (client.remaining <= 0) {
      // max_requests_per_connection: this is the session's last stream; it drains after it.
      this.events.onMaxRequests?.();
      client.state = 'draining';
    }
    ex.start(session, () => {
      client.active--;
      if (client.state === 'draining') {
        if (client.active === 0 && !session.closed) session.close();
      } else {
        if (client.active === 0) this.idle(client);
        this.dispatchPending();
      }
    });
  }

  /**
   * A ready session has no stream: it closes after `idle_timeout` unless a stream comes. No timer
   * per stream: idle sessions are swept once a second (as the HTTP/1.1 pool does).
   */
  private idle(client: H2Client): void {
    if (this.idleTimeoutMs <= 0) return;
    client.idleSince = Date.now();
    if (this.sweepTimer !== undefined) return;
    this.sweepTimer = setInterval(() => this.sweepIdle(), Math.min(1000, this.idleTimeoutMs));
    this.sweepTimer.unref();
  }

  private sweepIdle(): void {
    const cutoff = Date.now() - this.idleTimeoutMs;
    let idle = 0;
    for (const c of [...this.clients]) {
      if (c.state !== 'ready' || c.active > 0) continue;
      if (c.idleSince <= cutoff) {
        this.events.onIdleTimeout?.();
        this.startDrain(c);
      } else idle++;
    }
    if (idle === 0) this.stopSweep();
  }

  private stopSweep(): void {
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  /** Closes the sessions once their streams finish. */
  drain(): void {
    for (const c of [...this.clients]) {
      if (c.state === 'ready') this.startDrain(c);
    }
  }

  /** Closes every session now and fails waiting requests. */
  close(): void {
    this.closed = true;
    this.stopSweep();
    for (const c of [...this.clients]) c.session?.destroy();
    this.failPending('connection failure');
  }
}

class H2Exchange implements UpstreamRequest {
  private stream: http2.ClientHttp2Stream | undefined;
  private finished = false;
  private headersReceived = false;
  private trailers: HeaderList | undefined;
  private queued: Buffer[] = [];
  private endPending: { trailers?: HeaderList | undefined } | undefined;
  /** Queued in the pool for a stream (holding a pending-request slot). */
  waiting = false;

  constructor(
    private readonly request: H2OutgoingRequest,
    private readonly callbacks: UpstreamCallbacks,
    private readonly pool: H2Pool,
  ) {}

  /** Opens the stream on `session`; `done` runs once when the stream is over (its slot is free). */
  start(session: http2.ClientHttp2Session, done: () => void): void {
    if (this.finished) {
      done();
      return;
    }
    const r = this.request;
    const headers = toH2Headers(r.headers, {
      ':method': r.method,
      ':path': r.path,
      ':authority': r.authority,
      ':scheme': r.scheme,
    });
    let stream: http2.ClientHttp2Stream;
    try {
      // Request trailers are only sent for gRPC-style requests (te: trailers); waiting for trailers on
      // every request would end plain bodies with an empty HEADERS frame.
      stream = session.request(headers, {
        endStream: r.endStream,
        waitForTrailers: !r.endStream && r.trailers,
      });
    } catch {
      done();
      this.connectFailed('connection failure');
      return;
    }
    this.stream = stream;
    stream.once('close', done);
    stream.on('headers', (h) => {
      if (Number(h[':status']) === 100) this.callbacks.onInformational(100);
    });
    stream.on('response', (h, flags) => {
      this.headersReceived = true;
      const status = Number(h[':status']);
      this.callbacks.onHeaders(
        status,
        fromH2Headers(h),
        (flags & http2.constants.NGHTTP2_FLAG_END_STREAM) !== 0,
      );
    });
    stream.on('data', (chunk: Buffer) =>
      guarded(
        'http2 upstream',
        () => this.callbacks.onData(chunk),
        () => stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
      ),
    );
    stream.on('trailers', (t) => {
      this.trailers = fromH2Headers(t);
    });
    stream.on('end', () => {
      if (this.finished) return;
      if (!this.headersReceived) return;
      this.finished = true;
      this.callbacks.onEnd(this.trailers);
    });
    stream.on('wantTrailers', () => {
      const t = this.endPending?.trailers;
      try {
        stream.sendTrailers(t === undefined ? {} : toH2Headers(t, {}));
      } catch {
        stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
      }
    });
    stream.on('drain', () => this.callbacks.onDrain());
    stream.on('error', () => undefined);
    stream.on('close', () => {
      if (this.finished) return;
      this.finished = true;
      const code = stream.rstCode;
      const reason =
        code === http2.constants.NGHTTP2_REFUSED_STREAM
          ? 'remote refused stream reset'
          : code === http2.constants.NGHTTP2_NO_ERROR
            ? 'connection termination'
            : 'remote reset';
      this.callbacks.onReset(reason, !this.headersReceived);
    });
    for (const chunk of this.queued) stream.write(chunk);
    this.queued = [];
    if (this.endPending !== undefined) stream.end();
  }

  writeData(chunk: Buffer): boolean {
    if (this.finished) return true;
    if (this.stream === undefined) {
      this.queued.push(chunk);
      return true;
    }
    return this.stream.write(chunk);
  }

  end(trailers?: HeaderList): void {
    if (this.finished || this.endPending !== undefined || this.request.endStream) return;
    this.endPending = { trailers };
    this.stream?.end();
  }

  abort(): void {
    if (this.finished) return;
    this.finished = true;
    if (this.waiting) this.pool.cancel(this);
    this.stream?.close(http2.constants.NGHTTP2_CANCEL);
  }

  pauseResponse(): void {
    this.stream?.pause();
  }

  resumeResponse(): void {
    this.stream?.resume();
  }

  connectFailed(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    this.callbacks.onReset(reason, true);
  }
}
