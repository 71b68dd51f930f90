/**
 * One Envoy listener: a `net` server whose accepted sockets are dispatched to a filter chain
 * (http_connection_manager or tcp_proxy), with TLS chains selected by SNI and the HTTP codec by
 * ALPN (TLS) or by sniffing the HTTP/2 connection preface (plaintext, `codec_type: AUTO`).
 */
import net from 'node:net';
import tls from 'node:tls';
import { MeshError } from '../../errors/index.js';
import {
  type AccessLog,
  type DownstreamTlsContext,
  type FilterChain,
  HCM_TYPE,
  type HttpConnectionManager as HcmConfig,
  type HttpFilter as HttpFilterConfig,
  type Listener,
  type RouteConfiguration,
  TCP_PROXY_TYPE,
  type TcpProxy,
} from '../config/envoy.js';
import { parseDuration } from '../config/values.js';
import type { RouteTable } from '../router/index.js';
import { ListenerStats, listenerStatAddress } from '../stats/scopes.js';
import type { StatsStore } from '../stats/store.js';
// mTLS (proxy-mtls): client certificates are judged after the handshake; the peer rides on ConnectionInfo.
import type { PeerIdentity, WithPeer } from '../tls/san.js';
import { asksForCertificate, SslVerifyStats, verifyDownstreamPeer } from '../tls/verify.js';
import { compileXfcc } from '../tls/xfcc.js';
import { type BoundAddress, closeServer, listenPipe } from './bind.js';
import type { EngineClusterManager } from './contracts.js';
import { type H1CodecOptions, H1DownstreamConnection } from './h1-downstream.js';
import { H2Downstream } from './h2-downstream.js';
import { type HcmSettings, HttpConnectionManager, type RequestLogger } from './hcm.js';
import type { PoolRegistry } from './pools.js';
import type { Sweeper } from './sweeper.js';
import { TcpProxyFilter } from './tcp-proxy.js';
import { compileDownstreamTls, type DownstreamTls, matchServerName } from './tls.js';
import type { CodecTimeouts, ConnectionInfo, RequestFilter } from './types.js';

/** What a listener needs from the rest of the proxy. */
export interface ListenerDeps {
  readonly store: StatsStore;
  readonly clusters: EngineClusterManager;
  readonly pools: PoolRegistry;
  readonly sweeper: Sweeper;
  /** Compiles an inline RouteConfiguration (the router module). */
  readonly compileRoutes: (rc: RouteConfiguration, path: string) => RouteTable;
  /** Compiles access-log configs (the accesslog module); undefined when there are none. */
  readonly compileAccessLog: (logs: readonly AccessLog[], path: string) => RequestLogger | undefined;
  /**
   * Compiles an HCM's http_filters (the issue-6 filters module) into the filters run before the
   * router. @default - only the router is accepted; any other filter stops start-up
   */
  readonly compileHttpFilters?: (
    configs: readonly HttpFilterConfig[],
    path: string,
    statPrefix: string,
    /** Issue 6: the inline route_config, whose per-route filter configs are checked at start-up. */
    routeConfig?: { readonly config: RouteConfiguration; readonly path: string },
  ) => readonly RequestFilter[];
}

const DOWNSTREAM_TLS_TYPE =
  'type.googleapis.com/envoy.extensions.transport_sockets.tls.v3.DownstreamTlsContext';
const ROUTER_TYPE = 'type.googleapis.com/envoy.extensions.filters.http.router.v3.Router';
const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
/**
 * Default time to receive a whole request head. Envoy leaves request_headers_timeout unset; we
 * default to 60 s so a slowloris client cannot hold a connection forever (documented deviation).
 */
const DEFAULT_HEADERS_TIMEOUT_MS = 60_000;

interface HttpChain {
  readonly kind: 'http';
  readonly hcm: HttpConnectionManager;
  readonly codec: 'AUTO' | 'HTTP1' | 'HTTP2';
  readonly h2: H2Downstream;
  readonly timeouts: CodecTimeouts;
  readonly codecOptions: H1CodecOptions;
}

interface TcpChain {
  readonly kind: 'tcp';
  readonly tcp: TcpProxyFilter;
}

