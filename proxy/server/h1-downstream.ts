/**
 * The downstream HTTP/1.1 codec: one object per client connection, driving {@link H1Parser} over
 * the raw socket and writing responses by hand. Requests are handled strictly one at a time
 * (pipelined requests wait, parsed but undelivered, until the previous response is written), so
 * responses always go out in order and a request smuggled behind another is parsed as its own
 * request, with its own routing, never as part of the first one's body.
 */
import type net from 'node:net';
import { forwardSocket } from '../http/connect.js';
import { reportInternalError } from '../http/guard.js';
import {
  chunkHeader,
  encodeResponseHead,
  isHopByHop,
  LAST_CHUNK,
  lastChunkWithTrailers,
} from '../http/h1-encode.js';
import { type H1Handler, type H1ParseError, H1Parser, type H1RequestHead } from '../http/h1-parser.js';
import { getHeader, type HeaderList, removeHeader } from '../http/headers.js';
import { enterRead, epochNow, exitRead, holdUntilReadEnds } from '../http/read-scope.js';
import type { BodyFlow, RequestHead, ResponseSink } from '../http/stream.js';
import type { Expirable, Sweeper } from './sweeper.js';
import type { CodecTimeouts, ConnectionInfo, HttpStreamFactory, StreamHandle, UpgradeSink } from './types.js';

const CONTINUE = 'HTTP/1.1 100 Continue\r\n\r\n';
/** A terminated CONNECT has no upstream bytes read ahead of the tunnel. */
const EMPTY_REST = Buffer.alloc(0);

/** Per-connection limits from the HttpConnectionManager and listener config. */
export interface H1CodecOptions {
  /** max_request_headers_kb in bytes. */
  readonly maxHeaderBytes: number;
  /** common_http_protocol_options.max_headers_count. */
  readonly maxHeaderCount: number;
  /** http_protocol_options.accept_http_10. */
  readonly acceptHttp10: boolean;
  /**
   * http_protocol_options.default_host_for_http_10: the Host of an HTTP/1.0 request that has none.
   * @default - none: such a request gets 400, as in Envoy
   */
  readonly defaultHostForHttp10?: string;
  /** common_http_protocol_options.max_requests_per_connection (0 = unlimited). */
  readonly maxRequestsPerConnection: number;
  /** common_http_protocol_options.max_connection_duration (0 = unlimited). */
  readonly maxConnectionDurationMs: number;
  /** Listener per_connection_buffer_limit_bytes: unread backlog that pauses reading. */
  readonly bufferLimitBytes: number;
}

/** A downstream HTTP/1 connection. */
export class H1DownstreamConnection implements H1Handler<H1RequestHead>, Expirable, BodyFlow {
  private readonly parser: H1Parser<H1RequestHead>;
  private stream: H1ResponseSink | undefined;
  private handle: StreamHandle | undefined;
  private requestComplete = false;
  private closed = false;
  private draining = false;
  private upgraded = false;
  private readPaused = false;
  /** Sweeper deadline (epoch ms); see {@link expire}. */
  deadline = 0;
  /** The sweeper's slot (see Sweeper). */
  sweepSlot = -1;
  private deadlineKind: 'headers' | 'idle' = 'idle';

  constructor(
    readonly socket: net.Socket,
    readonly info: ConnectionInfo,
    private readonly factory: HttpStreamFactory,
    private readonly timeouts: CodecTimeouts,
    private readonly sweeper: Sweeper,
    private readonly options: H1CodecOptions,
    private readonly onGone: (conn: H1DownstreamConnection) => void,
    initial?: Buffer,
  ) {
    this.parser = new H1Parser('request', this, {
      maxHeaderBytes: options.maxHeaderBytes,
      maxHeaderCount: options.maxHeaderCount,
    });
    factory.onConnectionOpen('http1', info.tls);
    if (options.maxConnectionDurationMs > 0) {
      this.durationTimer = setTimeout(() => this.drain(), options.maxConnectionDurationMs);
      this.durationTimer.unref();
    }
    socket.setNoDelay(true);
    socket.on('data', (data: Buffer) => this.onSocketData(data));
    socket.on('error', () => undefined);
    socket.on('close', () => this.onClose());
    socket.on('drain', () => this.stream?.drained());
    this.armIdle();
    sweeper.add(this);
    if (initial !== undefined && initial.length > 0) this.onData(initial);
  }

