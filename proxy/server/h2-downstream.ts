/**
 * The downstream HTTP/2 codec on node:http2 (h2c with prior knowledge, or TLS with ALPN h2).
 * Sockets are accepted by our own listener and handed to an unbound `http2.createServer()` with
 * `emit('connection')`, so one listener can serve HTTP/1.1 and HTTP/2 on the same port.
 */
import http2 from 'node:http2';
import type net from 'node:net';
import type { Http2ProtocolOptions } from '../config/envoy.js';
import { isRawRead, setRawReader } from '../http/connect.js';
import { guarded } from '../http/guard.js';
import { fromH2Headers, toH2Headers } from '../http/h2-common.js';
import { getHeader, type HeaderList } from '../http/headers.js';
import type { BodyFlow, RequestHead, ResponseSink } from '../http/stream.js';
import type { ConnectionInfo, HttpStreamFactory, StreamHandle, UpgradeSink } from './types.js';

const { NGHTTP2_FLAG_END_STREAM, NGHTTP2_INTERNAL_ERROR, NGHTTP2_CONNECT_ERROR, NGHTTP2_NO_ERROR } =
  http2.constants;
const H2_TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const H2_PATH = /^(\/[!-~]*|\*)$/;
const H2_AUTHORITY = /^[!-~]*$/;
/** A CONNECT target: reg-name, IPv4 or bracketed IPv6, then a port. */
const H2_CONNECT_AUTHORITY = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]+):[0-9]{1,5}$/;

/** Serves HTTP/2 sessions for one HTTP connection manager. */
export class H2Downstream {
  private readonly server: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();

  private readonly drainTimeoutMs: number;

  constructor(
    private readonly factory: HttpStreamFactory,
    limits: {
      maxHeaderBytes: number;
      maxHeaderCount: number;
      h2: Http2ProtocolOptions | undefined;
      /** HCM drain_timeout. @default - 5 s */
      drainTimeoutMs?: number;
    },
  ) {
    this.drainTimeoutMs = limits.drainTimeoutMs ?? 5000;
    const h2 = limits.h2;
    const settings: http2.Settings = {
      maxHeaderListSize: limits.maxHeaderBytes,
      // Envoy's defaults: 256 MiB windows, unlimited streams, 4 KiB HPACK table.
      initialWindowSize: h2?.initial_stream_window_size ?? 268_435_456 - 1,
      maxConcurrentStreams: h2?.max_concurrent_streams ?? 2_147_483_647,
    };
    if (h2?.hpack_table_size !== undefined) settings.headerTableSize = h2.hpack_table_size;
    // RFC 8441: allow_connect advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, so clients may open
    // WebSocket (and other upgrade) streams as extended CONNECT with `:protocol`.
    if (h2?.allow_connect === true) settings.enableConnectProtocol = true;
    this.connectionWindow = h2?.initial_connection_window_size ?? 268_435_456;
    this.server = http2.createServer({ settings, maxHeaderListPairs: limits.maxHeaderCount + 4 });
    this.server.on('session', (session) => this.onSession(session));
    this.server.on('sessionError', () => undefined);
    this.server.on('unknownProtocol', (socket: net.Socket) => socket.destroy());
  }

  /** Takes over a connected socket (prior-knowledge preface already seen, or ALPN h2). */
  accept(socket: net.Socket, info: ConnectionInfo, initial: Buffer | undefined): void {
    (socket as net.Socket & { crossmeshInfo?: ConnectionInfo }).crossmeshInfo = info;
    // Connection stats come from the raw socket: once the session is gone its socket proxy throws.
    this.factory.onConnectionOpen('http2', info.tls);
    const opened = Date.now();
    socket.once('close', () =>
      this.factory.onConnectionClose(
        'http2',
        info.tls,
        socket.bytesRead,
        socket.bytesWritten,
        Date.now() - opened,
      ),
    );
    if (initial !== undefined && initial.length > 0) socket.unshift(initial);
    this.server.emit('connection', socket);
  }

  private readonly connectionWindow: number;

  private onSession(session: http2.ServerHttp2Session): void {
    session.on('connect', () => {
      try {
        session.setLocalWindowSize(this.connectionWindow);
      } catch {
        // The session closed during the handshake; nothing to size.
      }
    });
    let info: ConnectionInfo | undefined;
    try {
      // The socket can close between 'session' and here; Node then throws ERR_HTTP2_SOCKET_UNBOUND.
      info = (session.socket as net.Socket & { crossmeshInfo?: ConnectionInfo }).crossmeshInfo;
    } catch {
      info = undefined;
    }
    if (info === undefined) {
      session.destroy();
      return;
    }
    const known = info;
    this.sessions.add(session);
    session.on('error', () => undefined);
    session.on('close', () => {
      this.sessions.delete(session);
    });
    session.on('stream', (stream, headers, flags) =>
      guarded(
        'http2 downstream',
        () => this.onStream(stream, headers, flags, known),
        () => stream.close(NGHTTP2_INTERNAL_ERROR),
      ),
    );
  }