interface CompiledChain {
  readonly serverNames: readonly string[];
  /** Replaced in place by {@link ListenerRuntime.updateTls} when SDS rotates a secret (proxy-mtls). */
  tls: DownstreamTls | undefined;
  readonly handler: HttpChain | TcpChain;
  readonly alpn: readonly string[];
  /** filter_chain_match.application_protocols: matched against the negotiated ALPN protocol. */
  readonly applicationProtocols: readonly string[];
}

function unsupported(path: string, message: string, value?: unknown): MeshError {
  return new MeshError('PROXY_E_UNSUPPORTED', `${path}: ${message}`, { path, value });
}

/** A running (or about to run) listener. */
export class ListenerRuntime {
  readonly name: string;
  private readonly server: net.Server;
  private readonly tlsServer: tls.Server | undefined;
  private readonly chains: CompiledChain[];
  private readonly rawChains: CompiledChain[];
  private readonly tlsChains: CompiledChain[];
  private readonly h1Conns = new Set<H1DownstreamConnection>();
  private readonly loggers: RequestLogger[] = [];
  private readonly sockets = new Set<net.Socket>();
  private stats: ListenerStats | undefined;
  private sslStats: SslVerifyStats | undefined;
  /** The Unix socket path once bound to a `pipe` address. */
  private pipe: string | undefined;
  private draining = false;

  constructor(
    private readonly config: Listener,
    private readonly deps: ListenerDeps,
    private readonly path: string,
  ) {
    this.name = config.name ?? `listener_${path}`;
    const chains = config.filter_chains ?? [];
    const all = config.default_filter_chain === undefined ? chains : [...chains, config.default_filter_chain];
    if (all.length === 0)
      throw unsupported(`${path}.filter_chains`, 'a listener needs at least one filter chain');
    this.chains = all.map((c, i) =>
      this.compileChain(
        c,
        i < chains.length ? `${path}.filter_chains[${i}]` : `${path}.default_filter_chain`,
        config.access_log,
      ),
    );
    this.rawChains = this.chains.filter((c) => c.tls === undefined);
    this.tlsChains = this.chains.filter((c) => c.tls !== undefined);
    this.server = net.createServer({ noDelay: true }, (socket) => this.onConnection(socket));
    this.server.on('error', () => undefined);
    if (this.tlsChains.length > 0) {
      const first =
        this.tlsChains.find((c) => c.serverNames.length === 0) ?? (this.tlsChains[0] as CompiledChain);
      const firstTls = first.tls as DownstreamTls;
      this.tlsServer = tls.createServer({
        // tls.Server builds its default context (used when the client sends no SNI) from these.
        ...firstTls.contextOptions,
        // mTLS (proxy-mtls): a trusted_ca asks for a client certificate; onSecure judges it per
        // chain (missing, untrusted, SAN) with Envoy's ssl.fail_verify_* stats, so Node rejects nothing.
        requestCert: this.tlsChains.some((c) => c.tls !== undefined && asksForCertificate(c.tls.peer)),
        rejectUnauthorized: false,
        SNICallback: (servername, cb) => {
          const chain = matchServerName(this.tlsChains, servername);
          if (chain === undefined) {
            this.stats?.no_filter_chain_match.inc();
            cb(new Error('no filter chain matches the server name'));
            return;
          }
          cb(null, (chain.tls as DownstreamTls).secureContext);
        },
        // One server-wide preference list (the union of the chains' lists): with a static list a
        // client offering nothing we speak still connects without ALPN, as with Envoy, where an
        // ALPNCallback returning nothing would abort the handshake.
        ALPNProtocols: [...new Set(this.tlsChains.flatMap((c) => c.alpn))],
      });
      this.tlsServer.on('secureConnection', (socket: tls.TLSSocket) => this.onSecure(socket));
      this.tlsServer.on('tlsClientError', (_error, socket) => {
        this.stats?.ssl_connection_error.inc();
        socket.destroy();
      });
    }
  }