  private armIdle(): void {
    this.deadlineKind = 'idle';
    this.deadline = this.timeouts.idleMs > 0 ? epochNow() + this.timeouts.idleMs : 0;
  }

  /** Called by the sweeper when a deadline passes. */
  expire(): void {
    if (this.closed) return;
    if (this.deadlineKind === 'headers') {
      // Slowloris: the head never completed. Envoy answers 408 and closes.
      this.sendCodecError(408, 'request headers timeout');
      return;
    }
    if (this.stream === undefined) this.socket.destroy();
  }

  private durationTimer: NodeJS.Timeout | undefined;
  private readonly opened = Date.now();
  private requests = 0;
  private backlogPaused = false;

  /** Inline try/catch rather than guarded(): no two closures per read on the hot path. */
  private onSocketData(data: Buffer): void {
    enterRead();
    try {
      this.onData(data);
    } catch (error) {
      reportInternalError('http1 downstream', error);
      this.socket.destroy();
    } finally {
      exitRead();
    }
  }

  private onData(data: Buffer): void {
    if (this.closed || this.upgraded) return;
    if (this.stream === undefined && this.deadlineKind === 'idle' && this.timeouts.requestHeadersMs > 0) {
      this.deadlineKind = 'headers';
      this.deadline = epochNow() + this.timeouts.requestHeadersMs;
    }
    this.runParser(data);
    // A client pipelining faster than we answer: stop reading past the buffer limit
    // (per_connection_buffer_limit_bytes) until the backlog is worked off.
    if (!this.backlogPaused && this.parser.bufferedBytes > this.options.bufferLimitBytes) {
      this.backlogPaused = true;
      this.socket.pause();
    }
  }

  private inParser = false;
  private resumeWanted = false;

  /**
   * Runs the parser on new bytes (or resumes it). A response can finish synchronously inside a
   * parser callback (a direct response); the next pipelined request is then parsed after the
   * callback returns, in this loop, never re-entrantly.
   */
  private runParser(data: Buffer | undefined): void {
    this.inParser = true;
    let error = data === undefined ? this.parser.resume() : this.parser.execute(data);
    while (error === undefined && this.resumeWanted && !this.closed) {
      this.resumeWanted = false;
      if (!this.continueAfterResponse()) break;
      error = this.parser.resume();
    }
    this.inParser = false;
    if (error !== undefined && !this.closed) this.onParseError(error);
  }

  private onParseError(error: H1ParseError): void {
    if (this.stream !== undefined && !this.stream.headSent) {
      // A request whose body was malformed: abandon the upstream exchange, answer 400.
      const handle = this.handle;
      this.handle = undefined;
      this.stream.detached = true;
      this.stream = undefined;
      handle?.onAbort();
    }
    if (this.stream === undefined) this.sendCodecError(error.status, error.detail);
    else this.socket.destroy();
  }

  /** Answers a request the codec refuses and closes; `http10`: an admitted HTTP/1.0 client. */
  private sendCodecError(status: number, detail: string, http10 = false): void {
    this.factory.onCodecError(status, detail, this.info, 'HTTP/1.1');
    const body = codecErrorBody(status);
    const head = encodeResponseHead(
      status,
      ['content-length', String(body.length), 'content-type', 'text/plain', 'connection', 'close'],
      http10,
    );
    this.closed = true;
    this.socket.end(head + body, 'latin1');
    // A client that never reads must not pin the socket.
    setTimeout(() => this.socket.destroy(), 1000).unref();
  }

