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
import { type ConnectFailure, type ConnectTarget, openConnection } from './connect.js';
import { guarded } from './guard.js';
import { CRLF, chunkHeader, encodeRequestHead, LAST_CHUNK, lastChunkWithTrailers } from './h1-encode.js';
import { type H1Handler, H1Parser, type H1ResponseHead } from './h1-parser.js';
import type { HeaderList } from './headers.js';
import type { UpstreamCallbacks, UpstreamRequest } from './stream.js';

/** Connection lifecycle hooks, wired by the engine to the cluster's and host's stats. */
export interface PoolEvents {
  onConnectionOpen(): void;
  onConnectionClose(): void;
  /** `detail` says why (`connect timeout`, `connect ECONNREFUSED ...`). */
  onConnectFailure(kind: ConnectFailure, detail?: string): void;
  /** A request could not even queue (pending limit): Envoy's upstream_rq_pending_overflow. */
  onPendingOverflow(): void;
}

/** Pool limits. */
export interface H1PoolOptions {
  readonly target: ConnectTarget;
  /** Most open connections to the host. @default - 1024 (Envoy's max_connections) */
  readonly maxConnections?: number;
  /** Most requests waiting for a connection. @default - 1024 (Envoy's max_pending_requests) */
  readonly maxPending?: number;
  /** Close a connection idle this long. @default - 1 hour (Envoy's upstream idle_timeout) */
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

class H1Connection implements H1Handler<H1ResponseHead> {
  readonly parser: H1Parser<H1ResponseHead>;
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
    socket.on('data', (data: Buffer) => {
      const ex = this.exchange;
      if (ex === undefined) {
        // Bytes on an idle connection are a protocol violation; the socket cannot be reused.
        socket.destroy();
        return;
      }
      ex.gotBytes = true;
      guarded(
        'http1 upstream',
        () => {
          const error = this.parser.execute(data);
          if (error !== undefined) ex.fail('protocol error');
        },
        () => socket.destroy(),
      );
    });
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.exchange?.callbacks.onDrain());
  }

  onHead(head: H1ResponseHead): void {
    this.exchange?.onHead(head);
  }
  onBody(chunk: Buffer): void {
    this.exchange?.callbacks.onData(chunk);
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
  private queued: (Buffer | string)[] = [];
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
    if (this.queued.length === 0) {
      // One plain write: cork/uncork for a single chunk would go through the writev path.
      socket.write(head, 'latin1');
    } else {
      socket.cork();
      socket.write(head, 'latin1');
      for (const piece of this.queued) socket.write(piece);
      socket.uncork();
    }
    const hadQueued = this.queued.length > 0;
    this.queued = [];
    if (hadQueued) this.callbacks.onDrain();
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
      const rest = conn.parser.takeUpgradeBytes();
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
  private readonly pending: H1Exchange[] = [];
  private open = 0;
  private connecting = 0;
  private closed = false;
  private readonly maxConnections: number;
  private readonly maxPending: number;
  private readonly idleTimeoutMs: number;
  private readonly maxRequestsPerConnection: number;

  constructor(private readonly options: H1PoolOptions) {
    this.maxConnections = options.maxConnections ?? 1024;
    this.maxPending = options.maxPending ?? 1024;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 3_600_000;
    this.maxRequestsPerConnection = options.maxRequestsPerConnection ?? 0;
  }

  /** Open connections (busy + idle). */
  get connections(): number {
    return this.open;
  }

  /** Starts a request; the callbacks report its outcome. */
  request(request: H1OutgoingRequest, callbacks: UpstreamCallbacks): UpstreamRequest {
    const exchange = new H1Exchange(this, request, callbacks);
    this.dispatch(exchange, false);
    return exchange;
  }

  /** @internal Attaches `exchange` to an idle connection, a new one, or the queue. */
  dispatch(exchange: H1Exchange, fresh: boolean): void {
    if (this.closed) {
      exchange.connectFailed('error');
      return;
    }
    if (!fresh) {
      for (;;) {
        const conn = this.idleConns.pop();
        if (conn === undefined) break;
        if (conn.closed) continue;
        exchange.attach(conn);
        return;
      }
    }
    if (this.open + this.connecting < this.maxConnections) {
      this.connect(exchange);
      return;
    }
    if (this.pending.length >= this.maxPending) {
      this.options.events.onPendingOverflow();
      exchange.finished = true;
      exchange.callbacks.onReset('overflow', true);
      return;
    }
    this.pending.push(exchange);
  }

  private connect(exchange: H1Exchange | undefined): void {
    this.connecting++;
    openConnection(this.options.target, (error, socket, detail) => {
      this.connecting--;
      if (error !== undefined || socket === undefined) {
        this.options.events.onConnectFailure(error ?? 'error', detail);
        exchange?.connectFailed(error ?? 'error');
        // Waiting requests would hit the same failure; fail them now rather than time out.
        if (exchange !== undefined) {
          for (const waiting of this.pending.splice(0)) waiting.connectFailed(error ?? 'error');
        }
        return;
      }
      if (this.closed) {
        socket.destroy();
        exchange?.connectFailed('error');
        return;
      }
      this.open++;
      this.options.events.onConnectionOpen();
      const conn = new H1Connection(this, socket);
      if (exchange !== undefined && !exchange.finished) exchange.attach(conn);
      else this.idle(conn);
    });
  }

  /** Takes over an already connected socket (the ALPN probe of an auto_config cluster). */
  adopt(socket: net.Socket): void {
    if (this.closed) {
      socket.destroy();
      return;
    }
    this.open++;
    this.options.events.onConnectionOpen();
    this.idle(new H1Connection(this, socket));
  }

  /** @internal Returns a connection that finished a request. */
  idle(conn: H1Connection): void {
    if (this.maxRequestsPerConnection > 0 && conn.requests >= this.maxRequestsPerConnection) {
      conn.socket.destroy();
      return;
    }
    const next = this.pending.shift();
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
    if (this.sweepTimer === undefined) {
      this.sweepTimer = setInterval(() => this.sweepIdle(), Math.min(1000, this.idleTimeoutMs));
      this.sweepTimer.unref();
    }
    this.idleConns.push(conn);
  }

  private sweepTimer: NodeJS.Timeout | undefined;

  /** Closes connections idle longer than the idle timeout; stops sweeping when none is idle. */
  private sweepIdle(): void {
    const cutoff = Date.now() - this.idleTimeoutMs;
    for (const conn of [...this.idleConns]) if (conn.idleSince <= cutoff) conn.socket.destroy();
    if (this.idleConns.length === 0 && this.sweepTimer !== undefined) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }

  /** @internal A connection closed: stop tracking it. */
  forget(conn: H1Connection): void {
    this.open--;
    this.options.events.onConnectionClose();
    const i = this.idleConns.indexOf(conn);
    if (i >= 0) this.idleConns.splice(i, 1);
    // A slot freed up: start a connection for the oldest waiting request.
    if (this.pending.length > 0 && !this.closed && this.open + this.connecting < this.maxConnections) {
      this.connect(this.pending.shift());
    }
  }

  /** @internal An upgraded connection leaves the pool (it is a tunnel now). */
  detach(): void {
    this.open--;
    this.options.events.onConnectionClose();
  }

  /** @internal Drops a waiting request (it was aborted). */
  dequeue(exchange: H1Exchange): void {
    const i = this.pending.indexOf(exchange);
    if (i >= 0) this.pending.splice(i, 1);
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
    for (const waiting of this.pending.splice(0)) waiting.connectFailed('error');
    for (const conn of this.idleConns.splice(0)) conn.socket.destroy();
  }
}
