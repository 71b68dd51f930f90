/**
 * HTTP/1.1 upstream connection pool for one host: keep-alive sockets reused last-in-first-out (a
 * warm socket is the likeliest to still be open), a cap on connections with a bounded queue of
 * waiting requests, and one request per connection at a time (no upstream pipelining, as Envoy).
 *
 * A request that was written on a REUSED connection which then closes before any response byte
 * (the upstream timed the idle socket out just as we wrote) is replayed once on a fresh
 * connection when it had no body: that race is not an upstream failure and Envoy hides it too.
 */
import type net from 'node:net';
import {
  type ConnectFailure,
  type ConnectTarget,
  isRawRead,
  openRawReadConnection,
  type RawReader,
  setRawReader,
} from './connect.js';
import { reportInternalError } from './guard.js';
import { CRLF, chunkHeader, encodeRequestHead, LAST_CHUNK, lastChunkWithTrailers } from './h1-encode.js';
import { type H1Handler, H1Parser, type H1ResponseHead } from './h1-parser.js';
import type { HeaderList } from './headers.js';
import { enterRead, exitRead } from './read-scope.js';
import type { UpstreamCallbacks, UpstreamRequest } from './stream.js';

/** Connection lifecycle hooks, wired by the engine to the cluster's and host's stats. */
export interface PoolEvents {
  onConnectionOpen(): void;
  onConnectionClose(): void;
  /** `detail` says why (`connect timeout`, `connect ECONNREFUSED ...`). */
  onConnectFailure(kind: ConnectFailure, detail?: string): void;
  /** A request could not even queue (pending limit): Envoy's upstream_rq_pending_overflow. */
  onPendingOverflow(): void;
  /**
   * A connection was wanted but `max_connections` was reached: Envoy's upstream_cx_overflow (the
   * connection is still opened when the pool has none, see {@link PoolResources}).
   */
  onConnectionOverflow?(): void;
  /** A request started (+1) or stopped (-1) waiting for a connection: upstream_rq_pending_*. */
  onPendingChange?(delta: 1 | -1): void;
  /** A request waiting for a connection or stream was cancelled: Envoy's upstream_rq_cancelled. */
  onPendingCancel?(): void;
  /** A connection had nothing to do for `idle_timeout` and closes: upstream_cx_idle_timeout. */
  onIdleTimeout?(): void;
}

/** One limited resource (the cluster's `ResourceLimit` in proxy/upstream/circuit-breaker.ts). */
export interface PoolResource {
  canCreate(): boolean;
  inc(): void;
  dec(): void;
}

/**
 * The circuit breakers a pool obeys: Envoy's resource manager of the pool's cluster and priority,
 * shared by the pools of every host of the cluster, so the limits hold cluster-wide.
 *
 * - `connections` (max_connections) is taken from the start of a connect to the close. At the limit
 *   no connection is opened (upstream_cx_overflow) and requests wait for one of the pool's
 *   connections, except that a pool with no connection at all still opens one, as Envoy does:
 *   otherwise its waiting requests would have nothing to wait for.
 * - `pendingRequests` (max_pending_requests) is held by each request waiting for a connection; a
 *   request that would exceed it fails at once with reset reason `overflow` (503 UO).
 */
export interface PoolResources {
  readonly connections: PoolResource;
  readonly pendingRequests: PoolResource;
}

/** A counter standing in for a cluster limit when a pool is used on its own. */
class LocalLimit implements PoolResource {
  private count = 0;
  constructor(private readonly max: number) {}
  canCreate(): boolean {
    return this.count < this.max;
  }
  inc(): void {
    this.count++;
  }
  dec(): void {
    if (this.count > 0) this.count--;
  }
}

/** Limits private to one pool (a pool used without a cluster), at Envoy's defaults unless given. */
export function localResources(maxConnections = 1024, maxPending = 1024): PoolResources {
  return { connections: new LocalLimit(maxConnections), pendingRequests: new LocalLimit(maxPending) };
}