  onHead(head: H1RequestHead): void {
    this.deadline = 0;
    this.requestComplete = false;
    this.requests++;
    if (head.versionMinor === 0 && !this.options.acceptHttp10) {
      // Envoy refuses HTTP/1.0 unless http_protocol_options.accept_http_10 is set.
      this.parser.pause();
      this.sendCodecError(426, 'http/1.0 not allowed');
      return;
    }
    let authority = head.authority;
    if (authority === '' && head.versionMinor === 0) {
      // Envoy: an HTTP/1.0 request without Host takes default_host_for_http_10; without one
      // configured it is refused, as any request without a host is.
      const fallback = this.options.defaultHostForHttp10;
      if (fallback === undefined || fallback === '') {
        this.parser.pause();
        this.sendCodecError(400, 'missing host header', true);
        return;
      }
      authority = fallback;
    }
    // Filter in place: the parser's list is ours, and a copy per request is garbage to collect.
    const headers = head.headers;
    if (head.hopByHop) {
      const tokens = head.connectionTokens;
      let w = 0;
      for (let r = 0; r < headers.length; r += 2) {
        const name = headers[r] as string;
        const value = headers[r + 1] as string;
        if (name === 'host') continue;
        if (isHopByHop(name)) {
          const keep =
            (name === 'te' && value.toLowerCase() === 'trailers') ||
            (name === 'upgrade' && head.upgrade !== undefined);
          if (!keep) continue;
        } else if (tokens.length > 0 && tokens.includes(name)) {
          continue;
        }
        headers[w] = name;
        headers[w + 1] = value;
        w += 2;
      }
      headers.length = w;
    } else {
      // Nothing hop-by-hop (the parser says so): only `host` leaves the list (at most one).
      removeHeader(headers, 'host');
    }
    const request: RequestHead = {
      method: head.method,
      path: head.path,
      authority,
      scheme: this.info.tls ? 'https' : 'http',
      headers,
    };
    const protocol = head.versionMinor === 1 ? 'HTTP/1.1' : 'HTTP/1.0';
    const max = this.options.maxRequestsPerConnection;
    const last = this.draining || (max > 0 && this.requests >= max);
    const sink = new H1ResponseSink(this, protocol, head.keepAlive && !last, head.method === 'HEAD');
    this.stream = sink;
    const hasBody = head.bodyKind !== 'none';
    this.handle = this.factory.newStream(
      request,
      {
        hasBody,
        contentLength: head.bodyKind === 'length' ? head.contentLength : hasBody ? -1 : 0,
        expectContinue: head.expectContinue,
        upgrade: head.upgrade,
        protocol,
      },
      sink,
      this,
      this.info,
    );
  }

  onBody(chunk: Buffer): void {
    this.handle?.onRequestData(chunk);
  }

  onTrailers(trailers: HeaderList): void {
    this.pendingTrailers = trailers;
  }
  private pendingTrailers: HeaderList | undefined;

  onComplete(): void {
    this.requestComplete = true;
    const trailers = this.pendingTrailers;
    this.pendingTrailers = undefined;
    const handle = this.handle;
    if (handle !== undefined)
      handle.onRequestEnd(trailers !== undefined && trailers.length > 0 ? trailers : undefined);
  }

  /** Pauses reading the request body (the upstream is slow). */
  pause(): void {
    if (!this.readPaused) {
      this.readPaused = true;
      this.socket.pause();
    }
  }

  /** Resumes reading. */
  resume(): void {
    if (this.readPaused) {
      this.readPaused = false;
      this.socket.resume();
    }
  }

  /** @internal The response in flight finished. */
  responseDone(sink: H1ResponseSink): void {
    if (this.stream !== sink) return;
    this.stream = undefined;
    this.handle = undefined;
    this.lastKeepAlive = sink.keepAlive;
    this.resume();
    if (this.backlogPaused) {
      this.backlogPaused = false;
      this.socket.resume();
    }
    if (this.inParser) this.resumeWanted = true;
    else if (this.continueAfterResponse()) this.runParser(undefined);
  }

  private lastKeepAlive = true;

  /** After a response: close, or re-arm for the next request. False when the connection closed. */
  private continueAfterResponse(): boolean {
    if (!this.lastKeepAlive || this.closed || !this.requestComplete) {
      // Without keep-alive, or when the response finished before the request body (the rest of
      // the body cannot be told apart from a next request safely), close as Envoy does.
      this.closed = true;
      this.socket.end();
      return false;
    }
    this.armIdle();
    return true;
  }

  /** @internal The response was reset: drop the connection. */
  responseReset(sink: H1ResponseSink): void {
    if (this.stream !== sink) return;
    this.stream = undefined;
    this.handle = undefined;
    this.closed = true;
    this.socket.destroy();
  }