  private compileChain(
    chain: FilterChain,
    path: string,
    listenerLogs: readonly AccessLog[] | undefined,
  ): CompiledChain {
    const filters = chain.filters ?? [];
    const last = filters[filters.length - 1];
    if (last === undefined) throw unsupported(`${path}.filters`, 'a filter chain needs a terminal filter');
    if (filters.length > 1) {
      throw unsupported(
        `${path}.filters[0]`,
        `network filter ${JSON.stringify(filters[0]?.name)} is not supported; only a lone http_connection_manager or tcp_proxy`,
        filters[0]?.name,
      );
    }
    const fpath = `${path}.filters[${filters.length - 1}]`;
    let tlsCtx: DownstreamTls | undefined;
    const ts = chain.transport_socket;
    if (ts !== undefined) {
      const tc = ts.typed_config;
      if (tc === undefined || tc['@type'] !== DOWNSTREAM_TLS_TYPE) {
        throw unsupported(
          `${path}.transport_socket`,
          'only envoy.transport_sockets.tls (DownstreamTlsContext) is supported',
        );
      }
      tlsCtx = compileDownstreamTls(tc as DownstreamTlsContext, `${path}.transport_socket.typed_config`);
    }
    const match = chain.filter_chain_match;
    const serverNames = (match?.server_names ?? []).map((n) => n.toLowerCase());
    if (match?.transport_protocol === 'tls' && tlsCtx === undefined) {
      throw unsupported(
        `${path}.filter_chain_match.transport_protocol`,
        'TLS passthrough (transport_protocol tls without a TLS transport_socket) is not supported',
        'tls',
      );
    }
    if (match?.transport_protocol === 'raw_buffer' && tlsCtx !== undefined) {
      throw unsupported(
        `${path}.filter_chain_match.transport_protocol`,
        'a raw_buffer chain cannot terminate TLS',
        'raw_buffer',
      );
    }
    if ((match?.server_names ?? []).length > 0 && tlsCtx === undefined) {
      throw unsupported(
        `${path}.filter_chain_match.server_names`,
        'server_names are matched against the TLS SNI, so the chain needs a TLS transport_socket',
      );
    }
    const applicationProtocols = match?.application_protocols ?? [];
    const tc = last.typed_config;
    let handler: HttpChain | TcpChain;
    let alpn: readonly string[];
    if (tc?.['@type'] === HCM_TYPE) {
      const http = this.compileHcm(tc as HcmConfig, `${fpath}.typed_config`, listenerLogs);
      handler = http;
      alpn =
        tlsCtx?.alpn ??
        (http.codec === 'HTTP1' ? ['http/1.1'] : http.codec === 'HTTP2' ? ['h2'] : ['h2', 'http/1.1']);
    } else if (tc?.['@type'] === TCP_PROXY_TYPE) {
      handler = { kind: 'tcp', tcp: new TcpProxyFilter(tc as TcpProxy, this.deps.clusters, this.deps.store) };
      alpn = tlsCtx?.alpn ?? [];
    } else {
      throw unsupported(
        `${fpath}.name`,
        `network filter ${JSON.stringify(last.name)} is not supported`,
        last.name,
      );
    }
    return { serverNames, tls: tlsCtx, handler, alpn, applicationProtocols };
  }