/** Pool limits. */
export interface H1PoolOptions {
  readonly target: ConnectTarget;
  /**
   * The cluster's circuit breakers, shared with the other hosts' pools.
   * @default - limits of this pool alone: `maxConnections` / `maxPending`
   */
  readonly resources?: PoolResources;
  /** Most open connections when `resources` is not given. @default - 1024 (Envoy's max_connections) */
  readonly maxConnections?: number;
  /** Most waiting requests when `resources` is not given. @default - 1024 (Envoy's max_pending_requests) */
  readonly maxPending?: number;
  /** Close a connection idle this long (0: never, as Envoy). @default - 1 hour (Envoy's upstream idle_timeout) */
  readonly idleTimeoutMs?: number;
  /** Requests per connection before it is closed. @default - unlimited */
  readonly maxRequestsPerConnection?: number;
  readonly events: PoolEvents;
}

/** The request head an HTTP/1 upstream gets; `headers` already include `host`. */
export interface H1OutgoingRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderList;
  /** `length` (content-length kept in headers), `chunked` (we frame it) or `none`. */
  readonly body: 'none' | 'length' | 'chunked';
  /** Keep the `upgrade`/`connection: upgrade` headers (WebSocket). */
  readonly upgrade: boolean;
}

class H1Connection implements H1Handler<H1ResponseHead>, RawReader {
  readonly parser: H1Parser<H1ResponseHead>;
  /** Raw reads (see connect.ts): input is a view of a shared buffer, copied where it is kept. */
  private readonly raw: boolean;
  exchange: H1Exchange | undefined;
  requests = 0;
  /** When the connection last became idle (epoch ms), for the pool's idle sweep. */
  idleSince = 0;
  closed = false;

  constructor(
    readonly pool: H1Pool,
    readonly socket: net.Socket,
  ) {
    this.parser = new H1Parser('response', this);
    this.raw = isRawRead(socket);
    if (this.raw) setRawReader(socket, this);
    else socket.on('data', (data: Buffer) => this.onRawRead(data));
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.exchange?.callbacks.onDrain());
  }

  onHead(head: H1ResponseHead): void {
    this.exchange?.onHead(head);
  }
  /** Bytes from the upstream (a 'data' event, or a raw read valid during the call only). */
  onRawRead(data: Buffer): void {
    const ex = this.exchange;
    if (ex === undefined) {
      // Bytes on an idle connection are a protocol violation; the socket cannot be reused.
      this.socket.destroy();
      return;
    }
    ex.gotBytes = true;
    // Inline try/catch rather than guarded(): no two closures per read on the hot path.
    enterRead();
    try {
      const error = this.parser.execute(data);
      if (error !== undefined) ex.fail('protocol error');
      else if (this.raw) this.parser.ownBuffered();
    } catch (error) {
      reportInternalError('http1 upstream', error);
      this.socket.destroy();
    } finally {
      exitRead();
    }
  }

  onBody(chunk: Buffer): void {
    // A raw read's bytes are reused by the next read: the body leaves as a copy.
    this.exchange?.callbacks.onData(this.raw ? Buffer.from(chunk) : chunk);
  }
  onTrailers(trailers: HeaderList): void {
    if (this.exchange !== undefined) this.exchange.trailers = trailers;
  }
  onComplete(): void {
    this.exchange?.onComplete();
  }

  private onClose(): void {
    this.closed = true;
    this.pool.forget(this);
    const ex = this.exchange;
    if (ex !== undefined) {
      // A close-delimited body ends here; anything else was cut short.
      const error = this.parser.finish();
      if (this.exchange === ex) {
        if (error === undefined && ex.responseDone) return;
        ex.onConnectionLost();
      }
    }
  }
}

class H1Exchange implements UpstreamRequest {
  conn: H1Connection | undefined;
  gotBytes = false;
  headersReceived = false;
  responseDone = false;
  requestDone = false;
  finished = false;
  trailers: HeaderList | undefined;
  private keepAlive = true;
  /** Body pieces written before a connection was attached (allocated only then). */
  private queued: (Buffer | string)[] | undefined;
  private replayed = false;
  private upgraded = false;

  constructor(
    readonly pool: H1Pool,
    readonly request: H1OutgoingRequest,
    readonly callbacks: UpstreamCallbacks,
  ) {
    if (request.body === 'none') this.requestDone = true;
  }