  /** @internal Splices the socket with an upgraded upstream. */
  tunnel(upstream: net.Socket, upstreamRest: Buffer): void {
    this.upgraded = true;
    this.deadline = 0;
    this.sweeper.delete(this);
    const fromClient = this.parser.takeUpgradeBytes();
    if (fromClient.length > 0) upstream.write(fromClient);
    if (upstreamRest.length > 0) this.socket.write(upstreamRest);
    this.resume();
    const down = this.socket;
    down.removeAllListeners('data');
    down.removeAllListeners('drain');
    upstream.on('error', () => undefined);
    down.pipe(upstream);
    forwardSocket(upstream, down);
    upstream.on('close', () => down.destroy());
    down.on('close', () => upstream.destroy());
  }

  /** Stops keep-alive: idle connections close now, busy ones after their response. */
  drain(): void {
    this.draining = true;
    if (this.stream === undefined && !this.upgraded) {
      this.closed = true;
      this.socket.end();
    } else if (this.stream !== undefined) {
      this.stream.keepAlive = false;
    }
  }

  /** True when a request is in flight. */
  get busy(): boolean {
    return this.stream !== undefined || this.upgraded;
  }

  private onClose(): void {
    this.closed = true;
    if (this.durationTimer !== undefined) clearTimeout(this.durationTimer);
    this.sweeper.delete(this);
    const s = this.socket;
    this.factory.onConnectionClose(
      'http1',
      this.info.tls,
      s.bytesRead,
      s.bytesWritten,
      Date.now() - this.opened,
    );
    const handle = this.handle;
    this.handle = undefined;
    const sink = this.stream;
    this.stream = undefined;
    if (sink !== undefined) sink.detached = true;
    if (handle !== undefined) handle.onAbort();
    this.onGone(this);
  }
}

/** Writes one HTTP/1 response on the connection. */
class H1ResponseSink implements ResponseSink, UpgradeSink {
  headSent = false;
  detached = false;
  private chunked = false;
  private noBody = false;
  private drainCallback: (() => void) | undefined;
  private pendingHead: string | undefined;
  bytesSent = 0;

  constructor(
    private readonly conn: H1DownstreamConnection,
    readonly protocol: 'HTTP/1.0' | 'HTTP/1.1',
    public keepAlive: boolean,
    private readonly isHead: boolean,
  ) {}

  sendContinue(): void {
    if (this.detached || this.headSent || this.protocol !== 'HTTP/1.1') return;
    this.conn.socket.write(CONTINUE, 'latin1');
  }

  writeHead(status: number, headers: HeaderList, endStream: boolean): void {
    if (this.detached || this.headSent) return;
    this.headSent = true;
    // Filter in place: the pipeline hands its response list over to the sink.
    const out = headers;
    let length = -1;
    let w = 0;
    for (let r = 0; r < out.length; r += 2) {
      const name = out[r] as string;
      const value = out[r + 1] as string;
      if (name === 'content-length') {
        if (length >= 0) continue;
        length = Number(value);
      } else if (isHopByHop(name)) {
        continue;
      }
      out[w] = name;
      out[w + 1] = value;
      w += 2;
    }
    out.length = w;
    const bodiless = status === 204 || status === 304 || status < 200;
    this.noBody = this.isHead || bodiless || endStream;
    if (!bodiless && length < 0) {
      if (endStream) {
        if (!this.isHead) out.push('content-length', '0');
      } else if (this.protocol === 'HTTP/1.1' && !this.isHead) {
        this.chunked = true;
        out.push('transfer-encoding', 'chunked');
      } else if (!this.isHead) {
        // HTTP/1.0 client, unknown length: the body ends when we close.
        this.keepAlive = false;
      }
    }
    if (!this.keepAlive) out.push('connection', 'close');
    else if (this.protocol === 'HTTP/1.0') out.push('connection', 'keep-alive');
    const head = encodeResponseHead(status, out, this.protocol === 'HTTP/1.0');
    if (endStream || this.noBody) {
      this.conn.socket.write(head, 'latin1');
      if (endStream) this.finish();
      return;
    }
    // The body usually follows in the same upstream read: hold the head so head and a small body
    // leave in one write (one syscall) instead of one each; flushed when that read ends (or at
    // the end of the tick outside one), so a slow body never delays the head.
    this.pendingHead = head;
    if (!holdUntilReadEnds(this)) process.nextTick(flushHead, this);
  }

