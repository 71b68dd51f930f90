/**
 * Connection pools per upstream host and routing priority, created on first use: an
 * {@link H1Pool} or an {@link H2Pool} according to the cluster's protocol, wired to the cluster's
 * `upstream_cx_*` / `upstream_rq_pending_*` stats and to the cluster's circuit breakers of that
 * priority, which every host's pool shares: `max_connections` and `max_pending_requests` hold
 * for the cluster as a whole, as in Envoy.
 */
import { TLSSocket } from 'node:tls';
import { type ConnectTarget, openConnection, type UpstreamTlsOptions } from '../http/connect.js';
import { H1Pool, type PoolResources } from '../http/h1-upstream.js';
import { H2Pool, type H2PoolEvents } from '../http/h2-upstream.js';
import type { ClusterStats } from '../stats/scopes.js';
import type { HostStats } from '../upstream/index.js';
import type { ProxyLog } from './log.js';

/** What the engine needs from an upstream host (the cluster manager's `Host`). */
export interface PoolHost {
  readonly address: string;
  readonly port: number;
  /** Unix socket path (Envoy's form) of a pipe endpoint; address and port are then unused. @default - TCP */
  readonly pipe?: string | undefined;
  /** Per-host connection counters (`/clusters` shows them). */
  readonly stats: HostStats;
}

/**
 * Where a new connection to `host` goes (its address, or its Unix socket path) with the cluster's
 * connect timeout, TLS and TCP keepalive: for the pools, CONNECT tunnels and tcp_proxy alike.
 */
export function connectTarget(cluster: PoolCluster, host: PoolHost): ConnectTarget {
  return {
    host: host.address,
    port: host.port,
    path: host.pipe,
    connectTimeoutMs: cluster.connectTimeoutMs,
    tls: cluster.tls,
    keepAliveSeconds: cluster.tcpKeepaliveSeconds,
  };
}

/** What the engine needs from a cluster to build pools for its hosts. */
export interface PoolCluster {
  readonly name: string;
  /** The cluster's pre-resolved `cluster.<name>.*` stats. */
  readonly stats: ClusterStats;
  readonly connectTimeoutMs: number;
  readonly protocol: 'http1' | 'http2' | 'auto';
  readonly tls?: UpstreamTlsOptions | undefined;
  /**
   * The cluster's circuit breakers by routing priority (`max_connections`,
   * `max_pending_requests`), shared by the pools of all its hosts.
   * @default - each pool alone limited to Envoy's defaults (1024 / 1024)
   */
  readonly resources?: { readonly default: PoolResources; readonly high: PoolResources };
  /** Idle connection timeout. @default - 1 hour */
  readonly idleTimeoutMs?: number;
  /** Requests per connection (HTTP/1.1 connection or HTTP/2 session). @default - unlimited */
  readonly maxRequestsPerConnection?: number | undefined;
  /** Streams at once on one HTTP/2 session (`http2_protocol_options.max_concurrent_streams`). @default - 2147483647 */
  readonly maxConcurrentStreams?: number | undefined;
  /** TCP keepalive idle time for upstream sockets (upstream_connection_options). @default - off */
  readonly tcpKeepaliveSeconds?: number | undefined;
}

/** A pool whose protocol is known. */
export type ResolvedPool =
  | { readonly kind: 'http1'; readonly pool: H1Pool }
  | { readonly kind: 'http2'; readonly pool: H2Pool };

/** A pool for one host; `auto` (auto_config) settles on HTTP/2 or HTTP/1.1 by ALPN. */
export type HostPool = ResolvedPool | { readonly kind: 'auto'; readonly pool: AlpnPool };

/**
 * auto_config: the first connection offers ALPN h2 and http/1.1; what the upstream picks decides
 * the pool for the host from then on, and that first connection is handed to it.
 */
export class AlpnPool {
  private resolved: ResolvedPool | undefined;
  private waiters: ((pool: ResolvedPool) => void)[] = [];
  private probing = false;

  constructor(
    private readonly target: ConnectTarget,
    private readonly make: (protocol: 'http1' | 'http2') => ResolvedPool,
  ) {}

  /** Calls `fn` with the host's pool once the protocol is known (at once if it is). */
  whenReady(fn: (pool: ResolvedPool) => void): void {
    if (this.resolved !== undefined) {
      fn(this.resolved);
      return;
    }
    this.waiters.push(fn);
    if (this.probing) return;
    this.probing = true;
    const tls = this.target.tls ?? {};
    openConnection({ ...this.target, tls: { ...tls, alpn: ['h2', 'http/1.1'] } }, (error, socket) => {
      this.probing = false;
      const alpn = socket instanceof TLSSocket ? socket.alpnProtocol : false;
      const pool = this.make(alpn === 'h2' ? 'http2' : 'http1');
      if (error === undefined && socket !== undefined) {
        this.resolved = pool;
        pool.pool.adopt(socket);
      }
      // A failed probe settles nothing: the waiting requests go to an HTTP/1.1 pool, which
      // reports the connect failure (503 UF) the usual way, and the next request probes again.
      for (const w of this.waiters.splice(0)) w(pool);
    });
  }

  /** Closes idle connections of the settled pool. */
  drain(): void {
    this.resolved?.pool.drain();
  }

  /** Closes the settled pool. */
  close(): void {
    this.resolved?.pool.close();
  }
}