  attach(conn: H1Connection): void {
    this.conn = conn;
    conn.exchange = this;
    conn.requests++;
    conn.parser.expectNoBody = this.request.method === 'HEAD';
    const { socket } = conn;
    const head = encodeRequestHead(this.request.method, this.request.path, this.request.headers);
    const queued = this.queued;
    if (queued === undefined) {
      // One plain write: cork/uncork for a single chunk would go through the writev path.
      socket.write(head, 'latin1');
      return;
    }
    this.queued = undefined;
    socket.cork();
    socket.write(head, 'latin1');
    for (const piece of queued) socket.write(piece);
    socket.uncork();
    this.callbacks.onDrain();
  }

  writeData(chunk: Buffer): boolean {
    if (this.finished || chunk.length === 0) return true;
    if (this.request.body === 'chunked') {
      // Every piece must be written (or queued) whatever the backpressure: no short-circuit.
      this.write(chunkHeader(chunk.length));
      this.write(chunk);
      return this.write(CRLF);
    }
    return this.write(chunk);
  }

  end(trailers?: HeaderList): void {
    if (this.finished || this.requestDone) return;
    this.requestDone = true;
    if (this.request.body === 'chunked') {
      this.write(
        trailers !== undefined && trailers.length > 0 ? lastChunkWithTrailers(trailers) : LAST_CHUNK,
      );
    }
    if (this.responseDone) this.release();
  }

  abort(): void {
    if (this.finished) return;
    this.finished = true;
    this.pool.dequeue(this);
    const conn = this.conn;
    if (conn !== undefined) {
      conn.exchange = undefined;
      conn.socket.destroy();
    }
  }

  pauseResponse(): void {
    this.conn?.socket.pause();
  }

  resumeResponse(): void {
    this.conn?.socket.resume();
  }

  private write(piece: Buffer | string): boolean {
    const conn = this.conn;
    if (conn === undefined) {
      if (this.queued === undefined) this.queued = [];
      this.queued.push(piece);
      return false;
    }
    return typeof piece === 'string' ? conn.socket.write(piece, 'latin1') : conn.socket.write(piece);
  }

  onHead(head: H1ResponseHead): void {
    if (this.finished) return;
    if (head.status === 101) {
      if (!this.request.upgrade) {
        this.fail('protocol error');
        return;
      }
      const conn = this.conn as H1Connection;
      this.finished = true;
      this.upgraded = true;
      conn.exchange = undefined;
      // A copy: after a raw read the parser's bytes are a view of the shared read buffer.
      const rest = Buffer.from(conn.parser.takeUpgradeBytes());
      setRawReader(conn.socket, null);
      conn.socket.removeAllListeners('data');
      conn.socket.removeAllListeners('close');
      conn.socket.removeAllListeners('drain');
      this.pool.detach();
      this.callbacks.onUpgrade(head.headers, conn.socket, rest);
      return;
    }
    if (head.status < 200) {
      if (head.status === 100) this.callbacks.onInformational(100);
      return;
    }
    this.headersReceived = true;
    this.keepAlive = head.keepAlive;
    this.callbacks.onHeaders(head.status, head.headers, head.bodyKind === 'none');
  }

  onComplete(): void {
    if (this.finished || this.upgraded) return;
    this.responseDone = true;
    this.finished = true;
    const trailers = this.trailers;
    if (this.requestDone) this.release();
    this.callbacks.onEnd(trailers);
  }

  private release(): void {
    const conn = this.conn;
    if (conn === undefined || conn.exchange !== this) return;
    conn.exchange = undefined;
    if (!this.keepAlive || !this.requestDone || conn.closed) {
      conn.socket.destroy();
      return;
    }
    const resumeError = conn.parser.resume();
    if (resumeError !== undefined || !conn.parser.idle) {
      conn.socket.destroy();
      return;
    }
    conn.socket.resume();
    this.pool.idle(conn);
  }