  private compileHcm(c: HcmConfig, path: string, listenerLogs: readonly AccessLog[] | undefined): HttpChain {
    if (c.route_config === undefined) {
      throw unsupported(
        `${path}.rds`,
        'RDS is not supported by the static proxy; inline route_config instead',
      );
    }
    const configs = c.http_filters ?? [];
    let filters: readonly RequestFilter[] = [];
    if (this.deps.compileHttpFilters !== undefined) {
      filters = this.deps.compileHttpFilters(configs, `${path}.http_filters`, c.stat_prefix, {
        config: c.route_config,
        path: `${path}.route_config`,
      });
    } else {
      configs.forEach((f, i) => {
        const isRouter = f.typed_config?.['@type'] === ROUTER_TYPE || f.name === 'envoy.filters.http.router';
        if (!isRouter && f.disabled !== true) {
          throw unsupported(
            `${path}.http_filters[${i}].name`,
            `HTTP filter ${JSON.stringify(f.name)} is not supported yet`,
            f.name,
          );
        }
      });
    }
    const routes = this.deps.compileRoutes(c.route_config, `${path}.route_config`);
    const logs = [...(listenerLogs ?? []), ...(c.access_log ?? [])];
    const logger = logs.length === 0 ? undefined : this.deps.compileAccessLog(logs, `${path}.access_log`);
    if (logger !== undefined) this.loggers.push(logger);
    const upgrades = new Set<string>();
    for (const u of c.upgrade_configs ?? [])
      if (u.enabled !== false) upgrades.add(u.upgrade_type.toLowerCase());
    const settings: HcmSettings = {
      statPrefix: c.stat_prefix,
      serverName: c.server_name ?? 'envoy',
      serverHeaderTransformation: c.server_header_transformation ?? 'OVERWRITE',
      useRemoteAddress: c.use_remote_address === true,
      generateRequestId: c.generate_request_id !== false,
      preserveExternalRequestId: c.preserve_external_request_id === true,
      upgrades,
      streamIdleTimeoutMs: parseDuration(c.stream_idle_timeout, 300_000),
      requestTimeoutMs: parseDuration(c.request_timeout, 0),
      xffNumTrustedHops: c.xff_num_trusted_hops ?? 0,
      // proxy-mtls: x-forwarded-client-cert (SANITIZE unless configured, as in Envoy).
      forwardClientCert: compileXfcc(c.forward_client_cert_details, c.set_current_client_cert_details),
      // Issue 6: the retry replay buffer follows the listener's buffer limit, as in Envoy.
      requestBufferLimitBytes: this.config.per_connection_buffer_limit_bytes ?? 1024 * 1024,
      maxStreamDurationMs: parseDuration(c.common_http_protocol_options?.max_stream_duration, 0),
    };
    const hcm = new HttpConnectionManager(
      settings,
      routes,
      this.deps.clusters,
      this.deps.pools,
      this.deps.store,
      logger,
      this.deps.sweeper,
      filters,
    );
    const maxHeaderBytes = (c.max_request_headers_kb ?? 60) * 1024;
    const common = c.common_http_protocol_options;
    const maxHeaderCount = common?.max_headers_count ?? 100;
    return {
      kind: 'http',
      hcm,
      codec: c.codec_type === 'HTTP1' || c.codec_type === 'HTTP2' ? c.codec_type : 'AUTO',
      h2: new H2Downstream(hcm, {
        maxHeaderBytes,
        maxHeaderCount,
        h2: c.http2_protocol_options,
        drainTimeoutMs: parseDuration(c.drain_timeout, 5000),
      }),
      codecOptions: {
        maxHeaderBytes,
        maxHeaderCount,
        acceptHttp10: c.http_protocol_options?.accept_http_10 === true,
        defaultHostForHttp10: c.http_protocol_options?.default_host_for_http_10 ?? '',
        maxRequestsPerConnection: common?.max_requests_per_connection ?? 0,
        maxConnectionDurationMs: parseDuration(common?.max_connection_duration, 0),
        bufferLimitBytes: this.config.per_connection_buffer_limit_bytes ?? 1024 * 1024,
      },
      timeouts: {
        requestHeadersMs: parseDuration(c.request_headers_timeout, DEFAULT_HEADERS_TIMEOUT_MS),
        idleMs: parseDuration(c.common_http_protocol_options?.idle_timeout, 3_600_000),
      },
    };
  }

  /** Binds the listener; resolves to the bound address and port, or to its Unix socket path. */
  listen(): Promise<BoundAddress> {
    const pipe = this.config.address.pipe;
    if (pipe !== undefined) {
      return listenPipe(this.server, pipe, `${this.path}.address.pipe`, `listener ${this.name}`).then(
        (bound) => {
          // Envoy names a pipe listener's stats after its path (`:` sanitized like any stat name).
          this.bound(this.config.stat_prefix ?? pipe.path.replace(/:/g, '_'));
          this.pipe = pipe.path;
          return bound;
        },
      );
    }
    const sa = this.config.address.socket_address;
    if (sa === undefined) {
      return Promise.reject(
        unsupported(`${this.path}.address`, 'listener addresses other than socket_address and pipe'),
      );
    }
    return new Promise((resolve, reject) => {
      const onError = (error: Error) =>
        reject(
          new MeshError(
            'PROXY_E_LISTEN',
            `listener ${this.name}: cannot bind ${sa.address}:${sa.port_value ?? 0}: ${error.message}`,
            {
              path: `${this.path}.address.socket_address`,
              value: `${sa.address}:${sa.port_value ?? 0}`,
              cause: error,
            },
          ),
        );
      this.server.once('error', onError);
      this.server.listen({ host: sa.address, port: sa.port_value ?? 0 }, () => {
        this.server.removeListener('error', onError);
        const bound = this.server.address() as net.AddressInfo;
        this.bound(this.config.stat_prefix ?? listenerStatAddress(sa.address, bound.port));
        resolve({ address: bound.address, port: bound.port });
      });
    });
  }