  private onStream(
    stream: http2.ServerHttp2Stream,
    headers: http2.IncomingHttpHeaders,
    flags: number,
    info: ConnectionInfo,
  ): void {
    stream.on('error', () => undefined);
    const list = fromH2Headers(headers);
    const authority = headers[':authority'] ?? getHeader(list, 'host') ?? '';
    // RFC 8441 extended CONNECT (only reaches us with allow_connect: Node refuses `:protocol`
    // otherwise): routed and forwarded as Envoy's codec turns it into an HTTP/1.1 upgrade, a GET
    // with `upgrade: <protocol>`. Its DATA frames, like a plain CONNECT's, are the tunnel.
    const protocol = headers[':protocol'];
    const upgradeTo =
      typeof protocol === 'string' && headers[':method'] === 'CONNECT' ? protocol.toLowerCase() : undefined;
    if (upgradeTo !== undefined) list.push('upgrade', upgradeTo);
    const method = upgradeTo !== undefined ? 'GET' : (headers[':method'] ?? 'GET');
    // RFC 9113 8.5: a CONNECT stream has only :method and :authority (host:port); its DATA frames
    // are the tunnel.
    const connect = method === 'CONNECT';
    const tunnel = connect || upgradeTo !== undefined;
    const path = connect ? '' : (headers[':path'] ?? '/');
    // These become an HTTP/1.1 request line and Host header upstream: anything that could split or
    // bend that line (spaces, controls, a non-token method) is refused here, as Envoy does.
    if (
      !H2_TOKEN.test(method) ||
      (connect ? !H2_CONNECT_AUTHORITY.test(authority) : !H2_PATH.test(path)) ||
      !H2_AUTHORITY.test(authority) ||
      (upgradeTo !== undefined && !H2_TOKEN.test(upgradeTo))
    ) {
      this.factory.onCodecError(400, 'invalid pseudo-header', info, 'HTTP/2');
      try {
        stream.respond({ ':status': 400, 'content-length': '0' }, { endStream: true });
      } catch {
        stream.close(NGHTTP2_INTERNAL_ERROR);
      }
      return;
    }
    const hostAt = list.indexOf('host');
    if (hostAt >= 0 && hostAt % 2 === 0) list.splice(hostAt, 2);
    const head: RequestHead = {
      method,
      path,
      authority,
      scheme: info.tls ? 'https' : 'http',
      headers: list,
    };
    const endStream = tunnel || (flags & NGHTTP2_FLAG_END_STREAM) !== 0;
    const cl = getHeader(list, 'content-length');
    const sink = new H2ResponseSink(stream, method === 'HEAD');
    const flow: BodyFlow = {
      pause: () => stream.pause(),
      resume: () => stream.resume(),
    };
    const handle: StreamHandle = this.factory.newStream(
      head,
      {
        hasBody: !endStream,
        contentLength: endStream ? 0 : cl !== undefined && /^[0-9]+$/.test(cl) ? Number(cl) : -1,
        expectContinue: false,
        upgrade: connect ? 'connect' : upgradeTo,
        protocol: 'HTTP/2',
      },
      sink,
      flow,
      info,
    );
    if (tunnel) {
      // The stream's DATA is tunnel payload: it stays buffered until the tunnel is spliced. The
      // request itself has no body, as an HTTP/1.1 upgrade request.
      stream.on('close', () => {
        if (!sink.finished) {
          sink.finished = true;
          handle.onAbort();
        }
      });
      if (!connect && !sink.finished) handle.onRequestEnd(undefined);
      return;
    }
    let trailers: HeaderList | undefined;
    stream.on('trailers', (t) => {
      trailers = fromH2Headers(t);
    });
    stream.on('data', (chunk: Buffer) =>
      guarded(
        'http2 request body',
        () => handle.onRequestData(chunk),
        () => stream.close(NGHTTP2_INTERNAL_ERROR),
      ),
    );
    stream.on('end', () =>
      guarded(
        'http2 request end',
        () => handle.onRequestEnd(trailers),
        () => stream.close(NGHTTP2_INTERNAL_ERROR),
      ),
    );
    stream.on('close', () => {
      if (!sink.finished) {
        sink.finished = true;
        handle.onAbort();
      }
    });
  }

  /** Sends GOAWAY on every session: in-flight streams finish, new ones go elsewhere. */
  drain(): void {
    for (const s of this.sessions) s.close();
    // Envoy's drain_timeout: sessions whose streams outlive it are closed anyway.
    if (this.sessions.size > 0) {
      const stragglers = [...this.sessions];
      setTimeout(() => {
        for (const s of stragglers) if (!s.destroyed) s.destroy();
      }, this.drainTimeoutMs).unref();
    }
  }

  /** Closes every session now. */
  close(): void {
    for (const s of this.sessions) s.destroy();
    this.sessions.clear();
  }
}

