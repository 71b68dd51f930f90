/**
 * Opening upstream transport connections (TCP, Unix domain socket, either with TLS) with Envoy's
 * connect-timeout semantics, and the plain options an upstream pool needs. Shared by the HTTP/1
 * pool, the HTTP/2 sessions, tcp_proxy and the active health checkers, so a cluster's TLS
 * settings mean the same on every connection made for it.
 */
import net from 'node:net';
import tls from 'node:tls';

/** Upstream TLS settings in plain form (parsed from an UpstreamTlsContext by the cluster manager). */
export interface UpstreamTlsOptions {
  /** SNI to send. @default - none (Envoy sends no SNI unless configured) */
  readonly sni?: string;
  /** PEM trust anchors; when absent the upstream certificate is not verified (Envoy's default). */
  readonly ca?: string | Buffer;
  /** Client certificate chain, PEM. @default - no client certificate */
  readonly cert?: string | Buffer;
  /** Client private key, PEM. @default - no client certificate */
  readonly key?: string | Buffer;
  /** ALPN protocols to offer. @default - none */
  readonly alpn?: readonly string[];
  /** Minimum TLS version. @default - TLSv1.2 */
  readonly minVersion?: tls.SecureVersion;
  /** Maximum TLS version. @default - TLSv1.3 */
  readonly maxVersion?: tls.SecureVersion;
  /**
   * mTLS (proxy-mtls): the SAN matchers of the cluster's validation context, run as
   * `checkServerIdentity` (counts `cluster.<name>.ssl.fail_verify_san`).
   * @default - no identity check (Envoy's default)
   */
  readonly checkServerIdentity?: (host: string, cert: tls.PeerCertificate) => Error | undefined;
  /**
   * mTLS (proxy-mtls): told of each handshake and of the error ending an attempt (counts
   * `cluster.<name>.ssl.handshake` / `connection_error` / `fail_verify_error`). @default - none
   */
  readonly onTlsEvent?: (event: 'handshake' | Error) => void;
}

/**
 * Where an upstream is: an IP (or name) and port, or a Unix domain socket. `path` is Envoy's
 * `Pipe.path` as written in the config (`@name` is a Linux abstract socket); when it is set,
 * `host` and `port` are ignored.
 */
export interface UpstreamEndpoint {
  readonly host: string;
  readonly port: number;
  /** Unix domain socket path, Envoy's form. @default - TCP to host:port */
  readonly path?: string | undefined;
}

/** Where and how to connect. */
export interface ConnectTarget extends UpstreamEndpoint {
  readonly connectTimeoutMs: number;
  readonly tls?: UpstreamTlsOptions | undefined;
  /** Enables TCP keepalive with this idle time in seconds. @default - off */
  readonly keepAliveSeconds?: number | undefined;
}

/**
 * Raw reads (HTTP/1 upstream connections without TLS): the socket reads into one buffer shared by
 * every such socket (Node's `onread` option) and hands the bytes to its {@link RawReader}. Node's
 * default is a fresh 64 KiB allocation, a resize and a Readable push/emit (plus a nextTick) per
 * read; this is one callback. The bytes are only valid during the call: a reader copies whatever
 * it keeps (reads are synchronous and one at a time, so one buffer serves all sockets).
 */
const READ_BUFFER = Buffer.allocUnsafe(64 * 1024);

/** Consumes the bytes of a raw-read socket. */
export interface RawReader {
  /** `chunk` is valid during the call only. */
  onRawRead(chunk: Buffer): void;
}

/** A raw-read socket's current reader (null: none yet, bytes are then a protocol error). */
const RAW_READER = Symbol('crossmesh.rawReader');
type RawSocket = net.Socket & { [RAW_READER]?: RawReader | null };

function rawRead(this: RawSocket, nread: number): boolean {
  const reader = this[RAW_READER];
  if (reader === undefined || reader === null) {
    this.destroy();
    return false;
  }
  reader.onRawRead(READ_BUFFER.subarray(0, nread));
  return true;
}

/** True when `socket` was opened with raw reads: its bytes reach {@link setRawReader}'s reader. */
export function isRawRead(socket: net.Socket): boolean {
  return RAW_READER in socket;
}

/** Sets who gets the bytes of a raw-read socket. */
export function setRawReader(socket: net.Socket, reader: RawReader | null): void {
  (socket as RawSocket)[RAW_READER] = reader;
}

/**
 * `source.pipe(dest)` that also serves raw-read sockets (an upgraded HTTP/1 upstream connection
 * becoming a tunnel): bytes are copied on, with backpressure, and the end is passed along.
 */
export function forwardSocket(source: net.Socket, dest: net.Socket): void {
  if (!isRawRead(source)) {
    source.pipe(dest);
    return;
  }
  setRawReader(source, {
    onRawRead(chunk) {
      if (!dest.write(Buffer.from(chunk))) {
        source.pause();
        dest.once('drain', () => source.resume());
      }
    },
  });
  source.on('end', () => dest.end());
}

/** Why a connect failed: `timeout` (Envoy counts upstream_cx_connect_timeout) or `error`. */
export type ConnectFailure = 'timeout' | 'error';

/**
 * The path Node's `net` wants for an Envoy pipe path: Envoy writes a Linux abstract socket as
 * `@name`, Node (like the kernel) as a leading NUL byte.
 */
export function pipeSocketPath(path: string): string {
  return path.startsWith('@') ? `\0${path.slice(1)}` : path;
}

