/**
 * The `tcp_proxy` network filter: each downstream connection is spliced with a new connection to
 * a host of the configured cluster (or of one picked from `weighted_clusters`), with Envoy's
 * `tcp.<stat_prefix>.*` byte counters and an idle timeout (default 1 hour).
 */
import type net from 'node:net';
import type { TcpProxy } from '../config/envoy.js';
import { parseDuration } from '../config/values.js';
import { openConnection } from '../http/connect.js';
import { TcpProxyStats } from '../stats/scopes.js';
import type { StatsStore } from '../stats/store.js';
import type { EngineClusterManager } from './contracts.js';
import { connectTarget } from './pools.js';

/** A compiled tcp_proxy filter. */
export class TcpProxyFilter {
  private readonly stats: TcpProxyStats;
  private readonly choices: readonly { readonly name: string; readonly weight: number }[];
  private readonly totalWeight: number;
  private readonly idleMs: number;
  private readonly live = new Set<net.Socket>();

  constructor(
    config: TcpProxy,
    private readonly clusters: EngineClusterManager,
    store: StatsStore,
  ) {
    this.stats = new TcpProxyStats(store, config.stat_prefix);
    this.choices =
      config.weighted_clusters !== undefined
        ? config.weighted_clusters.clusters
        : [{ name: config.cluster ?? '', weight: 1 }];
    this.totalWeight = this.choices.reduce((sum, c) => sum + c.weight, 0);
    this.idleMs = parseDuration(config.idle_timeout, 3_600_000);
  }

  private pickCluster(): string {
    let r = Math.random() * this.totalWeight;
    for (const c of this.choices) {
      r -= c.weight;
      if (r < 0) return c.name;
    }
    return (this.choices[this.choices.length - 1] as { name: string }).name;
  }

  /** Proxies one accepted connection; `initial` holds bytes already read while sniffing. */
  handle(down: net.Socket, initial: Buffer | undefined): void {
    const s = this.stats;
    s.downstream_cx_total.inc();
    down.on('error', () => undefined);
    const cluster = this.clusters.get(this.pickCluster());
    const host = cluster?.chooseHost({});
    if (cluster === undefined || host === undefined) {
      s.downstream_cx_no_route.inc();
      if (cluster !== undefined) cluster.stats.upstream_cx_none_healthy.inc();
      down.destroy();
      return;
    }
    const cs = cluster.stats;
    down.pause();
    // A FIN from either side is passed on and the other direction stays open, as Envoy's
    // tcp_proxy does: the listener's sockets are not half-open by default (HTTP wants that), so
    // without this a client that half-closes after its request never sees the reply.
    down.allowHalfOpen = true;
    this.live.add(down);
    down.on('close', () => this.live.delete(down));
    const pending: Buffer[] = initial !== undefined && initial.length > 0 ? [initial] : [];
    openConnection(connectTarget(cluster, host), (error, up) => {
      if (error !== undefined || up === undefined) {
        cs.upstream_cx_connect_fail.inc();
        if (error === 'timeout') cs.upstream_cx_connect_timeout.inc();
        down.destroy();
        return;
      }
      if (down.destroyed) {
        up.destroy();
        return;
      }
      cs.upstream_cx_total.inc();
      cs.upstream_cx_active.inc();
      host.activeRequests++;
      up.allowHalfOpen = true;
      up.on('error', () => undefined);
      for (const b of pending) up.write(b);
      if (pending.length > 0) {
        const n = pending.reduce((sum, b) => sum + b.length, 0);
        s.downstream_cx_rx_bytes_total.add(n);
        cs.upstream_cx_tx_bytes_total.add(n);
      }
      const touch = () => {
        down.setTimeout(this.idleMs);
      };
      down.setTimeout(this.idleMs, () => {
        s.idle_timeout.inc();
        down.destroy();
        up.destroy();
      });
      down.on('data', (b: Buffer) => {
        s.downstream_cx_rx_bytes_total.add(b.length);
        cs.upstream_cx_tx_bytes_total.add(b.length);
        touch();
        if (!up.write(b)) {
          s.downstream_flow_control_paused_reading_total.inc();
          down.pause();
        }
      });
      up.on('drain', () => {
        s.downstream_flow_control_resumed_reading_total.inc();
        down.resume();
      });
      up.on('data', (b: Buffer) => {
        s.downstream_cx_tx_bytes_total.add(b.length);
        cs.upstream_cx_rx_bytes_total.add(b.length);
        touch();
        if (!down.write(b)) up.pause();
      });
      down.on('drain', () => up.resume());
      down.on('end', () => up.end());
      up.on('end', () => down.end());
      let closed = false;
      const close = () => {
        if (closed) return;
        closed = true;
        host.activeRequests--;
        cs.upstream_cx_active.dec();
        cs.upstream_cx_destroy.inc();
        down.destroy();
        up.destroy();
      };
      up.on('close', close);
      down.on('close', close);
      down.resume();
    });
  }

  /** Closes every proxied connection. */
  close(): void {
    for (const s of this.live) s.destroy();
    this.live.clear();
  }
}