class H2ResponseSink implements ResponseSink, UpgradeSink {
  readonly protocol = 'HTTP/2' as const;
  finished = false;
  bytesSent = 0;
  private trailers: HeaderList | undefined;
  private waitsForTrailers = false;

  constructor(
    private readonly stream: http2.ServerHttp2Stream,
    private readonly isHead: boolean,
  ) {}

  sendContinue(): void {
    if (this.stream.headersSent || this.stream.destroyed) return;
    try {
      this.stream.additionalHeaders({ ':status': 100 });
    } catch {
      // The stream closed meanwhile: nothing to continue.
    }
  }

  writeHead(status: number, headers: HeaderList, endStream: boolean): void {
    const stream = this.stream;
    if (stream.destroyed || stream.headersSent) return;
    const ct = getHeader(headers, 'content-type');
    const end = endStream || this.isHead;
    this.waitsForTrailers =
      !end && (ct?.startsWith('application/grpc') === true || getHeader(headers, 'trailer') !== undefined);
    const out = toH2Headers(headers, { ':status': status });
    try {
      stream.respond(out, { endStream: end, waitForTrailers: this.waitsForTrailers });
    } catch {
      stream.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    if (this.waitsForTrailers) {
      stream.once('wantTrailers', () => {
        const t = this.trailers;
        try {
          stream.sendTrailers(t === undefined ? {} : toH2Headers(t, {}));
        } catch {
          stream.close(NGHTTP2_INTERNAL_ERROR);
        }
      });
    }
    if (end) this.finished = true;
  }

  writeData(chunk: Buffer): boolean {
    if (this.stream.destroyed || this.isHead) return true;
    this.bytesSent += chunk.length;
    return this.stream.write(chunk);
  }

  end(trailers?: HeaderList): void {
    if (this.finished) return;
    this.finished = true;
    if (this.stream.destroyed) return;
    this.trailers = trailers;
    this.stream.end();
  }

  reset(): void {
    if (this.finished) return;
    this.finished = true;
    if (!this.stream.destroyed) this.stream.close(NGHTTP2_INTERNAL_ERROR);
  }

  onDrain(callback: () => void): void {
    this.stream.once('drain', callback);
  }

  /**
   * An HTTP/1.1 upstream accepted the upgrade of an extended CONNECT stream (RFC 8441): its 101
   * becomes a 200 on the stream (connection-specific headers dropped) and the bytes flow both ways.
   */
  upgrade(headers: HeaderList, upstream: net.Socket, upstreamRest: Buffer): void {
    this.splice(headers, upstream, upstreamRest);
  }

  connect(headers: HeaderList, upstream: net.Socket): void {
    this.splice(headers, upstream, undefined);
  }

  private splice(headers: HeaderList, upstream: net.Socket, upstreamRest: Buffer | undefined): void {
    const stream = this.stream;
    if (this.finished || stream.destroyed || stream.headersSent) {
      upstream.destroy();
      return;
    }
    this.finished = true;
    const out: HeaderList = [];
    for (let i = 0; i < headers.length; i += 2) {
      const name = headers[i] as string;
      if (name === 'content-length' || name === 'transfer-encoding') continue;
      out.push(name, headers[i + 1] as string);
    }
    try {
      stream.respond(toH2Headers(out, { ':status': 200 }), { endStream: false });
    } catch {
      upstream.destroy();
      stream.close(NGHTTP2_INTERNAL_ERROR);
      return;
    }
    upstream.on('error', () => undefined);
    if (upstreamRest !== undefined && upstreamRest.length > 0) stream.write(upstreamRest);
    // A FIN either way becomes END_STREAM / a FIN the other way; the other direction stays open.
    stream.pipe(upstream);
    pipeToStream(upstream, stream);
    stream.on('close', () => upstream.destroy());
    upstream.on('close', (hadError: boolean) => {
      if (stream.closed) return;
      if (hadError) stream.close(NGHTTP2_CONNECT_ERROR);
      // The upstream is gone: once our END_STREAM is out, tell the client to stop sending too.
      else if (stream.writableFinished) stream.close(NGHTTP2_NO_ERROR);
      else stream.once('finish', () => stream.close(NGHTTP2_NO_ERROR));
    });
  }
}

/**
 * Copies an upstream socket into an HTTP/2 stream with backpressure, passing the end on. An
 * upgraded HTTP/1 pool connection reads through a raw reader (no 'data' events), so it is fed
 * from that instead of piped.
 */
function pipeToStream(upstream: net.Socket, stream: http2.ServerHttp2Stream): void {
  if (!isRawRead(upstream)) {
    upstream.pipe(stream);
    return;
  }
  setRawReader(upstream, {
    onRawRead(chunk) {
      // The chunk is a view of the shared read buffer: copy it before it is queued.
      if (!stream.write(Buffer.from(chunk))) {
        upstream.pause();
        stream.once('drain', () => upstream.resume());
      }
    },
  });
  upstream.on('end', () => stream.end());
}