  fail(reason: string): void {
    if (this.finished) return;
    this.finished = true;
    const conn = this.conn;
    if (conn !== undefined) {
      conn.exchange = undefined;
      conn.socket.destroy();
    }
    this.callbacks.onReset(reason, !this.headersReceived);
  }

  onConnectionLost(): void {
    if (this.finished) return;
    const conn = this.conn as H1Connection;
    conn.exchange = undefined;
    if (!this.gotBytes && conn.requests > 1 && this.request.body === 'none' && !this.replayed) {
      this.replayed = true;
      this.conn = undefined;
      this.pool.dispatch(this, true);
      return;
    }
    this.finished = true;
    this.callbacks.onReset('connection termination', !this.headersReceived);
  }

  connectFailed(kind: ConnectFailure): void {
    if (this.finished) return;
    this.finished = true;
    this.callbacks.onReset(kind === 'timeout' ? 'connection timeout' : 'connection failure', true);
  }
}

/** An HTTP/1.1 connection pool to one upstream host. */
export class H1Pool {
  private readonly idleConns: H1Connection[] = [];
  /** Requests waiting for a connection, oldest first. */
  private readonly pending: H1Exchange[] = [];
  private open = 0;
  private connecting = 0;
  private closed = false;
  private readonly resources: PoolResources;
  private readonly events: PoolEvents;
  private readonly idleTimeoutMs: number;
  private readonly maxRequestsPerConnection: number;

  constructor(private readonly options: H1PoolOptions) {
    this.resources = options.resources ?? localResources(options.maxConnections, options.maxPending);
    this.events = options.events;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 3_600_000;
    this.maxRequestsPerConnection = options.maxRequestsPerConnection ?? 0;
  }

  /** Open connections (busy + idle). */
  get connections(): number {
    return this.open;
  }

  /** Requests waiting for a connection. */
  get waiting(): number {
    return this.pending.length;
  }

  /** Starts a request; the callbacks report its outcome. */
  request(request: H1OutgoingRequest, callbacks: UpstreamCallbacks): UpstreamRequest {
    const exchange = new H1Exchange(this, request, callbacks);
    this.dispatch(exchange, false);
    return exchange;
  }

  /**
   * @internal Attaches `exchange` to an idle connection, else queues it (Envoy's pending request)
   * and opens connections for the queue as the limits allow. A `fresh` exchange is a replay after a
   * reused connection died under it: it prefers a new connection to the idle ones (as old as the
   * one that died), skips the pending limit (it is not a new request) and goes first.
   */
  dispatch(exchange: H1Exchange, fresh: boolean): void {
    if (this.closed) {
      exchange.connectFailed('error');
      return;
    }
    if (!fresh || !this.resources.connections.canCreate()) {
      for (;;) {
        const conn = this.idleConns.pop();
        if (conn === undefined) break;
        if (conn.closed) continue;
        exchange.attach(conn);
        return;
      }
    }
    if (fresh) this.pending.unshift(exchange);
    else if (this.resources.pendingRequests.canCreate()) this.pending.push(exchange);
    else {
      this.events.onPendingOverflow();
      exchange.finished = true;
      exchange.callbacks.onReset('overflow', true);
      return;
    }
    this.resources.pendingRequests.inc();
    this.events.onPendingChange?.(1);
    this.connectForPending();
  }

  /** Removes the oldest waiting request from the queue (it gets a connection or fails). */
  private takePending(): H1Exchange | undefined {
    const next = this.pending.shift();
    if (next !== undefined) {
      this.resources.pendingRequests.dec();
      this.events.onPendingChange?.(-1);
    }
    return next;
  }

  /**
   * Opens connections while more requests wait than connections are being opened (one request per
   * HTTP/1.1 connection), at most three at a time, as Envoy's pool does. At `max_connections` it
   * counts upstream_cx_overflow and stops, unless this pool has no connection at all: its waiting
   * requests would then have nothing to wait for.
   */
  private connectForPending(): void {
    for (let i = 0; i < 3 && this.pending.length > this.connecting; i++) {
      const allowed = this.resources.connections.canCreate();
      if (!allowed) {
        this.events.onConnectionOverflow?.();
        if (this.open + this.connecting > 0) return;
      }
      this.connect();
      if (!allowed) return;
    }
  }