  /** Creates the `listener.<statName>.*` stats once the address is known. */
  private bound(statName: string): void {
    this.stats = new ListenerStats(this.deps.store, statName);
    if (this.tlsChains.length > 0)
      this.sslStats = new SslVerifyStats(this.deps.store, `listener.${statName}.`);
  }

  /** Lets the `node:cluster` primary hand us accepted sockets (workers share one port). */
  get netServer(): net.Server {
    return this.server;
  }

  private onConnection(socket: net.Socket): void {
    const st = this.stats;
    if (this.draining) {
      socket.destroy();
      return;
    }
    if (st !== undefined) {
      st.downstream_cx_total.inc();
      st.downstream_cx_active.inc();
    }
    this.sockets.add(socket);
    socket.on('close', () => {
      this.sockets.delete(socket);
      if (st !== undefined) {
        st.downstream_cx_active.dec();
        st.downstream_cx_destroy.inc();
      }
    });
    socket.on('error', () => undefined);
    if (this.tlsChains.length > 0 && this.rawChains.length === 0) {
      this.tlsServer?.emit('connection', socket);
      return;
    }
    const chain = this.rawChains.length > 0 && this.tlsChains.length === 0 ? this.pickRaw() : undefined;
    if (chain !== undefined && (chain.handler.kind === 'tcp' || chain.handler.codec === 'HTTP1')) {
      this.dispatch(chain, socket, undefined, false, undefined);
      return;
    }
    // Sniff: TLS record (0x16) or the HTTP/2 preface, before choosing the codec.
    let buffered: Buffer = Buffer.alloc(0);
    const onData = (data: Buffer) => {
      buffered = buffered.length === 0 ? data : Buffer.concat([buffered, data]);
      if (this.tlsChains.length > 0 && this.rawChains.length > 0 && buffered[0] === 0x16) {
        socket.removeListener('data', onData);
        socket.pause();
        socket.unshift(buffered);
        this.tlsServer?.emit('connection', socket);
        return;
      }
      const raw = this.pickRaw();
      if (raw === undefined) {
        this.stats?.no_filter_chain_match.inc();
        socket.destroy();
        return;
      }
      const n = Math.min(buffered.length, H2_PREFACE.length);
      const maybeH2 =
        raw.handler.kind === 'http' &&
        raw.handler.codec !== 'HTTP1' &&
        buffered.compare(H2_PREFACE, 0, n, 0, n) === 0;
      if (maybeH2 && buffered.length < H2_PREFACE.length) return;
      socket.removeListener('data', onData);
      socket.pause();
      this.dispatch(raw, socket, buffered, maybeH2, undefined);
    };
    socket.on('data', onData);
  }

  private pickRaw(): CompiledChain | undefined {
    return this.rawChains.find((c) => c.serverNames.length === 0) ?? this.rawChains[0];
  }

  private onSecure(socket: tls.TLSSocket): void {
    const servername = typeof socket.servername === 'string' ? socket.servername : undefined;
    const alpn = typeof socket.alpnProtocol === 'string' ? socket.alpnProtocol : '';
    const byAlpn = this.tlsChains.filter(
      (c) => c.applicationProtocols.length === 0 || c.applicationProtocols.includes(alpn),
    );
    const chain = matchServerName(byAlpn, servername);
    if (chain === undefined) {
      socket.destroy();
      return;
    }
    socket.on('error', () => undefined);
    // mTLS (proxy-mtls): the chain's client-certificate policy decides whether the connection lives.
    const verdict = verifyDownstreamPeer(socket, (chain.tls as DownstreamTls).peer, this.sslStats);
    if (!verdict.ok) {
      // As in Envoy, a failed verification is a failed handshake: connection_error, not handshake.
      this.stats?.ssl_connection_error.inc();
      socket.destroy();
      return;
    }
    this.stats?.ssl_handshake.inc();
    this.dispatch(chain, socket, undefined, socket.alpnProtocol === 'h2', servername, verdict.peer);
  }

