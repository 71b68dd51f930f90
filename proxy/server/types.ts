/**
 * The seam between downstream codecs (HTTP/1.1, HTTP/2) and the HTTP connection manager: a codec
 * turns wire traffic into {@link RequestHead}s and body events and asks an
 * {@link HttpStreamFactory} for a {@link StreamHandle} per request.
 */
import type net from 'node:net';
import type { HeaderList } from '../http/headers.js';
import type { BodyFlow, RequestHead, ResponseSink } from '../http/stream.js';

/** What the pipeline knows about the downstream connection. */
export interface ConnectionInfo {
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly localAddress: string;
  readonly localPort: number;
  /** `ip:port` of the peer, built once per connection (access logs, header formatters). */
  readonly remote: string;
  /** `ip:port` of our end. */
  readonly local: string;
  /** The connection is TLS (so `x-forwarded-proto: https`). */
  readonly tls: boolean;
  /** SNI the client sent, when TLS. */
  readonly sni: string | undefined;
  /**
   * The peer came in on a Unix socket listener: `remoteAddress` and `remote` are then the listener's
   * path (Envoy's form for a pipe peer) and no IP address exists for x-forwarded-for. @default - false
   */
  readonly pipe?: boolean;
}

/** Request facts only the codec knows. */
export interface RequestMeta {
  /** The request has a body (content-length > 0, chunked, or an HTTP/2 stream without END_STREAM). */
  readonly hasBody: boolean;
  /** Declared length, or -1 when unknown. */
  readonly contentLength: number;
  readonly expectContinue: boolean;
  /** Upgrade protocol asked for (HTTP/1.1 `Upgrade`), lowercase; `connect` for CONNECT (either protocol). */
  readonly upgrade: string | undefined;
  /** Bytes of the request head on the wire (access log `%BYTES_RECEIVED%` counts body only). */
  readonly protocol: 'HTTP/1.0' | 'HTTP/1.1' | 'HTTP/2';
}

/** The pipeline's side of one request. */
export interface StreamHandle {
  /** Request body bytes. */
  onRequestData(chunk: Buffer): void;
  /** The request body ended (with trailers when any). */
  onRequestEnd(trailers: HeaderList | undefined): void;
  /** The client went away or reset the stream before the response completed. */
  onAbort(): void;
}

/** Turns an HTTP/1.1 upgrade (101) into a raw tunnel between two sockets. */
export interface UpgradeSink {
  /** Writes the 101 head and splices `upstream` with the downstream socket. */
  upgrade(headers: HeaderList, upstream: net.Socket, upstreamRest: Buffer): void;
  /**
   * CONNECT termination: answers `200` with `headers` (no body framing) and splices the request
   * stream (the HTTP/1.1 connection, or the HTTP/2 stream) with `upstream`, a TCP connection.
   */
  connect(headers: HeaderList, upstream: net.Socket): void;
}

/** Creates the per-request pipeline; implemented by the HTTP connection manager. */
export interface HttpStreamFactory {
  newStream(
    head: RequestHead,
    meta: RequestMeta,
    sink: ResponseSink & Partial<UpgradeSink>,
    flow: BodyFlow,
    conn: ConnectionInfo,
  ): StreamHandle;
  /** Codec-level rejects (malformed requests) for stats and access logs. */
  onCodecError(status: number, detail: string, conn: ConnectionInfo, protocol: string): void;
  /** Connection lifecycle for `downstream_cx_*` stats. */
  onConnectionOpen(protocol: 'http1' | 'http2', tls: boolean): void;
  /** A connection closed after `lengthMs`, having read `rx` and written `tx` bytes. */
  onConnectionClose(
    protocol: 'http1' | 'http2',
    tls: boolean,
    rx: number,
    tx: number,
    lengthMs: number,
  ): void;
}

/** Connection timeouts a codec enforces (milliseconds; 0 disables). */
export interface CodecTimeouts {
  /** Time allowed to receive a whole request head once its first byte arrived. */
  readonly requestHeadersMs: number;
  /** Time a connection may sit with no request in flight. */
  readonly idleMs: number;
}

/**
 * The HTTP filter hook (issue 6: local rate limit, fault injection): filters run after route
 * selection and before the router acts, in config order. Structurally the same as
 * `proxy/filters`' `HttpFilter`, so the pipeline does not depend on which filters exist.
 */
export interface RequestFilter {
  readonly name: string;
  onRequest(request: RequestFilterInput, callbacks: RequestFilterCallbacks): 'continue' | 'stop';
}

/** What a filter sees of a request. */
export interface RequestFilterInput {
  readonly headers: HeaderList;
  /** `content-type: application/grpc*`. */
  readonly grpc: boolean;
  /** The same object for every request of one downstream connection. */
  readonly connection: object;
  /** The cluster the route selected, when it forwards to one. */
  readonly clusterName: string | undefined;
  /** Issue 6: the matched route's `typed_per_filter_config` by filter name (none when no route matched). */
  readonly perFilterConfig?: Readonly<Record<string, unknown>> | undefined;
}

/** A local reply asked for by a filter. */
export interface RequestFilterReply {
  readonly status: number;
  readonly body: string;
  readonly details: string;
  /** @default - none (RBAC denials carry no flag in Envoy) */
  readonly flag?: import('../accesslog/flags.js').ResponseFlagName;
  readonly headers: HeaderList;
  readonly grpcStatus?: number;
}

/** What the pipeline offers a filter for one request. */
export interface RequestFilterCallbacks {
  /** Continues with the next filter (after `onRequest` returned `stop`). */
  resume(): void;
  /** Answers locally; no later filter runs and nothing goes upstream. */
  reply(reply: RequestFilterReply): void;
  /** Adds headers to whatever response goes back. */
  addResponseHeaders(headers: HeaderList): void;
  /** Sets a response flag. */
  addFlag(flag: import('../accesslog/flags.js').ResponseFlagName): void;
  /** Runs `fn` once when the request ends, however it ends. */
  onDone(fn: () => void): void;
  /** A timer cancelled if the request ends first. */
  setTimer(fn: () => void, ms: number): void;
}