/** Every pool of every cluster, keyed by host object identity (one map per routing priority). */
export class PoolRegistry {
  private readonly pools = new Map<PoolHost, HostPool>();
  /** Pools of HIGH priority routes: Envoy keeps separate pools (and breakers) per priority. */
  private readonly highPools = new Map<PoolHost, HostPool>();

  /** @param log where upstream connect failures are reported (at most one line per host a second) */
  constructor(private readonly log?: ProxyLog) {}

  /**
   * The pool for `host` of `cluster` (created on first use).
   * @param high the route's priority is HIGH (its own pools and circuit breakers)
   */
  get(cluster: PoolCluster, host: PoolHost, high = false): HostPool {
    const pools = high ? this.highPools : this.pools;
    let entry = pools.get(host);
    if (entry === undefined) {
      entry = this.create(cluster, host, high);
      pools.set(host, entry);
    }
    return entry;
  }

  private create(cluster: PoolCluster, host: PoolHost, high: boolean): HostPool {
    const s = cluster.stats;
    const cxTotal = s.upstream_cx_total;
    const cxActive = s.upstream_cx_active;
    const cxDestroy = s.upstream_cx_destroy;
    const connectFail = s.upstream_cx_connect_fail;
    const connectTimeout = s.upstream_cx_connect_timeout;
    const overflow = s.upstream_rq_pending_overflow;
    const cxOverflow = s.upstream_cx_overflow;
    const pendingTotal = s.upstream_rq_pending_total;
    const pendingActive = s.upstream_rq_pending_active;
    const h2Total = s.upstream_cx_http2_total;
    const h1Total = s.upstream_cx_http1_total;
    const hs = host.stats;
    let lastFailureLog = 0;
    const rqCancelled = s.upstream_rq_cancelled;
    const cxMaxRequests = s.upstream_cx_max_requests;
    const cxIdleTimeout = s.upstream_cx_idle_timeout;
    // The protocol's own counter: auto_config settles each host on HTTP/2 or HTTP/1.1 by ALPN.
    const eventsFor = (http2: boolean): H2PoolEvents => ({
      onConnectionOpen: () => {
        cxTotal.inc();
        cxActive.inc();
        hs.cx_total.inc();
        hs.cx_active.inc();
        (http2 ? h2Total : h1Total).inc();
      },
      onConnectionClose: () => {
        cxActive.dec();
        hs.cx_active.dec();
        cxDestroy.inc();
      },
      onConnectFailure: (kind, detail) => {
        const now = Date.now();
        if (this.log !== undefined && now - lastFailureLog >= 1000) {
          lastFailureLog = now;
          this.log.log(
            'warning',
            'upstream',
            `cluster ${cluster.name}: connect to ${host.pipe ?? `${host.address}:${host.port}`} failed (${detail ?? kind}); requests get 503 UF`,
          );
        }
        connectFail.inc();
        hs.cx_connect_fail.inc();
        if (kind === 'timeout') connectTimeout.inc();
      },
      onPendingOverflow: () => overflow.inc(),
      onPendingCancel: () => rqCancelled.inc(),
      onMaxRequests: () => cxMaxRequests.inc(),
      onIdleTimeout: () => cxIdleTimeout.inc(),
      onConnectionOverflow: () => cxOverflow.inc(),
      onPendingChange: (delta) => {
        if (delta > 0) {
          pendingTotal.inc();
          pendingActive.inc();
        } else pendingActive.dec();
      },
    });
    const resources =
      cluster.resources === undefined ? undefined : cluster.resources[high ? 'high' : 'default'];
    const target = connectTarget(cluster, host);
    if (cluster.protocol === 'auto') {
      return {
        kind: 'auto',
        pool: new AlpnPool(target, (protocol) =>
          this.make(protocol, cluster, target, eventsFor(protocol === 'http2'), resources),
        ),
      };
    }
    const http2 = cluster.protocol === 'http2';
    return this.make(http2 ? 'http2' : 'http1', cluster, target, eventsFor(http2), resources);
  }

  private make(
    protocol: 'http1' | 'http2',
    cluster: PoolCluster,
    target: ConnectTarget,
    events: H2PoolEvents,
    resources: PoolResources | undefined,
  ): ResolvedPool {
    if (protocol === 'http2') {
      const pool = new H2Pool(target, events, resources, {
        maxConcurrentStreams: cluster.maxConcurrentStreams,
        maxRequestsPerConnection: cluster.maxRequestsPerConnection,
        idleTimeoutMs: cluster.idleTimeoutMs,
      });
      return { kind: 'http2', pool };
    }
    return {
      kind: 'http1',
      pool: new H1Pool({
        target,
        events,
        ...(resources === undefined ? {} : { resources }),
        ...(cluster.idleTimeoutMs === undefined ? {} : { idleTimeoutMs: cluster.idleTimeoutMs }),
        ...(cluster.maxRequestsPerConnection === undefined
          ? {}
          : { maxRequestsPerConnection: cluster.maxRequestsPerConnection }),
      }),
    };
  }

  /** Closes idle connections; busy ones close when their request ends. */
  drain(): void {
    for (const { pool } of this.pools.values()) pool.drain();
    for (const { pool } of this.highPools.values()) pool.drain();
  }

  /** Closes everything. */
  close(): void {
    for (const { pool } of this.pools.values()) pool.close();
    for (const { pool } of this.highPools.values()) pool.close();
    this.pools.clear();
    this.highPools.clear();
  }
}