/**
 * The TLS client options of a cluster, the one place they are decided for pool connections and
 * health probes alike: TLS 1.2-1.3 unless configured, SNI only when configured and not an IP
 * address (Envoy never sends an IP as SNI; Node warns about it, DEP0123), the certificate checked
 * only against `trusted_ca` (and the SAN matchers when configured), never against a host name.
 * @param alpn - protocols to offer instead of the cluster's (a probe that speaks one protocol)
 */
export function upstreamTlsOptions(t: UpstreamTlsOptions, alpn?: readonly string[]): tls.ConnectionOptions {
  const opts: tls.ConnectionOptions = {
    rejectUnauthorized: t.ca !== undefined,
    minVersion: t.minVersion ?? 'TLSv1.2',
    maxVersion: t.maxVersion ?? 'TLSv1.3',
    // Envoy checks the certificate against trusted_ca only; the SNI is not a hostname check
    // unless SAN matchers are configured, so keep Node from checking the name itself.
    checkServerIdentity: t.checkServerIdentity ?? (() => undefined),
  };
  if (t.sni !== undefined && t.sni !== '' && net.isIP(t.sni) === 0) opts.servername = t.sni;
  if (t.ca !== undefined) opts.ca = t.ca;
  if (t.cert !== undefined) opts.cert = t.cert;
  if (t.key !== undefined) opts.key = t.key;
  const protocols = alpn ?? t.alpn;
  if (protocols !== undefined && protocols.length > 0) opts.ALPNProtocols = [...protocols];
  return opts;
}

/**
 * Starts a transport connection to `endpoint`: plain TCP or Unix socket, or TLS over either with
 * {@link upstreamTlsOptions}. The socket emits `connect` (plain) or `secureConnect` (TLS) when up.
 */
export function dialUpstream(
  endpoint: UpstreamEndpoint,
  t: UpstreamTlsOptions | undefined,
  alpn?: readonly string[],
  /** Without TLS: read with a {@link RawReader} instead of 'data' events. @default false */
  rawReads = false,
): net.Socket {
  const where: net.NetConnectOpts =
    endpoint.path === undefined
      ? { host: endpoint.host, port: endpoint.port }
      : { path: pipeSocketPath(endpoint.path) };
  if (t === undefined && rawReads) {
    const socket = net.connect({ ...where, onread: { buffer: READ_BUFFER, callback: rawRead } });
    setRawReader(socket, null);
    socket.setNoDelay(true);
    return socket;
  }
  if (t === undefined) {
    const socket = net.connect(where);
    // No-op on a Unix socket (Node checks the handle), Nagle off on TCP.
    socket.setNoDelay(true);
    return socket;
  }
  const socket = tls.connect({ ...where, ...upstreamTlsOptions(t, alpn) } as tls.ConnectionOptions);
  socket.setNoDelay(true);
  return socket;
}

/**
 * The URL `node:http2` is given for a session whose socket we open ourselves: only its scheme and
 * authority matter (the default `:authority`); a Unix socket has no host, so `localhost`.
 */
export function upstreamUrl(endpoint: UpstreamEndpoint, secure: boolean): string {
  const scheme = secure ? 'https' : 'http';
  if (endpoint.path !== undefined) return `${scheme}://localhost`;
  const host = net.isIPv6(endpoint.host) ? `[${endpoint.host}]` : endpoint.host;
  return `${scheme}://${host}:${endpoint.port}`;
}

/**
 * Connects and calls `done` exactly once: with the socket when the transport (and TLS handshake)
 * is up, or with the failure kind. The socket has no-delay set and no listeners left behind.
 */
export function openConnection(
  target: ConnectTarget,
  done: (error: ConnectFailure | undefined, socket: net.Socket | undefined, detail?: string) => void,
  /** Without TLS: read with a {@link RawReader} (see {@link dialUpstream}). @default false */
  rawReads = false,
): net.Socket {
  let settled = false;
  const t = target.tls;
  const socket = dialUpstream(target, t, undefined, rawReads);
  const timer = setTimeout(() => finish('timeout', 'connect timeout'), target.connectTimeoutMs);
  const onError = (error: Error) => {
    t?.onTlsEvent?.(error);
    finish('error', error.message);
  };
  const onClose = () => finish('error', 'connection closed during connect');
  const onUp = () => {
    t?.onTlsEvent?.('handshake');
    if (target.keepAliveSeconds !== undefined) socket.setKeepAlive(true, target.keepAliveSeconds * 1000);
    finish(undefined, undefined);
  };
  function finish(error: ConnectFailure | undefined, detail: string | undefined): void {
    if (settled) return;
    settled = true;
    clearTimeout(timer);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    socket.removeListener(t === undefined ? 'connect' : 'secureConnect', onUp);
    if (error !== undefined) {
      socket.on('error', () => undefined);
      socket.destroy();
      done(error, undefined, detail);
    } else {
      done(undefined, socket);
    }
  }
  socket.on('error', onError);
  socket.on('close', onClose);
  socket.once(t === undefined ? 'connect' : 'secureConnect', onUp);
  return socket;
}

/** {@link openConnection} with raw reads (plain TCP or Unix socket; TLS reads as usual). */
export function openRawReadConnection(
  target: ConnectTarget,
  done: (error: ConnectFailure | undefined, socket: net.Socket | undefined, detail?: string) => void,
): net.Socket {
  return openConnection(target, done, true);
}