  /** @internal Writes a head still held back (end of the tick). */
  flushHead(): void {
    const head = this.pendingHead;
    if (head === undefined || this.detached) return;
    this.pendingHead = undefined;
    this.conn.socket.write(head, 'latin1');
  }

  writeData(chunk: Buffer): boolean {
    if (this.detached || this.noBody || chunk.length === 0) return true;
    this.bytesSent += chunk.length;
    const socket = this.conn.socket;
    const head = this.pendingHead;
    if (head !== undefined) {
      this.pendingHead = undefined;
      if (chunk.length <= SMALL_BODY) {
        const body = chunk.toString('latin1');
        return socket.write(
          this.chunked ? `${head}${chunkHeader(chunk.length)}${body}\r\n` : head + body,
          'latin1',
        );
      }
      socket.write(head, 'latin1');
    }
    if (this.chunked) {
      socket.cork();
      socket.write(chunkHeader(chunk.length), 'latin1');
      socket.write(chunk);
      const ok = socket.write('\r\n', 'latin1');
      socket.uncork();
      return ok;
    }
    return socket.write(chunk);
  }

  end(trailers?: HeaderList): void {
    if (this.detached) return;
    let tail = '';
    if (this.chunked) {
      tail = trailers !== undefined && trailers.length > 0 ? lastChunkWithTrailers(trailers) : LAST_CHUNK;
    }
    const head = this.pendingHead;
    this.pendingHead = undefined;
    const out = head === undefined ? tail : head + tail;
    if (out.length > 0) this.conn.socket.write(out, 'latin1');
    this.finish();
  }

  private finish(): void {
    if (this.detached) return;
    this.detached = true;
    this.conn.responseDone(this);
  }

  reset(): void {
    if (this.detached) return;
    this.detached = true;
    this.pendingHead = undefined;
    this.conn.responseReset(this);
  }

  onDrain(callback: () => void): void {
    this.drainCallback = callback;
  }

  /** @internal The socket drained. */
  drained(): void {
    const cb = this.drainCallback;
    this.drainCallback = undefined;
    cb?.();
  }

  upgrade(headers: HeaderList, upstream: net.Socket, upstreamRest: Buffer): void {
    if (this.detached || this.headSent) {
      upstream.destroy();
      return;
    }
    this.headSent = true;
    this.detached = true;
    const out: HeaderList = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (
        name === 'connection' ||
        name === 'upgrade' ||
        name === 'content-length' ||
        name === 'transfer-encoding'
      ) {
        continue;
      }
      out.push(name, headers[i + 1] as string);
    }
    const upgradeTo = getHeader(headers, 'upgrade');
    out.push('connection', 'upgrade');
    if (upgradeTo !== undefined) out.push('upgrade', upgradeTo);
    this.conn.socket.write(encodeResponseHead(101, out), 'latin1');
    this.conn.tunnel(upstream, upstreamRest);
  }

  connect(headers: HeaderList, upstream: net.Socket): void {
    if (this.detached || this.headSent) {
      upstream.destroy();
      return;
    }
    this.headSent = true;
    this.detached = true;
    // RFC 9110 9.3.6: a 2xx to CONNECT has no content, so no framing headers.
    const out: HeaderList = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (name === 'connection' || name === 'content-length' || name === 'transfer-encoding') continue;
      out.push(name, headers[i + 1] as string);
    }
    this.conn.socket.write(encodeResponseHead(200, out), 'latin1');
    this.conn.tunnel(upstream, EMPTY_REST);
  }
}

/** Bodies up to this size are sent in the same write as a held-back head. */
const SMALL_BODY = 16 * 1024;

function flushHead(sink: H1ResponseSink): void {
  sink.flushHead();
}

function codecErrorBody(status: number): string {
  switch (status) {
    case 431:
      return 'Request Header Fields Too Large';
    case 408:
      return 'request timeout';
    case 413:
      return 'Payload Too Large';
    case 501:
      return 'Not Implemented';
    case 505:
      return 'HTTP Version Not Supported';
    case 426:
      return 'Upgrade Required';
    default:
      return 'Bad Request';
  }
}