  private connect(): void {
    this.connecting++;
    this.resources.connections.inc();
    // Raw reads: no allocation and stream machinery per upstream read (connect.ts).
    openRawReadConnection(this.options.target, (error, socket, detail) => {
      this.connecting--;
      if (error !== undefined || socket === undefined) {
        this.resources.connections.dec();
        this.events.onConnectFailure(error ?? 'error', detail);
        // As Envoy: waiting requests would hit the same failure; fail them now rather than time out.
        for (;;) {
          const waiting = this.takePending();
          if (waiting === undefined) break;
          waiting.connectFailed(error ?? 'error');
        }
        return;
      }
      if (this.closed) {
        this.resources.connections.dec();
        socket.destroy();
        return;
      }
      this.open++;
      this.events.onConnectionOpen();
      this.idle(new H1Connection(this, socket));
    });
  }

  /** Takes over an already connected socket (the ALPN probe of an auto_config cluster). */
  adopt(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    // The probe is the host's first connection, which Envoy opens even at the limit.
    if (!this.resources.connections.canCreate()) this.events.onConnectionOverflow?.();
    this.resources.connections.inc();
    this.open++;
    this.events.onConnectionOpen();
    this.idle(new H1Connection(this, socket));
  }

  /** @internal Returns a connection that finished a request (or just connected). */
  idle(conn: H1Connection): void {
    if (this.maxRequestsPerConnection > 0 && conn.requests >= this.maxRequestsPerConnection) {
      conn.socket.destroy();
      return;
    }
    const next = this.takePending();
    if (next !== undefined) {
      next.attach(conn);
      return;
    }
    if (this.closed) {
      conn.socket.destroy();
      return;
    }
    // No timer per request: idle connections are swept once a second (see sweepIdle).
    conn.idleSince = Date.now();
    if (this.sweepTimer === undefined && this.idleTimeoutMs > 0) {
      this.sweepTimer = setInterval(() => this.sweepIdle(), Math.min(1000, this.idleTimeoutMs));
      this.sweepTimer.unref();
    }
    this.idleConns.push(conn);
  }

  private sweepTimer: NodeJS.Timeout | undefined;

  /** Closes connections idle longer than the idle timeout; stops sweeping when none is idle. */
  private sweepIdle(): void {
    const cutoff = Date.now() - this.idleTimeoutMs;
    for (const conn of [...this.idleConns]) {
      if (conn.idleSince > cutoff) continue;
      this.events.onIdleTimeout?.();
      conn.socket.destroy();
    }
    if (this.idleConns.length === 0 && this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** @internal A connection closed: stop tracking it. */
  forget(conn: H1Connection): void {
    this.open--;
    this.resources.connections.dec();
    this.events.onConnectionClose();
    const i = this.idleConns.indexOf(conn);
    if (i >= 0) this.idleConns.splice(i, 1);
    // A slot freed up: open a connection for the waiting requests.
    if (this.pending.length > 0 && !this.closed) this.connectForPending();
  }

  /** @internal An upgraded connection leaves the pool (it is a tunnel now). */
  detach(): void {
    this.open--;
    this.resources.connections.dec();
    this.events.onConnectionClose();
  }

  /** @internal Drops a waiting request (it was aborted). */
  dequeue(exchange: H1Exchange): void {
    const i = this.pending.indexOf(exchange);
    if (i >= 0) {
      this.pending.splice(i, 1);
      this.resources.pendingRequests.dec();
      this.events.onPendingChange?.(-1);
      this.events.onPendingCancel?.();
    }
  }

  /** Closes idle connections now and busy ones as their requests finish. */
  drain(): void {
    for (const conn of this.idleConns.splice(0)) conn.socket.destroy();
  }

  /** Closes every connection and fails waiting requests. */
  close(): void {
    this.closed = true;
    if (this.sweepTimer !== undefined) clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
    for (;;) {
      const waiting = this.takePending();
      if (waiting === undefined) break;
      waiting.connectFailed('error');
    }
    for (const conn of this.idleConns.splice(0)) conn.socket.destroy();
  }
}
