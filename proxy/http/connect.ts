/**
 * Opening upstream transport connections (TCP or TLS) with Envoy's connect-timeout semantics, and
 * the plain options an upstream pool needs. Shared by the HTTP/1 pool, the HTTP/2 sessions and
 * tcp_proxy.
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
  /** mTLS (proxy-mtls): SAN matchers of the cluster's validation context. @default - no name check */
  readonly checkServerIdentity?: (host: string, cert: tls.PeerCertificate) => Error | undefined;
  /** mTLS (proxy-mtls): told of each handshake and of the error ending an attempt (ssl.* stats). @default - none */
  readonly onTlsEvent?: (event: 'handshake' | Error) => void;
}

/** Where and how to connect. */
export interface ConnectTarget {
  readonly host: string;
  readonly port: number;
  readonly connectTimeoutMs: number;
  readonly tls?: UpstreamTlsOptions | undefined;
  /** Enables TCP keepalive with this idle time in seconds. @default - off */
  readonly keepAliveSeconds?: number | undefined;
}

/** Why a connect failed: `timeout` (Envoy counts upstream_cx_connect_timeout) or `error`. */
export type ConnectFailure = 'timeout' | 'error';

/**
 * Connects and calls `done` exactly once: with the socket when the transport (and TLS handshake)
 * is up, or with the failure kind. The socket has no-delay set and no listeners left behind.
 */
export function openConnection(
  target: ConnectTarget,
  done: (error: ConnectFailure | undefined, socket: net.Socket | undefined, detail?: string) => void,
): net.Socket {
  let settled = false;
  let socket: net.Socket;
  const t = target.tls;
  if (t === undefined) {
    socket = net.connect({ host: target.host, port: target.port, noDelay: true });
  } else {
    const opts: tls.ConnectionOptions = {
      host: target.host,
      port: target.port,
      rejectUnauthorized: t.ca !== undefined,
      minVersion: t.minVersion ?? 'TLSv1.2',
      maxVersion: t.maxVersion ?? 'TLSv1.3',
    };
    if (t.sni !== undefined && net.isIP(t.sni) === 0) opts.servername = t.sni;
    if (t.ca !== undefined) opts.ca = t.ca;
    if (t.cert !== undefined) opts.cert = t.cert;
    if (t.key !== undefined) opts.key = t.key;
    if (t.alpn !== undefined && t.alpn.length > 0) opts.ALPNProtocols = [...t.alpn];
    // Envoy checks the certificate against trusted_ca only; the SNI is not a hostname check
    // unless SAN matchers are configured, so keep Node from checking the name itself.
    opts.checkServerIdentity = t.checkServerIdentity ?? (() => undefined);
    socket = tls.connect(opts);
    socket.setNoDelay(true);
  }
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
