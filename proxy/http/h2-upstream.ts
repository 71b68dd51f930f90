/**
 * HTTP/2 upstream for one host: a single session multiplexing every request (h2c prior knowledge,
 * or TLS with ALPN h2), reopened when the upstream closes or sends GOAWAY.
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

type Waiter = (session: http2.ClientHttp2Session | undefined, reason: string) => void;

/**
 * One multiplexed HTTP/2 session to one upstream host. The cluster's circuit breakers apply as in
 * Envoy: the session holds a `max_connections` resource (the host's only connection is opened even
 * at the limit, counting upstream_cx_overflow), requests waiting for the session to connect hold a
 * `max_pending_requests` one, and `max_requests` bounds the streams (the connection manager takes
 * it per request).
 */
export class H2Pool {
  private session: http2.ClientHttp2Session | undefined;
  private waiters: Waiter[] = [];
  private connecting = false;
  private closed = false;
  private readonly resources: PoolResources;

  /** @param resources the cluster's circuit breakers @default - limits of this pool alone */
  constructor(
    private readonly target: ConnectTarget,
    private readonly events: PoolEvents,
    resources?: PoolResources,
  ) {
    this.resources = resources ?? localResources();
  }

  /** Open sessions (0 or 1). */
  get connections(): number {
    return this.session === undefined ? 0 : 1;
  }

  /** Starts a request on the shared session. */
  request(request: H2OutgoingRequest, callbacks: UpstreamCallbacks): UpstreamRequest {
    const ex = new H2Exchange(request, callbacks);
    this.withSession((session, reason) => {
      if (session === undefined) ex.connectFailed(reason);
      else ex.start(session);
    });
    return ex;
  }

  private withSession(waiter: Waiter): void {
    if (this.closed) {
      waiter(undefined, 'connection failure');
      return;
    }
    const s = this.session;
    if (s !== undefined && !s.closed && !s.destroyed) {
      waiter(s, '');
      return;
    }
    const pending = this.resources.pendingRequests;
    if (!pending.canCreate()) {
      this.events.onPendingOverflow();
      waiter(undefined, 'overflow');
      return;
    }
    pending.inc();
    this.events.onPendingChange?.(1);
    this.waiters.push(waiter);
    if (this.connecting) return;
    this.connecting = true;
    this.takeConnection();
    const target: ConnectTarget =
      this.target.tls === undefined
        ? this.target
        : { ...this.target, tls: { ...this.target.tls, alpn: ['h2'] } };
    openConnection(target, (error, socket, detail) => {
      this.connecting = false;
      const waiters = this.waiters.splice(0);
      for (let i = 0; i < waiters.length; i++) {
        pending.dec();
        this.events.onPendingChange?.(-1);
      }
      if (error !== undefined || socket === undefined) {
        this.resources.connections.dec();
        this.events.onConnectFailure(error ?? 'error', detail);
        const reason = error === 'timeout' ? 'connection timeout' : 'connection failure';
        for (const w of waiters) w(undefined, reason);
        return;
      }
      if (this.closed) {
        this.resources.connections.dec();
        socket.destroy();
        for (const w of waiters) w(undefined, 'connection failure');
        return;
      }
      const session = this.open(socket);
      for (const w of waiters) w(session, '');
    });
  }

  /** Takes over an already connected socket that negotiated h2 (auto_config's ALPN probe). */
  adopt(socket: net.Socket): void {
    if (this.closed || (this.session !== undefined && !this.session.destroyed)) {
      socket.destroy();
      return;
    }
    this.takeConnection();
    this.open(socket);
  }

  /**
   * Takes the connection resource for the host's session. The session is the host's only
   * connection, which Envoy opens even at `max_connections` (counting the overflow) so that the
   * host's requests are not left waiting for nothing.
   */
  private takeConnection(): void {
    const connections = this.resources.connections;
    if (!connections.canCreate()) this.events.onConnectionOverflow?.();
    connections.inc();
  }

  private open(socket: net.Socket): http2.ClientHttp2Session {
    const session = http2.connect(upstreamUrl(this.target, this.target.tls !== undefined), {
      createConnection: () => socket,
    });
    this.session = session;
    this.events.onConnectionOpen();
    let counted = true;
    const gone = () => {
      if (this.session === session) this.session = undefined;
      if (counted) {
        counted = false;
        this.resources.connections.dec();
        this.events.onConnectionClose();
      }
    };
    session.on('error', () => gone());
    session.on('goaway', () => gone());
    session.on('close', () => gone());
    // An idle session must not keep the process alive (tests and drains close it explicitly).
    session.unref();
    return session;
  }

  /** Closes the session once its streams finish. */
  drain(): void {
    this.session?.close();
  }

  /** Closes the session now. */
  close(): void {
    this.closed = true;
    this.session?.destroy();
    this.session = undefined;
    for (const w of this.waiters.splice(0)) {
      this.resources.pendingRequests.dec();
      this.events.onPendingChange?.(-1);
      w(undefined, 'connection failure');
    }
  }
}

class H2Exchange implements UpstreamRequest {
  private stream: http2.ClientHttp2Stream | undefined;
  private finished = false;
  private headersReceived = false;
  private trailers: HeaderList | undefined;
  private queued: Buffer[] = [];
  private endPending: { trailers?: HeaderList | undefined } | undefined;

  constructor(
    private readonly request: H2OutgoingRequest,
    private readonly callbacks: UpstreamCallbacks,
  ) {}

  start(session: http2.ClientHttp2Session): void {
    if (this.finished) return;
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
      this.connectFailed('connection failure');
      return;
    }
    this.stream = stream;
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
