/**
 * Connection pools per upstream host, created on first use: an {@link H1Pool} or an
 * {@link H2Pool} according to the cluster's protocol, wired to the cluster's `upstream_cx_*` stats.
 */
import type { UpstreamTlsOptions } from '../http/connect.js';
import { H1Pool, type PoolEvents } from '../http/h1-upstream.js';
import { H2Pool } from '../http/h2-upstream.js';
import type { ClusterStats } from '../stats/scopes.js';
import type { HostStats } from '../upstream/index.js';

/** What the engine needs from an upstream host (the cluster manager's `Host`). */
export interface PoolHost {
  readonly address: string;
  readonly port: number;
  /** Per-host connection counters (`/clusters` shows them). */
  readonly stats: HostStats;
}

/** What the engine needs from a cluster to build pools for its hosts. */
export interface PoolCluster {
  readonly name: string;
  /** The cluster's pre-resolved `cluster.<name>.*` stats. */
  readonly stats: ClusterStats;
  readonly connectTimeoutMs: number;
  readonly protocol: 'http1' | 'http2' | 'auto';
  readonly tls?: UpstreamTlsOptions | undefined;
  /** Connection cap per host. @default - 1024 */
  readonly maxConnections?: number;
  /** Pending request cap per host. @default - 1024 */
  readonly maxPendingRequests?: number;
  /** Idle connection timeout. @default - 1 hour */
  readonly idleTimeoutMs?: number;
  /** Requests per connection. @default - unlimited */
  readonly maxRequestsPerConnection?: number | undefined;
  /** TCP keepalive idle time for upstream sockets (upstream_connection_options). @default - off */
  readonly tcpKeepaliveSeconds?: number | undefined;
}

/** A pool for one host. */
export type HostPool =
  | { readonly kind: 'http1'; readonly pool: H1Pool }
  | { readonly kind: 'http2'; readonly pool: H2Pool };

/** Every pool of every cluster, keyed by host object identity. */
export class PoolRegistry {
  private readonly pools = new Map<PoolHost, HostPool>();

  /** The pool for `host` of `cluster` (created on first use). */
  get(cluster: PoolCluster, host: PoolHost): HostPool {
    let entry = this.pools.get(host);
    if (entry === undefined) {
      entry = this.create(cluster, host);
      this.pools.set(host, entry);
    }
    return entry;
  }

  private create(cluster: PoolCluster, host: PoolHost): HostPool {
    const s = cluster.stats;
    const cxTotal = s.upstream_cx_total;
    const cxActive = s.upstream_cx_active;
    const cxDestroy = s.upstream_cx_destroy;
    const connectFail = s.upstream_cx_connect_fail;
    const connectTimeout = s.upstream_cx_connect_timeout;
    const overflow = s.upstream_rq_pending_overflow;
    const h2Total = s.upstream_cx_http2_total;
    const h1Total = s.upstream_cx_http1_total;
    const hs = host.stats;
    const http2 = cluster.protocol === 'http2';
    const events: PoolEvents = {
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
      onConnectFailure: (kind) => {
        connectFail.inc();
        hs.cx_connect_fail.inc();
        if (kind === 'timeout') connectTimeout.inc();
      },
      onPendingOverflow: () => overflow.inc(),
    };
    const target = {
      host: host.address,
      port: host.port,
      connectTimeoutMs: cluster.connectTimeoutMs,
      tls: cluster.tls,
      keepAliveSeconds: cluster.tcpKeepaliveSeconds,
    };
    if (http2) return { kind: 'http2', pool: new H2Pool(target, events) };
    return {
      kind: 'http1',
      pool: new H1Pool({
        target,
        events,
        ...(cluster.maxConnections === undefined ? {} : { maxConnections: cluster.maxConnections }),
        ...(cluster.maxPendingRequests === undefined ? {} : { maxPending: cluster.maxPendingRequests }),
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
  }

  /** Closes everything. */
  close(): void {
    for (const { pool } of this.pools.values()) pool.close();
    this.pools.clear();
  }
}