  private dispatch(
    chain: CompiledChain,
    socket: net.Socket,
    initial: Buffer | undefined,
    h2: boolean,
    sni: string | undefined,
    peer?: PeerIdentity,
  ): void {
    const h = chain.handler;
    if (h.kind === 'tcp') {
      // tcp_proxy resumes reading itself once the upstream is connected.
      h.tcp.handle(socket, initial);
      return;
    }
    const pipe = this.pipe;
    if (pipe !== undefined) {
      // A Unix socket peer has no name of its own: Envoy then reports the listener's path for
      // both ends (getpeername falls back to getsockname), and it has no port.
      this.dispatchInfo(h, socket, initial, h2, {
        remoteAddress: pipe,
        remotePort: 0,
        localAddress: pipe,
        localPort: 0,
        remote: pipe,
        local: pipe,
        pipe: true,
        tls: chain.tls !== undefined,
        sni,
        peer,
        localUri: chain.tls?.localUri,
      });
      return;
    }
    const remoteAddress = normalizeIp(socket.remoteAddress);
    const remotePort = socket.remotePort ?? 0;
    const localAddress = normalizeIp(socket.localAddress);
    const localPort = socket.localPort ?? 0;
    this.dispatchInfo(h, socket, initial, h2, {
      remoteAddress,
      remotePort,
      localAddress,
      localPort,
      remote: remoteAddress.includes(':')
        ? `[${remoteAddress}]:${remotePort}`
        : `${remoteAddress}:${remotePort}`,
      local: localAddress.includes(':') ? `[${localAddress}]:${localPort}` : `${localAddress}:${localPort}`,
      tls: chain.tls !== undefined,
      sni,
      // mTLS (proxy-mtls): the verified client certificate, for RBAC principals and XFCC.
      peer,
      localUri: chain.tls?.localUri,
    });
  }

  private dispatchInfo(
    h: HttpChain,
    socket: net.Socket,
    initial: Buffer | undefined,
    h2: boolean,
    info: ConnectionInfo & WithPeer,
  ): void {
    if (h2 || h.codec === 'HTTP2') {
      h.h2.accept(socket, info, initial);
      return;
    }
    const conn = new H1DownstreamConnection(
      socket,
      info,
      h.hcm,
      h.timeouts,
      this.deps.sweeper,
      h.codecOptions,
      (c) => this.h1Conns.delete(c),
      initial,
    );
    this.h1Conns.add(conn);
    socket.resume();
  }

  /**
   * proxy-mtls: applies rotated certificates and trust bundles (SDS) to new connections; the ones
   * already established keep the context they were made with. `config` is this listener with only
   * its secrets changed (the xDS client's in-place update checks that); every context is compiled
   * before any is swapped. Throws MeshError naming the field at fault.
   */
  updateTls(config: Listener): void {
    const chains = config.filter_chains ?? [];
    const all = config.default_filter_chain === undefined ? chains : [...chains, config.default_filter_chain];
    const next = all.map((c, i) => {
      const tc = c.transport_socket?.typed_config;
      const at = i < chains.length ? `${this.path}.filter_chains[${i}]` : `${this.path}.default_filter_chain`;
      return tc?.['@type'] === DOWNSTREAM_TLS_TYPE
        ? compileDownstreamTls(tc as DownstreamTlsContext, `${at}.transport_socket.typed_config`)
        : undefined;
    });
    this.chains.forEach((chain, i) => {
      const tls = next[i];
      if (chain.tls !== undefined && tls !== undefined) chain.tls = tls;
    });
    const first = this.tlsChains.find((c) => c.serverNames.length === 0) ?? this.tlsChains[0];
    // Clients without SNI get the server's default context: replace it too.
    if (first?.tls !== undefined) this.tlsServer?.setSecureContext(first.tls.contextOptions);
  }

  /** Stops accepting; idle keep-alive connections close, busy ones close after their response. */
  drain(): void {
    this.draining = true;
    closeServer(this.server);
    for (const c of this.h1Conns) c.drain();
    for (const chain of this.chains) if (chain.handler.kind === 'http') chain.handler.h2.drain();
  }

  /** Number of open downstream connections. */
  get openConnections(): number {
    return this.sockets.size;
  }

  /** Closes the listener and every connection. */
  async close(): Promise<void> {
    this.draining = true;
    for (const s of this.sockets) s.destroy();
    for (const chain of this.chains) {
      if (chain.handler.kind === 'http') chain.handler.h2.close();
      else chain.handler.tcp.close();
    }
    await Promise.all(this.loggers.map((l) => l.close()));
    return new Promise((resolve) => {
      if (!this.server.listening) {
        resolve();
        return;
      }
      closeServer(this.server, () => resolve());
    });
  }
}

function normalizeIp(ip: string | undefined): string {
  if (ip === undefined) return '';
  return ip.startsWith('::ffff:') ? ip.slice(7) : ip;
}
